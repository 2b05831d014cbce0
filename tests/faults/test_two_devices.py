"""Fault: one worker on two devices (a phone and a spare, or a new phone before the old one is handed in). Both push
and pull; nothing is lost; each outbox drains; each device has its own pull cursor (one device's pulls never move
the other's, and a cursor taken to the other device is answered with a reset); revoking one device leaves the other
working. The real sync core against the live server."""

import pytest
from qiaomen_field.field_session import FieldSession
from qiaomen_field.location import LocationProvider
from qiaomen_field.store import Store
from qiaomen_field.sync import DeviceRevoked

from server.sync.models import Device
from server.sync.services import device_revoke
from server.visits.models import Visit
from tests.faults import scenario

pytestmark = pytest.mark.django_db(transaction=True)


def _visit(phone: FieldSession, household_id: str, outcome: str) -> str:
    return phone.save_visit(household_id=household_id, outcome=outcome).visit_id


def _states(phone: FieldSession) -> dict[str, dict | None]:
    return {h.id: h.data["rounds"][0]["state"] for h in phone.store.households()}


def test_two_devices_of_one_user(live_server, tmp_path):
    info = scenario.build()
    phones = []
    for name in ("phone", "spare"):
        store = Store(str(tmp_path / f"{name}.sqlite3"))
        session = FieldSession(store, LocationProvider())
        session.sign_in(server=live_server.url, username=info["worker"], password=info["password"])
        session.engine().sync_once()
        phones.append(session)
    a, b = phones
    assert a.store.device_id() != b.store.device_id()
    assert set(Device.objects.filter(user__username=info["worker"], revoked_at=None)
               .values_list("device_id", flat=True)) == {a.store.device_id(), b.store.device_id()}
    hs = [h.id for h in a.store.households()]
    assert [h.id for h in b.store.households()] == hs and len(hs) == 6

    # A day's work split over both devices, one household visited from each.
    made_a = [_visit(a, h, "reached") for h in hs[:3]]
    made_b = [_visit(b, h, "refused") for h in hs[3:]] + [_visit(b, hs[0], "nobody_home")]
    cursor_b = b.store.meta_get("cursor")
    report = a.engine().sync_once()
    assert (report.accepted, report.rejected) == (3, 0)
    assert b.store.meta_get("cursor") == cursor_b  # A's sync did not touch B
    report = b.engine().sync_once()
    assert (report.accepted, report.rejected) == (4, 0)
    report = a.engine().sync_once()  # A's pull now brings what B pushed
    assert report.pushed == 0 and report.pulled_records > 0

    for phone in (a, b):
        counts = phone.store.outbox_counts()
        assert counts["pending"] == 0 and counts["rejected"] == 0
        states = _states(phone)
        assert [states[h]["visits"] for h in hs] == [2, 1, 1, 1, 1, 1]
        assert [states[h]["outcome"] for h in hs[1:]] == ["reached", "reached", "refused", "refused", "refused"]
    stored = dict(Visit.objects.values_list("id", "device_id"))
    assert {str(k): v for k, v in stored.items()} == {
        **dict.fromkeys(made_a, a.store.device_id()), **dict.fromkeys(made_b, b.store.device_id())}

    # Cursors are per device: each continues from its own; the other's cursor is foreign to it (a reset).
    assert a.store.meta_get("cursor") != b.store.meta_get("cursor")
    assert a.transport().pull(cursor=a.store.meta_get("cursor"))["reset"] is False
    assert b.transport().pull(cursor=b.store.meta_get("cursor"))["reset"] is False
    assert b.transport().pull(cursor=a.store.meta_get("cursor"))["reset"] is True

    # The phone is lost: the station revokes it. It wipes itself at its next sync; the spare goes on working.
    device_revoke(device=Device.objects.get(device_id=a.store.device_id()), by=None)
    with pytest.raises(DeviceRevoked):
        a.engine().sync_once()
    assert a.store.households() == [] and a.store.meta_get("token") is None
    more = [_visit(b, hs[1], "reached"), _visit(b, hs[4], "reached")]
    report = b.engine().sync_once()
    assert (report.accepted, report.rejected) == (2, 0) and b.pending_count() == 0
    assert b.transport().pull(cursor=b.store.meta_get("cursor"))["reset"] is False
    assert Visit.objects.count() == 9 and set(map(str, Visit.objects.values_list("id", flat=True))) == {
        *made_a, *made_b, *more}
    assert _states(b)[hs[4]]["outcome"] == "reached"
    for phone in phones:
        phone.store.close()
