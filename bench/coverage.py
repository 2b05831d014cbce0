"""Benchmark: coverage at city scale on PostGIS.

    DATABASE_URL=postgis://postgres@127.0.0.1:5432/qm_figs_bench .venv/bin/python bench/coverage.py [--keep]
    ... bench/coverage.py --reuse      # measure again on a database kept by --keep (no rebuild)

The database named in DATABASE_URL is dropped and created afresh (its name must contain "bench") and dropped
again at the end unless --keep. `build_city()` makes the data with set-based SQL (generate_series, not the ORM):
1.4M households in ~5,000 cells (about 5 % vacant and 2 % demolished in the register), ~4.2M residents (born
1946–2025, so ~26 % are 60 or older; ~10 % tagged with a key group), ~1,700 workers in ~300 teams, one city-wide
campaign with two rounds (round 1 closed, round 2 open) and 2M visits (outcomes, second visits, corrections,
GPS and clock flags, app installs). Then one function per measurement:

- `measure_full_recompute`: manage.py recompute_coverage's service: every aggregate from the visits (`--no-states`),
  then the household round states and every aggregate;
- `measure_incremental`: the after-commit refreshes of a 500-visit push (the coverage cells' figures; the household
  round states), p50/p95 over several pushes of different workers;
- `measure_township_json`: GET /api/v1/coverage for one township's cells and communities, as the city admin.

Other measurements (tiles, GeoJSON, reports) add a function taking the `City` and a line in `main()`.
The last line printed is one JSON object of figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

HOUSEHOLDS = 1_400_000
VISITS = 2_000_000
CELLS_PER_WORKER = 3
CELLS_PER_TEAM = 17
PASSWORD = "bench-pass-Qm2026"


@dataclass
class City:
    campaign_id: int
    round1_id: int
    round2_id: int
    admin_username: str
    township_code: str
    households: int
    cells: int
    residents: int
    visits: int
    build_seconds: float


def _sql(cursor, sql: str, params=None) -> int:
    cursor.execute(sql, params)
    return cursor.rowcount


def build_city(households: int = HOUSEHOLDS, visits: int = VISITS, progress=print) -> City:
    """Territory, register, people, campaign and visits; every step set-based SQL except the small tables."""
    from django.db import connection
    from django.utils import timezone
    from import_households import territory_build

    from server.accounts.models import Role, Team, User
    from server.campaigns import services as campaign_services
    from server.campaigns.models import Round, RoundStatus
    from server.territory.models import Area, AreaLevel

    started = time.monotonic()
    cells, _ = territory_build(households)
    progress(f"territory: {len(cells):,} cells ({time.monotonic() - started:.0f} s)")
    city = Area.objects.get(level=AreaLevel.CITY)
    admin = User.objects.create_user("bench-city", password=PASSWORD, role=Role.CITY_ADMIN)
    admin.areas.add(city)
    workers = User.objects.bulk_create(
        [User(username=f"w{i:05d}", role=Role.GRID_WORKER, first_name=f"{i}", last_name="网格员")
         for i in range((len(cells) + CELLS_PER_WORKER - 1) // CELLS_PER_WORKER)], batch_size=2000)
    teams = Team.objects.bulk_create([Team(name=f"第{i + 1}小分队", area=city)
                                      for i in range((len(cells) + CELLS_PER_TEAM - 1) // CELLS_PER_TEAM)])
    Team.members.through.objects.bulk_create(
        [Team.members.through(team_id=teams[(i * CELLS_PER_WORKER) // CELLS_PER_TEAM].pk, user_id=w.pk)
         for i, w in enumerate(workers)], batch_size=5000)
    campaign = campaign_services.campaign_create(
        name="全市反诈敲门行动", areas=[city], starts_on=timezone.datetime(2026, 11, 1).date(),
        ends_on=timezone.datetime(2026, 12, 31).date(), created_by=admin)
    r1 = campaign_services.round_create(campaign=campaign, starts_on=campaign.starts_on,
                                        ends_on=timezone.datetime(2026, 11, 20).date())
    r2 = campaign_services.round_create(campaign=campaign, starts_on=timezone.datetime(2026, 11, 21).date(),
                                        ends_on=campaign.ends_on)
    Round.objects.filter(pk=r1.pk).update(status=RoundStatus.CLOSED, opened_at="2026-11-01T08:00+08:00",
                                          closed_at="2026-11-20T20:00+08:00")
    Round.objects.filter(pk=r2.pk).update(status=RoundStatus.OPEN, opened_at="2026-11-21T08:00+08:00")
    worker_ids, team_ids = [w.pk for w in workers], [t.pk for t in teams]
    outcomes = dict(campaign.outcome_codes.values_list("code", "id"))

    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute("SELECT setseed(0.2026)")
        # cell number i (by id) → its worker and team, the same in both rounds
        cur.execute("CREATE TEMP TABLE bench_cell AS SELECT id AS cell_id, community_id, "
                    "row_number() OVER (ORDER BY id) - 1 AS i, ST_XMin(geom) AS x, ST_YMin(geom) AS y "
                    "FROM territory_gridcell")
        cur.execute("ALTER TABLE bench_cell ADD worker_id bigint, ADD team_id bigint")
        cur.execute("UPDATE bench_cell SET worker_id = (%s::bigint[])[(i / %s)::int + 1], "
                    "team_id = (%s::bigint[])[(i / %s)::int + 1]",
                    [worker_ids, CELLS_PER_WORKER, team_ids, CELLS_PER_TEAM])
        cur.execute("CREATE INDEX ON bench_cell (i)")
        for rid in (r1.pk, r2.pk):
            cur.execute("INSERT INTO campaigns_cellassignment (round_id, cell_id, team_id, worker_id, source, "
                        "assigned_at, assigned_by_id) SELECT %s, cell_id, team_id, worker_id, 'plan', now(), %s "
                        "FROM bench_cell", [rid, admin.pk])
        t0 = time.monotonic()
        n_cells = len(cells)
        _sql(cur, """
INSERT INTO registry_household (register_id, community_id, street, building, unit, floor, room, address, location,
  cell_id, status, size, created_at, updated_at)
SELECT 'B' || lpad(g::text, 8, '0'), c.community_id, '琅琊路', (g %% 40 + 1)::text, (g %% 4 + 1)::text, g %% 18 + 1,
  (g %% 18 + 1)::text || '0' || (g %% 4 + 1)::text, '琅琊路' || (g %% 40 + 1) || '栋',
  ST_SetSRID(ST_MakePoint(c.x + 0.0002 + random() * 0.0096, c.y + 0.0002 + random() * 0.0096), 4326), c.cell_id,
  CASE WHEN u < 0.05 THEN 'vacant' WHEN u < 0.07 THEN 'demolished' ELSE 'occupied' END, 1 + g %% 5, now(), now()
FROM (SELECT g, random() AS u FROM generate_series(0, %s - 1) g) s JOIN bench_cell c ON c.i = (g::bigint * %s / %s)
""", [households, n_cells, households])
        progress(f"households: {households:,} ({time.monotonic() - t0:.0f} s)")
        t0 = time.monotonic()
        residents = _sql(cur, """
INSERT INTO registry_resident (household_id, name, sex, birth_year, phone_cipher, phone_masked, id_hash, id_last4)
SELECT h.id, '居民' || n, CASE WHEN random() < 0.5 THEN 'F' ELSE 'M' END, 1946 + floor(random() * 80)::int, '', '',
  '', '' FROM registry_household h CROSS JOIN LATERAL generate_series(1, h.size) n
""")
        cur.execute("SELECT array_agg(id ORDER BY id) FROM registry_keygroup WHERE NOT derived")
        tagged = cur.fetchone()[0]
        _sql(cur, "INSERT INTO registry_resident_key_groups (resident_id, keygroup_id) "
                  "SELECT id, (%s::bigint[])[1 + floor(random() * %s)::int] FROM registry_resident "
                  "WHERE random() < 0.10", [tagged, len(tagged)])
        progress(f"residents: {residents:,} ({time.monotonic() - t0:.0f} s)")
        t0 = time.monotonic()
        made = _visits_build(cur, r1=r1.pk, r2=r2.pk, outcomes=outcomes, target=visits)
        progress(f"visits: {made:,} ({time.monotonic() - t0:.0f} s)")
        cur.execute("DROP TABLE bench_cell")
    with connection.cursor() as cur:
        for table in ("registry_household", "registry_resident", "registry_resident_key_groups", "visits_visit",
                      "campaigns_cellassignment"):
            cur.execute(f"VACUUM ANALYZE {table}")
    township = Area.objects.filter(level=AreaLevel.TOWNSHIP).order_by("code").first()
    return City(campaign_id=campaign.pk, round1_id=r1.pk, round2_id=r2.pk, admin_username=admin.username,
                township_code=township.code, households=households, cells=n_cells, residents=residents,
                visits=made, build_seconds=round(time.monotonic() - started, 1))


_VISIT_COLUMNS = ("id, household_id, round_id, cell_id, outcome_id, worker_id, source, device_id, captured_at, "
                  "received_at, location, accuracy_m, fix_at, provider, mock_location, leaflet, app_installed, "
                  "hotline_explained, residents_met, key_groups_met, risk_note, flag_far, flag_inaccurate, flag_mock, "
                  "flag_clock, distance_m, corrects_id")


def _visit_select(*, round_id: int, start: str, days: int, outcome_sql: str, source: str, corrects: str = "NULL"):
    """SELECT list for visits from `source` (aliases h: household, c: bench_cell, u: a random number)."""
    return f"""
SELECT gen_random_uuid(), h.id, {round_id}, h.cell_id, {outcome_sql}, c.worker_id, 'app', 'bench', t, t + d,
  h.location, 8 + random() * 20, t, 'gps', false, true, random() < 0.25, true, 1 + floor(random() * 3)::int,
  '[]'::jsonb, '', random() < 0.02, random() < 0.03, random() < 0.005, random() < 0.01, 10 + random() * 40,
  {corrects}
FROM (SELECT *, random() AS u, timestamptz '{start}' + floor(random() * {days}) * interval '1 day'
             + random() * interval '11 hours' AS t, random() * interval '30 minutes' AS d FROM ({source}) q) h
JOIN bench_cell c ON c.cell_id = h.cell_id"""


def _outcome(outcomes: dict[str, int], shares: list[tuple[str, float]]) -> str:
    parts, upto = [], 0.0
    for code, share in shares:
        upto += share
        parts.append(f"WHEN u < {upto:.4f} THEN {outcomes[code]}")
    return f"CASE {' '.join(parts)} ELSE {outcomes['nobody_home']} END"


def _visits_build(cur, *, r1: int, r2: int, outcomes: dict[str, int], target: int) -> int:
    first = _outcome(outcomes, [("reached", 0.62), ("nobody_home", 0.22), ("refused", 0.08), ("vacant", 0.04),
                                ("moved", 0.03), ("wrong_address", 0.01)])
    again = _outcome(outcomes, [("reached", 0.55), ("refused", 0.10), ("vacant", 0.03)])
    made = _sql(cur, f"INSERT INTO visits_visit ({_VISIT_COLUMNS}) " + _visit_select(
        round_id=r1, start="2026-11-01 09:00+08", days=10, outcome_sql=first,
        source="SELECT * FROM registry_household WHERE status = 'occupied' AND random() < 0.92"))
    # second visits in round 1 to the households nobody opened to or who refused, later in the round
    revisit = (f"SELECT h.* FROM registry_household h JOIN visits_visit v ON v.household_id = h.id AND "
               f"v.round_id = {r1} AND v.outcome_id IN ({outcomes['nobody_home']}, {outcomes['refused']})")
    made += _sql(cur, f"INSERT INTO visits_visit ({_VISIT_COLUMNS}) " + _visit_select(
        round_id=r1, start="2026-11-11 09:00+08", days=9, outcome_sql=again, source=revisit))
    # corrections: 0.5 % of round 1's first visits turn out to be nobody home
    made += _sql(cur, f"INSERT INTO visits_visit ({_VISIT_COLUMNS}) " + _visit_select(
        round_id=r1, start="2026-11-19 09:00+08", days=1, outcome_sql=str(outcomes["nobody_home"]),
        source=f"SELECT h.*, v.id AS fixes FROM registry_household h JOIN visits_visit v ON v.household_id = h.id "
               f"AND v.round_id = {r1} AND v.captured_at < '2026-11-11' WHERE random() < 0.005",
        corrects="h.fixes"))
    cur.execute("ANALYZE visits_visit")
    # round 2: the households round 1 did not settle, until the total reaches the target
    unsettled = (f"SELECT h.* FROM registry_household h WHERE h.status = 'occupied' AND NOT EXISTS (SELECT 1 FROM "
                 f"visits_visit v JOIN campaigns_outcomecode o ON o.id = v.outcome_id WHERE v.household_id = h.id "
                 f"AND v.round_id = {r1} AND NOT o.revisit)")
    while made < target:
        made += _sql(cur, f"INSERT INTO visits_visit ({_VISIT_COLUMNS}) " + _visit_select(
            round_id=r2, start="2026-11-21 09:00+08", days=8, outcome_sql=again,
            source=f"{unsettled} ORDER BY random() LIMIT {target - made}"))
    return made


def measure_full_recompute(city: City, runs: int = 3) -> dict:
    """The full recompute, best and every one of `runs`: of the coverage figures alone (`recompute_coverage
    --no-states`: what the maps and reports read; they are computed from the visits, not from the states), and of
    the household round states and the figures together (`recompute_coverage`, the nightly job)."""
    from server.coverage.services import coverage_recompute

    out: dict = {}
    for name, states in (("full_recompute_figures", False), ("full_recompute", True)):
        seconds, timings = [], {}
        for _ in range(runs):
            result = coverage_recompute(states=states, progress=lambda line: print("  " + line, flush=True))
            seconds.append(result.seconds)
            timings = result.timings
        out |= {f"{name}_s": round(min(seconds), 2), f"{name}_runs_s": [round(s, 2) for s in seconds],
                f"{name}_steps_s": {k: round(v, 2) for k, v in timings.items()}}
    return out


def measure_incremental(city: City, pushes: int = 20, size: int = 500) -> dict:
    """Store `size` visits of one worker (not timed), then time what runs after the commit, each on its own: the
    refresh of the coverage figures of the touched cells (`coverage_dirty_refresh`, from the visits: the figure the
    target is about) and the refresh of the household round states (the walk lists' and the pull's, not the
    figures'); p50/p95 over pushes of different workers."""
    import uuid

    from django.db import connection
    from django.utils import timezone

    from server.accounts.models import User
    from server.campaigns.models import CellAssignment
    from server.coverage import services as coverage
    from server.registry.models import Household
    from server.visits import state
    from server.visits.services import VisitInput, visits_record

    captured: list[dict] = []
    real_schedule, real_soon = state.household_round_states_schedule, coverage._dirty_refresh_soon
    state.household_round_states_schedule = lambda *, round_households: captured.append(round_households)
    coverage._dirty_refresh_soon = lambda: None  # the figures' refresh is run (and timed) below
    figures, states, cells_touched = [], [], []
    try:
        holders = list(CellAssignment.objects.filter(round_id=city.round2_id).values_list("worker_id", flat=True)
                       .distinct().order_by("worker_id"))
        step = max(1, len(holders) // pushes)
        # On a database reused (--reuse) the workers of the earlier runs are passed over: pushing to the same cells
        # run after run piles visits on their households and each run would measure a busier cell than the last.
        from server.visits.models import Visit

        start = Visit.objects.filter(round_id=city.round2_id).exclude(device_id="bench").count() // size
        for n in range(pushes):
            worker = User.objects.get(pk=holders[(start + n * step) % len(holders)])
            cells = CellAssignment.objects.filter(round_id=city.round2_id, worker=worker).values("cell_id")
            households = list(Household.objects.filter(cell_id__in=cells, status="occupied")
                              .values_list("id", "location")[:size])
            now = timezone.now()
            items = [VisitInput(id=str(uuid.uuid4()), household=hid, round=city.round2_id,
                                outcome=("reached", "nobody_home", "refused")[i % 3], captured_at=now,
                                lat=loc.y, lon=loc.x, accuracy_m=8.0) for i, (hid, loc) in enumerate(households)]
            results = visits_record(user=worker, items=items, now=now)
            assert all(r.status == "accepted" for r in results), results[0].message
            touched = captured.pop()
            t0 = time.perf_counter()
            refreshed = coverage.coverage_dirty_refresh()
            t1 = time.perf_counter()
            for round_id, ids in touched.items():
                state.household_round_states_refresh(round_id=round_id, household_ids=sorted(ids))
            t2 = time.perf_counter()
            figures.append(t1 - t0)
            states.append(t2 - t1)
            cells_touched.append(refreshed)
        connection.close()
    finally:
        state.household_round_states_schedule, coverage._dirty_refresh_soon = real_schedule, real_soon
    both = [f + s for f, s in zip(figures, states, strict=True)]
    return {**_percentiles(figures, "incremental"), "incremental_max_ms": round(max(figures) * 1000, 1),
            **_percentiles(states, "incremental_states"), **_percentiles(both, "incremental_figures_and_states"),
            "incremental_pushes": pushes, "incremental_visits_per_push": size,
            "incremental_cells_per_push": statistics.median(cells_touched)}


def measure_township_json(city: City, runs: int = 20) -> dict:
    """GET /api/v1/coverage of one township (its cells, and its communities) as the city admin: p50 and p95."""
    from django.test import Client

    client = Client()
    assert client.login(username=city.admin_username, password=PASSWORD)
    figures = {}
    for level in ("cell", "community"):
        for which, params in (("round", {"round": city.round2_id}), ("campaign", {"campaign": city.campaign_id})):
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                response = client.get("/api/v1/coverage", {**params, "level": level, "area": city.township_code})
                times.append(time.perf_counter() - t0)
                assert response.status_code == 200, response.content[:300]
            rows = len(response.json()["rows"])
            times.sort()
            figures[f"township_{level}_{which}_p50_ms"] = round(statistics.median(times) * 1000, 1)
            figures[f"township_{level}_{which}_p95_ms"] = round(times[int(len(times) * 0.95) - 1] * 1000, 1)
            figures[f"township_{level}_rows"] = rows
    return figures


def _percentiles(times: list[float], prefix: str) -> dict:
    ordered = sorted(times)
    return {f"{prefix}_p50_ms": round(statistics.median(ordered) * 1000, 1),
            f"{prefix}_p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1)}


def measure_tiles(city: City, per_zoom: int = 40) -> dict:
    """GET /tiles/coverage/{z}/{x}/{y}.pbf as the city admin (session, the full Django stack in-process), zooms
    10–14, tiles picked at random among those over the city's cells (seeded): p50, p95, sizes."""
    import math
    import random

    from django.contrib.gis.db.models import Extent
    from django.test import Client

    from server.territory.models import GridCell

    client = Client()
    assert client.login(username=city.admin_username, password=PASSWORD)
    cells = list(GridCell.objects.values_list("geom", flat=True)[:: max(1, city.cells // 400)])
    rng = random.Random(7)
    west, south, east, north = GridCell.objects.aggregate(e=Extent("geom"))["e"]
    figures: dict = {"tile_city_extent": [round(v, 3) for v in (west, south, east, north)]}
    everything = []
    for z in range(10, 15):
        n = 2 ** z
        times, sizes = [], []
        for _ in range(per_zoom):
            c = rng.choice(cells).centroid
            x = int((c.x + 180) / 360 * n)
            y = int((1 - math.asinh(math.tan(math.radians(c.y))) / math.pi) / 2 * n)
            t0 = time.perf_counter()
            response = client.get(f"/tiles/coverage/{z}/{x}/{y}.pbf", {"round": city.round2_id})
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200, (z, x, y, response.status_code)
            sizes.append(len(response.content))
        everything += times
        figures.update(_percentiles(times, f"tile_z{z}"))
        figures[f"tile_z{z}_kb"] = round(statistics.median(sizes) / 1024, 1)
    figures.update(_percentiles(everything, "tile_z10_14"))
    return figures


def measure_township_geojson(city: City, runs: int = 20) -> dict:
    """GET /api/v1/coverage/geojson of one township's cells and communities, as the city admin."""
    from django.test import Client

    client = Client()
    assert client.login(username=city.admin_username, password=PASSWORD)
    figures = {}
    for level in ("cell", "community"):
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            response = client.get("/api/v1/coverage/geojson",
                                  {"round": city.round2_id, "level": level, "area": city.township_code})
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.content[:300]
        figures.update(_percentiles(times, f"township_geojson_{level}"))
        figures[f"township_geojson_{level}_features"] = len(response.json()["features"])
        figures[f"township_geojson_{level}_kb"] = round(len(response.content) / 1024, 1)
    return figures


def measure_township_report(city: City, repeat: int = 3) -> dict:
    """report_generate (what the Celery task runs) for the township: XLSX of round 2, XLSX of the campaign, PDF."""
    from server.accounts.models import User
    from server.campaigns.models import Campaign, Round
    from server.reports import services
    from server.territory.models import Area

    user = User.objects.get(username=city.admin_username)
    area = Area.objects.get(code=city.township_code)
    campaign, rnd = Campaign.objects.get(pk=city.campaign_id), Round.objects.get(pk=city.round2_id)
    from server.registry.models import Household

    figures = {"township_households": Household.objects.filter(community__parent=area).count()}
    for key, fmt, which in (("xlsx", "xlsx", rnd), ("campaign_xlsx", "xlsx", None), ("pdf", "pdf", rnd)):
        seconds = []
        for _ in range(repeat):
            report = services.report_request(user=user, area=area, campaign=campaign, round=which, format=fmt)
            type(report).objects.filter(pk=report.pk).update(status="queued")
            t0 = time.perf_counter()
            services.report_generate(report_id=report.pk)
            seconds.append(time.perf_counter() - t0)
            report.refresh_from_db()
            assert report.status == "done", report.error
        figures[f"township_report_{key}_s"] = round(statistics.median(seconds), 2)
        figures[f"township_report_{key}_kb"] = round((report.size or 0) / 1024)
    return figures


def measure_households_xlsx(city: City) -> dict:
    """The not-reached list of the township in round 2 as XLSX (the export of the map page)."""
    from server.accounts.models import User
    from server.campaigns.models import Round
    from server.coverage.exports import round_households_xlsx

    user = User.objects.get(username=city.admin_username)
    t0 = time.perf_counter()
    _, rows = round_households_xlsx(user=user, round=Round.objects.get(pk=city.round2_id),
                                    area_code=city.township_code, state="not_reached")
    return {"township_not_reached_xlsx_s": round(time.perf_counter() - t0, 2), "township_not_reached_rows": rows}


MEASURES = {"full": "measure_full_recompute", "incremental": "measure_incremental",
            "json": "measure_township_json", "geojson": "measure_township_geojson", "tiles": "measure_tiles",
            "report": "measure_township_report", "households": "measure_households_xlsx"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=HOUSEHOLDS)
    parser.add_argument("--visits", type=int, default=VISITS)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure on a database kept by --keep")
    parser.add_argument("--build-only", action="store_true", help="build the city, keep it, measure nothing")
    parser.add_argument("--only", default=",".join(MEASURES),
                        help=f"comma-separated measurements to run (default all): {', '.join(MEASURES)}")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgis") or "bench" not in url.rsplit("/", 1)[-1]:
        sys.exit("bench/coverage.py needs PostGIS and a throwaway database whose name contains 'bench', e.g. "
                 "DATABASE_URL=postgis://postgres@127.0.0.1:5432/qm_figs_bench")
    import tempfile

    from import_households import database_drop, database_prepare

    if not args.reuse:
        database_prepare(url, Path(tempfile.gettempdir()))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    os.environ.pop("CELERY_BROKER_URL", None)  # the refresh runs inline here: it is what is timed
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    try:
        if args.reuse:
            city = _city_found()
        else:
            call_command("migrate", verbosity=0)
            city = build_city(args.households, args.visits)
        print(f"city: {city}", flush=True)
        if args.build_only:
            args.keep = True
            return
        figures = {"households": city.households, "cells": city.cells, "residents": city.residents,
                   "visits": city.visits, "build_s": city.build_seconds}
        for name in args.only.split(","):
            print(f"== {name}", flush=True)
            figures.update(globals()[MEASURES[name.strip()]](city))
    finally:
        connection.close()
        if not args.keep and not args.reuse:
            database_drop(url)
    print(json.dumps(figures, ensure_ascii=False))


def _city_found() -> City:
    """The City of a database kept by --keep."""
    from server.campaigns.models import Campaign
    from server.registry.models import Household, Resident
    from server.territory.models import Area, AreaLevel, GridCell
    from server.visits.models import Visit

    campaign = Campaign.objects.get(name="全市反诈敲门行动")
    r1, r2 = campaign.rounds.order_by("number").values_list("id", flat=True)
    return City(campaign_id=campaign.pk, round1_id=r1, round2_id=r2, admin_username="bench-city",
                township_code=Area.objects.filter(level=AreaLevel.TOWNSHIP).order_by("code").first().code,
                households=Household.objects.count(), cells=GridCell.objects.count(),
                residents=Resident.objects.count(), visits=Visit.objects.count(), build_seconds=0.0)


if __name__ == "__main__":
    main()
