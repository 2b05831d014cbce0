"""Fault: the Celery worker is down (the broker is up, nobody takes the tasks). Pushes are still accepted and stored;
the households' states and the coverage figures wait in their queues; when a worker starts (a real
`celery -A server worker --pool solo` process) the coverage API catches up with every pushed visit.

Needs a broker (CELERY_BROKER_URL, Redis; skipped otherwise). The server and the worker of this test use a queue of
their own, so a worker that CI runs for the rest of the suite on the same broker never takes these tasks."""

import time
import uuid

import pytest

from tests.faults.conftest import OUTCOMES, log_visits
from tests.faults.processes import http

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _wait_for(check, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    return check()


@pytest.fixture
def queue():
    import os

    import redis

    name = f"qiaomen-faults-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    yield name, client
    client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")
    client.close()


def test_pushes_accepted_while_the_worker_is_down_then_coverage_catches_up(server_db, processes, phones, queue):
    import os

    name, broker = queue
    env = {"CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"], "CELERY_TASK_ALWAYS_EAGER": "0",
           "QIAOMEN_FAULT_QUEUE": name}
    server = processes.server(server_db.url, **env).start()
    assert http("GET", server.url + "/api/v1/health")[::2] == (200, {"status": "ok", "database": "ok",
                                                                     "broker": "ok"})
    info = server_db.info
    status, _, signed = http("POST", server.url + "/api/v1/auth/device", {
        "username": info["chief"], "password": info["password"], "device_id": "chief-laptop"})
    assert status == 200, signed

    def coverage() -> dict:
        status, _, body = http("GET", server.url + f"/api/v1/coverage?round={info['round']}&level=cell",
                               token=signed["token"])
        assert status == 200, body
        return body["total"]

    before = coverage()
    assert (before["visits"], before["attempted"], before["reached"]) == (0, 0, 0)

    phone = phones(server.url)
    sent = log_visits(phone, 12)  # two visits to each of the six households
    report = phone.engine().sync_once()
    assert (report.accepted, report.rejected) == (12, 0)  # answered at once, no worker needed
    assert phone.pending_count() == 0 and sorted(server_db.visit_ids()) == sorted(sent)

    # Nothing has worked the queues: the households wait in visits_statequeue, the task in the broker.
    assert server_db.scalar("SELECT count(*) FROM visits_statequeue") == 6
    assert broker.llen(name) >= 1
    assert coverage()["visits"] == 0

    worker = processes.worker(server_db.url, **env).start()
    after = _wait_for(lambda: (lambda t: t if t["visits"] == 12 else None)(coverage()))
    assert after is not None, worker.log_tail()
    reached = {i % 6 for i in range(12) if OUTCOMES[i % len(OUTCOMES)] == "reached"}
    assert (after["visits"], after["attempted"], after["reached"]) == (12, 6, len(reached))
    assert after["to_visit"] == before["to_visit"]
    assert server_db.scalar("SELECT count(*) FROM visits_statequeue") == 0
    assert worker.running

    # The phone's next pull brings the states the worker derived: two visits each.
    phone.engine().sync_once()
    assert [h.data["rounds"][0]["state"]["visits"] for h in phone.store.households()] == [2] * 6


def test_pushes_accepted_while_the_broker_is_unreachable(server_db, processes, phones, queue):
    """The app server loses the broker (Redis down or cut off): a push still stores its visits and answers 200
    (the households wait in visits_statequeue; no 500 after a commit); when the broker is back the next push's task
    drains everything queued meanwhile and the coverage API catches up (the beat job would do it within a minute)."""
    import os
    import urllib.parse

    from tests.faults.proxy import TcpProxy

    name, _ = queue
    real = urllib.parse.urlsplit(os.environ["CELERY_BROKER_URL"])
    proxy = TcpProxy((real.hostname or "127.0.0.1", real.port or 6379)).start()
    auth = real.netloc.rpartition("@")[0]
    via_proxy = real._replace(netloc=f"{auth + '@' if auth else ''}{proxy.host}:{proxy.port}").geturl()
    env = {"CELERY_TASK_ALWAYS_EAGER": "0", "QIAOMEN_FAULT_QUEUE": name}
    try:
        server = processes.server(server_db.url, CELERY_BROKER_URL=via_proxy, **env).start()
        processes.worker(server_db.url, CELERY_BROKER_URL=os.environ["CELERY_BROKER_URL"], **env).start()
        info = server_db.info
        status, _, signed = http("POST", server.url + "/api/v1/auth/device", {
            "username": info["chief"], "password": info["password"], "device_id": "chief-laptop"})
        assert status == 200, signed

        def visits_counted() -> int:
            status, _, body = http("GET", server.url + f"/api/v1/coverage?round={info['round']}",
                                   token=signed["token"])
            assert status == 200, body
            return body["total"]["visits"]

        phone = phones(server.url)
        proxy.cut()
        assert http("GET", server.url + "/api/v1/health")[::2] == (200, {"status": "degraded", "database": "ok",
                                                                         "broker": "down"})
        sent = log_visits(phone, 6)
        report = phone.engine().sync_once()
        assert (report.accepted, report.rejected) == (6, 0) and phone.pending_count() == 0
        assert sorted(server_db.visit_ids()) == sorted(sent)
        assert server_db.scalar("SELECT count(*) FROM visits_statequeue") == 6  # kept for later, not lost
        assert visits_counted() == 0

        proxy.resume()
        assert http("GET", server.url + "/api/v1/health")[2]["broker"] == "ok"
        sent += log_visits(phone, 1, start=6)
        assert phone.engine().sync_once().accepted == 1
        assert _wait_for(lambda: visits_counted() == 7), "the coverage did not catch up"
        assert server_db.scalar("SELECT count(*) FROM visits_statequeue") == 0
    finally:
        proxy.close()
