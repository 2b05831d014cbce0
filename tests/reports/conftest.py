"""A campaign over district 0 of the mini city with two rounds of visits, and an independent count over raw rows."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass

import pytest
from django.contrib.gis.geos import Point
from django.test import TestCase

from server.campaigns import selectors as campaign_selectors
from server.campaigns import services
from server.campaigns.models import Round
from server.registry.models import Household, HouseholdStatus, KeyGroup
from server.visits.models import VisitSource
from server.visits.services import VisitInput, visits_record
from tests.factories import HouseholdFactory, ResidentFactory

D = dt.date


@dataclass
class Visited:
    district: object
    township: object
    other_township: object  # of the other district, outside the chief's territory
    r1: Round
    r2: Round


def _record(user, items) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        results = visits_record(user=user, items=items, source=VisitSource.WEB)
    assert all(r.status == "accepted" for r in results), [r.message for r in results]


def _visit(h, round, outcome, day, minute, rng, **extra) -> VisitInput:
    far = 0.01 if rng.random() < 0.15 else 0.0
    return VisitInput(id=str(uuid.uuid4()), household=h.pk, round=round.pk, outcome=outcome,
                      captured_at=f"{day}T{9 + minute // 60:02d}:{minute % 60:02d}:00+08:00",
                      lat=h.location.y + far, lon=h.location.x, accuracy_m=8.0,
                      app_installed=rng.random() < 0.4, **extra)


def _open(round: Round, user, day: dt.date) -> None:
    """Open the round as if on `day` (08:00 Beijing): visits of the days after are then plausible device times."""
    services.round_open(round=round, user=user)
    at = dt.datetime.combine(day, dt.time(8), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    Round.objects.filter(pk=round.pk).update(opened_at=at)


def build_visited(mini_city, campaign, chief, team, workers) -> Visited:
    """Round 1 (closed) and round 2 (open) of the campaign over district 0, visits by the team's two workers and
    a correction by the chief, over several days; elderly residents and students among the households."""
    elderly, _ = KeyGroup.objects.get_or_create(code="elderly", defaults={"name": "老年人（60岁以上）",
                                                                          "name_en": "Elderly (60+)", "derived": True})
    student, _ = KeyGroup.objects.get_or_create(code="student", defaults={"name": "学生", "name_en": "Student"})
    district = mini_city.districts[0]
    cells = [c for c in mini_city.cells if c.path.startswith(district.path)]
    for i, cell in enumerate(cells):  # more households, one vacant per cell (not to visit)
        x0, y0 = cell.geom.extent[:2]
        for k in range(5):
            h = HouseholdFactory(community=cell.community, cell=cell,
                                 status=HouseholdStatus.VACANT if k == 0 else HouseholdStatus.OCCUPIED,
                                 location=Point(x0 + 0.002 + 0.003 * k, y0 + 0.004 + 0.001 * i, srid=4326))
            if k % 2:
                ResidentFactory(household=h, birth_year=1950 - k)
            if k >= 2:
                ResidentFactory(household=h, birth_year=2008).key_groups.add(student)
    rng = random.Random(6)
    r1 = services.round_create(campaign=campaign, starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 15))
    r2 = services.round_create(campaign=campaign, starts_on=D(2026, 11, 16), ends_on=D(2026, 11, 30))
    for r in (r1, r2):
        for cell in cells:
            services.cell_assign(round=r, cell=cell, team=team, user=chief)
    _open(r1, chief, D(2026, 11, 1))
    households = list(Household.objects.filter(cell__in=cells, status=HouseholdStatus.OCCUPIED).order_by("pk"))
    outcomes = ["reached", "reached", "nobody_home", "refused", "reached", "moved", "nobody_home", "reached"]
    first: dict[int, str] = {}
    for i, h in enumerate(households[:-3]):  # the last three get no visit in round 1
        day = f"2026-11-0{2 + i % 4}"
        item = _visit(h, r1, outcomes[i % len(outcomes)], day, i, rng)
        first[h.pk] = item.id
        _record(workers[i % 2], [item])
    # a second visit reaches a household that was not home; a correction un-reaches another
    _record(workers[0], [_visit(households[2], r1, "reached", "2026-11-07", 5, rng)])
    _record(chief, [VisitInput(id=str(uuid.uuid4()), household=households[0].pk, round=r1.pk,
                               outcome="nobody_home", captured_at="2026-11-07T12:00:00+08:00",
                               corrects=first[households[0].pk])])
    services.round_close(round=r1, user=chief)
    _open(r2, chief, D(2026, 11, 16))
    r1.refresh_from_db()
    r2.refresh_from_db()
    for i, h in enumerate(campaign_selectors.round_households(round=r2).filter(cell__in=cells).order_by("pk")):
        if i % 4 != 3:  # some are not visited yet
            _record(workers[(i + 1) % 2], [_visit(h, r2, ["reached", "nobody_home", "reached"][i % 3],
                                                   f"2026-11-1{7 + i % 3}", i, rng)])
    other = mini_city.townships[2]
    assert not other.path.startswith(district.path)
    return Visited(district=district, township=mini_city.townships[0], other_township=other, r1=r1, r2=r2)


@pytest.fixture
def visited(mini_city, campaign, chief, team, workers) -> Visited:
    return build_visited(mini_city, campaign, chief, team, workers)
