"""Fault: the database is unavailable for a while, then comes back. Every request that needs it is answered
`503 database_unavailable` (JSON, Chinese and English, Retry-After), `GET /api/v1/health` says the database is down,
the phone keeps its outbox and records the server's message, and the push goes through once the database is back.

PostGIS: the server reaches PostgreSQL through a TCP proxy of the test, which cuts every connection and refuses new
ones (the shared cluster itself is never touched). SpatiaLite: the database file's directory goes away (a volume
that is gone) and comes back."""

import json
import os
import shutil

import pytest
from django.core.signals import got_request_exception
from django.db import OperationalError
from django.http import HttpResponse
from qiaomen_field import i18n
from qiaomen_field.sync import BackgroundSync

from server.common.health import DETAIL_EN, DETAIL_ZH, DatabaseUnavailableMiddleware
from tests.faults.conftest import log_visits
from tests.faults.processes import http
from tests.faults.proxy import TcpProxy

pytestmark = pytest.mark.django_db(transaction=True)


class _PostgresOutage:
    def __init__(self, server_db):
        pg = server_db.pg
        self.proxy = TcpProxy((pg["HOST"] or "127.0.0.1", int(pg["PORT"] or 5432))).start()
        self.url = server_db.url_via(self.proxy.host, self.proxy.port)

    def down(self):
        self.proxy.cut()

    def up(self):
        self.proxy.resume()

    def close(self):
        self.proxy.close()


class _FileOutage:
    def __init__(self, server_db):
        self.folder = server_db.path.parent
        self.away = self.folder.with_name(self.folder.name + "-away")
        self.url = server_db.url

    def down(self):
        os.rename(self.folder, self.away)
        self.folder.write_text("not a directory: the volume is gone")  # so SQLite cannot create a fresh file

    def up(self):
        self.folder.unlink()
        os.rename(self.away, self.folder)

    def close(self):
        if self.away.exists():
            if self.folder.is_file():
                self.folder.unlink()
            elif self.folder.exists():
                shutil.rmtree(self.folder)
            os.rename(self.away, self.folder)


@pytest.fixture
def outage(server_db):
    o = _PostgresOutage(server_db) if server_db.vendor == "postgresql" else _FileOutage(server_db)
    yield o
    o.close()


def _run_once(session):
    events = []
    BackgroundSync(session.engine(), notify=lambda event, payload: events.append((event, payload))).run_once()
    return events


def test_database_down_then_back(server_db, outage, processes, phones):
    server = processes.server(outage.url).start()
    assert http("GET", server.url + "/api/v1/health")[::2] == (200, {"status": "ok", "database": "ok",
                                                                     "broker": "none"})
    phone = phones(server.url)
    sent = log_visits(phone, 30)
    token = phone.store.meta_get("token")

    outage.down()
    status, headers, body = http("GET", server.url + "/api/v1/health")
    assert status == 503 and headers["Retry-After"] == "30"
    assert body == {"status": "unavailable", "database": "down", "broker": "none", "code": "database_unavailable",
                    "detail": DETAIL_ZH, "detail_zh": DETAIL_ZH, "detail_en": DETAIL_EN, "retry_after_s": 30}

    # The app's background sync: "offline" with the server's own message, a retry planned, the outbox intact.
    events = _run_once(phone)
    assert [e for e, _ in events] == ["started", "offline"], events
    assert events[-1][1]["error"] == DETAIL_ZH == "数据库暂时不可用，请稍后重试"
    assert events[-1][1]["retry_in"] > 0 and events[-1][1]["status"] == 503
    seconds = int(events[-1][1]["retry_in"])
    # the app's status line shows the server's message, not "cannot reach the server"
    assert i18n.sync_failed(events[-1][1]) == f"数据库暂时不可用，请稍后重试（{seconds} 秒后自动重试）"
    assert phone.store.meta_get("last_error") == DETAIL_ZH
    assert phone.pending_count() == 30

    # What the phone got, on the wire (English asked for): 503, JSON in the API's error shape, Retry-After.
    item = phone.store.outbox_pending(1)[0][1]
    status, headers, body = http("POST", server.url + "/api/v1/sync/push", {"visits": [item]}, token=token,
                                 headers={"Accept-Language": "en"})
    assert status == 503 and headers["Retry-After"] == "30" and headers["Content-Type"] == "application/json"
    assert body == {"code": "database_unavailable", "detail": DETAIL_EN, "detail_zh": DETAIL_ZH,
                    "detail_en": DETAIL_EN, "retry_after_s": 30}
    assert http("GET", server.url + "/api/v1/sync/pull", token=token)[0] == 503
    status, headers, body = http("GET", server.url + "/admin/", headers={"Cookie": "sessionid=" + "a" * 32})
    assert status == 503 and headers["Retry-After"] == "30" and DETAIL_ZH in body["_raw"]  # a page: HTML
    assert server.running  # the server itself stays up throughout

    outage.up()
    assert server_db.visit_ids() == []  # nothing was half-stored meanwhile
    assert http("GET", server.url + "/api/v1/health")[::2] == (200, {"status": "ok", "database": "ok",
                                                                     "broker": "none"})
    events = _run_once(phone)
    assert [e for e, _ in events] == ["started", "done"], events
    assert (events[-1][1].accepted, events[-1][1].rejected) == (30, 0)
    assert phone.pending_count() == 0 and phone.store.meta_get("last_error") == ""
    stored = server_db.visit_ids()
    assert len(stored) == 30 and set(stored) == set(sent)


@pytest.mark.parametrize("error, status", [(OperationalError("server closed the connection"), 503),
                                           (ValueError("a bug"), 500)])
def test_a_database_error_raised_below_the_middleware_is_a_503_too(rf, error, status):
    """A database error in a middleware below it (a session saved at the end of a page request) is also a 503;
    any other error keeps its 500."""
    request = rf.get("/api/v1/rounds")

    def inner(request):
        try:
            raise error
        except Exception:  # what Django does with an exception a middleware raised
            got_request_exception.send(sender=None, request=request)
            return HttpResponse("Server Error", status=500)

    response = DatabaseUnavailableMiddleware(inner)(request)
    assert response.status_code == status
    if status == 503:
        assert json.loads(response.content)["code"] == "database_unavailable" and response["Retry-After"] == "30"
