"""With a broker, a push queues its households (for their round states, server/visits/state.py) and its cells (for
coverage's figures, computed from the visits); each queue has one drainer and neither waits for the other; nothing
is lost when a push lands while a drain is running."""

import datetime as dt
import uuid

import pytest

from server.campaigns import services
from server.common import workqueue
from server.coverage.models import CellCoverage, DirtyCell
from server.coverage.services import coverage_dirty_refresh
from server.visits.services import VisitInput, visits_record
from server.visits.state import HouseholdRoundState, StateQueue, household_round_states_drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_mode():
    """Tasks not eager, as with a broker; on_commit never fires in these (transaction-wrapped) tests, so nothing is
    sent: the test drains the queues itself."""
    from server.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def open_round(mini_city, campaign, chief, workers):
    r1 = services.round_create(campaign=campaign, starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 11, 30))
    services.cell_assign(round=r1, cell=mini_city.cells[0], worker=workers[0], user=chief)
    services.round_open(round=r1, user=chief)
    return r1


def push(worker, round, households, outcome="reached"):
    now = dt.datetime.now(dt.timezone.utc)
    items = [VisitInput(id=str(uuid.uuid4()), household=h.pk, round=round.pk, outcome=outcome, captured_at=now,
                        lat=h.location.y, lon=h.location.x, accuracy_m=5) for h in households]
    return [r.status for r in visits_record(user=worker, items=items)]


def test_a_push_queues_its_households_and_cells_and_the_drains_bring_states_and_figures_up(
        broker_mode, mini_city, open_round, workers):
    cell = mini_city.cells[0]
    hh = [h for h in mini_city.households if h.cell_id == cell.pk][:2]
    assert push(workers[0], open_round, hh) == ["accepted", "accepted"]
    queued = set(StateQueue.objects.filter(round=open_round).values_list("household_id", flat=True))
    assert queued == {h.pk for h in hh}
    assert list(DirtyCell.objects.filter(round=open_round).values_list("cell_id", flat=True)) == [cell.pk]
    assert not HouseholdRoundState.objects.filter(round=open_round, household__in=hh).exists()  # not yet

    # the figures come from the visits: they need no states
    coverage_dirty_refresh()
    assert CellCoverage.objects.get(round=open_round, cell=cell).reached == 2
    assert not DirtyCell.objects.exists()
    assert not HouseholdRoundState.objects.filter(round=open_round, household__in=hh).exists()

    assert household_round_states_drain() == 2
    assert not StateQueue.objects.exists()
    states = HouseholdRoundState.objects.filter(round=open_round, household__in=hh)
    assert sorted(states.values_list("reached", flat=True)) == [True, True]


def test_a_push_during_a_drain_keeps_its_queue_row(broker_mode, mini_city, open_round, workers):
    h = [h for h in mini_city.households if h.cell_id == mini_city.cells[0].pk][0]
    push(workers[0], open_round, [h], outcome="nobody_home")
    read = workqueue.queue_read(table="visits_statequeue", column="household_id", batch=10)
    # a second visit to the same household is queued after the drainer read the queue, before it drops its rows
    push(workers[0], open_round, [h])
    workqueue.queue_drop(table="visits_statequeue", queued=read)
    row = StateQueue.objects.get(round=open_round, household=h)
    assert row.seq == 1  # still queued, with the bumped seq
    household_round_states_drain()
    assert HouseholdRoundState.objects.get(round=open_round, household=h).reached
    assert not StateQueue.objects.exists()
