"""Cross-origin access is closed by default, and signed-in POSTs need their CSRF token, on pages and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from server.campaigns import services as campaign_services
from server.campaigns.models import Round, RoundStatus
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
EVIL = "https://evil.example"


@pytest.fixture
def round(campaign):
    return campaign_services.round_create(campaign=campaign, starts_on=dt.date(2026, 11, 1),
                                          ends_on=dt.date(2026, 11, 10))


def _signed_in(username: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=username, password=PASSWORD)
    return client


def _csrf_token(client: Client, round) -> str:
    assert client.get(f"/plan/rounds/{round.pk}/").status_code == 200  # the page hands out the token
    return client.cookies["csrftoken"].value


@pytest.mark.parametrize("path", ["/api/v1/areas", "/api/v1/sync/push", "/api/v1/me", "/api/schema/"])
def test_cross_origin_preflight_gets_no_cors_grant(path, chief):
    for client in (Client(), _signed_in("chief")):
        response = client.options(path, HTTP_ORIGIN=EVIL, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                                  HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type")
        assert "Access-Control-Allow-Origin" not in response.headers, (path, dict(response.headers))
        assert "Access-Control-Allow-Credentials" not in response.headers
        assert "Access-Control-Allow-Methods" not in response.headers


def test_cross_origin_read_gets_no_cors_grant(chief):
    """The server answers a signed-in GET, but grants no other site the right to read the answer."""
    response = _signed_in("chief").get("/api/v1/me", HTTP_ORIGIN=EVIL)
    assert response.status_code == 200 and response.json()["username"] == "chief"
    assert not any(h.lower().startswith("access-control-") for h in response.headers), dict(response.headers)


def test_api_post_with_session_needs_csrf_token(chief, round):
    client = _signed_in("chief")
    refused = client.post(f"/api/v1/rounds/{round.pk}/open")
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("application/json")
    body = refused.json()
    assert body["code"] == "csrf_failed" and body["detail"].startswith("安全校验（CSRF）失败"), body
    assert "CSRF" in body["reason"]
    round.refresh_from_db()
    assert round.status == RoundStatus.DRAFT  # nothing done

    token = _csrf_token(client, round)
    # the right token from another site's page: refused too (the Origin is checked)
    cross = client.post(f"/api/v1/rounds/{round.pk}/open", HTTP_X_CSRFTOKEN=token, HTTP_ORIGIN=EVIL)
    assert cross.status_code == 403 and cross.json()["code"] == "csrf_failed"
    assert Round.objects.get(pk=round.pk).status == RoundStatus.DRAFT

    ok = client.post(f"/api/v1/rounds/{round.pk}/open", HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 200, ok.content
    assert Round.objects.get(pk=round.pk).status == RoundStatus.OPEN


def test_page_post_with_session_needs_csrf_token(chief, round):
    client = _signed_in("chief")
    refused = client.post(f"/plan/rounds/{round.pk}/open")
    assert refused.status_code == 403
    page = refused.content.decode()
    assert "安全校验（CSRF）失败：请刷新页面后重试" in page and "reload the page" in page
    assert page.index("安全校验") < page.index("Security check")  # Chinese first
    assert Round.objects.get(pk=round.pk).status == RoundStatus.DRAFT

    token = _csrf_token(client, round)
    cross = client.post(f"/plan/rounds/{round.pk}/open", {"csrfmiddlewaretoken": token}, HTTP_ORIGIN=EVIL)
    assert cross.status_code == 403
    assert Round.objects.get(pk=round.pk).status == RoundStatus.DRAFT

    ok = client.post(f"/plan/rounds/{round.pk}/open", {"csrfmiddlewaretoken": token})
    assert ok.status_code == 302
    assert Round.objects.get(pk=round.pk).status == RoundStatus.OPEN


def test_admin_sign_in_needs_csrf_token(chief):
    response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "chief", "password": PASSWORD})
    assert response.status_code == 403 and "安全校验（CSRF）失败" in response.content.decode()
    assert "sessionid" not in response.cookies  # not signed in


def test_round_action_never_redirects_to_another_site(chief, round):
    client = _signed_in("chief")
    token = _csrf_token(client, round)
    response = client.post(f"/plan/rounds/{round.pk}/open", {"csrfmiddlewaretoken": token, "next": EVIL + "/x"})
    assert response.status_code == 302 and response["Location"] == f"/plan/campaigns/{round.campaign_id}/"
    response = client.post(f"/plan/rounds/{round.pk}/close",
                           {"csrfmiddlewaretoken": token, "next": f"/plan/rounds/{round.pk}/"})
    assert response["Location"] == f"/plan/rounds/{round.pk}/"  # a local next is still followed
