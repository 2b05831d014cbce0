"""Celery tasks of visits: named after the service they call, taking ids only."""

from celery import shared_task

from server.visits import state


@shared_task(name="visits.household_round_states_refresh")
def household_round_states_refresh(round_id: int, household_ids: list[int]) -> int:
    return state.household_round_states_refresh(round_id=round_id, household_ids=household_ids)


@shared_task(name="visits.household_round_states_rebuild")
def household_round_states_rebuild(round_id: int | None = None) -> int:
    return state.household_round_states_rebuild(round_id=round_id)


@shared_task(name="visits.household_round_states_drain", ignore_result=True)
def household_round_states_drain() -> int:
    """Refresh the states of the households queued by recent pushes (scheduled by them, and every minute by beat)."""
    return state.household_round_states_drain()


@shared_task(name="visits.visits_gps_retention")
def visits_gps_retention() -> int:
    from server.visits.retention import visits_gps_retention as run

    return run().visits
