"""Fault: the server process is killed (SIGKILL, the whole gunicorn process group) while a push of 500 visits is in
flight — with the batch written but not committed, or committed with the answer not yet sent. The phone keeps its
outbox, retries when the server is back on the same address, and the server ends with each visit exactly once."""

import threading

import pytest
from qiaomen_field import i18n
from qiaomen_field.sync import BackgroundSync

from tests.faults.conftest import log_visits

pytestmark = pytest.mark.django_db(transaction=True)


def _sync_in_background(session):
    """One attempt of the app's background sync loop, on its own thread (the push blocks on the held server)."""
    events = []
    loop = BackgroundSync(session.engine(), notify=lambda event, payload: events.append((event, payload)))
    thread = threading.Thread(target=loop.run_once, daemon=True)
    thread.start()
    return thread, events


@pytest.mark.parametrize("point, stored_before_retry, answer_on_retry", [
    ("in_transaction", 0, "accepted"),  # the kill rolls the batch back: the retry stores it
    ("after_commit", 500, "duplicate"),  # the batch is in, the phone never heard: the retry is all duplicates
])
def test_server_killed_mid_push(server_db, processes, phones, point, stored_before_retry, answer_on_retry):
    server = processes.server(server_db.url).start(QIAOMEN_FAULT_HOLD=point)
    phone = phones(server.url)
    sent = log_visits(phone, 500)
    assert phone.pending_count() == 500

    thread, events = _sync_in_background(phone)
    held = server.wait_for_hold(point)  # the server has the whole batch and holds it at `point`
    assert held == {"results": 500, "accepted": 500}
    server.kill()
    thread.join(timeout=30)
    assert not thread.is_alive()

    # The phone: the push failed as "offline"; nothing left the outbox; the error is recorded for the sync screen.
    assert [e for e, _ in events] == ["started", "offline"], events
    assert events[-1][1]["retry_in"] > 0
    assert i18n.sync_failed(events[-1][1]).startswith("连不上服务器")  # the app's status line: no answer came
    assert phone.pending_count() == 500 and phone.store.outbox_ids() == set(sent)
    assert phone.store.meta_get("last_error")
    assert len(server_db.visit_ids()) == stored_before_retry

    # The server comes back (same address, no hold); the app's next attempt goes through.
    server.start()
    thread, events = _sync_in_background(phone)
    thread.join(timeout=60)
    assert [e for e, _ in events] == ["started", "done"], events
    report = events[-1][1]
    assert (report.accepted, report.duplicate, report.rejected) == (
        (500, 0, 0) if answer_on_retry == "accepted" else (0, 500, 0))
    counts = phone.store.outbox_counts()
    assert counts["pending"] == 0 and counts[answer_on_retry] == 500
    stored = server_db.visit_ids()
    assert len(stored) == 500 and set(stored) == set(sent)  # each visit exactly once, none lost
    assert phone.store.meta_get("last_error") == ""
