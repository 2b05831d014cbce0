"""The sync engine against the real Django server (pytest-django live_server): sign in as a grid worker, pull the
walk list, log 50 visits with the server unreachable, push, see the server's coverage inputs change; pushing the
same outbox again creates nothing; a revoked device wipes itself."""

import datetime as dt
import itertools

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
