"""Progress by day, and what teams and workers did: reads of the cell aggregates, scoped like coverage_by_area.

Days are Asia/Shanghai calendar days of each visit's effective time (server/visits/timing.py). A visit counts for
the worker who made it; a cell's work counts for the team holding the cell in that round now (CellAssignment), so
a reassigned cell takes its figures to its new team. For a campaign, team figures add up the rounds (each round
with its own holders); "households attempted" of a team is then counted once per round.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, F, Max, Min, Sum

from server.accounts.models import Team, User
from server.campaigns.models import Campaign, CellAssignment, Round
from server.coverage.models import CellCoverage, CellDayCoverage, CellWorkerCoverage, CellWorkerDay
from server.coverage.selectors import Target, coverage_rate, coverage_target

NO_TEAM = {"team_id": None, "team": "无小分队（个人负责或未分配）",
           "team_en": "no team (held by a worker, or unassigned)"}


def _per_day(value: int, days: int) -> float | None:
    return round(value / days, 1) if days else None


def coverage_daily(*, user: User, round: Round | None = None, campaign: Campaign | None = None,
                   area_code: str | None = None) -> list[dict]:
    """One row per day from the first to the last day with a visit or a household reached (days between included):

    {"day": "2026-11-05", "reached_new", "reached_cumulative", "coverage_cumulative", "visits", "flagged_visits",
     "workers_active"}

    coverage_cumulative = households reached up to that day ÷ today's base (households to visit − excluded).
    """
    target = coverage_target(user=user, round=round, campaign=campaign, area_code=area_code)
    reached = dict(target.rows(CellDayCoverage).values("day").annotate(n=Sum("reached_new"))
                   .order_by().values_list("day", "n"))
    work = {r["day"]: r for r in target.rows(CellWorkerDay).values("day").annotate(
        n_visits=Sum("visits"), n_flagged=Sum("flagged_visits"), n_workers=Count("worker_id", distinct=True))
        .order_by()}
    totals = target.rows(CellCoverage).aggregate(to_visit=Sum("to_visit"), excluded=Sum("excluded"))
    days = sorted(set(reached) | set(work))
    if not days:
        return []
    out, cumulative, day = [], 0, days[0]
    while day <= days[-1]:
        cumulative += reached.get(day, 0)
        w = work.get(day, {})
        out.append({"day": day.isoformat(), "reached_new": reached.get(day, 0), "reached_cumulative": cumulative,
                    "coverage_cumulative": coverage_rate(cumulative, totals["to_visit"] or 0, totals["excluded"] or 0),
                    "visits": w.get("n_visits", 0), "flagged_visits": w.get("n_flagged", 0),
                    "workers_active": w.get("n_workers", 0)})
        day += dt.timedelta(days=1)
    return out


def _rounds(target: Target) -> list[Round]:
    return [target.round] if target.round is not None else list(target.campaign.rounds.order_by("number"))


def coverage_teams(*, user: User, round: Round | None = None, campaign: Campaign | None = None,
                   area_code: str | None = None) -> list[dict]:
    """One row per team holding counted cells (and one "no team" row), ordered by name:

    {"team_id", "team", "cells", "to_visit", "attempted", "reached", "excluded", "coverage", "visits",
     "flagged_visits", "workers", "active_days", "visits_per_day", "reached_per_day"}

    active_days: days on which anyone made a visit in the team's cells; *_per_day divide by them.
    """
    target = coverage_target(user=user, round=round, campaign=campaign, area_code=area_code)
    cell_ids = set(target.cells.values_list("id", flat=True))
    rows: dict = defaultdict(lambda: {"cells": set(), "to_visit": 0, "attempted": 0, "reached": 0, "excluded": 0,
                                      "visits": 0, "flagged_visits": 0, "workers": set(), "days": set()})
    for r in _rounds(target):
        holder = dict(CellAssignment.objects.filter(round=r, cell_id__in=cell_ids).values_list("cell_id", "team_id"))
        for c in CellCoverage.objects.filter(round=r, cell_id__in=cell_ids).values(
                "cell_id", "to_visit", "attempted", "reached", "excluded", "visits", "flagged_visits"):
            entry = rows[holder.get(c["cell_id"])]
            entry["cells"].add(c["cell_id"])
            for name in ("to_visit", "attempted", "reached", "excluded", "visits", "flagged_visits"):
                entry[name] += c[name]
        for cell_id, worker_id, day in CellWorkerDay.objects.filter(round=r, cell_id__in=cell_ids).values_list(
                "cell_id", "worker_id", "day"):
            entry = rows[holder.get(cell_id)]
            entry["workers"].add(worker_id)
            entry["days"].add(day)
    names = dict(Team.objects.filter(id__in=[t for t in rows if t is not None]).values_list("id", "name"))
    out = []
    for team_id, e in rows.items():
        days = len(e["days"])
        label = {"team_id": team_id, "team": names.get(team_id, ""), "team_en": ""} if team_id else dict(NO_TEAM)
        out.append({**label, "cells": len(e["cells"]), "to_visit": e["to_visit"], "attempted": e["attempted"],
                    "reached": e["reached"], "excluded": e["excluded"],
                    "coverage": coverage_rate(e["reached"], e["to_visit"], e["excluded"]), "visits": e["visits"],
                    "flagged_visits": e["flagged_visits"], "workers": len(e["workers"]), "active_days": days,
                    "visits_per_day": _per_day(e["visits"], days), "reached_per_day": _per_day(e["reached"], days)})
    return sorted(out, key=lambda row: (row["team_id"] is None, row["team"], row["team_id"] or 0))


def coverage_workers(*, user: User, round: Round | None = None, campaign: Campaign | None = None,
                     area_code: str | None = None) -> list[dict]:
    """One row per worker with visits in counted cells, most visits first:

    {"worker_id", "username", "name", "visits", "households_attempted", "households_reached", "app_installs",
     "flagged_visits", "active_days", "first_day", "last_day", "visits_per_day", "reached_per_day"}

    households_*: distinct households this worker visited / reached face to face (two workers reaching the same
    household both count it); active_days: days with at least one of their visits.
    """
    target = coverage_target(user=user, round=round, campaign=campaign, area_code=area_code)
    sums = (target.rows(CellWorkerCoverage).values("worker_id")
            .annotate(n_visits=Sum("visits"), n_attempted=Sum("households_attempted"),
                      n_reached=Sum("households_reached"), n_app=Sum("app_installs"), n_flagged=Sum("flagged_visits"))
            .order_by())
    days = {r["worker_id"]: r for r in target.rows(CellWorkerDay).values("worker_id").annotate(
        n_days=Count("day", distinct=True), first=Min("day"), last=Max("day")).order_by()}
    people = {u["id"]: u for u in User.objects.filter(id__in=[r["worker_id"] for r in sums]).values(
        "id", "username", full=F("first_name"), family=F("last_name"))}
    out = []
    for r in sums:
        d, person = days.get(r["worker_id"], {}), people[r["worker_id"]]
        n_days = d.get("n_days", 0)
        out.append({
            "worker_id": r["worker_id"], "username": person["username"],
            "name": f"{person['family']}{person['full']}" or person["username"],
            "visits": r["n_visits"], "households_attempted": r["n_attempted"], "households_reached": r["n_reached"],
            "app_installs": r["n_app"], "flagged_visits": r["n_flagged"], "active_days": n_days,
            "first_day": d["first"].isoformat() if d.get("first") else None,
            "last_day": d["last"].isoformat() if d.get("last") else None,
            "visits_per_day": _per_day(r["n_visits"], n_days), "reached_per_day": _per_day(r["n_reached"], n_days),
        })
    return sorted(out, key=lambda row: (-row["visits"], row["username"]))
