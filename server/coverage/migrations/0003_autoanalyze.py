"""PostgreSQL: refresh the planner's statistics of the fast-growing tables every few thousand rows.

Autovacuum's default analyses a table once 10 % of it changed: for a 2 M-visit table, 200,000 visits into a new
round. Until then the planner believes the new round has no visits and drives the per-cell coverage refresh from
the round's visits instead of the cell's households (measured: 30 ms instead of 3 ms a statement). Every 5,000 rows
keeps the estimates right; ANALYZE samples at most 30,000 rows, so it stays cheap on big tables.
"""

from django.db import migrations

TABLES = ["visits_visit", "visits_householdroundstate", "campaigns_cellassignment", "coverage_cellcoverage",
          "coverage_cellkeygroupcoverage", "coverage_celldaycoverage", "coverage_cellworkercoverage",
          "coverage_cellworkerday", "coverage_dirtycell"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} SET (autovacuum_analyze_scale_factor = 0.0, "
                              f"autovacuum_analyze_threshold = 5000)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} RESET (autovacuum_analyze_scale_factor, "
                              f"autovacuum_analyze_threshold)")


class Migration(migrations.Migration):
    dependencies = [
        ("coverage", "0002_dirtycell"),
        ("visits", "0004_householdroundstate_reached_at"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
