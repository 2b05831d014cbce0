"""Pulls while pushes run (real threads and transactions, PostGIS only: the in-memory SQLite test database locks
whole tables across threads): every visit reaches the phone exactly once
through some page, and pushes from several clients all land."""

import threading

import pytest
from django.db import connection

from server.visits.models import Visit
from tests.sync.conftest import pull_all, push, visit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgis]


def test_pull_while_pushes_run_misses_nothing(mini_city, round, phone, worker):
    households = [h for h in mini_city.households if h.cell_id in {c.pk for c in mini_city.cells[:2]}]
    cursor = pull_all(phone)["cursor"]
    batches = [[visit(households[(b * 3 + i) % len(households)], round) for i in range(3)] for b in range(12)]
    errors, seen = [], {}

    def pusher(chunk):
        try:
            for batch in chunk:
                r = push(phone, batch)
                assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} == {"accepted"}
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=pusher, args=(batches[i::3],)) for i in range(3)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):  # pull repeatedly while the pushes run
        p = pull_all(phone, cursor)
        for s in p["changes"]["household_states"]:
            seen[s["household"]] = s["state"]["visits"]
        cursor = p["cursor"]
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    p = pull_all(phone, cursor)
    for s in p["changes"]["household_states"]:
        seen[s["household"]] = s["state"]["visits"]
    expected = {}
    for hid in Visit.objects.values_list("household_id", flat=True):
        expected[hid] = expected.get(hid, 0) + 1
    assert Visit.objects.count() == 36
    assert seen == expected


def test_the_same_batch_twice_at_once_is_stored_once(mini_city, round, phone):
    """A phone retrying while its first request still runs: both answer 200, each visit is stored once."""
    batch = [visit(h, round) for h in mini_city.households[:6]]
    answers, errors = [], []

    def send():
        try:
            r = push(phone, batch)
            answers.append((r.status_code, [x["status"] for x in r.json()["results"]]))
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(answers) == 2
    assert all(status == 200 for status, _ in answers)
    assert Visit.objects.count() == 6
    for i in range(6):
        assert sorted(statuses[i] for _, statuses in answers) in (["accepted", "duplicate"],)
