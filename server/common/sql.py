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
