"""Fault: a phone's clock a day off (set by hand, reset by a flat battery). What docs/sync-protocol.md says: device
time is kept and never trusted; a visit whose device time is more than QIAOMEN_CLOCK_SKEW_S (900 s) from the server's
receive time is accepted with the `clock` flag, both times kept; the pull cursor is a server change number, so the
clock plays no part in what a pull brings. For figures by day the receive time stands in for an impossible device
time (server/visits/timing.py), so the visits count today, not tomorrow or yesterday, and as flagged visits.

The real sync core against the live server; only the phone's clock (the store's time source) is moved."""

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
import qiaomen_field.store as phone_store
from qiaomen_field.field_session import FieldSession
from qiaomen_field.location import Fix, LocationProvider
from qiaomen_field.store import Store
from qiaomen_field.transport import HttpTransport

from server.visits.models import Visit
from tests.faults import scenario
from tests.faults.processes import http

pytestmark = pytest.mark.django_db(transaction=True)
DAY = 86400


class _DeviceClock:
    """The phone's `time` module with its clock `offset_s` off."""

    def __init__(self, offset_s: float):
        self.offset_s = offset_s

    def time(self) -> float:
        return time.time() + self.offset_s

    def __getattr__(self, name):
        return getattr(time, name)


class _RecordingTransport(HttpTransport):
    """The app's transport, keeping the push answers (the engine keeps only statuses and messages)."""

    answers: list[dict] = []

    def push(self, batch: dict) -> dict:
        answer = super().push(batch)
        _RecordingTransport.answers.append(answer)
        return answer


def test_a_phone_clock_a_day_off(live_server, tmp_path, monkeypatch):
    info = scenario.build()
    _RecordingTransport.answers = []
    store = Store(str(tmp_path / "phone.sqlite3"))
    location = LocationProvider()
    phone = FieldSession(store, location, transport_factory=_RecordingTransport)
    phone.sign_in(server=live_server.url, username=info["worker"], password=info["password"])
    phone.engine().sync_once()
    h_ahead, h_behind, h_right = store.households()[:3]

    made = {}
    for household, offset, outcome in ((h_ahead, +DAY, "reached"), (h_behind, -DAY, "refused"),
                                       (h_right, 0, "nobody_home")):
        monkeypatch.setattr(phone_store, "time", _DeviceClock(offset))
        location._emit(Fix(float(household.data["lat"]), float(household.data["lon"]), 6.0, time.time()))
        made[phone.save_visit(household_id=household.id, outcome=outcome).visit_id] = (offset, outcome)
    monkeypatch.undo()
    device_times = {p["id"]: dt.datetime.fromisoformat(p["captured_at"]) for _, p in store.outbox_pending()}

    before = dt.datetime.now(dt.timezone.utc)
    report = phone.engine().sync_once()
    after = dt.datetime.now(dt.timezone.utc)
    assert (report.accepted, report.rejected) == (3, 0)  # accepted, never rejected for the clock
    flags = {r["id"]: r.get("flags", []) for a in _RecordingTransport.answers for r in a["results"]}
    for visit_id, (offset, _) in made.items():
        assert ("clock" in flags[visit_id]) == (offset != 0), flags

    # Both times kept: the device's as sent, the server's own receive time; the far-off ones flagged.
    for v in Visit.objects.filter(pk__in=made):
        offset, outcome = made[str(v.pk)]
        assert v.captured_at == device_times[str(v.pk)]
        assert abs((v.captured_at - v.received_at).total_seconds() - offset) < 60
        assert before <= v.received_at <= after
        assert v.flag_clock == (offset != 0) and v.outcome.code == outcome

    # The pull that followed the push (same sync) brought the server's state of each household: the cursor is the
    # server's change number, the phone's clock plays no part.
    local = {h.id: h.data["rounds"][0]["state"] for h in store.households()}
    for household, (_, outcome) in zip((h_ahead, h_behind, h_right), made.values(), strict=True):
        assert local[household.id]["outcome"] == outcome and local[household.id]["visits"] == 1

    # The coverage API: three visits, two flagged, all on the day the server received them (Asia/Shanghai).
    status, _, signed = http("POST", live_server.url + "/api/v1/auth/device", {
        "username": info["chief"], "password": info["password"], "device_id": "chief-laptop"})
    assert status == 200, signed
    status, _, coverage = http("GET", live_server.url + f"/api/v1/coverage?round={info['round']}",
                               token=signed["token"])
    assert status == 200, coverage
    assert (coverage["total"]["visits"], coverage["total"]["flagged_visits"]) == (3, 2)
    status, _, daily = http("GET", live_server.url + f"/api/v1/coverage/daily?round={info['round']}",
                            token=signed["token"])
    assert status == 200, daily
    received_days = {v.received_at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
                     for v in Visit.objects.filter(pk__in=made)}
    assert [(r["day"], r["visits"], r["flagged_visits"]) for r in daily["rows"]] == [
        (received_days.pop(), 3, 2)]
    store.close()
