"""The phone database's schema, one step per version. Never edit a released step: add the next one.

`Store` runs the steps above the file's `PRAGMA user_version`, each in its own transaction, and refuses a file
whose version is newer than `SCHEMA_VERSION` (written by a newer app).
"""

from __future__ import annotations

import sqlite3


def _v1(db: sqlite3.Connection) -> None:
    # Statement by statement: executescript() would commit the migration's transaction halfway.
    _script(db, """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE rounds (id TEXT PRIMARY KEY, data TEXT NOT NULL);
        CREATE TABLE cells (id TEXT PRIMARY KEY, data TEXT NOT NULL);
        CREATE TABLE outcome_codes (id TEXT PRIMARY KEY, data TEXT NOT NULL);
        CREATE TABLE households (
            id TEXT PRIMARY KEY, cell_id TEXT, building TEXT NOT NULL DEFAULT '', room TEXT NOT NULL DEFAULT '',
            walk_order INTEGER NOT NULL DEFAULT 0, server_state TEXT NOT NULL DEFAULT '', data TEXT NOT NULL
        );
        CREATE INDEX households_cell ON households (cell_id, walk_order);
        CREATE TABLE outbox (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, payload TEXT NOT NULL, created_at REAL NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending', code TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '',
            attempts INTEGER NOT NULL DEFAULT 0, answered_at REAL
        );
        CREATE INDEX outbox_status ON outbox (status, created_at);
        """)


def _script(db: sqlite3.Connection, sql: str) -> None:
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def _v2(db: sqlite3.Connection) -> None:
    # The walk list and the household screen look up a household's own visits; reading them out of the JSON
    # payload of every outbox row was a full scan.
    db.execute("ALTER TABLE outbox ADD COLUMN household_id TEXT")
    db.execute("UPDATE outbox SET household_id = json_extract(payload, '$.household') WHERE kind = 'visits'")
    db.execute("CREATE INDEX outbox_household ON outbox (household_id, created_at)")


def _v3(db: sqlite3.Connection) -> None:
    # Search by building or room, as typed on a phone keypad ("3-502", "3 502").
    db.execute("ALTER TABLE households ADD COLUMN search TEXT NOT NULL DEFAULT ''")
    db.execute("UPDATE households SET search = lower(building || ' ' || room || ' ' || "
               "coalesce(json_extract(data, '$.address'), ''))")


MIGRATIONS = [_v1, _v2, _v3]
SCHEMA_VERSION = len(MIGRATIONS)
