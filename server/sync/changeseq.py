"""The change sequence: a number stamped by the database on every insert and update of a syncable row.

It is the pull cursor. Stamping happens in triggers, so admin edits, bulk imports and raw SQL are all caught.

PostgreSQL: one sequence `qm_change_seq`; a BEFORE INSERT OR UPDATE row trigger sets `NEW.change_seq`; a BEFORE
statement trigger takes a transaction-level advisory lock, so writers of syncable tables serialize until commit and
sequence order equals commit order. A reader that sees `max(change_seq) = M` in its snapshot will therefore never
later meet a committed row with a number <= M that it did not see.

SQLite/SpatiaLite: one writer at a time anyway; a one-row counter table and AFTER INSERT/UPDATE triggers that bump
it and write it into the row. The inner UPDATE does not fire the trigger again because SQLite's
`recursive_triggers` pragma is off (its default; Django does not turn it on).

Migrations of the apps owning syncable tables call `install(table)` from a RunPython step.
"""

from __future__ import annotations

LOCK_KEY = 0x51A0_5EC  # advisory lock id for "writing syncable rows"
SEQUENCE = "qm_change_seq"
COUNTER = "qm_change_counter"

_PG_COMMON = f"""
CREATE SEQUENCE IF NOT EXISTS {SEQUENCE};
CREATE OR REPLACE FUNCTION qm_stamp_change_seq() RETURNS trigger AS $$
BEGIN
    NEW.change_seq := nextval('{SEQUENCE}');
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION qm_sync_write_lock() RETURNS trigger AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK_KEY});
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""

_SQLITE_COMMON = [
    f"CREATE TABLE IF NOT EXISTS {COUNTER} (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)",
    f"INSERT OR IGNORE INTO {COUNTER} (id, value) VALUES (1, 0)",
]


def install(schema_editor, table: str) -> None:
    """Create the triggers that stamp `table.change_seq`, and stamp the rows already there."""
    vendor = schema_editor.connection.vendor
    q = schema_editor.quote_name
    if vendor == "postgresql":
        schema_editor.execute(_PG_COMMON)
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {table}_change_seq ON {q(table)};"
            f"CREATE TRIGGER {table}_change_seq BEFORE INSERT OR UPDATE ON {q(table)} "
            f"FOR EACH ROW EXECUTE FUNCTION qm_stamp_change_seq();"
            f"DROP TRIGGER IF EXISTS {table}_sync_lock ON {q(table)};"
            f"CREATE TRIGGER {table}_sync_lock BEFORE INSERT OR UPDATE OR DELETE ON {q(table)} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION qm_sync_write_lock();"
        )
    elif vendor == "sqlite":
        for sql in _SQLITE_COMMON:
            schema_editor.execute(sql)
        bump = (
            f"UPDATE {COUNTER} SET value = value + 1 WHERE id = 1; "
            f"UPDATE {q(table)} SET change_seq = (SELECT value FROM {COUNTER} WHERE id = 1) WHERE rowid = NEW.rowid;"
        )
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_change_seq_ins")
        schema_editor.execute(f"CREATE TRIGGER {table}_change_seq_ins AFTER INSERT ON {q(table)} BEGIN {bump} END")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_change_seq_upd")
        schema_editor.execute(f"CREATE TRIGGER {table}_change_seq_upd AFTER UPDATE ON {q(table)} BEGIN {bump} END")
    else:  # pragma: no cover - only the two supported backends
        raise NotImplementedError(vendor)
    schema_editor.execute(f"UPDATE {q(table)} SET change_seq = NULL")


def uninstall(schema_editor, table: str) -> None:
    vendor = schema_editor.connection.vendor
    q = schema_editor.quote_name
    if vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_change_seq ON {q(table)};"
                              f"DROP TRIGGER IF EXISTS {table}_sync_lock ON {q(table)};")
    else:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_change_seq_ins")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_change_seq_upd")


def operations(model_name: str, table: str) -> list:
    """Migration operations: the indexed column plus its triggers."""
    from django.db import migrations, models

    def forwards(apps, schema_editor):
        install(schema_editor, table)

    def backwards(apps, schema_editor):
        uninstall(schema_editor, table)

    return [
        migrations.AddField(
            model_name=model_name, name="change_seq",
            field=models.BigIntegerField(db_index=True, editable=False, null=True,
                                         verbose_name="变更序号 change sequence"),
        ),
        migrations.RunPython(forwards, backwards),
    ]


def take_write_lock(connection) -> None:
    """Take the syncable-writes lock up front (PostgreSQL), so a transaction that will both lock rows and write
    syncable tables cannot deadlock against another one doing the same in the other order."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def current(connection) -> int:
    """The highest change number visible to this connection's snapshot (not the sequence's value, which is
    not transactional)."""
    from server.sync.selectors import SYNCABLE_TABLES

    union = " UNION ALL ".join(f"SELECT max(change_seq) AS m FROM {t}" for t in SYNCABLE_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(m) FROM ({union}) AS s")
        value = cursor.fetchone()[0]
    return int(value or 0)
