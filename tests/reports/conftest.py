"""A campaign over district 0 of the mini city with two rounds of visits, and an independent count over raw rows."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass

import pytest
from django.contrib.gis.geos import Point
from django.test import TestCase

from server.campaigns import services
from server.campaigns.models import OutcomeCode, Round
from server.registry.models import Household, HouseholdStatus
from server.visits.models import Visit, VisitSource
from server.visits.services import VisitInput, visits_record
from tests.factories import HouseholdFactory

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


def build_visited(mini_city, campaign, chief, team, workers) -> Visited:
    """Round 1 (closed) and round 2 (open) of the campaign over district 0, visits by the team's two workers."""
    district = mini_city.districts[0]
    cells = [c for c in mini_city.cells if c.path.startswith(district.path)]
    for i, cell in enumerate(cells):  # more households, one vacant per cell (not to visit)
        x0, y0 = cell.geom.extent[:2]
        for k in range(5):
            HouseholdFactory(community=cell.community, cell=cell,
                             status=HouseholdStatus.VACANT if k == 0 else HouseholdStatus.OCCUPIED,
                             location=Point(x0 + 0.002 + 0.003 * k, y0 + 0.004 + 0.001 * i, srid=4326))
    rng = random.Random(6)
    r1 = services.round_create(campaign=campaign, starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 15))
    r2 = services.round_create(campaign=campaign, starts_on=D(2026, 11, 16), ends_on=D(2026, 11, 30))
    for r in (r1, r2):
        for cell in cells:
            services.cell_assign(round=r, cell=cell, team=team, user=chief)
    services.round_open(round=r1, user=chief)
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
    services.round_open(round=r2, user=chief)
    r1.refresh_from_db()
    r2.refresh_from_db()
    for i, h in enumerate(households[::2]):
        _record(workers[(i + 1) % 2], [_visit(h, r2, ["reached", "nobody_home", "refused"][i % 3],
                                               f"2026-11-1{7 + i % 3}", i, rng)])
    other = mini_city.townships[2]
    assert not other.path.startswith(district.path)
    return Visited(district=district, township=mini_city.townships[0], other_township=other, r1=r1, r2=r2)


@pytest.fixture
def visited(mini_city, campaign, chief, team, workers) -> Visited:
    return build_visited(mini_city, campaign, chief, team, workers)


def independent_figures(round: Round, level: str, under_path: str) -> dict[str, dict]:
    """The figures of every area (or cell) of `level` under `under_path`, counted in plain Python over the raw
    households, visits and outcome codes: a different path from the selectors and the state table."""
    codes = {o.pk: o for o in OutcomeCode.objects.filter(campaign=round.campaign)}
    corrected = set(Visit.objects.filter(corrects__isnull=False).values_list("corrects_id", flat=True))
    live = [v for v in Visit.objects.select_related("round").order_by("captured_at", "received_at")
            if v.pk not in corrected]
    this_round = defaultdict(list)
    settled_before = set()
    for v in live:
        if v.round_id == round.pk:
            this_round[v.household_id].append(v)
        elif v.round.campaign_id == round.campaign_id and v.round.number < round.number \
                and not codes[v.outcome_id].revisit:
            settled_before.add(v.household_id)
    campaign_paths = list(round.campaign.areas.values_list("path", flat=True))
    depth = ["city", "district", "township", "community", "cell"].index(level)
    out: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for h in Household.objects.select_related("cell", "community"):
        if h.cell is None or not h.cell.path.startswith(under_path):
            continue
        if h.status != HouseholdStatus.OCCUPIED or not any(h.community.path.startswith(p) for p in campaign_paths):
            continue
        if h.pk in settled_before:
            continue
        f = out[h.cell.path.strip("/").split("/")[depth]]
        f["to_visit"] += 1
        vs = this_round.get(h.pk, [])
        if not vs:
            continue
        f["attempted"] += 1
        reached = any(codes[v.outcome_id].reached for v in vs)
        f["reached"] += reached
        last = codes[vs[-1].outcome_id]
        if not reached:
            f["nobody_home"] += last.code == "nobody_home"
            f["refused"] += last.code == "refused"
            f["excluded"] += last.excluded
        f["app_installs"] += any(v.app_installed for v in vs)
        f["flagged_visits"] += sum(1 for v in vs if v.flag_far or v.flag_inaccurate or v.flag_mock or v.flag_clock)
    for f in out.values():
        base = f["to_visit"] - f["excluded"]
        f["coverage"] = f["reached"] / base if base > 0 else None
    return out
