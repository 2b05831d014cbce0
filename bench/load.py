"""Load benchmark: many field devices syncing a day's visits at once, against the production topology on loopback.

    .venv/bin/python bench/load.py [--devices 200] [--households 100000] [--visits-per-device 30-40] [--keep]
    .venv/bin/python bench/load.py --reuse           # again on the database kept by --keep (no rebuild)
    .venv/bin/python bench/load.py --ci              # bounded: 20 devices, 20,000 households, < 3 min

The database named in DATABASE_URL (default postgis://postgres@127.0.0.1:5432/qm_load_bench, qm_load_ci_bench with
--ci; its name must contain "bench") is dropped and created afresh, migrated and seeded with
`seed_demo --households N`, and dropped again at the end unless --keep (or --reuse). The script starts, as
subprocesses: gunicorn `server.wsgi` with 4 workers (`server.settings_production`, debug off; no TLS redirect: nginx
would terminate TLS) on 127.0.0.1, and two Celery workers (`--pool solo`) on a Redis broker (default db 14, flushed
first). PostgreSQL and Redis must be running.

Set-up (in-process, not timed): a campaign over the whole city with one open round; `--devices` grid workers, each
holding up to `--cells-per-device` grid cells of it (round robin over the cells that have occupied households), each
with a device token (made as `POST /api/v1/auth/device` makes it, without checking 200 passwords), and a city admin
who reads the coverage API.

Timed: every device, in a pool of `--threads` concurrent clients, does what a phone does in a day, compressed into
one burst (everybody syncing at the same moment, the worst case): a full pull of its scope (pages of 500, gzip, as
the field app asks), its visits (30–40 by default: households of its cells in walk order, outcomes mixed) in
`--pushes` pushes, then an incremental pull from the cursor it got. Every request is timed on the client (queueing
in gunicorn's backlog included). Any non-2xx answer, exception or push item not `accepted` is an error.

Checked: visits stored (counted in the database by the UUIDs sent) = visits sent, no other visit in the round
(nothing duplicated), and the coverage API's round total `visits` reaches the number sent within
`--coverage-timeout` seconds of the last push's answer. Exits 1 when any check fails or any error happened.
The last line printed is one JSON object of figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from import_households import database_drop, database_prepare  # noqa: E402
from sync import http, sh  # noqa: E402  (bench/sync.py: manage.py runner, timed JSON request)

PY = sys.executable
BIN = Path(PY).parent
DEFAULT_URL = "postgis://postgres@127.0.0.1:5432/qm_load_bench"
DEFAULT_CI_URL = "postgis://postgres@127.0.0.1:5432/qm_load_ci_bench"  # --ci never touches a database kept by --keep
CAMPAIGN_PREFIX = "load "
OUTCOMES = [("reached", 0.6), ("nobody_home", 0.3), ("refused", 0.1)]
PAGE_LIMIT = 500  # the field app's page size (mobile/qiaomen_field/sync.py)


def parse_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    low_n, high_n = int(low), int(high or low)
    if not 1 <= low_n <= high_n:
        raise argparse.ArgumentTypeError(f"expected N or LOW-HIGH with 1 <= LOW <= HIGH, got {text!r}")
    return low_n, high_n


def percentile(values: list[float], q: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def latency(values: list[float], prefix: str) -> dict:
    if not values:
        return {f"{prefix}_requests": 0}
    ms = [v * 1000 for v in values]
    return {f"{prefix}_requests": len(ms), f"{prefix}_p50_ms": round(statistics.median(ms), 1),
            f"{prefix}_p95_ms": round(percentile(ms, 0.95), 1), f"{prefix}_max_ms": round(max(ms), 1)}


# ---------------------------------------------------------------------------------------------------- set-up


def setup(*, devices: int, cells_per_device: int) -> dict:
    """The round, the workers holding its cells, their device tokens, the city admin's token (in-process ORM)."""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.db.models import Count

    from server.accounts.models import Role, User
    from server.campaigns import services
    from server.campaigns.models import CellAssignment, Round, RoundStatus
    from server.registry.models import Household
    from server.sync.services import _device_token_store
    from server.territory.models import Area, AreaLevel, GridCell

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    # Rounds of earlier runs (--reuse) would widen the devices' scopes: close them.
    Round.objects.filter(campaign__name__startswith=CAMPAIGN_PREFIX, status=RoundStatus.OPEN).update(
        status=RoundStatus.CLOSED, closed_at=dt.datetime.now(dt.timezone.utc))
    city = Area.objects.get(level=AreaLevel.CITY)
    counts = dict(Household.objects.filter(cell__isnull=False, status="occupied").values_list("cell_id")
                  .annotate(n=Count("id")).order_by("cell_id"))
    cells = list(GridCell.objects.filter(id__in=list(counts)).order_by("path").values_list("id", flat=True))
    if len(cells) < devices:
        sys.exit(f"only {len(cells)} grid cells with households for {devices} devices: seed more households "
                 "(--households) or run fewer devices")
    names = [f"load-w{i:04d}" for i in range(devices)]
    known = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    unusable = make_password(None)  # devices get their tokens below; nobody signs in with a password
    User.objects.bulk_create([User(username=n, role=Role.GRID_WORKER, first_name=n[-4:], last_name="压测",
                                   password=unusable) for n in names if n not in known], batch_size=1000)
    workers = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
    admin, made = User.objects.get_or_create(username="load-city", defaults={"role": Role.CITY_ADMIN,
                                                                             "password": unusable})
    if made:
        admin.areas.add(city)
    today = dt.date.today()
    campaign = services.campaign_create(name=f"{CAMPAIGN_PREFIX}{stamp}", areas=[city], starts_on=today,
                                        ends_on=today + dt.timedelta(days=30), created_by=None)
    rnd = services.round_create(campaign=campaign, starts_on=today, ends_on=today + dt.timedelta(days=10))
    held: dict[str, list[int]] = {n: [] for n in names}
    for k, cell in enumerate(cells[: devices * cells_per_device]):
        held[names[k % devices]].append(cell)
    CellAssignment.objects.bulk_create(
        [CellAssignment(round=rnd, cell_id=c, worker_id=workers[n]) for n, cs in held.items() for c in cs],
        batch_size=2000)
    services.round_open(round=rnd, user=None)
    tokens = {}
    with transaction.atomic():
        for n in names:
            tokens[n] = _device_token_store(user=User(pk=workers[n]), device_id=f"{n}-{stamp}",
                                            device_name="Redmi 9A (load)").token
        city_token = _device_token_store(user=admin, device_id=f"load-city-{stamp}", device_name="load").token
    return {"round": rnd.pk, "tokens": tokens, "city_token": city_token, "cells": len(cells),
            "cells_held": sum(len(cs) for cs in held.values()),
            "households_held": sum(counts[c] for cs in held.values() for c in cs)}


# ---------------------------------------------------------------------------------------------------- processes


def database_exists(url: str) -> bool:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(parts._replace(scheme="postgresql", path="/postgres").geturl()) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [parts.path.lstrip("/")]).fetchone() \
            is not None


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does: TIME_WAIT is no obstacle
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for(predicate, timeout: float, what: str, procs: list) -> None:
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        if predicate():
            return
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"{what}: a process exited with {dead[0].returncode} before it was ready "
                               f"({' '.join(dead[0].args[:4])})")
        time.sleep(0.3)
    raise RuntimeError(f"{what}: not ready after {timeout:.0f} s")


def servers_start(*, env: dict, port: int, gunicorn_workers: int, celery_workers: int, logs: Path) -> list:
    """gunicorn and the Celery workers, started as bench/sync.py starts them; returns the processes once ready."""
    procs = []
    for i in range(celery_workers):
        log = open(logs / f"celery{i}.log", "w")  # noqa: SIM115 (closed with the process)
        procs.append(subprocess.Popen(
            [str(BIN / "celery"), "-A", "server", "worker", "--pool", "solo", "-l", "INFO", "-n", f"load{i}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
    log = open(logs / "gunicorn.log", "w")  # noqa: SIM115
    procs.append(subprocess.Popen(
        [str(BIN / "gunicorn"), "server.wsgi", "-w", str(gunicorn_workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "--timeout", "120", "--backlog", "2048",
         # the time each request spent inside a worker (%(D)s µs), to tell service time from queueing
         "--access-logfile", str(logs / "access.log"), "--access-logformat", "%(m)s %(U)s %(s)s %(D)s q=%(q)s"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as r:
                return json.loads(r.read()).get("broker") == "ok"
        except Exception:
            return False

    def workers_ready() -> bool:
        return all("ready." in (logs / f"celery{i}.log").read_text(errors="replace") for i in range(celery_workers))

    wait_for(healthy, 90, "gunicorn (GET /api/v1/health with the broker ok)", procs)
    wait_for(workers_ready, 90, "Celery workers", procs)
    return procs


def servers_stop(procs: list) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


# ---------------------------------------------------------------------------------------------------- a device


class Tally:
    """What all devices saw, shared between the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {"pull_full": [], "pull_incremental": [], "push": []}
        self.pull_bytes: list[int] = []
        self.errors: list[str] = []
        self.sent: list[str] = []
        self.states_after = 0
        self.last_push_at = 0.0

    def request(self, kind: str, method: str, url: str, body: bytes | None, token: str):
        try:
            status, data, size, elapsed = http(method, url, body, token, gz=kind != "push")
        except Exception as exc:  # connection refused or reset, timeout, a body that is not JSON
            with self.lock:
                self.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
            return None
        with self.lock:
            self.times[kind].append(elapsed)
            if kind == "pull_full":
                self.pull_bytes.append(size)
            if not 200 <= status < 300:
                self.errors.append(f"{kind}: HTTP {status} {json.dumps(data, ensure_ascii=False)[:300]}")
                return None
        return data


def pull_all(tally: Tally, base: str, token: str, cursor: str, kind: str) -> tuple[str, list[dict], int] | None:
    """Follow has_more to the end; (cursor, households, household_states) or None after an error."""
    households, states = [], 0
    for _ in range(100):  # bounded: a scope of 3 cells is 2–4 pages
        page = tally.request(kind, "GET", f"{base}/api/v1/sync/pull?cursor={cursor}&limit={PAGE_LIMIT}", None, token)
        if page is None:
            return None
        households += page["changes"]["households"]
        states += len(page["changes"]["household_states"])
        cursor = page["cursor"]
        if not page["has_more"]:
            return cursor, households, states
    with tally.lock:
        tally.errors.append(f"{kind}: has_more after 100 pages")
    return None


def device_day(*, tally: Tally, base: str, token: str, round_id: int, visits: int, pushes: int, seed: int) -> None:
    rng = random.Random(seed)
    pulled = pull_all(tally, base, token, "", "pull_full")
    if pulled is None:
        return
    cursor, households, _ = pulled
    walk = []
    for h in households:
        order = next((r["order"] for r in h["rounds"] if r["round"] == round_id), None)
        if h["status"] == "occupied" and order is not None and h["lat"] is not None:
            walk.append((h["cell"], order, h))
    walk.sort(key=lambda w: (w[0], w[1]))
    if not walk:
        with tally.lock:
            tally.errors.append("pull_full: no household to visit in the device's scope")
        return
    items = []
    for i in range(visits):
        h = walk[i % len(walk)][2]  # in walk order; a short walk list comes round again (a second visit)
        now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=10 * (visits - i))  # within the clock skew
        outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
        reached = outcome == "reached"
        items.append({
            "id": str(uuid.uuid4()), "household": h["id"], "round": round_id, "outcome": outcome,
            "captured_at": now.isoformat(), "lat": h["lat"] + rng.uniform(-1e-4, 1e-4),
            "lon": h["lon"] + rng.uniform(-1e-4, 1e-4), "accuracy_m": round(rng.uniform(4, 30), 1),
            "fix_at": now.isoformat(), "provider": "gps", "mock_location": False, "leaflet": reached,
            "app_installed": reached and rng.random() < 0.3, "hotline_explained": reached,
            "residents_met": rng.randint(1, 3) if reached else 0,
            "key_groups_met": ["elderly"] if reached and rng.random() < 0.25 else [], "risk_note": ""})
    size = math.ceil(len(items) / pushes)
    for b in range(0, len(items), size):
        batch = items[b: b + size]
        answer = tally.request("push", "POST", f"{base}/api/v1/sync/push", json.dumps({"visits": batch}).encode(),
                               token)
        if answer is None:
            continue
        ok = [r["id"] for r in answer["results"] if r["kind"] == "visit" and r["status"] == "accepted"]
        with tally.lock:
            tally.sent += [v["id"] for v in batch]  # sent: counted whatever the answer
            tally.last_push_at = max(tally.last_push_at, time.monotonic())
            if len(ok) != len(batch):
                bad = [r for r in answer["results"] if r["status"] != "accepted"][:2]
                tally.errors.append(f"push: {len(batch) - len(ok)} of {len(batch)} not accepted: {bad}")
    after = pull_all(tally, base, token, cursor, "pull_incremental")
    if after is not None:
        with tally.lock:
            tally.states_after += after[2]


# ---------------------------------------------------------------------------------------------------- checks


def service_times(access_log: Path) -> dict:
    """Time inside a gunicorn worker per request (its access log): the rest of a client's latency is waiting in
    the listen backlog for a free worker. Pulls are told apart by their cursor: `pull_reset` without one (the
    first page of a full pull), `pull_cursor` with one (further pages and the incremental pulls)."""
    times: dict[str, list[float]] = {"pull_reset": [], "pull_cursor": [], "push": []}
    for line in access_log.read_text().splitlines():
        parts = line.split()
        if len(parts) != 5:
            continue
        if parts[1] == "/api/v1/sync/push":
            kind = "push"
        elif parts[1] == "/api/v1/sync/pull":
            kind = "pull_reset" if parts[4].startswith("q=cursor=&") else "pull_cursor"
        else:
            continue
        times[kind].append(int(parts[3]) / 1e6)
    out = {}
    for kind, values in times.items():
        out.update({k.replace(f"{kind}_", f"{kind}_server_", 1): v for k, v in latency(values, kind).items()
                    if not k.endswith("_requests")})
    return out


def stored_check(url: str, round_id: int, sent: list[str]) -> dict:
    import psycopg

    with psycopg.connect(urlsplit(url)._replace(scheme="postgresql").geturl()) as conn:
        stored = conn.execute("SELECT count(*) FROM visits_visit WHERE id = ANY(%s::uuid[])", [sent]).fetchone()[0]
        in_round = conn.execute("SELECT count(*) FROM visits_visit WHERE round_id = %s", [round_id]).fetchone()[0]
    return {"visits_sent": len(sent), "visits_sent_distinct": len(set(sent)), "visits_stored": stored,
            "visits_in_round": in_round}


def coverage_wait(base: str, token: str, round_id: int, expected: int, timeout: float) -> tuple[int | None, float]:
    """Poll GET /api/v1/coverage (the city admin, round total) until `visits` reaches `expected`."""
    t = time.monotonic()
    seen = None
    while True:
        try:
            status, data, _, _ = http("GET", f"{base}/api/v1/coverage?round={round_id}&level=city", None, token)
            if status == 200:
                seen = data["total"]["visits"]
        except Exception:
            pass
        if seen is not None and seen >= expected:
            return seen, time.monotonic() - t
        if time.monotonic() - t > timeout:
            return seen, time.monotonic() - t
        time.sleep(0.25)


# ---------------------------------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", type=int, default=None, help="simulated devices (default 200; --ci: 20)")
    ap.add_argument("--households", type=int, default=None, help="seed_demo size (default 100,000; --ci: 20,000)")
    ap.add_argument("--visits-per-device", type=parse_range, default=(30, 40), metavar="N|LOW-HIGH",
                    help="visits a device records in its day (default 30-40)")
    ap.add_argument("--pushes", type=int, default=3, help="pushes a device sends its day's visits in (default 3)")
    ap.add_argument("--cells-per-device", type=int, default=3, help="most grid cells a device holds (default 3)")
    ap.add_argument("--threads", type=int, default=50, help="concurrent client threads (default 50)")
    ap.add_argument("--gunicorn-workers", type=int, default=4)
    ap.add_argument("--celery-workers", type=int, default=2)
    ap.add_argument("--port", type=int, default=8771)
    ap.add_argument("--broker", default=os.environ.get("QIAOMEN_LOAD_BROKER", "redis://127.0.0.1:6379/14"),
                    help="Redis database for the broker; flushed at the start (default redis://127.0.0.1:6379/14)")
    ap.add_argument("--coverage-timeout", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    ap.add_argument("--reuse", action="store_true", help="run on a database kept by --keep (no rebuild)")
    ap.add_argument("--ci", action="store_true", help="bounded size for CI: 20 devices, 20,000 households")
    args = ap.parse_args()
    args.devices = args.devices or (20 if args.ci else 200)
    args.households = args.households or (20_000 if args.ci else 100_000)
    if args.ci and args.threads == 50:
        args.threads = 20

    url = os.environ.get("DATABASE_URL", "") or (DEFAULT_CI_URL if args.ci else DEFAULT_URL)
    if not url.startswith("postgis") or "bench" not in urlsplit(url).path:
        sys.exit("bench/load.py needs PostGIS and a throwaway database whose name contains 'bench', e.g. "
                 f"DATABASE_URL={DEFAULT_URL}")
    if args.reuse and not database_exists(url):
        sys.exit(f"--reuse: there is no database {urlsplit(url).path.lstrip('/')!r}: run once with --keep first")
    if not port_free(args.port):
        sys.exit(f"port {args.port} is in use on 127.0.0.1: stop what listens there or pass --port")
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "server.settings_production",
           "SECRET_KEY": "load-bench-only-secret-key-0123456789abcdef", "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
           "QIAOMEN_SSL_REDIRECT": "0", "DB_CONN_MAX_AGE": "600", "LOG_LEVEL": "WARNING",
           "CELERY_BROKER_URL": args.broker, "CELERY_TASK_ALWAYS_EAGER": "0"}
    os.environ.update(env)
    started = time.monotonic()
    if not args.reuse:
        database_prepare(url, Path(tempfile.gettempdir()))
    figures: dict = {"benchmark": "load", "devices": args.devices, "households": args.households,
                     "visits_per_device": "-".join(map(str, sorted(set(args.visits_per_device)))),
                     "pushes_per_device": args.pushes, "threads": args.threads,
                     "gunicorn_workers": args.gunicorn_workers, "celery_workers": args.celery_workers}
    procs: list = []
    logs = Path(tempfile.mkdtemp(prefix="qm-load-"))  # gunicorn's and the workers' logs; kept when a check fails
    print(f"server and worker logs: {logs}", file=sys.stderr)
    try:
        sh("migrate", "-v0", env=env)
        sh("seed_demo", "--households", str(args.households), "--if-empty", "-v0", env=env)
        info = setup(devices=args.devices, cells_per_device=args.cells_per_device)
        from django.db import connections

        connections.close_all()
        figures.update({"cells": info["cells"], "cells_held": info["cells_held"],
                        "households_held": info["households_held"], "setup_s": round(time.monotonic() - started, 1)})
        import redis

        redis.Redis.from_url(args.broker).flushdb()
        procs = servers_start(env=env, port=args.port, gunicorn_workers=args.gunicorn_workers,
                              celery_workers=args.celery_workers, logs=logs)
        base = f"http://127.0.0.1:{args.port}"
        tally = Tally()
        rng = random.Random(args.seed)
        plan = [(token, rng.randint(*args.visits_per_device), rng.randrange(1 << 30))
                for token in info["tokens"].values()]
        load_start = os.getloadavg()[0]
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            for f in [pool.submit(device_day, tally=tally, base=base, token=token, round_id=info["round"],
                                  visits=n, pushes=args.pushes, seed=seed) for token, n, seed in plan]:
                f.result()
        wall = time.monotonic() - t0
        requests = sum(len(v) for v in tally.times.values())
        figures.update({"wall_s": round(wall, 2), "requests": requests, "requests_per_s": round(requests / wall, 1),
                        "errors": len(tally.errors)})
        figures.update(latency(tally.times["pull_full"] + tally.times["pull_incremental"], "pull"))
        figures.update(latency(tally.times["pull_full"], "pull_full"))
        figures.update(latency(tally.times["pull_incremental"], "pull_incremental"))
        figures.update(latency(tally.times["push"], "push"))
        figures["pull_full_pages_per_device"] = round(len(tally.times["pull_full"]) / args.devices, 2)
        figures["pull_full_page_kb_gzip_median"] = round(statistics.median(tally.pull_bytes) / 1024, 1) \
            if tally.pull_bytes else None
        figures["visits_per_s"] = round(len(tally.sent) / wall, 1)
        seen, waited = coverage_wait(base, info["city_token"], info["round"], len(tally.sent), args.coverage_timeout)
        figures["coverage_visits"] = seen
        figures["coverage_caught_up_s"] = round(time.monotonic() - tally.last_push_at, 2) \
            if seen == len(tally.sent) else None
        figures["coverage_waited_s"] = round(waited, 2)
        figures["household_states_in_pull_after"] = tally.states_after
        figures.update(stored_check(url, info["round"], tally.sent))
        servers_stop(procs)  # flushes the access log
        figures.update(service_times(logs / "access.log"))
        figures["load_avg_start_end"] = [round(load_start, 2), round(os.getloadavg()[0], 2)]
        for line in tally.errors[:10]:
            print("error:", line, file=sys.stderr)
    finally:
        servers_stop(procs)
        if not args.keep and not args.reuse:
            database_drop(url)
    problems = []
    if figures["errors"]:
        problems.append(f"{figures['errors']} errors")
    if figures["visits_stored"] != figures["visits_sent"] or figures["visits_sent_distinct"] != figures["visits_sent"]:
        problems.append(f"{figures['visits_sent']} visits sent, {figures['visits_stored']} stored")
    if figures["visits_in_round"] != figures["visits_sent"]:
        problems.append(f"{figures['visits_in_round']} visits in the round for {figures['visits_sent']} sent")
    if figures["coverage_visits"] != figures["visits_sent"]:
        problems.append(f"coverage shows {figures['coverage_visits']} visits for {figures['visits_sent']} sent "
                        f"after {figures['coverage_waited_s']} s")
    figures["ok"] = not problems
    figures["total_s"] = round(time.monotonic() - started, 1)
    for p in problems:
        print("FAILED:", p, file=sys.stderr)
    if not problems:
        shutil.rmtree(logs, ignore_errors=True)
    print(json.dumps(figures, ensure_ascii=False))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
