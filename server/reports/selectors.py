"""Reads of reports, scoped by territory: a user sees the reports of the areas inside their territory."""

from __future__ import annotations

from django.db.models import QuerySet

from server.accounts import permissions, scoping
from server.accounts.models import User
from server.campaigns import selectors as campaign_selectors
from server.reports.models import Report
from server.reports.services import REPORT_LEVELS


def report_areas(*, user: User) -> QuerySet:
    """Areas the user may ask a report for: the cities, districts and townships of their territory."""
    if not permissions.can_request_reports(user):
        return scoping.areas_visible(user).none()
    return scoping.areas_visible(user).filter(level__in=REPORT_LEVELS).order_by("path")


def report_list(*, user: User) -> QuerySet:
    """Reports of areas inside the user's territory, newest first (someone else's and the weekly ones too)."""
    return Report.objects.filter(area__in=report_areas(user=user)).select_related(
        "area", "campaign", "round", "requested_by")


def report_get(*, user: User, pk: int) -> Report | None:
    return report_list(user=user).filter(pk=pk).first()


def report_campaigns(*, user: User) -> QuerySet:
    """Campaigns a report may be asked for, with their rounds and areas (for the request form)."""
    return campaign_selectors.campaign_list(user=user).prefetch_related("rounds", "areas").order_by("-starts_on")
