"""Change sequence column and its triggers (the sync cursor, see server/sync/changeseq.py)."""

from django.db import migrations

from server.sync import changeseq


class Migration(migrations.Migration):
    dependencies = [('visits', '0001_initial')]
    operations = changeseq.operations("visit", "visits_visit")
