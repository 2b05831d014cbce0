"""Push: each item accepted, duplicate or rejected with a code; one transaction; replays change nothing."""

import datetime as dt
import uuid

import pytest
from django.contrib.gis.geos import Point

from server.campaigns import services as campaign_services
from server.campaigns.models import CellAssignment
from server.campaigns.selectors import household_states
from server.sync.models import HouseholdReport
from server.visits.models import Visit
from server.visits.state import HouseholdRoundState, household_round_states_rebuild
from tests.sync.conftest import push, visit

pytestmark = pytest.mark.django_db


def statuses(response):
    assert response.status_code == 200, response.content
    return [(r["status"], r["code"]) for r in response.json()["results"]]


def test_a_visit_is_accepted_with_device_and_receive_time(mini_city, round, phone, worker):
    item = visit(mini_city.households[0], round)
    r = push(phone, [item])
    assert statuses(r) == [("accepted", "accepted")]
    assert r.json()["results"][0]["id"] == item["id"]
    assert r.json()["results"][0]["message"] == "已接收"
    stored = Visit.objects.get(pk=item["id"])
    assert stored.worker == worker and stored.device_id == "phone-1" and stored.source == "app"
    assert stored.received_at is not None and stored.captured_at is not None
    assert stored.change_seq is not None


def test_replaying_a_batch_changes_nothing_and_answers_duplicate(mini_city, round, phone):
    batch = [visit(h, round) for h in mini_city.households[:4]]
    assert statuses(push(phone, batch)) == [("accepted", "accepted")] * 4
    seqs = dict(Visit.objects.values_list("id", "change_seq"))
    assert statuses(push(phone, batch)) == [("duplicate", "duplicate")] * 4
    assert Visit.objects.count() == 4
    assert dict(Visit.objects.values_list("id", "change_seq")) == seqs


def test_a_lost_response_then_a_retry_with_more_items(mini_city, round, phone):
    first = [visit(mini_city.households[0], round)]
    push(phone, first)  # the response never reached the phone
    retry = first + [visit(mini_city.households[1], round)]
    assert statuses(push(phone, retry)) == [("duplicate", "duplicate"), ("accepted", "accepted")]
    assert Visit.objects.count() == 2


def test_rejected_items_do_not_block_the_others(mini_city, round, phone):
    outside = mini_city.households[6]  # cell 2: not held by the worker
    batch = [visit(outside, round), visit(mini_city.households[0], round, outcome="no-such-code"),
             visit(mini_city.households[1], round), {**visit(mini_city.households[2], round), "round": 999999}]
    assert statuses(push(phone, batch)) == [
        ("rejected", "not_assigned"), ("rejected", "invalid_outcome"), ("accepted", "accepted"),
        ("rejected", "unknown_round")]
    assert Visit.objects.count() == 1


def test_visits_to_a_closed_round_are_rejected(mini_city, round, phone, chief):
    campaign_services.round_close(round=round, user=chief)
    assert statuses(push(phone, [visit(mini_city.households[0], round)])) == [("rejected", "round_closed")]


def test_implausible_visits_are_flagged_not_rejected(mini_city, round, phone):
    h = mini_city.households[0]
    skewed = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=3)).isoformat()
    item = visit(h, round, lat=h.location.y + 0.01, accuracy_m=500, mock_location=True, captured_at=skewed)
    r = push(phone, [item])
    assert statuses(r) == [("accepted", "accepted")]
    assert set(r.json()["results"][0]["flags"]) == {"far", "inaccurate", "mock", "clock"}
    v = Visit.objects.get()
    assert v.flag_far and v.flag_inaccurate and v.flag_mock and v.flag_clock


def test_messages_follow_the_language_asked_for(mini_city, round, phone):
    r = push(phone, [visit(mini_city.households[6], round)], HTTP_ACCEPT_LANGUAGE="en")
    assert r.json()["results"][0]["message"] == "This household is not in a cell you hold for this round"


def test_a_correction_is_a_new_visit(mini_city, round, phone):
    h = mini_city.households[0]
    first = visit(h, round, outcome="nobody_home")
    push(phone, [first])
    fix = visit(h, round, outcome="reached", corrects=first["id"])
    assert statuses(push(phone, [fix])) == [("accepted", "accepted")]
    assert Visit.objects.count() == 2
    state = HouseholdRoundState.objects.get(household=h, round=round)
    assert state.reached and state.visits == 1 and state.outcome.code == "reached"
    bad = visit(mini_city.households[1], round, corrects=str(uuid.uuid4()))
    assert statuses(push(phone, [bad])) == [("rejected", "invalid_correction")]


def test_two_workers_interleaved_on_one_household(mini_city, round, phone, phone2, worker, worker2, chief):
    from server.accounts import services as account_services

    team = account_services.team_create(name="一队", area=mini_city.districts[0], members=[worker, worker2])
    campaign_services.cell_assign(round=round, cell=mini_city.cells[0], team=team, worker=None, user=chief,
                                  reason="两人合作")
    h = mini_city.households[0]
    a1, b1 = visit(h, round, outcome="nobody_home"), visit(h, round, outcome="refused")
    a2 = visit(h, round, outcome="reached")
    assert statuses(push(phone, [a1])) == [("accepted", "accepted")]
    assert statuses(push(phone2, [b1])) == [("accepted", "accepted")]
    assert statuses(push(phone, [a1, a2])) == [("duplicate", "duplicate"), ("accepted", "accepted")]
    assert statuses(push(phone2, [b1])) == [("duplicate", "duplicate")]
    state = HouseholdRoundState.objects.get(household=h, round=round)
    assert state.visits == 3 and state.reached and state.settled


def test_incremental_state_equals_a_full_rebuild(mini_city, round, phone):
    hs = mini_city.households[:6]
    push(phone, [visit(hs[0], round, outcome="nobody_home"), visit(hs[1], round, outcome="refused")])
    push(phone, [visit(hs[0], round), visit(hs[2], round, outcome="vacant", mock_location=True)])
    first = visit(hs[3], round, outcome="reached", app_installed=True)
    push(phone, [first])
    push(phone, [visit(hs[3], round, outcome="nobody_home", corrects=first["id"], app_installed=False)])
    fields = ("round_id", "household_id", "cell_id", "outcome_id", "reached", "settled", "visits", "flagged",
              "app_installed", "last_visit_at")
    incremental = sorted(HouseholdRoundState.objects.values_list(*fields))
    household_round_states_rebuild()
    assert sorted(HouseholdRoundState.objects.values_list(*fields)) == incremental
    assert len(incremental) == 4
    # the same rules as the planner's reference reading of the visits
    reference = household_states(round=round)
    for row in HouseholdRoundState.objects.select_related("outcome"):
        ref = reference[row.household_id]
        assert (row.outcome.code, row.reached, row.settled, row.visits) == (ref.outcome, ref.reached, ref.settled,
                                                                            ref.visits)
    assert HouseholdRoundState.objects.get(household=hs[2]).flagged == 1
    assert not HouseholdRoundState.objects.get(household=hs[3]).app_installed


def test_a_rebuild_repairs_stale_missing_and_orphan_states_and_leaves_the_rest(mini_city, round, phone):
    hs = mini_city.households[:4]
    push(phone, [visit(hs[0], round, outcome="reached"), visit(hs[1], round, outcome="nobody_home"),
                 visit(hs[2], round, outcome="refused")])
    fields = ("household_id", "outcome_id", "reached", "settled", "visits", "flagged", "app_installed")
    right = sorted(HouseholdRoundState.objects.values_list(*fields))
    kept = HouseholdRoundState.objects.get(household=hs[2])
    # stale (a state that says reached when its visit did not), missing (deleted), orphan (no visit behind it)
    HouseholdRoundState.objects.filter(household=hs[1]).update(reached=True, visits=7)
    HouseholdRoundState.objects.filter(household=hs[0]).delete()
    HouseholdRoundState.objects.create(household=hs[3], round=round, cell_id=hs[3].cell_id, visits=2, reached=True)
    assert household_round_states_rebuild() == 3
    assert sorted(HouseholdRoundState.objects.values_list(*fields)) == right
    assert HouseholdRoundState.objects.get(household=hs[2]).pk == kept.pk  # an unchanged row is not rewritten
    assert household_round_states_rebuild(round_id=round.pk) == 3  # one round: the same rows, nothing else
    assert sorted(HouseholdRoundState.objects.values_list(*fields)) == right


def test_deleting_a_household_or_round_deletes_the_rows_derived_from_it(mini_city, round, phone):
    from server.coverage.models import CellCoverage

    hs = mini_city.households[:2]
    push(phone, [visit(hs[0], round), visit(hs[1], round, outcome="nobody_home")])
    assert HouseholdRoundState.objects.filter(round=round).count() == 2
    assert CellCoverage.objects.filter(round=round).exists()
    Visit.objects.filter(household=hs[0]).delete()
    hs[0].delete()  # the derived tables have no FK constraints in the database: Django's on_delete must do it
    assert list(HouseholdRoundState.objects.values_list("household_id", flat=True)) == [hs[1].pk]
    Visit.objects.filter(round=round).delete()  # a round with visits is protected
    round_id = round.pk
    round.delete()
    assert not HouseholdRoundState.objects.exists() and not CellCoverage.objects.filter(round_id=round_id).exists()


def test_claims_accepted_duplicate_or_rejected_with_the_holder(mini_city, round, phone, phone2, worker2):
    free = mini_city.cells[2]
    claim = {"id": str(uuid.uuid4()), "round": round.pk, "cell": free.pk}
    assert statuses(push(phone, claims=[claim])) == [("accepted", "accepted")]
    assert CellAssignment.objects.get(round=round, cell=free).source == "claim"
    assert statuses(push(phone, claims=[claim])) == [("duplicate", "duplicate")]
    r = push(phone2, claims=[{"id": str(uuid.uuid4()), "round": round.pk, "cell": free.pk}])
    assert statuses(r) == [("rejected", "cell_held")]
    assert "w1" in r.json()["results"][0]["message"]


def test_a_cell_claimed_offline_takes_the_visits_made_in_it(mini_city, round, phone):
    cell = mini_city.cells[2]
    h = [x for x in mini_city.households if x.cell_id == cell.pk][0]
    claim = {"id": str(uuid.uuid4()), "round": round.pk, "cell": cell.pk}
    r = push(phone, [visit(h, round)], claims=[claim])
    assert statuses(r) == [("accepted", "accepted"), ("accepted", "accepted")]
    assert [x["kind"] for x in r.json()["results"]] == ["visit", "claim"]


def test_household_reports_wait_for_review(mini_city, round, phone):
    h = mini_city.households[0]
    reports = [
        {"id": str(uuid.uuid4()), "kind": "vacant", "household": h.pk, "round": round.pk,
         "captured_at": "2026-11-25T10:00:00+08:00"},
        {"id": str(uuid.uuid4()), "kind": "wrong_location", "household": h.pk, "lat": 32.3051, "lon": 118.3052,
         "captured_at": "2026-11-25T10:00:00+08:00"},
        {"id": str(uuid.uuid4()), "kind": "new_household", "cell": mini_city.cells[0].pk, "lat": 32.301,
         "lon": 118.301, "building": "5", "room": "101", "captured_at": "2026-11-25T10:00:00+08:00"},
        {"id": str(uuid.uuid4()), "kind": "demolished", "household": mini_city.households[6].pk,
         "captured_at": "2026-11-25T10:00:00+08:00"},
    ]
    assert statuses(push(phone, household_reports=reports)) == [("accepted", "accepted")] * 3 + [
        ("rejected", "not_assigned")]
    assert HouseholdReport.objects.filter(status="pending").count() == 3
    h.refresh_from_db()
    assert h.status == "occupied" and h.location == Point(h.location.x, h.location.y, srid=4326)
    assert statuses(push(phone, household_reports=reports[:1])) == [("duplicate", "duplicate")]


def test_a_correction_in_the_same_batch_as_the_visit_it_corrects(mini_city, round, phone):
    h = mini_city.households[0]
    first = visit(h, round, outcome="nobody_home")
    fix = visit(h, round, outcome="reached", corrects=first["id"])
    again = visit(h, round, outcome="refused", corrects=first["id"])
    before = visit(h, round, outcome="refused", corrects=str(uuid.uuid4()))
    assert statuses(push(phone, [first, fix, again, before])) == [
        ("accepted", "accepted"), ("accepted", "accepted"), ("rejected", "already_corrected"),
        ("rejected", "invalid_correction")]
    state = HouseholdRoundState.objects.get(household=h, round=round)
    assert state.reached and state.visits == 1
    assert Visit.objects.get(pk=fix["id"]).corrects_id == uuid.UUID(first["id"])


def test_a_correction_must_follow_its_visit_in_the_batch(mini_city, round, phone):
    h = mini_city.households[0]
    first = visit(h, round, outcome="nobody_home")
    fix = visit(h, round, outcome="reached", corrects=first["id"])
    assert statuses(push(phone, [fix, first])) == [("rejected", "invalid_correction"), ("accepted", "accepted")]


def test_an_offline_phone_pushing_hours_later_is_not_a_clock_fault(mini_city, round, phone):
    """Visits made in the stairwell at 9:00 and pushed at 14:00 carry a plausible device time: not flagged. A device
    time later than the server's, or before the round was opened, is impossible: flagged."""
    from server.campaigns.models import Round

    now = dt.datetime.now(dt.timezone.utc)
    Round.objects.filter(pk=round.pk).update(opened_at=now - dt.timedelta(days=1))
    hs = mini_city.households
    items = [visit(hs[0], round, captured_at=(now - dt.timedelta(hours=5)).isoformat()),
             visit(hs[1], round, captured_at=(now + dt.timedelta(hours=1)).isoformat()),
             visit(hs[2], round, captured_at=(now - dt.timedelta(days=2)).isoformat())]
    r = push(phone, items)
    assert [("clock" in x.get("flags", [])) for x in r.json()["results"]] == [False, True, True]
    assert [Visit.objects.get(pk=i["id"]).flag_clock for i in items] == [False, True, True]
