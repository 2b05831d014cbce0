"""Fault: the response is lost after the server committed (a proxy between phone and server forwards the push and
swallows the answer: the lift door closes). The phone cannot tell whether anything arrived, so it sends the same
items again; the server answers them `duplicate` and stores nothing twice, while visits made since go in."""

import pytest
from qiaomen_field.transport import OfflineError

from tests.faults.conftest import log_visits
from tests.faults.proxy import TcpProxy

pytestmark = pytest.mark.django_db(transaction=True)


def test_response_lost_after_commit_then_retry(server_db, processes, phones):
    server = processes.server(server_db.url).start()
    with TcpProxy(("127.0.0.1", server.port)) as proxy:
        phone = phones(f"http://127.0.0.1:{proxy.port}")
        first = log_visits(phone, 500)

        proxy.drop_next_response()
        with pytest.raises(OfflineError):
            phone.engine().sync_once()
        assert proxy.wait_dropped(1)
        status_line = proxy.dropped[0].split(b"\r\n", 1)[0]
        assert status_line.startswith(b"HTTP/1.1 200"), proxy.dropped[0][:300]  # the server did answer
        assert sorted(server_db.visit_ids()) == sorted(first)  # … and had committed the whole batch
        assert phone.pending_count() == 500  # the phone never heard: everything is still to send
        assert "unreachable" in phone.store.meta_get("last_error")

        later = log_visits(phone, 20, start=500)  # work goes on before the next sync
        report = phone.engine().sync_once()
        assert (report.accepted, report.duplicate, report.rejected) == (20, 500, 0)
        counts = phone.store.outbox_counts()
        assert (counts["pending"], counts["duplicate"], counts["accepted"]) == (0, 500, 20)
        stored = server_db.visit_ids()
        assert len(stored) == 520 and set(stored) == set(first + later)  # nothing duplicated, nothing lost

        # And once more (say this answer was lost too): nothing changes.
        phone.store.db.execute("UPDATE outbox SET status = 'pending'")
        report = phone.engine().sync_once()
        assert (report.accepted, report.duplicate) == (0, 520)
        assert len(server_db.visit_ids()) == 520
