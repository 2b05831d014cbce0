"""Territory scoping: nobody reaches households or residents outside their territory, via API or admin."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, Role, make_user

pytestmark = pytest.mark.django_db


def _api_ids(client, url, key="register_id"):
    body = client.get(url).json()
    rows = body["features"] if "features" in body else body["results"]
    # GeoJSON features carry the natural key as the feature id.
    return {(r["id"] if "properties" in r else r[key]) for r in rows}


def test_township_staff_sees_only_own_township_households_in_api(client, mini_city):
    mine, other = mini_city.townships[0], mini_city.townships[1]
    make_user("ts", Role.TOWNSHIP_STAFF, areas=[mine])
    client.login(username="ts", password=PASSWORD)
    seen = _api_ids(client, reverse("household-list"))
    expected = {h.register_id for h in mini_city.households if h.community.parent_id == mine.id}
    assert seen == expected and len(seen) == 6
    assert not seen & {h.register_id for h in mini_city.households if h.community.parent_id == other.id}


def test_township_staff_cannot_open_other_township_household_in_admin(client, mini_city):
    mine = mini_city.townships[0]
    make_user("ts", Role.TOWNSHIP_STAFF, areas=[mine])
    client.login(username="ts", password=PASSWORD)
    own = next(h for h in mini_city.households if h.community.parent_id == mine.id)
    foreign = next(h for h in mini_city.households if h.community.parent_id != mine.id)
    assert client.get(reverse("admin:registry_household_change", args=[own.pk])).status_code == 200
    # Django's admin answers an object outside the queryset with a redirect to the index and a message.
    r = client.get(reverse("admin:registry_household_change", args=[foreign.pk]))
    assert r.status_code == 302
    listing = client.get(reverse("admin:registry_household_changelist")).content.decode()
    assert own.register_id in listing and foreign.register_id not in listing


def test_grid_worker_cannot_list_residents_outside_their_cells(client, mini_city):
    cell = mini_city.cells[0]
    worker = make_user("gw", Role.GRID_WORKER, areas=[cell.community])
    cell.worker = worker
    cell.save(update_fields=["worker"])
    client.login(username="gw", password=PASSWORD)
    body = client.get(reverse("resident-list")).json()
    households = {r["household"] for r in body["results"]}
    assert households == {h.register_id for h in mini_city.households if h.cell_id == cell.id}
    # Same community, but the other cell: nothing.
    other = mini_city.cells[1]
    assert client.get(reverse("household-list"), {"cell": other.code}).json()["features"] == []


def test_grid_worker_without_cells_sees_no_residents(client, mini_city):
    make_user("gw2", Role.GRID_WORKER, areas=[mini_city.communities[0]])
    client.login(username="gw2", password=PASSWORD)
    assert client.get(reverse("resident-list")).json()["results"] == []


def test_district_admin_sees_whole_district(client, mini_city):
    d = mini_city.districts[1]
    make_user("da", Role.DISTRICT_ADMIN, areas=[d])
    client.login(username="da", password=PASSWORD)
    seen = _api_ids(client, reverse("household-list"))
    assert seen == {h.register_id for h in mini_city.households if h.community.parent.parent_id == d.id}
    cells = _api_ids(client, reverse("grid-cell-list"), key="code")
    assert cells == {c.code for c in mini_city.cells if c.community.parent.parent_id == d.id}


def test_residents_api_masks_phone_and_id(client, mini_city):
    make_user("ca", Role.CITY_ADMIN, areas=[mini_city.city])
    client.login(username="ca", password=PASSWORD)
    text = client.get(reverse("resident-list")).content.decode()
    assert "138****5678" in text
    assert "13812345678" not in text and "11010519491231002X" not in text


def test_anonymous_gets_401_or_403(client, mini_city):
    r = client.get(reverse("household-list"))
    assert r.status_code in (401, 403)
    assert r.json()["code"] == "not_authenticated"
