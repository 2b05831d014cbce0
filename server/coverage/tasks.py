"""Celery tasks of coverage: named after the service they call, taking ids only."""

from celery import shared_task

from server.coverage import services


@shared_task(name="coverage.coverage_recompute")
def coverage_recompute(campaign_id: int | None = None, round_id: int | None = None, states: bool = True) -> dict:
    """The nightly full recompute (CELERY_BEAT_SCHEDULE), and a new round's first figures."""
    result = services.coverage_recompute(campaign_id=campaign_id, round_id=round_id, states=states)
    return {"campaigns": result.campaigns, "scopes": result.scopes, "states": result.states,
            "seconds": round(result.seconds, 3)}


@shared_task(name="coverage.coverage_dirty_refresh", ignore_result=True)
def coverage_dirty_refresh() -> int:
    """Refresh the figures of the cells queued by recent pushes (scheduled by them, and every minute by beat)."""
    return services.coverage_dirty_refresh()
