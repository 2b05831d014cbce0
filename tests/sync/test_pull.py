"""Pull: the user's scope only, incremental by change sequence, deletions when the scope shrinks, resets."""

import gzip
import json

import pytest
from django.contrib.gis.geos import Point

from server.campaigns import services as campaign_services
from server.registry.models import Household
from server.sync.models import PullSnapshot
from tests.factories import HouseholdFactory, ResidentFactory
from tests.sync.conftest import pull_all, push, visit

pytestmark = pytest.mark.django_db


def ids(rows):
    return sorted(r["id"] for r in rows)


def own_households(mini_city, cells=(0, 1)):
    return [h for h in mini_city.households if h.cell_id in {mini_city.cells[i].pk for i in cells}]


def test_first_pull_is_a_reset_with_the_whole_scope(mini_city, round, phone, campaign):
    p = pull_all(phone)
    assert p["reset"] is True
    c = p["changes"]
    assert ids(c["rounds"]) == [round.pk] and c["rounds"][0]["status"] == "open"
    assert {o["code"] for o in c["outcome_codes"]} >= {"reached", "nobody_home", "refused", "vacant"}
    assert ids(c["cells"]) == sorted(x.pk for x in mini_city.cells[:2])
    assert c["cells"][0]["geom"]["type"] == "Polygon" and c["cells"][0]["rounds"] == [round.pk]
    assert ids(c["households"]) == sorted(h.pk for h in own_households(mini_city))
    h = c["households"][0]
    assert h["rounds"][0]["round"] == round.pk and h["rounds"][0]["order"] in (1, 2, 3)
    assert h["rounds"][0]["state"] is None
    assert h["residents"] == {"count": 1, "elderly": 0, "key_groups": {}}
    assert abs(h["lon"] - Household.objects.get(pk=h["id"]).location.x) < 1e-6


def test_pull_carries_no_names_phones_or_id_numbers(mini_city, round, phone):
    ResidentFactory(household=mini_city.households[0], name="张三丰", birth_year=1940)
    body = phone.get("/api/v1/sync/pull").content.decode()
    for secret in ("张三丰", "居民", "13812345678", "138****5678", "11010519491231002X", "002X"):
        assert secret not in body
    h = [x for x in json.loads(body)["changes"]["households"] if x["id"] == mini_city.households[0].pk][0]
    assert h["residents"]["count"] == 2 and h["residents"]["elderly"] == 1


def test_nothing_changed_means_an_empty_page(mini_city, round, phone):
    first = pull_all(phone)
    again = pull_all(phone, first["cursor"])
    assert again["reset"] is False
    assert all(rows == [] for rows in again["changes"].values())
    assert all(x == [] for x in again["deleted"].values())


def test_visits_arrive_as_household_states_including_a_colleagues(mini_city, round, phone, phone2, worker, worker2,
                                                                  chief):
    from server.accounts import services as account_services

    team = account_services.team_create(name="一队", area=mini_city.districts[0], members=[worker, worker2])
    campaign_services.cell_assign(round=round, cell=mini_city.cells[0], team=team, worker=None, user=chief)
    cursor = pull_all(phone)["cursor"]
    h = mini_city.households[0]
    push(phone2, [visit(h, round, outcome="nobody_home")])
    p = pull_all(phone, cursor)
    assert p["changes"]["households"] == []
    assert p["changes"]["household_states"] == [
        {"household": h.pk, "round": round.pk,
         "state": {"outcome": "nobody_home", "reached": False, "settled": False, "visits": 1}}]


def test_a_register_edit_resends_the_whole_cell(mini_city, round, phone):
    cursor = pull_all(phone)["cursor"]
    h = mini_city.households[0]
    Household.objects.filter(pk=h.pk).update(room="909")  # a queryset update: caught by the trigger
    new = HouseholdFactory(community=h.community, cell=h.cell, location=Point(h.location.x, h.location.y, srid=4326))
    p = pull_all(phone, cursor)
    assert ids(p["changes"]["cells"]) == [h.cell_id]
    assert ids(p["changes"]["households"]) == sorted([x.pk for x in mini_city.households if x.cell_id == h.cell_id]
                                                     + [new.pk])
    assert [x["room"] for x in p["changes"]["households"] if x["id"] == h.pk] == ["909"]


def test_a_cell_taken_away_arrives_as_deletions(mini_city, round, phone, chief, worker2):
    cursor = pull_all(phone)["cursor"]
    gone = mini_city.cells[1]
    campaign_services.cell_assign(round=round, cell=gone, worker=worker2, user=chief, reason="调整")
    p = pull_all(phone, cursor)
    assert p["deleted"]["cells"] == [gone.pk]
    assert sorted(p["deleted"]["households"]) == sorted(h.pk for h in mini_city.households if h.cell_id == gone.pk)
    assert p["changes"]["households"] == []


def test_a_closed_round_takes_everything_away(mini_city, round, phone, chief):
    cursor = pull_all(phone)["cursor"]
    campaign_services.round_close(round=round, user=chief)
    p = pull_all(phone, cursor)
    assert p["deleted"]["rounds"] == [round.pk]
    assert sorted(p["deleted"]["cells"]) == sorted(c.pk for c in mini_city.cells[:2])
    assert len(p["deleted"]["households"]) == 6 and len(p["deleted"]["outcome_codes"]) == 6


def test_a_new_cell_arrives_whole(mini_city, round, phone, chief, worker):
    cursor = pull_all(phone)["cursor"]
    added = mini_city.cells[2]
    campaign_services.cell_assign(round=round, cell=added, worker=worker, user=chief)
    p = pull_all(phone, cursor)
    assert ids(p["changes"]["cells"]) == [added.pk]
    assert ids(p["changes"]["households"]) == sorted(h.pk for h in mini_city.households if h.cell_id == added.pk)


def test_another_workers_cells_never_arrive(mini_city, round, phone2):
    p = pull_all(phone2)
    assert all(rows == [] for rows in p["changes"].values())


@pytest.mark.parametrize("cursor", ["garbage", "99999.99999", "1.2.3.4"])
def test_an_unknown_cursor_answers_a_reset(mini_city, round, phone, cursor):
    pull_all(phone)
    p = pull_all(phone, cursor)
    assert p["reset"] is True and len(p["changes"]["households"]) == 6


def test_a_lost_pull_response_is_retried_with_the_old_cursor(mini_city, round, phone, chief, worker2):
    cursor = pull_all(phone)["cursor"]
    campaign_services.cell_assign(round=round, cell=mini_city.cells[1], worker=worker2, user=chief)
    pull_all(phone, cursor)  # response lost
    p = pull_all(phone, cursor)
    assert p["reset"] is False and p["deleted"]["cells"] == [mini_city.cells[1].pk]


def test_pages_never_split_a_cell_and_the_cursor_continues(mini_city, round, phone, chief, worker):
    for cell in mini_city.cells[2:4]:
        campaign_services.cell_assign(round=round, cell=cell, worker=worker, user=chief)
    r = phone.get("/api/v1/sync/pull", {"limit": 2})
    page = r.json()
    assert page["has_more"] is True and len(page["changes"]["cells"]) == 1
    assert len(page["changes"]["households"]) == 3
    p = pull_all(phone, limit=2)
    assert p["pages"] == 4 and len(p["changes"]["households"]) == 12
    assert len({h["id"] for h in p["changes"]["households"]}) == 12
    assert PullSnapshot.objects.filter(complete=True).count() >= 1


def test_gzip_when_asked(mini_city, round, phone):
    plain = phone.get("/api/v1/sync/pull")
    zipped = phone.get("/api/v1/sync/pull", HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain
    body = json.loads(gzip.decompress(zipped.content))
    assert len(body["changes"]["households"]) == 6


def test_limit_out_of_range_is_named(round, phone):
    r = phone.get("/api/v1/sync/pull", {"limit": 0})
    assert r.status_code == 400 and "limit" in r.json()["errors"]
