"""The coverage refresh through a real Celery worker (CI starts Redis and one worker; skipped elsewhere)."""

import time

import pytest

from server.visits.state import HouseholdRoundState
from tests.sync.conftest import push, visit

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_a_push_refreshes_household_states_through_the_worker(celery_worker_mode, mini_city, round, phone):
    h = mini_city.households[0]
    assert push(phone, [visit(h, round, outcome="nobody_home")]).status_code == 200
    for _ in range(120):
        state = HouseholdRoundState.objects.filter(household=h, round=round).first()
        if state is not None:
            break
        time.sleep(0.5)
    assert state is not None and state.visits == 1 and not state.reached
