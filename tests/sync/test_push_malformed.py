"""Malformed batches: 400 naming the field, and nothing stored — not even the well-formed items."""

import uuid

import pytest

from server.sync.models import HouseholdReport
from server.visits.models import Visit
from tests.sync.conftest import push, visit

pytestmark = pytest.mark.django_db


def rejected_batch(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_batch"
    assert Visit.objects.count() == 0 and HouseholdReport.objects.count() == 0
    return body["errors"]


@pytest.mark.parametrize("change, field", [
    ({"household": None}, "visits[1].household"),
    ({"lat": "north"}, "visits[1].lat"),
    ({"id": "not-a-uuid"}, "visits[1].id"),
    ({"lat": 91.0}, "visits[1].lat"),
    ({"lon": -181.0}, "visits[1].lon"),
    ({"captured_at": "yesterday"}, "visits[1].captured_at"),
    ({"corrects": "123"}, "visits[1].corrects"),
    ({"residents_met": -1}, "visits[1].residents_met"),
    ({"key_groups_met": "elderly"}, "visits[1].key_groups_met"),
])
def test_a_bad_field_is_named_and_nothing_is_stored(mini_city, round, phone, change, field):
    bad = {**visit(mini_city.households[1], round), **change}
    errors = rejected_batch(push(phone, [visit(mini_city.households[0], round), bad]))
    assert field in errors, errors


def test_missing_fields_are_named(mini_city, round, phone):
    item = visit(mini_city.households[0], round)
    for key in ("household", "round", "outcome", "captured_at"):
        del item[key]
    errors = rejected_batch(push(phone, [item]))
    assert {f"visits[0].{k}" for k in ("household", "round", "outcome", "captured_at")} <= set(errors)


def test_bad_household_report_and_claim_fields(mini_city, round, phone):
    errors = rejected_batch(push(
        phone, [visit(mini_city.households[0], round)],
        household_reports=[{"id": str(uuid.uuid4()), "kind": "new_household", "captured_at": "2026-11-25T10:00:00Z"}],
        claims=[{"id": "x", "round": round.pk}],
    ))
    assert {"household_reports[0].lat", "household_reports[0].cell", "claims[0].id", "claims[0].cell"} <= set(errors)


def test_not_json_and_not_an_object(mini_city, round, phone):
    r = phone.post("/api/v1/sync/push", data="{visits: [", content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "parse_error"
    r = phone.post("/api/v1/sync/push", [1, 2], format="json")
    assert r.status_code == 400 and "non_field_errors" in r.json()["errors"]
    r = push(phone, [])
    assert r.status_code == 200 and r.json()["results"] == []


def test_a_body_over_10_mb_is_refused_with_json(mini_city, round, phone):
    note = "x" * 2000
    items = [visit(mini_city.households[0], round, risk_note=note) for _ in range(5300)]
    r = push(phone, items)
    assert r.status_code == 413
    assert r.json()["code"] == "body_too_large" and "10 MB" in r.json()["detail"]
    assert Visit.objects.count() == 0


def test_too_many_items_is_a_clear_400(mini_city, round, phone, settings):
    items = [visit(mini_city.households[0], round) for _ in range(1001)]
    r = push(phone, items, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400
    assert r.json()["code"] == "batch_too_large" and "1000" in r.json()["detail"]
    assert Visit.objects.count() == 0
