from django.apps import AppConfig


class CoverageConfig(AppConfig):
    name = "server.coverage"
    label = "coverage"
    verbose_name = "覆盖情况"

    def ready(self) -> None:
        # Coverage follows visits and rounds through signals, so neither app needs to know coverage exists.
        from django.db.models.signals import post_save

        from server.campaigns.models import Round
        from server.visits.signals import visits_recorded

        visits_recorded.connect(_visits_recorded, dispatch_uid="coverage-visits-recorded")
        post_save.connect(_round_saved, sender=Round, dispatch_uid="coverage-round-saved")


def _visits_recorded(sender, *, round_cells: dict[int, set[int]], **kwargs) -> None:
    from server.coverage.services import coverage_cells_queue

    for round_id, cells in sorted(round_cells.items()):
        coverage_cells_queue(round_id=round_id, cell_ids=sorted(cells))


def _round_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        from server.coverage.services import coverage_round_schedule

        coverage_round_schedule(round=instance)
