import os

import pytest
from django.db import connection

from tests.factories import build_mini_city


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
