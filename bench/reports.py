"""Township report timing on PostGIS (issue 6 target: a township's XLSX report <= 10 s at city scale).

Builds its own city in a throwaway database (default `qm_reports_bench`): `seed_demo --households N` (city scale:
1,400,000 households, ~4,700 cells), a campaign over the whole city with round 1 open, about 1.4 visits per
household written by one set-based INSERT (every outcome, several days, some GPS-flagged), then the full coverage
recompute. Then it times report_generate — the code the Celery task runs — for the largest township, as XLSX and
as PDF, and for the whole city as XLSX, each `--repeat` times. (bench/coverage.py of the figures branch has no
report timing of its own; this file has its own data builder.)

Usage: .venv/bin/python bench/reports.py [--households 1400000] [--db qm_reports_bench] [--repeat 3]
Last line: one JSON object of figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def ensure_db(base: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(f"{base}/{name}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return f"{base.replace('postgresql://', 'postgis://')}/{name}"


def build(households: int) -> dict:
    """The city, the campaign and the visits (skipped when already there); returns what was built."""
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from server.accounts.models import User
    from server.campaigns import services as campaigns
    from server.campaigns.models import Campaign, Round
    from server.coverage.services import coverage_recompute
    from server.territory.models import Area
    from server.visits.models import Visit

    campaign = Campaign.objects.filter(name="全市反诈敲门行动（基准）").first()
    if campaign is None:
        city = Area.objects.get(level="city")
        campaign = campaigns.campaign_create(name="全市反诈敲门行动（基准）", areas=[city], created_by=None,
                                             starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 12, 31))
        rnd = campaigns.round_create(campaign=campaign, starts_on=dt.date(2026, 11, 2), ends_on=dt.date(2026, 12, 20))
        campaigns.round_open(round=rnd, user=None)
        # about 1.4 visits a household: one first visit for 85 %, a second for 55 % of them; device times over
        # three weeks after the round opened; 3 % far from the household
        codes = dict(campaign.outcome_codes.values_list("code", "id"))
        others = [codes[c] for c in ("nobody_home", "refused", "vacant", "moved")]
        worker = User.objects.order_by("id").values_list("id", flat=True).first()
        with connection.cursor() as cur:
            cur.execute("""
                INSERT INTO visits_visit (id, household_id, round_id, cell_id, outcome_id, worker_id, source,
                  device_id, captured_at, received_at, location, accuracy_m, provider, mock_location, leaflet,
                  app_installed, hotline_explained, residents_met, key_groups_met, risk_note, flag_far,
                  flag_inaccurate, flag_mock, flag_clock)
                SELECT gen_random_uuid(), h.id, %(round)s, h.cell_id,
                  CASE WHEN random() < 0.7 THEN %(reached)s
                       ELSE (%(others)s::bigint[])[1 + floor(random() * 4)::int] END,
                  %(worker)s, 'app', 'bench',
                  now() - (random() * interval '20 days'), now(), h.location, 8, 'gps', false, true,
                  random() < 0.5, true, 2, '[]', '', random() < 0.03, false, false, false
                FROM registry_household h CROSS JOIN generate_series(1, 2) AS s(k)
                WHERE h.cell_id IS NOT NULL AND h.status = 'occupied'
                  AND (s.k = 1 AND random() < 0.85 OR s.k = 2 AND random() < 0.47)
            """, {"round": rnd.pk, "reached": codes["reached"], "others": others, "worker": worker})
        Round.objects.filter(pk=rnd.pk).update(opened_at=timezone.now() - dt.timedelta(days=21))
        coverage_recompute()
    return {"households": households, "visits": Visit.objects.count(), "campaign": campaign.pk}


def timed(user, area, campaign, rnd, fmt: str, repeat: int) -> dict:
    from server.reports import services

    seconds, sizes = [], []
    for _ in range(repeat):
        report = services.report_request(user=user, area=area, campaign=campaign, round=rnd, format=fmt)
        t = time.perf_counter()
        # report_request already made it inline (no broker); time a second, explicit run of the task's service
        type(report).objects.filter(pk=report.pk).update(status="queued")
        services.report_generate(report_id=report.pk)
        seconds.append(time.perf_counter() - t)
        report.refresh_from_db()
        assert report.status == "done", report.error
        sizes.append(report.size)
    return {"median_s": round(statistics.median(seconds), 2), "max_s": round(max(seconds), 2),
            "size_kb": round(statistics.median(sizes) / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=1_400_000)
    parser.add_argument("--db", default="qm_reports_bench")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    url = ensure_db(args.pg, args.db)
    env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": "", "QIAOMEN_VAR_DIR": str(ROOT / "var" / "bench")}
    os.environ.update(env)
    subprocess.run([PY, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    started = time.perf_counter()
    subprocess.run([PY, "manage.py", "seed_demo", "--households", str(args.households), "--if-empty", "-v", "0"],
                   cwd=ROOT, env=env, check=True)
    sys.path.insert(0, str(ROOT))
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    django.setup()
    from django.db.models import Count

    from server.accounts.models import User
    from server.campaigns.models import Campaign
    from server.territory.models import Area, GridCell

    built = build(args.households)
    build_s = time.perf_counter() - started
    campaign = Campaign.objects.get(pk=built["campaign"])
    rnd = campaign.rounds.get(number=1)
    user, _ = User.objects.get_or_create(username="bench-city-admin",
                                         defaults={"role": "city_admin", "is_staff": True})
    city = Area.objects.get(level="city")
    user.areas.set([city])
    biggest = (GridCell.objects.values("community__parent").annotate(n=Count("households"))
               .order_by("-n").first())
    township = Area.objects.get(pk=biggest["community__parent"])
    cells = GridCell.objects.filter(path__startswith=township.path).count()
    results = {
        "township_xlsx": timed(user, township, campaign, rnd, "xlsx", args.repeat),
        "township_pdf": timed(user, township, campaign, rnd, "pdf", args.repeat),
        "township_campaign_xlsx": timed(user, township, campaign, None, "xlsx", args.repeat),
        "city_xlsx": timed(user, city, campaign, rnd, "xlsx", 1),
    }
    for name, r in results.items():
        print(f"{name:24s} median {r['median_s']:6.2f} s  max {r['max_s']:6.2f} s  {r['size_kb']} KB")
    print(json.dumps({
        "bench": "reports", "households": built["households"], "visits": built["visits"],
        "cells": GridCell.objects.count(), "township": township.code, "township_cells": cells,
        "township_households": biggest["n"], "build_s": round(build_s, 1), **results,
        "target_township_xlsx_s": 10, "machine": f"{platform.node()} {os.cpu_count()} cores",
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
