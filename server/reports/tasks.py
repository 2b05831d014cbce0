"""Celery tasks of reports: named after the service they call, taking ids only."""

from celery import shared_task

from server.reports import services


@shared_task(name="reports.report_generate")
def report_generate(report_id: int) -> str:
    return services.report_generate(report_id=report_id).status


@shared_task(name="reports.reports_weekly_create")
def reports_weekly_create() -> int:
    return len(services.reports_weekly_create())


@shared_task(name="reports.reports_prune")
def reports_prune() -> int:
    return services.reports_prune()
