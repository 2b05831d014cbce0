import datetime as dt
import os

import pytest
from django.db import connection

from server.accounts import services as account_services
from server.campaigns import services as campaign_services
from tests.factories import Role, build_mini_city, make_user


@pytest.fixture
def mini_city(db):
    return build_mini_city()


@pytest.fixture
def on_postgis():
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    """Skip PostGIS-only and worker-only tests where their backend is not configured."""
    url = os.environ.get("DATABASE_URL", "")
    skip_pg = pytest.mark.skip(reason="needs DATABASE_URL=postgis://…")
    skip_worker = pytest.mark.skip(reason="needs CELERY_BROKER_URL and a running worker")
    for item in items:
        if "postgis" in item.keywords and not url.startswith("postgis"):
            item.add_marker(skip_pg)
        if "celery_worker" in item.keywords and not os.environ.get("CELERY_BROKER_URL"):
            item.add_marker(skip_worker)


@pytest.fixture
def celery_worker_mode():
    """Send tasks to the real broker and worker started by .ci/run instead of running them inline."""
    from server.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = before


# A campaign over the first district of the mini city, its chief, three workers and a team of two.
@pytest.fixture
def chief(mini_city):
    return make_user("chief", Role.STATION_CHIEF, areas=[mini_city.districts[0]])


@pytest.fixture
def campaign(mini_city, chief):
    return campaign_services.campaign_create(
        name="琅琊区敲门行动", areas=[mini_city.districts[0]], starts_on=dt.date(2026, 11, 1),
        ends_on=dt.date(2026, 12, 31), created_by=chief,
    )


@pytest.fixture
def workers(mini_city):
    return [make_user(f"w{i}", Role.GRID_WORKER, areas=[mini_city.communities[0]]) for i in range(3)]


@pytest.fixture
def team(mini_city, workers):
    return account_services.team_create(name="一队", area=mini_city.districts[0], members=workers[:2])
