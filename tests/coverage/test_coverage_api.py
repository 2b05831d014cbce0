"""Coverage figures through the API agree with an independent computation over the raw visits."""

import datetime as dt
import random
import uuid
from collections import defaultdict

import pytest
from django.urls import reverse

from server.campaigns import services
from server.campaigns.models import OutcomeCode
from server.registry.models import Household, HouseholdStatus
from server.visits.models import Visit, VisitSource
from server.visits.services import VisitInput, visits_record
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _independent(district, round) -> dict[str, dict]:
    """Plain Python over the raw rows: a different path from the selectors and the state table."""
    codes = {o.pk: o for o in OutcomeCode.objects.filter(campaign=round.campaign)}
    corrected = set(Visit.objects.filter(corrects__isnull=False).values_list("corrects_id", flat=True))
    visits = defaultdict(list)
    for v in Visit.objects.filter(round=round).order_by("captured_at"):
        if v.pk not in corrected:
            visits[v.household_id].append(v)
    out = defaultdict(lambda: defaultdict(int))
    for h in Household.objects.select_related("community__parent__parent"):
        if h.community.parent.parent_id != district.pk or h.status != HouseholdStatus.OCCUPIED:
            continue
        f = out[h.community.parent.code]
        f["to_visit"] += 1
        vs = visits.get(h.pk, [])
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
    return out


def test_township_coverage_matches_independent_computation(client, mini_city, campaign, chief, team,
                                                         django_capture_on_commit_callbacks):
    district = mini_city.districts[0]
    r1 = services.round_create(campaign=campaign, starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 11, 30))
    for cell in {h.cell for h in mini_city.households if h.community.parent.parent_id == district.pk}:
        services.cell_assign(round=r1, cell=cell, team=team, user=chief)
    services.round_open(round=r1, user=chief)
    rng = random.Random(3)
    households = [h for h in mini_city.households if h.community.parent.parent_id == district.pk]
    items, first = [], {}
    for i, h in enumerate(households[:10]):
        vid = str(uuid.uuid4())
        first.setdefault(h.pk, vid)
        outcome = ["reached", "nobody_home", "refused", "vacant"][i % 4]
        far = 0.01 if i % 5 == 0 else 0.0
        items.append(VisitInput(id=vid, household=h.pk, round=r1.pk, outcome=outcome,
                                captured_at=f"2026-11-05T10:{i:02d}:00+08:00", lat=h.location.y + far,
                                lon=h.location.x, accuracy_m=rng.choice([5, 200]), app_installed=i % 3 == 0))
    # a correction, sent later: the first household was not reached after all
    fix = (VisitInput(id=str(uuid.uuid4()), household=households[0].pk, round=r1.pk, outcome="nobody_home",
                            captured_at="2026-11-05T11:00:00+08:00", corrects=first[households[0].pk]))
    with django_capture_on_commit_callbacks(execute=True):
        results = visits_record(user=chief, items=items, source=VisitSource.WEB)
    with django_capture_on_commit_callbacks(execute=True):
        results += visits_record(user=chief, items=[fix], source=VisitSource.WEB)
    assert all(r.status == "accepted" for r in results), [r.message for r in results]

    client.login(username="chief", password=PASSWORD)
    body = client.get(reverse("coverage"), {"round": r1.pk, "level": "township"}).json()
    expected = _independent(district, r1)
    got = {row["code"]: row for row in body["rows"]}
    assert set(got) == set(expected) == {t.code for t in mini_city.townships if t.parent_id == district.pk}
    for code, f in expected.items():
        for name in ("to_visit", "attempted", "reached", "nobody_home", "refused", "excluded", "app_installs",
                     "flagged_visits"):
            assert got[code][name] == f[name], (code, name)
        base = f["to_visit"] - f["excluded"]
        assert got[code]["coverage"] == pytest.approx(f["reached"] / base, abs=1e-4)
    cells = client.get(reverse("coverage"), {"round": r1.pk, "level": "cell"}).json()["rows"]
    assert sum(c["reached"] for c in cells) == sum(f["reached"] for f in expected.values())


def test_coverage_is_scoped_and_validates_input(client, mini_city, campaign, chief,
                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # a new round's figures are computed after commit
        r1 = services.round_create(campaign=campaign, starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 11, 30))
    client.login(username="chief", password=PASSWORD)
    rows = client.get(reverse("coverage"), {"round": r1.pk, "level": "district"}).json()["rows"]
    assert [r["code"] for r in rows] == [mini_city.districts[0].code]  # never the other district
    r = client.get(reverse("coverage"), {"round": r1.pk, "level": "planet"})
    assert r.status_code == 400 and "level" in r.json()["errors"]
    assert client.get(reverse("coverage"), {"level": "cell"}).status_code == 400
