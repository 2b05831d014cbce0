"""A city-wide campaign with two rounds of visits that exercise every coverage rule.

Register: the mini city (24 households in 8 cells, one resident each, born 1980), plus elderly residents (one born
1966, aged 60 in the campaign's year, counts; one born 1967 does not), tagged students and women at home, a
household vacant in the register and one outside every cell.
Round 1 (opened 2026-11-01 08:00 Shanghai): cells 0–2 held by team 一队 (w0, w1), cells 3–5 by w2 alone, 6–7 by
nobody. Visits: reached / nobody home / refused, far and imprecise GPS, app installs, a second worker reaching a
household another one missed, a correction, found vacant and moved, a device clock in the future, an offline
phone pushing two days later, a device clock before the round opened, a visit to the register-vacant household,
a web visit by the city admin, visits either side of midnight Shanghai time.
Round 1 closes; round 2 (opened 2026-11-15) hands cells 0–1 to w2 alone and cell 4 to the team; visits there,
including one to a household settled in round 1 (not on round 2's list) and a refusal of round 1 that
turns into nobody home (the campaign takes the latest round's outcome).
"""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from dataclasses import dataclass, field

import pytest
from django.apps import apps as django_apps
from django.contrib.gis.geos import Point
from django.test import TestCase

from server.accounts import services as account_services
from server.campaigns import services as campaign_services
from server.campaigns.models import Campaign, Round
from server.registry.models import Household, HouseholdStatus, KeyGroup, Resident
from server.visits.models import VisitSource
from server.visits.services import VisitInput, visits_record
from tests.factories import HouseholdFactory, Role, make_user

SH = dt.timezone(dt.timedelta(hours=8))


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SH)


@dataclass
class Scenario:
    campaign: Campaign
    round1: Round
    round2: Round
    city_admin: object
    chief: object
    workers: list
    team: object
    households: list
    first_visits: dict = field(default_factory=dict)


def push(user, items: list[VisitInput], *, now: dt.datetime, source: str = VisitSource.APP) -> list:
    """One push: stored in one transaction, then the after-commit refresh runs (as a commit would)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        results = visits_record(user=user, items=items, source=source, now=now, device_id="phone")
    assert all(r.status == "accepted" for r in results), [(r.code, r.message) for r in results]
    return results


def visit(h, round, outcome: str, captured: dt.datetime, *, far: bool = False, accuracy: float = 8.0,
          **extra) -> VisitInput:
    lat = h.location.y + (0.01 if far else 0.0)
    return VisitInput(id=str(uuid.uuid4()), household=h.pk, round=round.pk, outcome=outcome,
                      captured_at=captured.isoformat(), lat=lat, lon=h.location.x, accuracy_m=accuracy, **extra)


def _register(mini_city) -> list:
    hs = mini_city.households
    # A transactional test starts from a flushed database: the default key groups of the data migration are gone.
    add_default_groups = importlib.import_module("server.registry.migrations.0002_default_key_groups").add_groups
    add_default_groups(django_apps, None)
    groups = {g.code: g for g in KeyGroup.objects.all()}
    for i, h in enumerate(hs):
        if i % 3 == 0:
            Resident.objects.create(household=h, name=f"老人{i}", birth_year=1950 + i)
        if i % 4 == 1:
            Resident.objects.create(household=h, name=f"学生{i}", birth_year=2010).key_groups.add(groups["student"])
        if i % 5 == 2:
            woman = Resident.objects.create(household=h, name=f"居家{i}", sex="F", birth_year=1990)
            woman.key_groups.add(groups["woman_at_home"], groups["investment_risk"])
    Resident.objects.create(household=hs[3], name="六十岁", birth_year=1966)
    Resident.objects.create(household=hs[4], name="五十九岁", birth_year=1967)
    Household.objects.filter(pk=hs[5].pk).update(status=HouseholdStatus.VACANT)
    HouseholdFactory(community=mini_city.communities[0], cell=None, location=Point(118.2, 32.2, srid=4326))
    return hs


@pytest.fixture
def scenario(mini_city) -> Scenario:
    hs = _register(mini_city)
    city_admin = make_user("city", Role.CITY_ADMIN, areas=[mini_city.city])
    chief = make_user("chief", Role.STATION_CHIEF, areas=[mini_city.districts[0]])
    w = [make_user(f"w{i}", Role.GRID_WORKER, areas=[mini_city.communities[0]]) for i in range(3)]
    team = account_services.team_create(name="一队", area=mini_city.districts[0], members=w[:2])
    with TestCase.captureOnCommitCallbacks(execute=True):
        campaign = campaign_services.campaign_create(
            name="全市敲门行动", areas=[mini_city.city], starts_on=dt.date(2026, 11, 1),
            ends_on=dt.date(2026, 12, 31), created_by=city_admin)
        r1 = campaign_services.round_create(campaign=campaign, starts_on=dt.date(2026, 11, 1),
                                            ends_on=dt.date(2026, 11, 14))
    cells = mini_city.cells
    for cell in cells[:3]:
        campaign_services.cell_assign(round=r1, cell=cell, team=team, user=city_admin)
    for cell in cells[3:6]:
        campaign_services.cell_assign(round=r1, cell=cell, worker=w[2], user=city_admin)
    campaign_services.round_open(round=r1, user=city_admin)
    Round.objects.filter(pk=r1.pk).update(opened_at=at(1, 8))
    r1.refresh_from_db()
    s = Scenario(campaign=campaign, round1=r1, round2=None, city_admin=city_admin, chief=chief, workers=w, team=team,
                 households=hs)

    first = visit(hs[0], r1, "reached", at(5, 10), app_installed=True)
    push(w[0], [first, visit(hs[1], r1, "nobody_home", at(5, 10, 5)),
                visit(hs[2], r1, "refused", at(5, 10, 10), far=True)], now=at(5, 12))
    # either side of midnight Shanghai time (both the same UTC day); a visit to the register-vacant household
    push(w[1], [visit(hs[3], r1, "reached", at(5, 23, 30)), visit(hs[4], r1, "reached", at(6, 0, 30)),
                visit(hs[5], r1, "reached", at(6, 0, 35))], now=at(6, 0, 40))
    # the first visit corrected: not reached after all; a second worker reaches the household w0 missed
    push(w[0], [visit(hs[0], r1, "nobody_home", at(7, 8, 50), corrects=first.id)], now=at(7, 9))
    push(w[1], [visit(hs[1], r1, "reached", at(7, 9, 30), app_installed=True)], now=at(7, 10))
    # found vacant, moved, and a phone whose clock is four days ahead (and a mock location)
    push(w[2], [visit(hs[9], r1, "vacant", at(8, 9)), visit(hs[10], r1, "moved", at(8, 9, 10)),
                visit(hs[11], r1, "reached", at(12, 9), mock_location=True)], now=at(8, 20))
    # an offline phone pushing two days later (plausible device time), one clock before the round opened
    push(w[2], [visit(hs[12], r1, "reached", at(8, 15)), visit(hs[13], r1, "nobody_home", at(20, 9, month=10)),
                visit(hs[14], r1, "reached", at(8, 15, 30), accuracy=500.0)], now=at(10, 8))
    # the city admin enters a paper sheet on the web (no clock or accuracy flags for web visits)
    push(city_admin, [visit(hs[6], r1, "reached", at(9, 14)), visit(hs[7], r1, "refused", at(9, 14, 5))],
         now=at(9, 18), source=VisitSource.WEB)
    campaign_services.round_close(round=r1, user=city_admin)

    with TestCase.captureOnCommitCallbacks(execute=True):
        r2 = campaign_services.round_create(campaign=campaign, starts_on=dt.date(2026, 11, 15),
                                            ends_on=dt.date(2026, 11, 30))
    for cell in cells[:2]:
        campaign_services.cell_assign(round=r2, cell=cell, worker=w[2], user=city_admin)
    campaign_services.cell_assign(round=r2, cell=cells[4], team=team, user=city_admin)
    campaign_services.round_open(round=r2, user=city_admin)
    Round.objects.filter(pk=r2.pk).update(opened_at=at(15, 8))
    r2.refresh_from_db()
    s.round2 = r2
    push(w[2], [visit(hs[0], r2, "reached", at(16, 10)), visit(hs[2], r2, "nobody_home", at(16, 10, 20))],
         now=at(16, 12))
    # hs[12] was reached in round 1: not on round 2's list, yet its visit counts for the campaign
    push(w[0], [visit(hs[13], r2, "reached", at(16, 17)), visit(hs[12], r2, "reached", at(16, 17, 10))],
         now=at(16, 18))
    return s
