"""A worker with two cells of an open round, a second worker sharing one of them through a team, device tokens."""

import datetime as dt
import uuid

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from server.campaigns import services
from tests.factories import PASSWORD, Role, make_user

D = dt.date


@pytest.fixture
def worker(mini_city):
    return make_user("w1", Role.GRID_WORKER, areas=[mini_city.communities[0]])


@pytest.fixture
def worker2(mini_city):
    return make_user("w2", Role.GRID_WORKER, areas=[mini_city.communities[0]])


@pytest.fixture
def round(mini_city, campaign, chief, worker):
    """Round 1, open; cells 0 and 1 held by `worker`; cells 2 and 3 (district 0, second township) unassigned."""
    r = services.round_create(campaign=campaign, starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 30))
    for cell in mini_city.cells[:2]:
        services.cell_assign(round=r, cell=cell, worker=worker, user=chief, reason="计划")
    services.round_open(round=r, user=chief)
    r.refresh_from_db()
    return r


def sign_in(user, device_id: str = "phone-1") -> APIClient:
    client = APIClient()
    response = client.post("/api/v1/auth/device", {"username": user.username, "password": PASSWORD,
                                                   "device_id": device_id, "device_name": "Redmi 9A"}, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    client.token = response.json()["token"]
    return client


@pytest.fixture
def phone(worker):
    return sign_in(worker)


@pytest.fixture
def phone2(worker2):
    return sign_in(worker2, "phone-2")


def visit(household, round, outcome: str = "reached", **extra) -> dict:
    item = {
        "id": str(uuid.uuid4()), "household": household.pk, "round": round.pk, "outcome": outcome,
        "captured_at": dt.datetime.now(dt.timezone.utc).isoformat(), "lat": household.location.y,
        "lon": household.location.x, "accuracy_m": 8.0, "fix_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "provider": "gps", "mock_location": False, "leaflet": True, "app_installed": True,
        "hotline_explained": True, "residents_met": 2, "key_groups_met": ["elderly"], "risk_note": "",
    }
    item.update(extra)
    return item


def push(client, visits=(), household_reports=(), claims=(), **headers):
    # Test transactions never commit: run the after-commit state refresh as a commit would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/api/v1/sync/push", {"visits": list(visits), "household_reports": list(household_reports),
                                                 "claims": list(claims)}, format="json", **headers)


def pull_all(client, cursor: str = "", limit: int = 1000) -> dict:
    """Follow has_more to the end; merge the pages as a phone would."""
    merged = {"changes": {}, "deleted": {}, "reset": None, "pages": 0}
    while True:
        r = client.get("/api/v1/sync/pull", {"cursor": cursor, "limit": limit})
        assert r.status_code == 200, r.content
        page = r.json()
        merged["pages"] += 1
        if merged["reset"] is None:
            merged["reset"] = page["reset"]
        for kind, rows in page["changes"].items():
            merged["changes"].setdefault(kind, []).extend(rows)
        for kind, ids in page["deleted"].items():
            merged["deleted"].setdefault(kind, []).extend(ids)
        cursor = page["cursor"]
        if not page["has_more"]:
            merged["cursor"] = cursor
            return merged
