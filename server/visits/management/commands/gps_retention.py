"""manage.py gps_retention: coarsen or purge the GPS of old visits now (the nightly job does the same)."""

from django.core.management.base import BaseCommand, CommandError

from server.common.errors import DomainError
from server.visits.retention import MODES, visits_gps_retention


class Command(BaseCommand):
    help = "走访定位到期处理（粗化或删除）Coarsen or purge the GPS of visits older than the retention period"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help="保留天数（默认 QIAOMEN_GPS_RETENTION_DAYS）days to keep precise GPS")
        parser.add_argument("--mode", choices=MODES, default=None,
                            help="coarsen（粗化到约100米）或 purge（删除）; default QIAOMEN_GPS_RETENTION_MODE")
        parser.add_argument("--dry-run", action="store_true", help="只统计不修改 count only")

    def handle(self, *args, days, mode, dry_run, **options):
        try:
            result = visits_gps_retention(days=days, mode=mode, dry_run=dry_run)
        except DomainError as e:
            raise CommandError(e.message) from None
        if result.days == 0:
            self.stdout.write("保留期为 0：不处理 / Retention is off (0 days)")
            return
        verb = "将处理 would change" if dry_run else "已处理 changed"
        self.stdout.write(f"{verb}: {result.visits} 次走访 visits received before {result.cutoff:%Y-%m-%d %H:%M} "
                          f"({result.mode}, {result.days} 天 days)")
