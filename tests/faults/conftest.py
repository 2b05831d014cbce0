"""Fixtures of the fault tests: the server's database (one the server subprocesses can open), the processes
(stopped at the end of each test whatever happened) and phones running the real sync core of mobile/qiaomen_field."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults import scenario
from tests.faults.processes import ROOT, CeleryWorker, ServerProcess

MOBILE = str(ROOT / "mobile")
if MOBILE not in sys.path:
    sys.path.insert(0, MOBILE)

from qiaomen_field.field_session import FieldSession  # noqa: E402
from qiaomen_field.location import Fix, LocationProvider  # noqa: E402
from qiaomen_field.store import Store  # noqa: E402


def on_postgis_run() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgis")


@dataclass
class ServerDB:
    """The database the server subprocesses use, seeded with `scenario.build()`; `info` holds its ids.

    PostGIS: the suite's own test database (the test is transactional, so the server sees what it commits and the
    test sees what the server commits). SpatiaLite: the suite's test database lives in memory, out of the server's
    reach, so each test gets a copy of a migrated, seeded file."""

    vendor: str
    url: str
    info: dict
    path: Path | None = None
    pg: dict | None = None

    def url_via(self, host: str, port: int) -> str:
        """The PostGIS URL through a proxy at host:port."""
        pg = self.pg
        return f"postgis://{pg['USER']}:{pg['PASSWORD'] or ''}@{host}:{port}/{pg['NAME']}"

    def rows(self, sql: str) -> list[tuple]:
        if self.vendor == "postgresql":
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall()
        db = sqlite3.connect(self.path, timeout=30)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    def visit_ids(self) -> list[str]:
        """Every stored visit's id (a list: a duplicate would show)."""
        return [str(uuid.UUID(str(r[0]))) for r in self.rows("SELECT id FROM visits_visit")]

    def scalar(self, sql: str):
        return self.rows(sql)[0][0]


@pytest.fixture(scope="session")
def spatialite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("faults-template") / "server.sqlite3"
    out = subprocess.run([sys.executable, "-m", "tests.faults.scenario", str(path)], cwd=ROOT, capture_output=True,
                         text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "server.settings"})
    assert out.returncode == 0, out.stderr[-3000:]
    return path, json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def server_db(request, tmp_path):
    """Each test module is marked django_db(transaction=True): on PostGIS that is the server's database."""
    if on_postgis_run():
        from django.db import connection

        from server.celery import app

        eager, app.conf.task_always_eager = app.conf.task_always_eager, True  # the round's first figures, inline
        try:
            info = scenario.build()
        finally:
            app.conf.task_always_eager = eager
        pg = dict(connection.settings_dict)
        db = ServerDB("postgresql", "", info, pg=pg)
        db.url = db.url_via(pg["HOST"] or "127.0.0.1", int(pg["PORT"] or 5432))
        return db
    template, info = request.getfixturevalue("spatialite_template")
    path = tmp_path / "srv" / "server.sqlite3"
    path.parent.mkdir()
    shutil.copy(template, path)
    return ServerDB("sqlite", f"spatialite:///{path}", info, path=path)


@pytest.fixture
def processes(tmp_path):
    """Make server and worker processes; every one still running at the end is stopped."""
    made = []

    class Factory:
        @staticmethod
        def server(database_url: str, **env) -> ServerProcess:
            made.append(ServerProcess(tmp_path / f"server{len(made)}", database_url, **env))
            return made[-1]

        @staticmethod
        def worker(database_url: str, **env) -> CeleryWorker:
            made.append(CeleryWorker(tmp_path / f"worker{len(made)}", database_url, **env))
            return made[-1]

    yield Factory
    for p in reversed(made):
        p.stop()


@pytest.fixture
def phones(tmp_path):
    """Make phones: `phones(url)` signs a phone in as the worker and pulls its walk list."""
    stores = []

    def make(url: str, *, username: str = "w1", password: str | None = None, name: str | None = None):
        from tests.factories import PASSWORD

        store = Store(str(tmp_path / f"{name or f'phone{len(stores)}'}.sqlite3"))
        stores.append(store)
        session = FieldSession(store, LocationProvider())
        session.sign_in(server=url, username=username, password=password or PASSWORD)
        session.engine().sync_once()
        assert store.households(), "the phone pulled no walk list"
        return session

    yield make
    for s in stores:
        s.close()


OUTCOMES = ["nobody_home", "refused", "reached", "reached", "nobody_home"]


def log_visits(session: FieldSession, n: int, *, start: int = 0) -> list[str]:
    """n visits on the phone's walk list, in turn, each with a GPS fix at the door; returns their ids."""
    households = session.store.households()
    outcomes = itertools.cycle(OUTCOMES[start % len(OUTCOMES):] + OUTCOMES[:start % len(OUTCOMES)])
    ids = []
    for i in range(start, start + n):
        h = households[i % len(households)]
        session.location._emit(Fix(float(h.data["lat"]), float(h.data["lon"]), 8.0, time.time()))
        ids.append(session.save_visit(household_id=h.id, outcome=next(outcomes), leaflet=i % 2 == 0,
                                      hotline_explained=True, residents_met=1).visit_id)
    return ids
