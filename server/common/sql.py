"""Small SQL pieces that differ between PostgreSQL and SQLite, for the few hot paths written in plain SQL.

`IN (%s, %s, …)` with hundreds of values costs psycopg ~0.2 ms a placeholder to parse and PostgreSQL a long plan;
one array parameter (`= ANY(%s)`) on PostgreSQL and one JSON parameter (`IN (SELECT value FROM json_each(%s))`)
on SQLite keep the statement short and constant, whatever the number of ids.
"""

from __future__ import annotations

import json
import uuid

from django.db import connection


def in_ids(column: str, ids, kind: str = "bigint") -> tuple[str, list]:
    """`column IN ids` as (sql, params); kind is "bigint" or "uuid"."""
    values = list(ids)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::{kind}[])", [values]
    if kind == "uuid":  # Django stores UUIDs on SQLite as 32 hex digits
        values = [v.hex if isinstance(v, uuid.UUID) else uuid.UUID(str(v)).hex for v in values]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(values)]


def uuid_from_db(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def tables_analyze(tables: list[str]) -> None:
    """Refresh the planner's statistics after a bulk write (outside any transaction block on SQLite is not needed).

    Autovacuum gets there eventually, but until it does PostgreSQL plans with the numbers of the empty table: a pull
    of 2,000 households right after seeding a 1.4 M-household city took 1.3 s (sequential scans of 4 M residents)
    instead of 0.12 s."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def commit_async() -> None:
    """Let the current transaction commit without waiting for its WAL to reach the disk (PostgreSQL).

    Only for transactions that write derived rows together with the deletion of their queue entries (household
    round states, coverage figures): a crash in the fraction of a second before the WAL writer flushes loses both,
    so the queue entries come back and the work is redone; visits themselves always commit synchronously. Saves
    the flush of each refresh (5-10 ms on this machine's disk)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
