"""Change sequence column and its triggers (the sync cursor, see server/sync/changeseq.py)."""

from django.db import migrations

from server.sync import changeseq


class Migration(migrations.Migration):
    dependencies = [('registry', '0002_default_key_groups')]
    operations = changeseq.operations("household", "registry_household")
