"""schemathesis against the OpenAPI schema (/api/schema/), in-process on the Django WSGI app, signed in as a city
administrator (device token): bad input never makes a 5xx, and every 4xx says what was wrong in a JSON body.

Bounded: a few derandomized examples per operation (the schema's examples, boundary cases, then fuzzing), each sent
twice where the path names an object: as generated, and aimed at a real object of the test's city.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, connection
from hypothesis import HealthCheck, settings

from server.accounts import services as account_services
from server.campaigns import services as campaign_services
from server.reports.models import Report
from server.sync.services import device_token_issue
from server.wsgi import application
from tests.factories import PASSWORD, Role, build_mini_city, make_user

MAX_EXAMPLES = int(os.environ.get("QIAOMEN_FUZZ_EXAMPLES", "5"))  # more on a long local run
CONFIG = schemathesis.Config.from_dict({
    "seed": 7,
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    "phases": {"stateful": {"enabled": False}},
    # The push body nests three lists of records: its boundary cases alone are a thousand requests (its own
    # validation is tested item by item in tests/sync); examples and fuzzing only here.
    "operations": [{"include-path": "/api/v1/sync/push", "phases": {"coverage": {"enabled": False}}}],
})


# Loaded when the module is collected: the schema view reads no database. One test per operation, each in its own
# transaction over a fresh city (the `city` fixture).
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)
pytestmark = pytest.mark.django_db


@pytest.fixture
def city(db, settings, tmp_path):
    """A small city, its administrator signed in on a device, and one of each object the paths name."""
    settings.MEDIA_ROOT = str(tmp_path / "media")  # report files, if any, stay in the test's own folder
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # a city per operation: fast
    mc = build_mini_city()
    admin = make_user("fuzz-city", Role.CITY_ADMIN, areas=[mc.city])
    workers = [make_user(f"fuzz-w{i}", Role.GRID_WORKER, areas=[mc.communities[0]]) for i in range(2)]
    account_services.team_create(name="一队", area=mc.districts[0], members=workers)
    campaign = campaign_services.campaign_create(
        name="全市敲门", areas=[mc.city], starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 12, 31),
        created_by=admin)
    round = campaign_services.round_create(campaign=campaign, starts_on=dt.date(2026, 11, 1),
                                           ends_on=dt.date(2026, 11, 10))
    report = Report.objects.create(area=mc.city, campaign=campaign, round=round, format="xlsx", title="全市报表",
                                   requested_by=admin)
    token = device_token_issue(username=admin.username, password=PASSWORD, device_id="fuzz-device").token
    real = {"campaigns": campaign.pk, "rounds": round.pk, "reports": report.pk,
            "households": mc.households[0].pk, "code": mc.cells[0].code}
    # The requests go to the raw WSGI app: keep Django from closing the test's connection (and its transaction)
    # at the end of each, as Django's own test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield {"headers": {"Authorization": f"Token {token}"}, "real": real}
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _aimed_at_real_objects(case, real: dict) -> dict | None:
    """The path parameters of `case` pointed at the city's own objects (None when the path names none)."""
    params = dict(case.path_parameters or {})
    if not params:
        return None
    collection = case.operation.path.split("/")[3]  # /api/v1/<collection>/{id}/...
    if "id" in params and collection in real:
        params["id"] = real[collection]
    if "code" in params:
        params["code"] = real["code"]
    return params if params != case.path_parameters else None


def _header(response, name: str) -> str:
    value = {k.lower(): v for k, v in response.headers.items()}.get(name, "")
    return value[0] if isinstance(value, list) else value


def _check(case, response) -> None:
    content = response.content
    if _header(response, "content-encoding") == "gzip":  # API answers are compressed (ApiGZipMiddleware)
        content = gzip.decompress(content)
    where = f"{case.method} {case.formatted_path} → {response.status_code}"
    if response.status_code == 501 and case.operation.path.startswith("/tiles/") and connection.vendor == "sqlite":
        # By design: vector tiles need PostGIS; on SpatiaLite the map uses GeoJSON (docs/coverage-map.md).
        assert json.loads(content)["code"] == "tiles_unavailable", f"{where}: {content[:300]!r}"
        return
    assert response.status_code < 500, f"{where}: {content[:800]!r}"
    if 400 <= response.status_code < 500:
        content_type = _header(response, "content-type")
        assert content_type.startswith("application/json"), f"{where}: {content_type} {content[:300]!r}"
        body = json.loads(content)
        assert isinstance(body, dict) and body.get("detail"), f"{where}: {body}"


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_answers_bad_input_with_json_4xx_never_5xx(case, city):
    _check(case, case.call(headers=city["headers"]))
    aimed = _aimed_at_real_objects(case, city["real"])
    if aimed is not None:
        case.path_parameters = aimed
        _check(case, case.call(headers=city["headers"]))


# What the fuzzing found, pinned (each was a 5xx or an HTML 404 before).
def test_findings_answer_json_4xx(client, city):
    headers = {"HTTP_AUTHORIZATION": city["headers"]["Authorization"]}
    real = city["real"]
    not_a_number = client.get("/api/v1/rounds/null,null", **headers)  # no route matches: Django's 404, as JSON
    assert not_a_number.status_code == 404 and not_a_number.json()["code"] == "not_found"
    assert not_a_number.json()["detail"].startswith("未找到")
    bad_format = client.get(f"/api/v1/rounds/{real['rounds']}/cells/{real['code']}/walk-sheet.doc", **headers)
    assert bad_format.status_code == 400 and bad_format.json()["code"] == "bad_format"
    huge = client.post(f"/api/v1/rounds/{real['rounds']}/auto-assign", {"teams": [2**70]},
                       content_type="application/json", **headers)
    assert huge.status_code == 400 and "teams" in huge.json()["errors"]
    huge = client.post(f"/api/v1/rounds/{real['rounds']}/assignments", {"cell": real["code"], "team": 2**64},
                       content_type="application/json", **headers)
    assert huge.status_code == 400 and "team" in huge.json()["errors"]
