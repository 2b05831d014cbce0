"""One figures refresher at a time (PostgreSQL): the queue of cells is worked off by whoever holds this lock.

A push never waits for it: its states refresh only queues cells (server/coverage/services.py). A refresher that
cannot get the lock leaves, because the holder looks at the queue again after it lets go. The full recompute waits
for it, so no refresher writes figures while everything is rebuilt. SQLite has one writer at a time anyway.
"""

from __future__ import annotations

from django.db import connection

REFRESHER = (0x51A1, 0)  # pg_advisory_xact_lock(int, int) keys; 0x51A0 is server/visits/locks.py's


def refresher_lock(*, wait: bool) -> bool:
    """Take the refresher lock until the transaction ends; without `wait`, give up at once if it is held."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(REFRESHER))
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", list(REFRESHER))
        return bool(cursor.fetchone()[0])
