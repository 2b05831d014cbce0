"""Celery tasks of the register: named after the service they call, taking ids only."""

from celery import shared_task

from server.registry import services


@shared_task(name="registry.household_cells_assign")
def household_cells_assign(household_ids: list[int] | None = None, only_unassigned: bool = False) -> int:
    return services.household_cells_assign(household_ids=household_ids, only_unassigned=only_unassigned)
