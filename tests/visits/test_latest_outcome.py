"""The household's latest outcome follows the effective time: a phone whose clock runs a day ahead does not keep
its visit "latest" over one made after it. The same in the round states (coverage), the walk lists and the pull
(campaigns.selectors.household_states), and in a full rebuild."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.test import TestCase

from server.campaigns import selectors, services
from server.coverage.models import CellCoverage
from server.coverage.services import coverage_recompute
from server.visits.services import VisitInput, visits_record
from server.visits.state import HouseholdRoundState

pytestmark = pytest.mark.django_db


def _push(worker, round, h, outcome, *, captured, now):
    item = VisitInput(id=str(uuid.uuid4()), household=h.pk, round=round.pk, outcome=outcome,
                      captured_at=captured.isoformat(), lat=h.location.y, lon=h.location.x, accuracy_m=5)
    with TestCase.captureOnCommitCallbacks(execute=True):
        results = visits_record(user=worker, items=[item], now=now)
    assert results[0].status == "accepted", results[0].message
    return results[0]


def test_a_clock_a_day_ahead_does_not_keep_the_latest_outcome(mini_city, campaign, chief, workers):
    round = services.round_create(campaign=campaign, starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 12, 30))
    cell = mini_city.cells[0]
    services.cell_assign(round=round, cell=cell, worker=workers[0], user=chief)
    services.round_open(round=round, user=chief)
    h = next(x for x in mini_city.households if x.cell_id == cell.pk)
    t0 = dt.datetime.now(dt.timezone.utc)
    # 09:00: a phone a day ahead finds nobody home; 11:00: a phone with the right time finds the flat vacant
    ahead = _push(workers[0], round, h, "nobody_home", captured=t0 + dt.timedelta(days=1), now=t0)
    assert "clock" in ahead.flags
    _push(workers[0], round, h, "vacant", captured=t0 + dt.timedelta(hours=2), now=t0 + dt.timedelta(hours=2))

    def latest() -> tuple[str, str, int]:
        state = HouseholdRoundState.objects.select_related("outcome").get(round=round, household=h)
        cov = CellCoverage.objects.get(round=round, cell=cell)
        return state.outcome.code, selectors.household_states(round=round, household_ids=[h.pk])[h.pk].outcome, \
            cov.excluded

    assert latest() == ("vacant", "vacant", 1)  # the vacant flat is out of the base
    coverage_recompute()  # and the full rebuild agrees
    assert latest() == ("vacant", "vacant", 1)
