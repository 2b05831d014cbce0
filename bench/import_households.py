"""Benchmark: import_households at city scale, against a plain bulk load of the same rows as the floor.

    .venv/bin/python bench/import_households.py [--households N]
    DATABASE_URL=postgis://postgres@127.0.0.1/qiaomen_bench .venv/bin/python bench/import_households.py

SpatiaLite (no DATABASE_URL): a temporary database file, 200,000 households by default.
PostGIS: the database named in DATABASE_URL is dropped and created afresh (its name must contain "bench"),
1,400,000 households by default; it is dropped again at the end unless --keep (which also keeps the temporary
directory).

A register CSV of households only (no resident columns; Chinese headers) is generated deterministically in a
temporary directory, inside a generated territory of grid cells (one per 280 households, ~1% of points outside
every cell). Timed: the real importer, including validation and cell assignment, into an empty table; then the
same file again (every household known and unchanged). The floor: the same final rows (cells included) written
into the same empty table by COPY (PostGIS) or executemany (SpatiaLite), in one transaction.
The last line printed is one JSON object of figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOUSEHOLDS_PER_CELL = 280
CELL_DEG = 0.01
ORIGIN = (117.6, 32.0)
OUTSIDE_SHARE = 0.01
HEADER = ["登记编号", "社区代码", "街路巷", "楼栋", "单元", "楼层", "房号", "经度", "纬度", "状态", "人数"]
STREETS = ["琅琊路", "丰乐大道", "清流路", "南谯北路", "龙蟠大道", "花园路", "会峰路", "紫薇路"]
STATUS = ["在住"] * 17 + ["空置"] * 2 + ["已拆除"]


def database_prepare(url: str, tmp: Path) -> tuple[str, str]:
    """Point Django at a throwaway database; return (backend, database URL)."""
    if not url or url.startswith("spatialite"):
        return "spatialite", f"spatialite:///{tmp / 'bench.sqlite3'}"
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"refusing to recreate database '{name}': use a throwaway one whose name contains 'bench', "
                 "e.g. DATABASE_URL=postgis://postgres@127.0.0.1/qiaomen_bench")
    import psycopg

    admin = parts._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(parts._replace(scheme="postgresql").geturl(), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return "postgis", url


def database_drop(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(parts._replace(scheme="postgresql", path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}"')


def territory_build(households: int):
    """City → districts → townships → communities (10 cells each) → square cells in a grid; return the cells."""
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from server.territory.models import Area, AreaLevel, GridCell

    def square(x: float, y: float, w: float, h: float) -> Polygon:
        return Polygon(((x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)), srid=4326)

    cells = max(10, round(households / HOUSEHOLDS_PER_CELL))
    cols = 100 if cells >= 1000 else 10
    rows = math.ceil(cells / cols)
    x0, y0 = ORIGIN
    city = Area.objects.create(code="341100", name="滁州市", level=AreaLevel.CITY,
                               geom=MultiPolygon(square(x0, y0, cols * CELL_DEG, rows * CELL_DEG)))
    made, communities = [], {}
    for i in range(cells):
        c = i // 10  # community number; 10 communities a township, 10 townships a district
        if c not in communities:
            t, d = c // 10, c // 100
            district = Area.objects.get_or_create(code=f"3411{d + 2:02d}", defaults={
                "name": f"第{d + 1}区", "level": AreaLevel.DISTRICT, "parent": city})[0]
            township = Area.objects.get_or_create(code=f"{district.code}{t % 10 + 1:03d}", defaults={
                "name": f"{district.name}第{t % 10 + 1}街道", "level": AreaLevel.TOWNSHIP, "parent": district})[0]
            communities[c] = Area.objects.create(code=f"{township.code}{c % 10 + 1:03d}",
                                                 name=f"{township.name}第{c % 10 + 1}社区",
                                                 level=AreaLevel.COMMUNITY, parent=township)
        community = communities[c]
        col, row = i % cols, i // cols
        made.append(GridCell(code=f"{community.code}{i % 10 + 1:03d}", name=f"网格{i + 1}", community=community,
                             path=f"{community.path}{community.code}{i % 10 + 1:03d}/",
                             geom=square(x0 + col * CELL_DEG, y0 + row * CELL_DEG, CELL_DEG, CELL_DEG)))
    GridCell.objects.bulk_create(made, batch_size=1000)
    return list(GridCell.objects.select_related("community").order_by("id")), cols


def register_write(path: Path, households: int, cells, cols: int, seed: int) -> list[tuple]:
    """Write the register CSV; return the final household rows (with cell id) for the floor."""
    rnd = random.Random(seed)
    x0, y0 = ORIGIN
    top = y0 + (math.ceil(len(cells) / cols) + 5) * CELL_DEG  # a band north of the grid: in the city, in no cell
    floor_rows = []
    status_value = {"在住": "occupied", "空置": "vacant", "已拆除": "demolished"}
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for n in range(households):
            i = n * len(cells) // households
            cell = cells[i]
            col, row = i % cols, i // cols
            if rnd.random() < OUTSIDE_SHARE:
                lon, lat, cell_id = x0 + rnd.random() * cols * CELL_DEG, top + rnd.random() * 0.05, None
            else:
                lon = x0 + (col + 0.02 + rnd.random() * 0.96) * CELL_DEG
                lat = y0 + (row + 0.02 + rnd.random() * 0.96) * CELL_DEG
                cell_id = cell.id
            lon, lat = round(lon, 6), round(lat, 6)
            street, building, unit = rnd.choice(STREETS), str(rnd.randint(1, 40)), str(rnd.randint(1, 4))
            floor = rnd.randint(1, 18)
            room = f"{floor}{rnd.randint(1, 4):02d}"
            status, size = rnd.choice(STATUS), rnd.randint(1, 6)
            register_id = f"{cell.community.code}{n:07d}"
            out.writerow([register_id, cell.community.code, street, building, unit, floor, room, lon, lat, status,
                          size])
            address = f"{street}{building}栋{unit}单元{room}室"
            floor_rows.append((register_id, cell.community_id, street, building, unit, floor, room, address,
                               lon, lat, cell_id, status_value[status], size))
    return floor_rows


def floor_load(rows: list[tuple], backend: str) -> float:
    """Write the final rows straight into registry_household; return seconds."""
    import struct

    from django.db import connection, transaction
    from django.utils import timezone

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    columns = ("register_id, community_id, street, building, unit, floor, room, address, location, cell_id, status, "
               "size, created_at, updated_at")
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cur:
        if backend == "postgis":
            pack = struct.Struct("<dd").pack
            with cur.copy(f"COPY registry_household ({columns}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row((*r[:8], "0101000020E6100000" + pack(r[8], r[9]).hex(), *r[10:], now, now))
        else:
            cur.executemany(
                f"INSERT INTO registry_household ({columns}) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, MakePoint(%s, %s, 4326), %s, %s, %s, %s, %s)",
                [(*r, now, now) for r in rows],
            )
    return time.monotonic() - started


def table_empty(backend: str) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        if backend == "postgis":
            cur.execute("TRUNCATE registry_household CASCADE")
            cur.execute("VACUUM ANALYZE registry_household")
            try:
                cur.execute("CHECKPOINT")  # both timed runs start with no dirty pages from the one before
            except Exception:
                pass
        else:
            cur.execute("DELETE FROM registry_household")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, help="default: 1,400,000 on PostGIS, 200,000 on SpatiaLite")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and the PostGIS database")
    parser.add_argument("--no-reimport", action="store_true", help="skip the second (unchanged) import")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="qiaomen-bench-"))
    backend, url = database_prepare(os.environ.get("DATABASE_URL", ""), tmp)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    os.environ.setdefault("QIAOMEN_VAR_DIR", str(tmp))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from server.registry.importing import households_import
    from server.registry.models import Household

    households = args.households or (1_400_000 if backend == "postgis" else 200_000)
    try:
        call_command("migrate", verbosity=0)
        cells, cols = territory_build(households)
        register = tmp / "register.csv"
        t0 = time.monotonic()
        floor_rows = register_write(register, households, cells, cols, args.seed)
        print(f"{backend}: {households:,} households, {len(cells):,} cells; register "
              f"{register.stat().st_size / 2**20:.0f} MiB written in {time.monotonic() - t0:.1f} s", flush=True)

        floor_seconds = floor_load(floor_rows, backend)
        del floor_rows
        print(f"floor ({'COPY' if backend == 'postgis' else 'executemany'}): {floor_seconds:.1f} s", flush=True)
        table_empty(backend)

        result = households_import(path=register, progress=False)
        seconds = result.seconds
        assert result.households_created == households == Household.objects.count(), result.summary_lines()
        assert Household.objects.filter(cell__isnull=False).count() == households - len(result.outside_cells)
        print(f"import: {seconds:.1f} s ({households / seconds:,.0f} rows/s), "
              f"{len(result.outside_cells):,} outside every cell", flush=True)
        figures = {
            "households": households, "seconds": round(seconds, 2), "rows_per_s": round(households / seconds),
            "floor_seconds": round(floor_seconds, 2), "ratio": round(seconds / floor_seconds, 2),
            "backend": backend, "cells": len(cells), "outside_cells": len(result.outside_cells), "residents": 0,
        }
        if not args.no_reimport:
            again = households_import(path=register, progress=False)
            assert again.households_unchanged == households and Household.objects.count() == households
            figures["reimport_seconds"] = round(again.seconds, 2)
            print(f"re-import, all unchanged: {again.seconds:.1f} s", flush=True)
    finally:
        connection.close()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
            if backend == "postgis":
                database_drop(url)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
