"""The fault tests' world: the mini city, an open round (dates around today), grid worker `w1` holding the first two
cells (6 households), station chief `chief` over the first district.

`build()` runs wherever Django is set up on the server's database: in the test process (PostGIS: the test database
the server subprocess also opens) or, for SpatiaLite, in `python -m tests.faults.scenario <file>` which migrates a
fresh file and prints the ids as JSON (the tests copy that file for each test).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys


def build() -> dict:
    from server.campaigns import services
    from tests.factories import PASSWORD, Role, build_mini_city, make_user

    city = build_mini_city()
    chief = make_user("chief", Role.STATION_CHIEF, areas=[city.districts[0]])
    worker = make_user("w1", Role.GRID_WORKER, areas=[city.communities[0]])
    today = dt.date.today()
    campaign = services.campaign_create(name="琅琊区敲门行动", areas=[city.districts[0]],
                                        starts_on=today - dt.timedelta(days=10),
                                        ends_on=today + dt.timedelta(days=30), created_by=chief)
    r = services.round_create(campaign=campaign, starts_on=today - dt.timedelta(days=1),
                              ends_on=today + dt.timedelta(days=10))
    cells = city.cells[:2]
    for cell in cells:
        services.cell_assign(round=r, cell=cell, worker=worker, user=chief, reason="计划")
    services.round_open(round=r, user=chief)
    return {"round": r.pk, "campaign": campaign.pk, "cells": [c.pk for c in cells],
            "households": [h.pk for h in city.households if h.cell_id in {c.pk for c in cells}],
            "worker": worker.username, "chief": chief.username, "password": PASSWORD}


def main(path: str) -> None:
    os.environ["DATABASE_URL"] = f"spatialite:///{path}"
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    info = build()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    print(json.dumps(info))


if __name__ == "__main__":
    main(sys.argv[1])
