"""Planning through the API: a station chief plans inside their jurisdiction only; bad input changes nothing."""

import datetime as dt

import pytest
from django.urls import reverse

from server.accounts import services as account_services
from server.campaigns import services
from server.campaigns.models import AssignmentChange, CellAssignment, Round
from tests.factories import PASSWORD, Role, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, chief):
    client.login(username="chief", password=PASSWORD)
    return client


def post(client, name, body, **kw):
    return client.post(reverse(name, kwargs=kw), body, content_type="application/json")


def test_three_rounds_planned_end_to_end(api, mini_city, chief, team, workers):
    r = post(api, "campaign-list", {"name": "琅琊区冬季敲门", "areas": [mini_city.districts[0].code],
                                    "starts_on": "2026-11-01", "ends_on": "2026-12-31"})
    assert r.status_code == 201, r.json()
    cid = r.json()["id"]
    labels = [o["label"] for o in r.json()["outcome_codes"]]
    assert labels == ["见面宣传", "无人在家", "拒访", "空置", "搬离", "地址有误"]
    team2 = account_services.team_create(name="二队", area=mini_city.districts[0], members=[workers[2]])
    windows = [("2026-11-01", "2026-11-10"), ("2026-11-11", "2026-11-20"), ("2026-11-21", "2026-11-30")]
    for i, (a, b) in enumerate(windows):
        r = post(api, "round-create", {"starts_on": a, "ends_on": b}, pk=cid)
        assert r.status_code == 201 and r.json()["number"] == i + 1
    r1 = Round.objects.get(campaign_id=cid, number=1)
    detail = api.get(reverse("round-detail", kwargs={"pk": r1.pk})).json()
    assert detail["summary"]["households"] == 12 and detail["summary"]["cells"] == 4  # counts before opening
    r = post(api, "round-auto-assign", {"teams": [team.pk, team2.pk]}, pk=r1.pk)
    assert r.status_code == 200, r.json()
    assert r.json()["cells_assigned"] == 4
    assert CellAssignment.objects.filter(round=r1).count() == 4
    cells = api.get(reverse("round-cells", kwargs={"pk": r1.pk})).json()["features"]
    assert {f["properties"]["team_name"] for f in cells} == {"一队", "二队"}
    moved = next(f["id"] for f in cells if f["properties"]["team"] == team.pk)
    r = post(api, "round-assign", {"cell": moved, "team": team2.pk, "reason": "一队人手不足"}, pk=r1.pk)
    assert r.status_code == 200
    change = AssignmentChange.objects.filter(round=r1, cell__code=moved).first()
    assert change.reason == "一队人手不足" and change.changed_by == chief and change.remaining_households == 3
    assert post(api, "round-open", {}, pk=r1.pk).json()["status"] == "open"
    assert post(api, "round-close", {}, pk=r1.pk).json()["status"] == "closed"
    r2 = Round.objects.get(campaign_id=cid, number=2)
    assert post(api, "round-open", {}, pk=r2.pk).json()["status"] == "open"


def test_chief_cannot_assign_cell_outside_jurisdiction(api, mini_city, campaign, team):
    r = post(api, "round-create", {"starts_on": "2026-11-01", "ends_on": "2026-11-10"}, pk=campaign.pk)
    rid = r.json()["id"]
    foreign = mini_city.cells[-1]  # district 2
    r = post(api, "round-assign", {"cell": foreign.code, "team": team.pk, "reason": "x"}, pk=rid)
    assert r.status_code == 400 and r.json()["code"] == "unknown_cell"
    assert "辖区" in r.json()["detail"]
    assert not CellAssignment.objects.exists()


def test_cell_outside_campaign_scope_refused(client, mini_city, team):
    make_user("boss", Role.CITY_ADMIN, areas=[mini_city.city])
    client.login(username="boss", password=PASSWORD)
    r = post(client, "campaign-list", {"name": "小范围", "areas": [mini_city.townships[0].code],
                                       "starts_on": "2026-11-01", "ends_on": "2026-11-30"})
    window = {"starts_on": "2026-11-01", "ends_on": "2026-11-10"}
    rid = post(client, "round-create", window, pk=r.json()["id"]).json()["id"]
    outside = next(c for c in mini_city.cells if c.community.parent_id != mini_city.townships[0].id)
    r = post(client, "round-assign", {"cell": outside.code, "team": team.pk}, pk=rid)
    assert r.status_code == 400 and r.json()["code"] == "outside_scope"
    assert "not" not in r.json()["detail"]  # Chinese by default
    assert r.json()["detail_en"].startswith("Grid cell") and not CellAssignment.objects.exists()


def test_team_without_members_refused(api, mini_city, campaign):
    empty = account_services.team_create(name="空队", area=mini_city.districts[0])
    rid = post(api, "round-create", {"starts_on": "2026-11-01", "ends_on": "2026-11-10"}, pk=campaign.pk).json()["id"]
    r = post(api, "round-assign", {"cell": mini_city.cells[0].code, "team": empty.pk}, pk=rid)
    assert r.status_code == 400 and r.json()["code"] == "team_empty" and "空队" in r.json()["detail"]
    r = post(api, "round-auto-assign", {"teams": [empty.pk]}, pk=rid)
    assert r.status_code == 400 and r.json()["code"] == "team_empty"
    assert not CellAssignment.objects.exists() and not AssignmentChange.objects.exists()


def test_second_claim_refused_with_holder(client, mini_city, campaign, chief, workers):
    r1 = services.round_create(campaign=campaign, starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 11, 10))
    services.round_open(round=r1, user=chief)
    cell = mini_city.cells[0]
    client.login(username="w0", password=PASSWORD)
    assert post(client, "round-claim", {"cell": cell.code}, pk=r1.pk).status_code == 201
    client.logout()
    client.login(username="w1", password=PASSWORD)
    r = post(client, "round-claim", {"cell": cell.code}, pk=r1.pk)
    assert r.status_code == 400 and r.json()["code"] == "cell_held" and "w0" in r.json()["detail"]
    assert CellAssignment.objects.get(round=r1, cell=cell).worker.username == "w0"


def test_worker_cannot_plan(client, mini_city, campaign, workers):
    client.login(username="w0", password=PASSWORD)
    r = post(client, "campaign-list", {"name": "x", "areas": [mini_city.districts[0].code],
                                       "starts_on": "2026-11-01", "ends_on": "2026-11-30"})
    assert r.status_code == 403
