"""Change sequence column and its triggers (the sync cursor, see server/sync/changeseq.py)."""

from django.db import migrations

from server.sync import changeseq


class Migration(migrations.Migration):
    dependencies = [('campaigns', '0001_initial')]
    operations = changeseq.operations("round", "campaigns_round") + changeseq.operations("outcomecode", "campaigns_outcomecode") + changeseq.operations("cellassignment", "campaigns_cellassignment")
