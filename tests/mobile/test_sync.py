"""Sync engine against the in-memory server: order, resume, back-off, duplicates, rejections, revocation."""

import random
import threading

import pytest
from qiaomen_field.sync import BackgroundSync, Backoff, DeviceRevoked, SyncEngine
from qiaomen_field.transport import OfflineError


def _engine(store, server, **kw):
    return SyncEngine(store, server.transport(), **kw)


def _visits(store, n, household="1000", outcome="reached"):
    return [store.visit_save(household=household, round="1", outcome=outcome, fix=None) for _ in range(n)]


def test_first_sync_pulls_the_scope(store, fake_server):
    report = _engine(store, fake_server, page_limit=5).sync_once()
    assert len(store.households()) == 12 and len(store.cells()) == 2
    assert report.pulled_pages == 4  # 1 round + 4 codes + 2 cells + 12 households = 19 records, pages of 5
    assert store.meta_get("last_sync_at")


def test_push_happens_before_pull(store, fake_server):
    calls = []
    transport = fake_server.transport()
    orig_push, orig_pull = transport.push, transport.pull
    transport.push = lambda b: calls.append("push") or orig_push(b)
    transport.pull = lambda **kw: calls.append("pull") or orig_pull(**kw)
    SyncEngine(store, transport).sync_once()
    _visits(store, 2)
    SyncEngine(store, transport).sync_once()
    assert calls[-2:] == ["push", "pull"]
    assert len(fake_server.visits) == 2


def test_push_in_batches(store, fake_server):
    _engine(store, fake_server).sync_once()
    _visits(store, 25)
    report = _engine(store, fake_server, batch_size=10).sync_once()
    assert report.accepted == 25 and fake_server.push_calls == 3
    assert store.outbox_counts()["pending"] == 0


def test_lost_answer_is_retried_and_comes_back_duplicate(store, fake_server):
    _engine(store, fake_server).sync_once()
    ids = _visits(store, 5)
    fake_server.lose_next_answers = 1
    with pytest.raises(OfflineError):
        _engine(store, fake_server).sync_once()
    assert store.outbox_counts()["pending"] == 5  # the phone does not know they arrived
    assert set(fake_server.visits) == set(ids)  # ... but they did
    report = _engine(store, fake_server).sync_once()
    assert report.duplicate == 5 and len(fake_server.visits) == 5
    assert store.outbox_counts() == {"pending": 0, "accepted": 0, "duplicate": 5, "rejected": 0}


def test_second_push_of_same_outbox_creates_nothing(store, fake_server):
    _engine(store, fake_server).sync_once()
    _visits(store, 3)
    _engine(store, fake_server).sync_once()
    store.db.execute("UPDATE outbox SET status = 'pending'")  # as if the phone forgot the answers
    report = _engine(store, fake_server).sync_once()
    assert report.duplicate == 3 and len(fake_server.visits) == 3


def test_interrupted_pull_resumes_from_its_cursor(store, fake_server):
    fake_server.fail_pulls_after = 2
    with pytest.raises(OfflineError):
        _engine(store, fake_server, page_limit=5).sync_once()
    assert store.meta_get("cursor") == "10"  # two pages applied, the cursor moved with them
    fake_server.fail_pulls_after = None
    fake_server.pull_calls = 0
    _engine(store, fake_server, page_limit=5).sync_once()
    assert fake_server.pull_calls == 2  # pages 3 and 4 only
    assert len(store.households()) == 12


def test_rejected_items_kept_with_message_and_others_pass(store, fake_server):
    _engine(store, fake_server).sync_once()
    good = _visits(store, 2)
    bad = store.visit_save(household="999999", round="1", outcome="reached", fix=None)
    report = _engine(store, fake_server).sync_once()
    assert report.accepted == 2 and report.rejected == 1
    assert set(fake_server.visits) == set(good)
    (rej,) = store.outbox_rejected()
    assert rej["id"] == bad and rej["code"] == "not_assigned" and "网格" in rej["message"]
    _engine(store, fake_server).sync_once()  # not re-sent on every sync
    assert store.outbox_rejected()[0]["id"] == bad


def test_scope_shrinks_households_disappear(store, fake_server):
    _engine(store, fake_server).sync_once()
    fake_server.delete("cells", 101)
    for hid in range(1006, 1012):
        fake_server.delete("households", hid)
    _engine(store, fake_server).sync_once()
    assert [c["id"] for c in store.cells()] == [100] and len(store.households()) == 6


def test_device_revoked_wipes_local_data(store, fake_server):
    _engine(store, fake_server).sync_once()
    store.meta_set(token="t")
    _visits(store, 2)
    fake_server.revoked = True
    called = []
    with pytest.raises(DeviceRevoked) as revoked:
        _engine(store, fake_server, on_revoked=lambda: called.append(1)).sync_once()
    assert called == [1]
    assert store.meta_get("token") is None and store.households() == [] and store.outbox_counts()["pending"] == 0
    # the two unsent visits went with the rest, and the server was told so once
    assert revoked.value.discarded == {"visits": 2, "household_reports": 0, "claims": 0}
    assert fake_server.wipe_confirmations == [{"visits": 2, "household_reports": 0, "claims": 0}]


def test_revoked_phone_wipes_even_when_the_confirmation_cannot_be_sent(store, fake_server, monkeypatch):
    _engine(store, fake_server).sync_once()
    _visits(store, 1)
    fake_server.revoked = True
    monkeypatch.setattr(type(fake_server.transport()), "confirm_wiped",
                        lambda self, **kw: (_ for _ in ()).throw(OfflineError("gone")))
    with pytest.raises(DeviceRevoked):
        _engine(store, fake_server).sync_once()
    assert store.households() == [] and sum(store.outbox_counts().values()) == 0


def test_backoff_grows_exponentially_and_resets():
    b = Backoff(base_s=5, cap_s=60, rng=random.Random(1))
    delays = [b.failed() for _ in range(6)]
    ceilings = [5, 10, 20, 40, 60, 60]
    for d, c in zip(delays, ceilings, strict=True):
        assert c / 2 <= d <= c
    b.succeeded()
    assert b.failed() <= 5


def test_background_backs_off_while_offline_then_recovers(store, fake_server):
    events = []
    bg = BackgroundSync(_engine(store, fake_server), interval_s=100,
                        backoff=Backoff(base_s=1, cap_s=8, rng=random.Random(0)),
                        notify=lambda e, p: events.append(e))
    fake_server.offline = True
    delays = [bg.run_once() for _ in range(4)]
    assert delays == sorted(delays) and delays[-1] > delays[0]
    assert events.count("offline") == 4
    fake_server.offline = False
    assert bg.run_once() == 100 and events[-1] == "done" and bg.backoff.failures == 0


def test_background_thread_syncs_on_request(store, fake_server):
    done = threading.Event()
    bg = BackgroundSync(_engine(store, fake_server), interval_s=3600,
                        notify=lambda e, p: e == "done" and done.set())
    bg.start()
    try:
        assert done.wait(5)
        done.clear()
        _visits(store, 3)
        bg.request_now()
        assert done.wait(5)
    finally:
        bg.stop()
    assert len(fake_server.visits) == 3


def test_background_revoked_stops_and_tells_ui(store, fake_server):
    fake_server.revoked = True
    events = []
    bg = BackgroundSync(_engine(store, fake_server), notify=lambda e, p: events.append(e))
    bg.run_once()
    assert events[-1] == "revoked"


def test_malformed_item_is_isolated_and_the_rest_go_through(store, fake_server):
    """A 400 for the whole batch (one bad item) is bisected: only that item is rejected, with the server's words."""
    from qiaomen_field.transport import ProtocolError

    _engine(store, fake_server).sync_once()
    good = _visits(store, 6)
    bad = store.report_save(kind="wrong_location", household="1000", round="1", fix=None)  # no corrected point
    good += _visits(store, 3)
    transport = fake_server.transport()
    original = transport.push

    def strict_push(batch):
        if any(r["lat"] is None for r in batch.get("household_reports", [])):
            raise ProtocolError("提交的数据有误，未保存任何内容", status=400,
                                body={"code": "invalid_batch", "errors": {"household_reports[0].lat": ["须提供"]}})
        return original(batch)

    transport.push = strict_push
    report = SyncEngine(store, transport).sync_once()
    assert set(fake_server.visits) == set(good) and report.accepted == 9
    (rej,) = store.outbox_rejected()
    assert rej["id"] == bad and rej["code"] == "invalid_batch" and "lat" in rej["message"]
