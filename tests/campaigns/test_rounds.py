"""Rounds: derived households, windows, open/close rules, with errors that change nothing."""

import datetime as dt
import uuid

import pytest
from django.contrib.gis.geos import Point

from server.campaigns import selectors, services
from server.campaigns.errors import PlanError
from server.campaigns.models import Round, RoundStatus
from server.registry.models import HouseholdStatus
from server.visits.models import VisitSource
from server.visits.services import VisitInput, visits_record
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db
D = dt.date


def _visit(user, household, round, outcome):
    r = visits_record(user=user, source=VisitSource.WEB, items=[VisitInput(
        id=str(uuid.uuid4()), household=household.pk, round=round.pk, outcome=outcome,
        captured_at="2026-11-05T10:00:00+08:00",
    )])[0]
    assert r.status == "accepted", r.message
    return r


def _district_households(mini_city):
    return [h for h in mini_city.households if h.community.parent.parent_id == mini_city.districts[0].id]


def test_round_one_is_every_occupied_household_in_scope(mini_city, campaign):
    inside = _district_households(mini_city)
    vacant = inside[0]
    vacant.status = HouseholdStatus.VACANT
    vacant.save(update_fields=["status"])
    r1 = services.round_create(campaign=campaign, starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 10))
    got = set(selectors.round_households(round=r1).values_list("pk", flat=True))
    assert got == {h.pk for h in inside} - {vacant.pk}


def test_round_two_is_round_one_not_reached_plus_new_households(mini_city, campaign, chief, team):
    inside = _district_households(mini_city)
    r1 = services.round_create(campaign=campaign, starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 10))
    for cell in {h.cell for h in inside}:
        services.cell_assign(round=r1, cell=cell, team=team, user=chief, reason="计划")
    services.round_open(round=r1, user=chief)
    reached, nobody, refused, vacant = inside[0], inside[1], inside[2], inside[3]
    _visit(chief, reached, r1, "reached")
    _visit(chief, nobody, r1, "nobody_home")
    _visit(chief, refused, r1, "refused")
    _visit(chief, vacant, r1, "vacant")
    # nobody home first, then reached on a second call: reached wins
    _visit(chief, inside[4], r1, "nobody_home")
    _visit(chief, inside[4], r1, "reached")
    services.round_close(round=r1, user=chief)
    new = HouseholdFactory(community=inside[0].community, cell=inside[0].cell,
                           location=Point(inside[0].location.x, inside[0].location.y, srid=4326))
    r2 = services.round_create(campaign=campaign, starts_on=D(2026, 11, 11), ends_on=D(2026, 11, 20))
    got = set(selectors.round_households(round=r2).values_list("pk", flat=True))
    expected = {h.pk for h in inside} - {reached.pk, vacant.pk, inside[4].pk} | {new.pk}
    assert got == expected
    assert nobody.pk in got and refused.pk in got


def test_correction_changes_derived_state(mini_city, campaign, chief, team):
    inside = _district_households(mini_city)
    r1 = services.round_create(campaign=campaign, starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 10))
    services.cell_assign(round=r1, cell=inside[0].cell, team=team, user=chief)
    services.round_open(round=r1, user=chief)
    wrong = _visit(chief, inside[0], r1, "reached")
    fix = visits_record(user=chief, source=VisitSource.WEB, items=[VisitInput(
        id=str(uuid.uuid4()), household=inside[0].pk, round=r1.pk, outcome="nobody_home",
        captured_at="2026-11-05T11:00:00+08:00", corrects=wrong.id)])[0]
    assert fix.status == "accepted"
    state = selectors.household_states(round=r1)[inside[0].pk]
    assert state.outcome == "nobody_home" and not state.reached and not state.settled


def test_overlapping_round_window_refused_and_nothing_created(campaign):
    services.round_create(campaign=campaign, starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 10))
    with pytest.raises(PlanError) as e:
        services.round_create(campaign=campaign, starts_on=D(2026, 11, 8), ends_on=D(2026, 11, 15))
    assert e.value.code == "overlapping_rounds" and "重叠" in e.value.zh and "Overlaps round 1" in e.value.en
    assert Round.objects.filter(campaign=campaign).count() == 1


def test_opening_round_with_no_households_refused(mini_city, chief):
    empty = mini_city.communities[0]
    from server.registry.models import Household

    Household.objects.filter(community=empty).update(status=HouseholdStatus.DEMOLISHED)
    c = services.campaign_create(name="空", areas=[empty], starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 30),
                                 created_by=chief)
    r = services.round_create(campaign=c, starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 5))
    with pytest.raises(PlanError) as e:
        services.round_open(round=r, user=chief)
    assert e.value.code == "no_households"
    r.refresh_from_db()
    assert r.status == RoundStatus.DRAFT and r.opened_at is None


def test_close_refused_while_claimed_cell_unfinished(mini_city, campaign, chief, workers):
    r1 = services.round_create(campaign=campaign, starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 10))
    services.round_open(round=r1, user=chief)
    cell = mini_city.cells[0]
    services.cell_claim(round=r1, cell=cell, worker=workers[0])
    with pytest.raises(PlanError) as e:
        services.round_close(round=r1, user=chief)
    assert e.value.code == "unresolved_claims" and cell.code in e.value.en and "w0" in e.value.zh
    r1.refresh_from_db()
    assert r1.status == RoundStatus.OPEN
