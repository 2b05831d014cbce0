"""The coverage refresh through a real Celery worker (CI starts Redis and one worker; skipped elsewhere)."""

import datetime as dt
import time
import uuid

import pytest

from server.campaigns import services
from server.coverage.models import CellCoverage, CellWorkerCoverage
from server.visits.services import VisitInput, visits_record

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def wait_for(check, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    return None


def test_a_push_updates_the_cell_figures_through_the_worker(celery_worker_mode, mini_city, campaign, chief, workers):
    r1 = services.round_create(campaign=campaign, starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 11, 30))
    cell = mini_city.cells[0]
    services.cell_assign(round=r1, cell=cell, worker=workers[0], user=chief)
    services.round_open(round=r1, user=chief)
    # the new round's figures are computed by the worker: the cell's households are there before any visit
    row = wait_for(lambda: CellCoverage.objects.filter(round=r1, cell=cell).first())
    assert row is not None and row.to_visit == 3 and row.reached == 0
    h1, h2 = [h for h in mini_city.households if h.cell_id == cell.pk][:2]
    now = dt.datetime.now(dt.timezone.utc)
    items = [VisitInput(id=str(uuid.uuid4()), household=h.pk, round=r1.pk, outcome=o, captured_at=now,
                        lat=h.location.y, lon=h.location.x, accuracy_m=5)
             for h, o in ((h1, "reached"), (h2, "refused"))]
    assert [r.status for r in visits_record(user=workers[0], items=items)] == ["accepted", "accepted"]
    row = wait_for(lambda: CellCoverage.objects.filter(round=r1, cell=cell, reached=1).first())
    assert row is not None and (row.attempted, row.refused, row.visits) == (2, 1, 2)
    campaign_row = CellCoverage.objects.get(campaign=campaign, round=None, cell=cell)
    assert campaign_row.reached == 1
    assert CellWorkerCoverage.objects.get(round=r1, cell=cell, worker=workers[0]).households_reached == 1
