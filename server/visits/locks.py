"""Locks that serialise the refreshes derived from visits (household round states, coverage aggregates).

A refresh recomputes rows from the committed visits. Two refreshes of the same cells running at once could each
miss the other's visits and the slower one would write older figures last. On PostgreSQL each refresh therefore
takes a transaction-level advisory lock per grid cell (in id order, so two refreshes never deadlock) plus a shared
lock that a full recompute takes exclusively. Each statement that follows sees every visit committed before the
lock was granted. SQLite allows one writer at a time anyway: nothing to do there.
"""

from __future__ import annotations

from django.db import connection

LOCK_CLASS = 0x51A0  # first key of pg_advisory_xact_lock(int, int); the second is 0 (everything) or a cell id
_EVERYTHING = 0


def cells_lock(*, cell_ids) -> None:
    """Lock these cells for a refresh (and keep a full recompute out) until the transaction ends."""
    if connection.vendor != "postgresql":
        return
    ids = sorted({int(c) for c in cell_ids if c is not None})
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", [LOCK_CLASS, _EVERYTHING])
        if ids:
            # unnest hands the sorted ids over in array order: the locks are taken in id order, in one round trip
            cursor.execute("SELECT count(pg_advisory_xact_lock(%s, c)) FROM unnest(%s::int[]) AS c", [LOCK_CLASS, ids])


def households_lock(*, household_ids: list[int]) -> dict[int, int | None]:
    """Lock the cells of these households for a refresh (as cells_lock), and let the transaction commit
    asynchronously (server/common/sql.commit_async): one round trip. Returns each household's cell."""
    from server.common.sql import in_ids

    where, params = in_ids("id", household_ids)
    households = f"SELECT id, cell_id FROM registry_household WHERE {where}"
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(households, params)
            return dict(cursor.fetchall())
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        # The shared lock is taken (the CTE materialised) before the first cell's, the cells' in id order, and all
        # before the households are returned.
        cursor.execute(
            f"WITH h AS MATERIALIZED ({households}), everything AS MATERIALIZED (SELECT set_config("
            "'synchronous_commit', 'off', true), pg_advisory_xact_lock_shared(%s, %s)), locked AS MATERIALIZED ("
            "SELECT count(pg_advisory_xact_lock(%s, x.c::int)) FROM (SELECT DISTINCT cell_id AS c FROM h "
            "WHERE cell_id IS NOT NULL ORDER BY 1) x, everything) SELECT h.id, h.cell_id FROM h, locked",
            [*params, LOCK_CLASS, _EVERYTHING, LOCK_CLASS], prepare=True)
        return dict(cursor.fetchall())


def everything_lock() -> None:
    """Wait for running refreshes and keep new ones out until the transaction ends (a full recompute)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, _EVERYTHING])


DRAINER = (0x51A2, 0)  # the one drainer of the household state queue (server/visits/state.py)


def drainer_lock(*, wait: bool) -> bool:
    """Take the state-queue drainer lock until the transaction ends; without `wait`, give up at once if held."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_{'' if wait else 'try_'}advisory_xact_lock(%s, %s)", list(DRAINER))
        return True if wait else bool(cursor.fetchone()[0])
