"""Device tokens: sign-in, hashed storage, expiry, revocation (401 device_revoked + wipe) on every endpoint."""

import datetime as dt

import pytest
from django.contrib.admin.sites import AdminSite
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from server.sync.admin import DeviceAdmin
from server.sync.models import Device
from tests.factories import PASSWORD
from tests.sync.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_sign_in_gives_a_token_stored_only_as_its_digest(worker):
    r = APIClient().post("/api/v1/auth/device", {"username": "w1", "password": PASSWORD, "device_id": "p1",
                                                 "device_name": "Redmi"}, format="json")
    assert r.status_code == 200
    body = r.json()
    assert body["user"] == {"id": worker.pk, "username": "w1", "role": "grid_worker", "name": "w1"}
    device = Device.objects.get(user=worker, device_id="p1")
    assert body["token"] not in (device.token_digest, device.token_prefix * 8)
    assert device.token_prefix == body["token"][:8]
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert dt.timedelta(days=29) < expires - timezone.now() <= dt.timedelta(days=30)


def test_wrong_password_and_unknown_user_answer_the_same(worker):
    client = APIClient()
    wrong = client.post("/api/v1/auth/device", {"username": "w1", "password": "nope-nope-1", "device_id": "p"},
                        format="json")
    unknown = client.post("/api/v1/auth/device", {"username": "ghost", "password": "nope-nope-1", "device_id": "p"},
                          format="json")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "bad_credentials" and wrong.json()["detail"] == "用户名或密码错误"
    assert not Device.objects.exists()


def test_missing_sign_in_fields_are_named(worker):
    r = APIClient().post("/api/v1/auth/device", {"username": "w1"}, format="json")
    assert r.status_code == 400
    assert {"password", "device_id"} <= set(r.json()["errors"])


def test_signing_in_again_on_the_same_phone_replaces_its_token(worker, round):
    first = sign_in(worker, "p1")
    second = sign_in(worker, "p1")
    assert Device.objects.filter(user=worker).count() == 1
    assert first.get("/api/v1/sync/pull").json()["code"] == "token_invalid"
    assert second.get("/api/v1/sync/pull").status_code == 200


def test_expired_token_is_refused(worker, round):
    phone = sign_in(worker)
    Device.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    r = phone.get("/api/v1/sync/pull")
    assert r.status_code == 401
    assert r.json()["code"] == "token_expired"
    assert "wipe" not in r.json()


def test_revoked_device_is_told_to_wipe_on_every_endpoint(worker, round, chief):
    phone = sign_in(worker)
    device = Device.objects.get()
    request = RequestFactory().post("/admin/")
    request.user = chief
    request._messages = type("M", (), {"add": lambda *a, **k: None})()
    DeviceAdmin(Device, AdminSite()).revoke(request, Device.objects.all())
    device.refresh_from_db()
    assert device.revoked_at is not None and device.revoked_by == chief
    for r in (phone.get("/api/v1/sync/pull"), phone.post("/api/v1/sync/push", {}, format="json"),
              phone.get("/api/v1/campaigns")):
        assert r.status_code == 401
        assert r.json()["code"] == "device_revoked" and r.json()["wipe"] is True
    again = APIClient().post("/api/v1/auth/device", {"username": "w1", "password": PASSWORD,
                                                     "device_id": "phone-1"}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "device_revoked"


def test_a_token_works_on_other_endpoints_and_last_seen_is_throttled(worker, round):
    phone = sign_in(worker)
    Device.objects.update(last_seen_at=timezone.now() - dt.timedelta(minutes=5))
    assert phone.get("/api/v1/campaigns").status_code == 200
    seen = Device.objects.get().last_seen_at
    assert timezone.now() - seen < dt.timedelta(seconds=5)
    phone.get("/api/v1/campaigns")
    assert Device.objects.get().last_seen_at == seen


def test_garbage_token_is_refused(round):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    r = client.get("/api/v1/sync/pull")
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"


def test_sync_needs_a_device_token(worker, round):
    client = APIClient()
    client.force_authenticate(worker)
    r = client.get("/api/v1/sync/pull")
    assert r.status_code == 400 and r.json()["code"] == "device_required"
