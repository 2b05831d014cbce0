"""manage.py recompute_coverage [--round N] [--campaign N] [--no-states]: rebuild the coverage figures."""

from django.core.management.base import BaseCommand, CommandError

from server.campaigns.models import Campaign, Round
from server.coverage.services import coverage_recompute


class Command(BaseCommand):
    help = ("重算覆盖数据：先由走访重建住户本轮状态，再重算所有网格汇总。"
            "Rebuild household round states from the visits, then every coverage aggregate.")

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--round", type=int, help="只重算该轮次（及其后各轮与整个行动）round id")
        which.add_argument("--campaign", type=int, help="只重算该行动 campaign id")
        parser.add_argument("--no-states", action="store_true",
                            help="不重建住户本轮状态，只重算汇总 keep the household round states, recompute aggregates")

    def handle(self, *args, **options):
        if options["round"] is not None and not Round.objects.filter(pk=options["round"]).exists():
            raise CommandError(f"轮次 {options['round']} 不存在 / no round {options['round']}")
        if options["campaign"] is not None and not Campaign.objects.filter(pk=options["campaign"]).exists():
            raise CommandError(f"行动 {options['campaign']} 不存在 / no campaign {options['campaign']}")
        coverage_recompute(campaign_id=options["campaign"], round_id=options["round"],
                           states=not options["no_states"], progress=lambda line: self.stdout.write(line))
