"""Retention of visit GPS: precise fixes older than QIAOMEN_GPS_RETENTION_DAYS are coarsened to ~100 m (or purged);
recent ones are kept as they came; coverage figures do not move, not even after a full recompute."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from server.audit.models import AuditAction, AuditEntry
from server.coverage import selectors as coverage
from server.coverage.services import coverage_recompute
from server.visits.models import Visit
from server.visits.retention import visits_gps_retention
from tests.reports.conftest import build_visited

pytestmark = pytest.mark.django_db


@pytest.fixture
def visited(mini_city, campaign, chief, team, workers):
    v = build_visited(mini_city, campaign, chief, team, workers)
    # round 1's visits arrived 200 days ago, round 2's yesterday
    now = timezone.now()
    Visit.objects.filter(round=v.r1).update(received_at=now - dt.timedelta(days=200))
    Visit.objects.filter(round=v.r2).update(received_at=now - dt.timedelta(days=1))
    return v


def figures(chief, v) -> list:
    rows = []
    for r in (v.r1, v.r2):
        for level in ("township", "community", "cell"):
            rows.append(coverage.coverage_by_area(user=chief, round=r, level=level))
        rows.append(coverage.coverage_summary(user=chief, round=r))
    return rows


def points(round) -> dict:
    return {v.pk: (v.location.x, v.location.y) if v.location else None
            for v in Visit.objects.filter(round=round)}


def test_old_points_are_coarsened_recent_kept_coverage_unchanged(visited, chief):
    assert settings.QIAOMEN_GPS_RETENTION_DAYS == 180 and settings.QIAOMEN_GPS_RETENTION_MODE == "coarsen"
    before_old, before_new = points(visited.r1), points(visited.r2)
    before_figures = figures(chief, visited)
    flags_before = dict(Visit.objects.values_list("pk", "flag_far"))

    result = visits_gps_retention()
    assert result.visits == sum(1 for p in before_old.values() if p) > 0

    after_old, after_new = points(visited.r1), points(visited.r2)
    assert after_new == before_new  # yesterday's fixes: exactly as the phones sent them
    for pk, point in after_old.items():
        if before_old[pk] is None:  # a visit without a fix (typed in on the web) stays without
            assert point is None
            continue
        (x, y), (bx, by) = point, before_old[pk]
        assert (x, y) == pytest.approx((round(x, 3), round(y, 3)), abs=1e-9)  # on the 0.001° grid
        assert abs(x - bx) <= 0.0005 + 1e-9 and abs(y - by) <= 0.0005 + 1e-9  # at most ~55 m away
    assert any(after_old[pk] != before_old[pk] for pk in after_old)
    assert all(v.gps_coarsened_at is not None for v in Visit.objects.filter(round=visited.r1, location__isnull=False))
    assert not Visit.objects.filter(round=visited.r2, gps_coarsened_at__isnull=False).exists()
    # the plausibility flags stay as set at receipt, and so do the figures, also rebuilt from the raw visits
    assert dict(Visit.objects.values_list("pk", "flag_far")) == flags_before
    assert figures(chief, visited) == before_figures
    coverage_recompute()
    assert figures(chief, visited) == before_figures

    entry = AuditEntry.objects.get(action=AuditAction.GPS_RETENTION)
    assert entry.actor_username == "" and entry.changes["visits"] == result.visits
    assert entry.changes["mode"] == "coarsen" and entry.changes["days"] == 180

    # a second run finds nothing left to do and records nothing
    assert visits_gps_retention().visits == 0
    assert points(visited.r1) == after_old
    assert AuditEntry.objects.filter(action=AuditAction.GPS_RETENTION).count() == 1


def test_purge_mode_drops_the_fix_and_keeps_the_visit(visited, chief, settings):
    settings.QIAOMEN_GPS_RETENTION_MODE = "purge"
    before_figures = figures(chief, visited)
    total = Visit.objects.filter(round=visited.r1).count()
    n = Visit.objects.filter(round=visited.r1, location__isnull=False).count()
    assert visits_gps_retention().visits == n
    old = Visit.objects.filter(round=visited.r1)
    assert old.count() == total and not old.filter(location__isnull=False).exists()
    assert not old.filter(accuracy_m__isnull=False).exists()
    assert not Visit.objects.filter(round=visited.r2, location__isnull=True).exists()
    assert figures(chief, visited) == before_figures


def test_command_reports_and_dry_run_changes_nothing(visited):
    out = StringIO()
    call_command("gps_retention", "--dry-run", stdout=out)
    n = Visit.objects.filter(round=visited.r1, location__isnull=False).count()
    assert f"{n} 次走访" in out.getvalue() and "would change" in out.getvalue()
    assert not Visit.objects.filter(gps_coarsened_at__isnull=False).exists()
    out = StringIO()
    call_command("gps_retention", "--days", "0", stdout=out)
    assert "Retention is off" in out.getvalue()
    out = StringIO()
    call_command("gps_retention", "--days", "365", stdout=out)  # round 1 is only 200 days old
    assert "0 次走访" in out.getvalue()
    call_command("gps_retention", stdout=StringIO())
    assert Visit.objects.filter(gps_coarsened_at__isnull=False).count() == n


def test_the_job_is_scheduled_nightly():
    entry = settings.CELERY_BEAT_SCHEDULE["visits-gps-retention"]
    assert entry["task"] == "visits.visits_gps_retention"
    from server.celery import app

    assert "visits.visits_gps_retention" in app.tasks
