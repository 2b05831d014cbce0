"""PostgreSQL: refuse UPDATE and DELETE of audit rows in the database too (TRUNCATE, a DBA's tool, stays possible).

SQLite gets no trigger: Django's test flush deletes rows there, and the model and QuerySet already refuse."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION qm_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditentry is append-only (审计日志只能追加)';
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_auditentry_append_only ON audit_auditentry;
CREATE TRIGGER audit_auditentry_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION qm_audit_append_only();
"""
BACKWARD = "DROP TRIGGER IF EXISTS audit_auditentry_append_only ON audit_auditentry;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
