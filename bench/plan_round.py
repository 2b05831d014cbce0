"""Benchmark: plan a round for a district — auto-assign ~600 cells of 200,000 households to 40 teams, then build
every walk list. Target ≤ 10 s for both together.

    .venv/bin/python bench/plan_round.py [--households 200000] [--cells 600] [--teams 40]
    DATABASE_URL=postgis://postgres@127.0.0.1/qiaomen_bench .venv/bin/python bench/plan_round.py

Without DATABASE_URL it uses a throwaway SpatiaLite file. With a PostGIS URL the database is used as given
(it is migrated and its campaign tables are filled: point it at a throwaway database).
The last line printed is one JSON object of figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django() -> None:
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"spatialite:///{tempfile.mkdtemp(prefix='qm-bench-')}/plan.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def build(households: int, n_cells: int, n_teams: int, seed: int):
    from django.contrib.gis.geos import Point, Polygon

    from server.accounts.models import Role, Team, User
    from server.campaigns import services
    from server.registry.models import Household
    from server.territory.models import Area, AreaLevel, GridCell, area_path

    rng = random.Random(seed)
    tag = f"{seed % 100:02d}"
    city, _ = Area.objects.get_or_create(code="349900", defaults={"name": "基准市", "level": AreaLevel.CITY})
    district = Area.objects.create(code=f"3499{tag}", name=f"基准区{tag}", level=AreaLevel.DISTRICT, parent=city)
    cols = int(round((n_cells * 1.1) ** 0.5))
    size = 0.006  # ≈ 600 m cells
    x0, y0 = 118.0, 32.0
    communities = {}
    cells = []
    for i in range(n_cells):
        r, c = divmod(i, cols)
        t_code = f"{district.code}{r // 6 + 1:03d}"
        if t_code not in communities:
            township = Area.objects.create(code=t_code, name=f"街道{r // 6 + 1}", level=AreaLevel.TOWNSHIP,
                                           parent=district)
            communities[t_code] = Area.objects.create(code=f"{t_code}001", name=f"社区{r // 6 + 1}",
                                                      level=AreaLevel.COMMUNITY, parent=township)
        community = communities[t_code]
        jx, jy = x0 + c * size, y0 + r * size
        poly = Polygon(((jx, jy), (jx + size, jy), (jx + size, jy + size), (jx, jy + size), (jx, jy)), srid=4326)
        cells.append(GridCell(code=f"{community.code}{i:04d}", name=f"网格{i}", community=community, geom=poly,
                              path=area_path(community, f"{community.code}{i:04d}")))
    GridCell.objects.bulk_create(cells, batch_size=1000)
    cells = list(GridCell.objects.filter(community__parent__parent=district).order_by("id"))
    weights = [rng.randint(200, 500) for _ in cells]
    scale = households / sum(weights)
    batch, made = [], 0
    for cell, w in zip(cells, weights, strict=True):
        n = max(1, int(w * scale))
        ex = cell.geom.extent
        for k in range(n):
            b = k // 24 + 1
            batch.append(Household(
                register_id=f"B{tag}{cell.id:06d}{k:04d}", community=cell.community, cell=cell,
                street="基准路", building=f"{b}栋", unit=f"{k % 24 // 8 + 1}单元", floor=k % 8 // 2 + 1,
                room=f"{(k % 8 // 2 + 1) * 100 + k % 2 + 1}室",
                location=Point(rng.uniform(ex[0], ex[2]), rng.uniform(ex[1], ex[3]), srid=4326)))
            made += 1
        if len(batch) >= 20000:
            Household.objects.bulk_create(batch, batch_size=5000)
            batch = []
    Household.objects.bulk_create(batch, batch_size=5000)
    teams = []
    for t in range(n_teams):
        members = [User.objects.create(username=f"bench{tag}-{t}-{m}", role=Role.GRID_WORKER) for m in range(3)]
        team = Team.objects.create(name=f"第{t + 1}队", area=district, households_per_day=40)
        team.members.set(members)
        teams.append(team)
    campaign = services.campaign_create(name="基准行动", areas=[district], starts_on=dt.date(2026, 11, 1),
                                        ends_on=dt.date(2026, 12, 31), created_by=None)
    rnd = services.round_create(campaign=campaign, starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 11, 14))
    return rnd, teams, made, len(cells)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=200_000)
    ap.add_argument("--cells", type=int, default=600)
    ap.add_argument("--teams", type=int, default=40)
    ap.add_argument("--seed", type=int, default=int(time.time()) % 97)
    args = ap.parse_args()
    setup_django()
    from django.db import connection

    from server.campaigns import services
    from server.campaigns.walk_lists import walk_lists

    t = time.perf_counter()
    rnd, teams, households, cells = build(args.households, args.cells, args.teams, args.seed)
    print(f"built {households} households in {cells} cells, {len(teams)} teams in {time.perf_counter() - t:.1f} s",
          file=sys.stderr)
    t0 = time.perf_counter()
    result = services.round_auto_assign(round=rnd, teams=teams, user=None)
    t1 = time.perf_counter()
    lists = walk_lists(round=rnd)
    t2 = time.perf_counter()
    stops = sum(len(v) for v in lists.values())
    figures = {
        "benchmark": "plan_round", "backend": connection.vendor, "households": households, "cells": cells,
        "teams": len(teams), "auto_assign_s": round_(t1 - t0), "walk_lists_s": round_(t2 - t1),
        "total_s": round_(t2 - t0), "walk_list_stops": stops, "balance": round_(result["balance"], 3),
        "compactness_m": round_(result["compactness_m"], 0), "disconnected_teams": len(result["disconnected_teams"]),
        "target_s": 10,
    }
    print(json.dumps(figures, ensure_ascii=False))


def round_(v: float, n: int = 2) -> float:
    return round(v, n)


if __name__ == "__main__":
    main()
