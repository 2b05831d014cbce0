"""Benchmark: the field client's core on this machine.

  (a) saving a visit (SQLite WAL, synchronous=FULL, on disk before "saved")    target p95 ≤ 20 ms
  (b) opening a walk list of 2,000 households: query + row data, and (with Kivy and xvfb-run or a display)
      the real screen from tap to the next frame                                  target ≤ 1 s
  (c) syncing 500 pending visits to a local server (push + the pull after it)   target ≤ 3 s

    .venv/bin/python bench/mobile.py                      # (c) against a throwaway server it starts itself
    .venv/bin/python bench/mobile.py --server http://127.0.0.1:8000 --user demo-worker --password qiaomen-demo

Without --server, (c) migrates a throwaway SpatiaLite database, gives a worker two cells of an open round and
serves it with gunicorn on a free port. The last line printed is one JSON object of figures.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "mobile"))

from qiaomen_field.field_session import FieldSession  # noqa: E402
from qiaomen_field.location import Fix, LocationProvider  # noqa: E402
from qiaomen_field.store import Store  # noqa: E402


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def scope_of(n: int) -> dict:
    ring = [[118.30, 32.30], [118.32, 32.30], [118.32, 32.32], [118.30, 32.32], [118.30, 32.30]]
    households = [{
        "id": 10_000 + i, "cell": 1, "building": str(i // 40 + 1), "unit": str(i // 20 % 2 + 1), "floor": i // 4 % 5,
        "room": f"{i // 4 % 5 + 1}0{i % 4 + 1}", "address": f"琅琊路{i // 40 + 1}栋{i // 4 % 5 + 1}0{i % 4 + 1}室",
        "lat": 32.30 + (i % 50) * 0.0004, "lon": 118.30 + (i // 50) * 0.0005, "status": "occupied",
        "residents": {"count": 3, "elderly": i % 3 == 0, "key_groups": {"student": 1} if i % 7 == 0 else {}},
        "rounds": [{"round": 1, "order": i + 1, "state": None}],
    } for i in range(n)]
    return {
        "rounds": [{"id": 1, "campaign": 1, "number": 1, "campaign_name": "基准", "status": "open"}],
        "outcome_codes": [{"id": i, "campaign": 1, "code": c, "label": c, "reached": c == "reached",
                           "revisit": c in ("nobody_home", "refused"), "excluded": c == "vacant", "order": i}
                          for i, c in enumerate(["reached", "nobody_home", "refused", "vacant"])],
        "cells": [{"id": 1, "name": "基准网格", "geom": {"type": "Polygon", "coordinates": [ring]}, "rounds": [1]}],
        "households": households,
    }


def bench_save_and_list(workdir: str, households: int, saves: int) -> dict:
    store = Store(os.path.join(workdir, "bench.sqlite3"))
    store.apply_pull_page(changes=scope_of(households), deleted={}, cursor="1", reset=True)
    location = LocationProvider()
    location._emit(Fix(32.305, 118.305, 8.0, time.time()))
    session = FieldSession(store, location)
    # Earlier visits in the outbox, as after a day's work: the list must join them.
    for i in range(0, households, 3):
        store.visit_save(household=str(10_000 + i), round="1", outcome="nobody_home", fix=None)
    times = []
    for i in range(saves):
        t0 = time.perf_counter()
        session.save_visit(household_id=str(10_000 + (i * 7) % households), outcome="reached", leaflet=True,
                           hotline_explained=True, residents_met=2, key_groups_met=["elderly"])
        times.append((time.perf_counter() - t0) * 1000)
    list_times = []
    for _ in range(5):
        t0 = time.perf_counter()
        rows = session.walk_list_rows(cell_id="1")
        list_times.append(time.perf_counter() - t0)
    assert len(rows) == households
    t0 = time.perf_counter()
    revisit = session.walk_list_rows(cell_id="1", state_filter="revisit")
    filter_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = session.walk_list_rows(cell_id="1", search="12 302")
    search_s = time.perf_counter() - t0
    store.close()
    return {
        "save_visit_ms_p50": round(statistics.median(times), 2), "save_visit_ms_p95": round(p95(times), 2),
        "save_visit_ms_max": round(max(times), 2), "saves": saves,
        "walk_list_households": households, "walk_list_open_s": round(max(list_times), 3),
        "walk_list_filter_s": round(filter_s, 3), "walk_list_search_s": round(search_s, 3),
        "filter_rows": len(revisit), "search_rows": len(found),
    }


def ui_walklist_child(data_dir: str) -> None:
    """Runs inside xvfb-run: the real app, signed in with 2,000 households; time from tapping the cell to the frame
    after the walk list was drawn."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-"))
    from kivy.config import Config

    Config.set("graphics", "width", "720")
    Config.set("graphics", "height", "1280")
    from kivy.clock import Clock
    from qiaomen_field.app import QiaomenFieldApp
    from qiaomen_field.transport import HttpTransport

    app = QiaomenFieldApp(data_dir=data_dir, transport_factory=HttpTransport, location_setting="fixed:32.305,118.305")
    result = {}

    def start(_dt):
        app.session.stop_background()
        result["t0"] = time.perf_counter()
        app.go("walklist", cell_id="1")
        Clock.schedule_once(drawn, 0)

    def drawn(_dt):
        result["ui_walk_list_open_s"] = round(time.perf_counter() - result.pop("t0"), 3)
        result["ui_walk_list_rows"] = len(app.sm.current_screen.ids.rv.data)
        app.stop()

    Clock.schedule_once(start, 1.0)
    app.run()
    print(json.dumps(result))


def bench_ui_walklist(workdir: str, households: int) -> dict:
    """The same walk list opened on the real screen, when Kivy and xvfb-run are there; {} otherwise."""
    import importlib.util
    import shutil

    if importlib.util.find_spec("kivy") is None or not (shutil.which("xvfb-run") or os.environ.get("DISPLAY")):
        return {}
    data_dir = tempfile.mkdtemp(prefix="qm-bench-ui-", dir=workdir)
    store = Store(os.path.join(data_dir, "field.sqlite3"))
    store.apply_pull_page(changes=scope_of(households), deleted={}, cursor="1", reset=True)
    store.meta_set(token="bench", server="http://127.0.0.1:9")  # signed in, server unreachable: offline
    store.close()
    cmd = ([] if os.environ.get("DISPLAY") else ["xvfb-run", "-a", "-s", "-screen 0 720x1280x24"]) + [
        sys.executable, __file__, "--ui-walklist-child", data_dir]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout.strip().splitlines()
    return json.loads(out[-1]) if out and out[-1].startswith("{") else {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_local_server() -> tuple[subprocess.Popen, str, str, str]:
    """A throwaway database with one worker holding two cells of an open round, served by gunicorn."""
    db = f"spatialite:///{tempfile.mkdtemp(prefix='qm-bench-mobile-')}/server.sqlite3"
    os.environ["DATABASE_URL"] = db
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    import datetime as dt

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from server.campaigns import services
    from tests.factories import PASSWORD, Role, build_mini_city, make_user

    city = build_mini_city()
    chief = make_user("bench-chief", Role.STATION_CHIEF, areas=[city.districts[0]])
    worker = make_user("bench-worker", Role.GRID_WORKER, areas=[city.communities[0]])
    campaign = services.campaign_create(name="基准行动", areas=[city.districts[0]], starts_on=dt.date(2026, 11, 1),
                                        ends_on=dt.date(2026, 12, 31), created_by=chief)
    r = services.round_create(campaign=campaign, starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 12, 31))
    for cell in city.cells[:2]:
        services.cell_assign(round=r, cell=cell, worker=worker, user=chief, reason="bench")
    services.round_open(round=r, user=chief)
    from django.db import connections

    connections.close_all()
    port = free_port()
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    cmd = [str(gunicorn) if gunicorn.exists() else "gunicorn", "server.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2",
           "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ, DATABASE_URL=db))
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, url, "bench-worker", PASSWORD


def bench_sync(workdir: str, server: str, user: str, password: str, visits: int) -> dict:
    store = Store(os.path.join(workdir, "sync.sqlite3"))
    location = LocationProvider()
    session = FieldSession(store, location)
    session.sign_in(server=server, username=user, password=password)
    t0 = time.perf_counter()
    session.engine().sync_once()
    first_pull_s = time.perf_counter() - t0
    households = store.households()
    if not households:
        raise SystemExit(f"{user} holds no cells of an open round on {server}: nothing to visit")
    location._emit(Fix(32.305, 118.305, 8.0, time.time()))
    for i in range(visits):
        h = households[i % len(households)]
        session.save_visit(household_id=h.id, outcome=("reached", "nobody_home")[i % 2], leaflet=True)
    t0 = time.perf_counter()
    report = session.engine().sync_once()
    sync_s = time.perf_counter() - t0
    store.close()
    return {"sync_visits": visits, "sync_s": round(sync_s, 3), "sync_accepted": report.accepted,
            "sync_rejected": report.rejected, "first_pull_s": round(first_pull_s, 3),
            "sync_scope_households": len(households)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--households", type=int, default=2000)
    ap.add_argument("--saves", type=int, default=500)
    ap.add_argument("--visits", type=int, default=500)
    ap.add_argument("--server", default="")
    ap.add_argument("--user", default="demo-worker")
    ap.add_argument("--password", default="qiaomen-demo")
    ap.add_argument("--ui-walklist-child", default="", help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts.ui_walklist_child:
        return ui_walklist_child(opts.ui_walklist_child)
    workdir = tempfile.mkdtemp(prefix="qm-bench-phone-")
    figures = bench_save_and_list(workdir, opts.households, opts.saves)
    figures.update(bench_ui_walklist(workdir, opts.households))
    print(f"save a visit: p50 {figures['save_visit_ms_p50']} ms, p95 {figures['save_visit_ms_p95']} ms "
          f"(target ≤ 20 ms); walk list of {opts.households}: {figures['walk_list_open_s']} s (target ≤ 1 s)")
    proc = None
    try:
        if opts.server:
            server, user, password = opts.server, opts.user, opts.password
        else:
            proc, server, user, password = start_local_server()
        figures.update(bench_sync(workdir, server, user, password, opts.visits))
        figures["sync_server"] = "given" if opts.server else "gunicorn -w 2, SpatiaLite (throwaway)"
        print(f"sync {opts.visits} pending visits: {figures['sync_s']} s (target ≤ 3 s), "
              f"{figures['sync_accepted']} accepted")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
    figures["targets_met"] = (figures["save_visit_ms_p95"] <= 20 and figures["walk_list_open_s"] <= 1
                              and figures.get("ui_walk_list_open_s", 0) <= 1
                              and figures.get("sync_s", 99) <= 3 and figures.get("sync_accepted") == opts.visits)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
