"""Sync benchmark against gunicorn (4 workers) on PostGIS, loopback only.

(a) push ingest: visits/s, batches of 500 from 4 concurrent clients (target >= 5,000/s)
(b) pull of a ~2,000-household scope: ms and gzipped KB (targets <= 300 ms, <= 150 KB)
(c) the same number of visits by raw INSERT ... ON CONFLICT DO NOTHING from 4 connections: the floor, and (a)/(c)
(d) single-visit pushes from 8 concurrent clients: requests/s and p95 latency

Usage: .venv/bin/python bench/sync.py [--households 100000] [--db qm_sync_bench] [--batches 8] [--single 150]
                                     [--celery-workers 2]   # Redis broker + workers instead of inline refreshes
Uses (and creates) its own throwaway database; seeds it with `seed_demo` if it is empty. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BENCH_PASSWORD = "bench-pass-Qm2026"


def sh(*args: str, env: dict) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def ensure_db(base: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(f"{base}/{name}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return f"{base.replace('postgresql://', 'postgis://')}/{name}"


def http(method: str, url: str, body: bytes | None = None, token: str | None = None, gz: bool = False):
    req = urllib.request.Request(url, data=body, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Token {token}")
    if gz:
        req.add_header("Accept-Encoding", "gzip")
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            raw = resp.read()
            status, enc = resp.status, resp.headers.get("Content-Encoding")
    except urllib.error.HTTPError as exc:
        raw, status, enc = exc.read(), exc.code, exc.headers.get("Content-Encoding")
    elapsed = time.perf_counter() - t
    data = gzip.decompress(raw) if enc == "gzip" else raw
    return status, json.loads(data or b"null"), len(raw), elapsed


def setup(households: int) -> dict:
    """A bench campaign over the demo city, one open round; a pull worker holding ~2,000 households, a team of
    12 push workers holding the other cells."""
    import django

    django.setup()
    from django.db.models import Count

    from server.accounts.models import Role, Team, User
    from server.campaigns import services
    from server.campaigns.models import CellAssignment, RoundStatus
    from server.registry.models import Household
    from server.territory.models import Area, GridCell

    stamp = dt.datetime.now().strftime("%H%M%S")
    from server.campaigns.models import Round

    # Rounds of earlier bench runs would widen the pull worker's scope: close them.
    Round.objects.filter(campaign__name__startswith="bench ", status=RoundStatus.OPEN).update(
        status=RoundStatus.CLOSED)
    city = Area.objects.get(code="341100")
    today = dt.date.today()
    campaign = services.campaign_create(name=f"bench {stamp}", areas=[city], starts_on=today,
                                        ends_on=today + dt.timedelta(days=30), created_by=None)
    round = services.round_create(campaign=campaign, starts_on=today, ends_on=today + dt.timedelta(days=10))
    users = {}
    for name in ["pull"] + [f"push{i}" for i in range(12)]:
        u, _ = User.objects.get_or_create(username=f"bench-{name}", defaults={"role": Role.GRID_WORKER})
        u.set_password(BENCH_PASSWORD)
        u.save()
        users[name] = u
    team = Team.objects.create(name=f"bench {stamp}", area=city)
    team.members.set([u for n, u in users.items() if n != "pull"])
    counts = dict(Household.objects.filter(cell__isnull=False, status="occupied").values_list("cell_id")
                  .annotate(n=Count("id")).order_by("cell_id"))
    cells = list(GridCell.objects.filter(id__in=list(counts)).order_by("path").values_list("id", flat=True))
    pull_cells, total = [], 0
    for c in cells:
        if total >= 2000:
            break
        pull_cells.append(c)
        total += counts[c]
    rows = [CellAssignment(round=round, cell_id=c, worker=users["pull"]) for c in pull_cells]
    rows += [CellAssignment(round=round, cell_id=c, team=team) for c in cells if c not in set(pull_cells)]
    CellAssignment.objects.bulk_create(rows, batch_size=2000)
    round.status, round.opened_at = RoundStatus.OPEN, dt.datetime.now(dt.timezone.utc)
    round.save(update_fields=["status", "opened_at"])
    push_households = list(
        Household.objects.filter(cell_id__in=[c for c in cells if c not in set(pull_cells)], status="occupied")
        .values_list("id", "location").order_by("id")[:200000]
    )
    return {
        "round": round.pk, "pull_households": total, "pull_cells": len(pull_cells),
        "push_households": [(h, p.x, p.y) for h, p in push_households], "users": list(users),
    }


def visit_body(households, round_id: int, n: int, offset: int) -> tuple[bytes, list[str]]:
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    items = []
    for i in range(n):
        hid, x, y = households[(offset + i) % len(households)]
        items.append({"id": str(uuid.uuid4()), "household": hid, "round": round_id, "outcome": "reached",
                      "captured_at": now, "lat": y, "lon": x, "accuracy_m": 10.0, "fix_at": now, "provider": "gps",
                      "leaflet": True, "app_installed": i % 3 == 0, "hotline_explained": True, "residents_met": 2,
                      "key_groups_met": ["elderly"] if i % 4 == 0 else []})
    return json.dumps({"visits": items}).encode(), [v["id"] for v in items]


def run_threads(fn, n: int) -> float:
    threads = [threading.Thread(target=fn, args=(i,)) for i in range(n)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=100_000)
    ap.add_argument("--db", default="qm_sync_bench")
    ap.add_argument("--pg", default=os.environ.get("QIAOMEN_BENCH_PG", "postgresql://postgres@127.0.0.1"))
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--batches", type=int, default=8, help="batches of 500 per push client")
    ap.add_argument("--single", type=int, default=150, help="single-visit requests per client")
    ap.add_argument("--trigger-rows", type=int, default=200_000,
                    help="households inserted to measure the change_seq trigger overhead (0: skip)")
    ap.add_argument("--celery-workers", type=int, default=0,
                    help="0: coverage inputs refreshed inline in the request (no broker); N: a Redis broker and N "
                         "Celery worker processes, as in production, and the time until coverage has caught up")
    ap.add_argument("--broker", default="redis://127.0.0.1:6379/9")
    args = ap.parse_args()

    url = ensure_db(args.pg, args.db)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "0", "SECRET_KEY": "bench-only-secret-key-0123456789",
           "DJANGO_SETTINGS_MODULE": "server.settings", "DB_CONN_MAX_AGE": "600", "LOG_LEVEL": "ERROR"}
    os.environ.update(env)
    sh("migrate", "-v0", env=env)
    sh("seed_demo", "--households", str(args.households), "--if-empty", "-v0", env=env)
    sys.path.insert(0, str(ROOT))
    info = setup(args.households)
    base = f"http://127.0.0.1:{args.port}"
    load_start = os.getloadavg()
    workers = []
    if args.celery_workers:
        import redis

        redis.Redis.from_url(args.broker).flushdb()
        env = {**env, "CELERY_BROKER_URL": args.broker, "CELERY_TASK_ALWAYS_EAGER": "0"}
        workers = [subprocess.Popen(
            [str(Path(PY).parent / "celery"), "-A", "server", "worker", "--pool", "solo", "-l", "WARNING",
             "-n", f"bench{i}@%h"], cwd=ROOT, env=env) for i in range(args.celery_workers)]
    server = subprocess.Popen(
        [str(Path(PY).parent / "gunicorn"), "server.wsgi", "-w", "4", "-b", f"127.0.0.1:{args.port}",
         "--log-level", "error", "--timeout", "120"], cwd=ROOT, env=env)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/api/schema/", timeout=2)
                break
            except Exception:
                time.sleep(0.3)
        tokens = {}
        for name in info["users"]:
            body = json.dumps({"username": f"bench-{name}", "password": BENCH_PASSWORD,
                               "device_id": f"bench-{name}-{uuid.uuid4().hex[:6]}"}).encode()
            status, data, _, _ = http("POST", f"{base}/api/v1/auth/device", body)
            assert status == 200, data
            tokens[name] = data["token"]
        hh, rid = info["push_households"], info["round"]
        result = {"households": args.households, "pull_scope_households": info["pull_households"],
                  "pull_scope_cells": info["pull_cells"]}

        # (a) batches of 500 from 4 concurrent clients
        bodies = {i: [visit_body(hh, rid, 500, (i * args.batches + b) * 500)[0] for b in range(args.batches)]
                  for i in range(4)}
        bad = []

        def pusher(i):
            for body in bodies[i]:
                status, data, _, _ = http("POST", f"{base}/api/v1/sync/push", body, tokens[f"push{i}"])
                if status != 200 or any(r["status"] != "accepted" for r in data["results"]):
                    bad.append((status, str(data)[:300]))

        http("POST", f"{base}/api/v1/sync/push", visit_body(hh, rid, 500, 10**6)[0], tokens["push0"])  # warm-up
        wall = run_threads(pusher, 4)
        n_a = 4 * args.batches * 500
        result["push_visits"] = n_a
        result["push_visits_per_s"] = round(n_a / wall, 1)
        result["push_errors"] = len(bad)
        if bad:
            print("push errors:", bad[:3], file=sys.stderr)
        result["coverage_mode"] = f"celery x{args.celery_workers}" if args.celery_workers else "inline"
        result["coverage_caught_up_s"] = round(caught_up(url, rid), 2)  # after the last push was answered

        # (c) the floor: raw INSERT ... ON CONFLICT DO NOTHING, same rows, 4 connections, 500 a statement
        result.update(raw_floor(url, args, rid, hh, n_a))
        result["push_vs_raw_ratio"] = round(result["push_visits_per_s"] / result["raw_visits_per_s"], 3)

        # (b) pull of the ~2,000-household scope, full (reset), gzip
        times, sizes = [], []
        for _ in range(5):
            status, data, size, elapsed = http("GET", f"{base}/api/v1/sync/pull?limit=5000", None, tokens["pull"],
                                               gz=True)
            assert status == 200 and not data["has_more"], str(data)[:300]
            times.append(elapsed * 1000)
            sizes.append(size)
        result["pull_households_sent"] = len(data["changes"]["households"])
        result["pull_ms_median"] = round(statistics.median(times), 1)
        result["pull_ms_min"] = round(min(times), 1)
        result["pull_kb_gzip"] = round(statistics.median(sizes) / 1024, 1)
        status, data, _, elapsed = http("GET", f"{base}/api/v1/sync/pull?cursor={data['cursor']}", None,
                                        tokens["pull"], gz=True)
        result["pull_incremental_empty_ms"] = round(elapsed * 1000, 1)

        # (d) single-visit pushes from 8 concurrent clients
        singles = {i: [visit_body(hh, rid, 1, 2 * 10**6 + i * args.single + k)[0] for k in range(args.single)]
                   for i in range(8)}
        lat: list[float] = []
        errs = []

        def single(i):
            for body in singles[i]:
                status, data, _, elapsed = http("POST", f"{base}/api/v1/sync/push", body, tokens[f"push{4 + i}"])
                lat.append(elapsed * 1000)
                if status != 200 or data["results"][0]["status"] != "accepted":
                    errs.append(status)

        wall = run_threads(single, 8)
        result["single_requests_per_s"] = round(8 * args.single / wall, 1)
        result["single_p95_ms"] = round(sorted(lat)[int(0.95 * len(lat)) - 1], 1)
        result["single_p50_ms"] = round(statistics.median(lat), 1)
        result["single_errors"] = len(errs)
    finally:
        for proc in [server, *workers]:
            proc.terminate()
        for proc in [server, *workers]:
            proc.wait(timeout=60)
    result["load_avg_start_end"] = [round(load_start[0], 2), round(os.getloadavg()[0], 2)]
    if args.trigger_rows:
        result.update(trigger_overhead(url, args.trigger_rows))
    print(json.dumps(result))


def caught_up(url: str, round_id: int, timeout: float = 300) -> float:
    """Seconds until coverage has caught up: every visited household of the round has its state row and both work
    queues (households waiting for a state refresh, cells waiting for a figures refresh) are empty."""
    import psycopg

    t = time.perf_counter()
    with psycopg.connect(url.replace("postgis://", "postgresql://"), autocommit=True) as conn:
        while time.perf_counter() - t < timeout:
            visited, states, queued = conn.execute(
                "SELECT (SELECT count(DISTINCT household_id) FROM visits_visit WHERE round_id = %s), "
                "(SELECT count(*) FROM visits_householdroundstate WHERE round_id = %s), "
                "(SELECT count(*) FROM visits_statequeue) + (SELECT count(*) FROM coverage_dirtycell)",
                [round_id, round_id]).fetchone()
            if states >= visited and not queued:
                return time.perf_counter() - t
            time.sleep(0.05)
    raise RuntimeError(f"coverage did not catch up in {timeout:.0f} s: {visited} households visited, {states} "
                       f"states, {queued} queue rows")


def trigger_overhead(url: str, rows: int, pairs: int = 3) -> dict:
    """INSERT ... SELECT of `rows` households with the change_seq triggers disabled and enabled, alternating."""
    import psycopg

    dsn = url.replace("postgis://", "postgresql://")
    sql = ("INSERT INTO registry_household (register_id, community_id, street, building, unit, room, address, "
           "location, status, size, created_at, updated_at) SELECT 'TRIG' || %s || g, %s, '', '', '', '', '', "
           "ST_SetSRID(ST_MakePoint(118.3 + g * 1e-7, 32.3), 4326), 'occupied', 1, now(), now() "
           "FROM generate_series(1, %s) g")
    times: dict[bool, list[float]] = {True: [], False: []}
    with psycopg.connect(dsn) as conn:
        community = conn.execute("SELECT id FROM territory_area WHERE level = 'community' LIMIT 1").fetchone()[0]
        conn.commit()
        try:
            for i in range(pairs):
                for on in (False, True):
                    conn.execute(f"ALTER TABLE registry_household {'ENABLE' if on else 'DISABLE'} TRIGGER USER")
                    conn.commit()
                    t = time.perf_counter()
                    conn.execute(sql, [f"{int(on)}{i}-", community, rows])
                    conn.commit()
                    times[on].append(time.perf_counter() - t)
                    conn.execute("DELETE FROM registry_household WHERE register_id LIKE 'TRIG%%'")
                    conn.commit()
        finally:
            conn.execute("ALTER TABLE registry_household ENABLE TRIGGER USER")
            conn.commit()
    off, on = statistics.median(times[False]), statistics.median(times[True])
    return {"trigger_rows": rows, "trigger_off_s": round(off, 2), "trigger_on_s": round(on, 2),
            "trigger_overhead_pct": round(100 * (on / off - 1), 1)}


def raw_floor(url: str, args, round_id: int, households, n: int) -> dict:
    """The same visits written straight into visits_visit (triggers on), 4 connections, 500 rows a statement."""
    import psycopg

    dsn = url.replace("postgis://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        outcome_id, worker_id = conn.execute(
            "SELECT o.id, u.id FROM campaigns_outcomecode o JOIN campaigns_round r ON r.campaign_id = o.campaign_id, "
            "accounts_user u WHERE r.id = %s AND o.code = 'reached' AND u.username = 'bench-push0'", [round_id]
        ).fetchone()
        cells = dict(conn.execute("SELECT id, cell_id FROM registry_household WHERE id = ANY(%s)",
                                  [[h for h, _, _ in households[: 4 * args.batches * 500]]]).fetchall())
    cols = ("id, household_id, round_id, cell_id, outcome_id, worker_id, source, device_id, captured_at, received_at, "
            "location, accuracy_m, fix_at, provider, mock_location, leaflet, app_installed, hotline_explained, "
            "residents_met, key_groups_met, risk_note, flag_far, flag_inaccurate, flag_mock, flag_clock, distance_m")
    row = ("(%s, %s, %s, %s, %s, %s, 'app', 'raw', now(), now(), ST_SetSRID(ST_MakePoint(%s, %s), 4326), 10, now(), "
           "'gps', false, true, false, true, 2, '[]'::jsonb, '', false, false, false, false, 0)")
    per = n // 4

    def writer(i):
        with psycopg.connect(dsn) as conn:
            for b in range(0, per, 500):
                params, rows = [], []
                for k in range(b, min(per, b + 500)):
                    hid, x, y = households[(i * per + k) % len(households)]
                    params += [uuid.uuid4(), hid, round_id, cells.get(hid), outcome_id, worker_id, x, y]
                    rows.append(row)
                conn.execute(f"INSERT INTO visits_visit ({cols}) VALUES {', '.join(rows)} ON CONFLICT DO NOTHING",
                             params)
                conn.commit()

    wall = run_threads(writer, 4)
    return {"raw_visits": per * 4, "raw_visits_per_s": round(per * 4 / wall, 1)}


if __name__ == "__main__":
    main()
