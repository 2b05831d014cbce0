"""The sync engine against the real Django server (pytest-django live_server): sign in as a grid worker, pull the
walk list, log 50 visits with the server unreachable, push, see the server's coverage inputs change; pushing the
same outbox again creates nothing; a revoked device wipes itself, also when revoked on the admin page."""

import datetime as dt
import http.cookiejar
import itertools
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from qiaomen_field.field_session import FieldSession
from qiaomen_field.location import Fix, LocationProvider
from qiaomen_field.store import Store
from qiaomen_field.sync import DeviceRevoked, SyncEngine
from qiaomen_field.transport import HttpTransport, OfflineError

pytest.importorskip("server.sync.urls", reason="server/sync is not there yet")

from server.campaigns import selectors as campaign_selectors  # noqa: E402
from server.campaigns import services as campaign_services  # noqa: E402
from server.visits.models import Visit  # noqa: E402
from tests.factories import PASSWORD, Role, make_user  # noqa: E402

D = dt.date


@pytest.fixture
def field_round(mini_city):
    chief = make_user("chief", Role.STATION_CHIEF, areas=[mini_city.districts[0]])
    worker = make_user("w1", Role.GRID_WORKER, areas=[mini_city.communities[0]])
    campaign = campaign_services.campaign_create(
        name="琅琊区敲门行动", areas=[mini_city.districts[0]], starts_on=D(2026, 11, 1), ends_on=D(2026, 12, 31),
        created_by=chief)
    r = campaign_services.round_create(campaign=campaign, starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 30))
    for cell in mini_city.cells[:2]:
        campaign_services.cell_assign(round=r, cell=cell, worker=worker, user=chief, reason="计划")
    campaign_services.round_open(round=r, user=chief)
    r.refresh_from_db()
    return r, worker


def _reached(r) -> int:
    return sum(1 for s in campaign_selectors.household_states(round=r).values() if s.reached)


@pytest.mark.django_db(transaction=True)
def test_worker_day_offline_then_sync(live_server, field_round, mini_city, tmp_path):
    r, worker = field_round
    store = Store(str(tmp_path / "field.sqlite3"))
    location = LocationProvider()
    session = FieldSession(store, location)
    session.sign_in(server=live_server.url, username="w1", password=PASSWORD)
    report = session.engine().sync_once()
    households = store.households()
    assert {h.id for h in households} == {str(h.pk) for h in mini_city.households[:6]}, report
    assert [c.total for c in session.cells()] == [3, 3]
    assert session.default_round_id() == str(r.pk)

    # The day offline: the server is unreachable, 50 visits are logged anyway.
    store.meta_set(server="http://127.0.0.1:9")  # discard port: connection refused
    with pytest.raises(OfflineError):
        session.engine().sync_once()
    outcomes = itertools.cycle(["nobody_home", "refused", "reached", "reached", "nobody_home"])
    for i in range(50):
        h = households[i % len(households)]
        location._emit(Fix(float(h.data["lat"]), float(h.data["lon"]), 8.0, __import__("time").time()))
        session.save_visit(household_id=h.id, outcome=next(outcomes), leaflet=i % 2 == 0,
                           app_installed=i % 3 == 0, hotline_explained=True, residents_met=1,
                           key_groups_met=["elderly"] if i % 4 == 0 else [])
    assert session.pending_count() == 50 and Visit.objects.count() == 0
    reached_before = _reached(r)

    # Back online.
    store.meta_set(server=live_server.url)
    report = session.engine().sync_once()
    assert (report.accepted, report.duplicate, report.rejected) == (50, 0, 0), store.outbox_rejected()[:3]
    assert Visit.objects.count() == 50
    assert set(map(str, Visit.objects.values_list("id", flat=True))) == store.outbox_ids()
    assert _reached(r) > reached_before  # coverage inputs changed
    # the pull after the push brought the server's own view of each household's state
    local = {h.id: h.data for h in store.households()}
    states = campaign_selectors.household_states(round=r)
    for pk, state in states.items():
        if str(pk) in local:
            entry = local[str(pk)]["rounds"][0]
            assert (entry["state"] or {}).get("outcome") == state.outcome

    # The same outbox pushed again (say the answers were lost): nothing new on the server.
    store.db.execute("UPDATE outbox SET status = 'pending'")
    report = session.engine().sync_once()
    assert (report.accepted, report.duplicate) == (0, 50)
    assert Visit.objects.count() == 50
    store.close()


@pytest.mark.django_db(transaction=True)
def test_revoked_device_wipes_phone(live_server, field_round, tmp_path):
    from server.sync.models import Device
    from server.sync.services import device_revoke

    store = Store(str(tmp_path / "field.sqlite3"))
    session = FieldSession(store, LocationProvider())
    session.sign_in(server=live_server.url, username="w1", password=PASSWORD)
    session.engine().sync_once()
    session.save_visit(household_id=store.households()[0].id, outcome="reached")
    device_revoke(device=Device.objects.get(device_id=store.device_id()), by=None)
    with pytest.raises(DeviceRevoked):
        SyncEngine(store, HttpTransport(live_server.url, token=store.meta_get("token"))).sync_once()
    assert store.meta_get("token") is None and store.households() == [] and store.outbox_counts()["pending"] == 0
    store.close()


class _Browser:
    """A browser-like HTTP session (cookies, CSRF token from the form, Referer) on the stdlib only."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect())

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers={"Referer": self.base + path})
        try:
            with self.opener.open(req, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    @staticmethod
    def csrf(html: str) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    def sign_in(self, username: str) -> None:
        _, page = self.request("/admin/login/?next=/admin/")
        status, body = self.request("/admin/login/?next=/admin/", {
            "username": username, "password": PASSWORD, "csrfmiddlewaretoken": self.csrf(page), "next": "/admin/"})
        assert status == 302, body[:500]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # let the test see the 302


@pytest.mark.django_db(transaction=True)
def test_admin_revokes_the_phone_in_the_admin_and_the_phone_wipes_itself(live_server, field_round, mini_city,
                                                                         tmp_path):
    """End to end: the phone syncs; two visits wait offline in its outbox; an administrator revokes the phone on the
    admin's device page; at its next sync the phone is told 401 device_revoked, wipes everything (the two unsent
    visits too, as docs/privacy.md says) and tells the server how many it discarded."""
    from qiaomen_field.sync import BackgroundSync

    from server.audit.models import AuditAction, AuditEntry
    from server.sync.models import Device

    admin = make_user("cityadmin", Role.CITY_ADMIN, areas=[mini_city.city])
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    store = Store(str(tmp_path / "field.sqlite3"))
    session = FieldSession(store, LocationProvider())
    session.sign_in(server=live_server.url, username="w1", password=PASSWORD)
    session.engine().sync_once()
    households = store.households()
    assert len(households) == 6
    for h in households[:2]:
        session.save_visit(household_id=h.id, outcome="reached")
    assert session.pending_count() == 2
    device = Device.objects.get(device_id=store.device_id())

    # The administrator revokes the phone on the admin's device list (a real HTTP session, CSRF and all).
    browser = _Browser(live_server.url)
    browser.sign_in("cityadmin")
    status, page = browser.request("/admin/sync/device/")
    assert status == 200 and device.device_id in page
    status, _ = browser.request("/admin/sync/device/", {
        "action": "revoke", "_selected_action": [device.pk], "csrfmiddlewaretoken": browser.csrf(page)})
    assert status == 302  # back to the list, with the message
    status, page = browser.request("/admin/sync/device/")
    assert "已吊销 1 台设备" in page
    device.refresh_from_db()
    assert device.revoked_at is not None and device.revoked_by == admin

    # The phone's next sync (the background loop, as the app runs it).
    events = []
    loop = BackgroundSync(session.engine(), notify=lambda event, payload: events.append((event, payload)))
    loop.run_once()
    assert events[-1][0] == "revoked" and "已被停用" in events[-1][1]
    assert store.meta_get("token") is None and store.households() == [] and store.cells() == []
    assert sum(store.outbox_counts().values()) == 0 and session.pending_count() == 0
    assert not session.signed_in
    assert Visit.objects.count() == 0  # the unsent visits never reached the server

    revoked = AuditEntry.objects.get(action=AuditAction.DEVICE_REVOKE)
    assert (revoked.actor_username, revoked.object_id, revoked.ip) == ("cityadmin", device.device_id, "127.0.0.1")
    wiped = AuditEntry.objects.get(action=AuditAction.DEVICE_WIPED)
    assert wiped.actor_username == "w1" and wiped.device_id == device.device_id
    assert wiped.changes["discarded"] == {"visits": 2, "household_reports": 0, "claims": 0}

    # The old token stays dead, also for the wipe notice (once is recorded; a forged one needs the token).
    again = HttpTransport(live_server.url, token="not-a-token")
    with pytest.raises(Exception, match="令牌无效|Invalid token"):
        again.confirm_wiped(discarded={"visits": 1})
    assert AuditEntry.objects.filter(action=AuditAction.DEVICE_WIPED).count() == 1
    store.close()
