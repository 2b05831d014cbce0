"""An independent computation of every coverage figure: plain Python over the raw visit, household and resident
rows, written from docs/coverage.md without the SQL or the state table (a different code path to check them)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings

from server.campaigns.models import CellAssignment, OutcomeCode, Round
from server.registry.models import Household, KeyGroup, Resident
from server.territory.models import GridCell
from server.visits.models import Visit

SHANGHAI = ZoneInfo("Asia/Shanghai")
SKEW = dt.timedelta(seconds=float(getattr(settings, "QIAOMEN_CLOCK_SKEW_S", 900)))


def effective_time(v: Visit, opened_at: dt.datetime | None) -> dt.datetime:
    """The device time unless it is after the receipt or before the round opened (beyond the skew)."""
    t = v.captured_at
    if t > v.received_at + SKEW or (opened_at is not None and t < opened_at - SKEW):
        t = v.received_at
    return t


def effective_day(v: Visit, opened_at: dt.datetime | None) -> dt.date:
    return effective_time(v, opened_at).astimezone(SHANGHAI).date()


def flagged(v: Visit) -> bool:
    return v.flag_far or v.flag_inaccurate or v.flag_mock or v.flag_clock


@dataclass
class HouseholdFacts:
    cell_id: int
    visits: list = field(default_factory=list)  # (round number, visit)


@dataclass
class Reference:
    """Per-cell figures of one scope (a round, or the campaign with round None)."""

    cells: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    key_groups: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(lambda: [0, 0])))
    reached_days: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))  # cell → day → n
    visits: list = field(default_factory=list)  # (cell id, worker id, household id, day, reached, app, flagged)


def compute(campaign, round: Round | None) -> Reference:
    rounds = {r.pk: r for r in campaign.rounds.all()}
    codes = {o.pk: o for o in OutcomeCode.objects.filter(campaign=campaign)}
    corrected = set(Visit.objects.exclude(corrects=None).values_list("corrects_id", flat=True))
    paths = list(campaign.areas.values_list("path", flat=True))
    by_household: dict[int, list] = defaultdict(list)
    for v in Visit.objects.filter(round__campaign=campaign):
        if v.pk not in corrected:
            by_household[v.household_id].append(v)
    year = campaign.starts_on.year
    groups = {g.pk: g for g in KeyGroup.objects.all()}
    residents = defaultdict(list)
    for p in Resident.objects.prefetch_related("key_groups"):
        mine = {g.code for g in p.key_groups.all() if not g.derived}
        if p.birth_year is not None and year - p.birth_year >= 60 and any(
                g.code == "elderly" and g.derived for g in groups.values()):
            mine.add("elderly")
        residents[p.household_id].append(mine)
    out = Reference()
    for h in Household.objects.select_related("community"):
        if h.status != "occupied" or h.cell_id is None or not any(h.community.path.startswith(p) for p in paths):
            continue
        vs = by_household.get(h.pk, [])
        if round is not None:
            earlier = [v for v in vs if rounds[v.round_id].number < round.number]
            if any(not codes[v.outcome_id].revisit for v in earlier):
                continue  # settled in an earlier round: not on this round's list
            mine = [v for v in vs if v.round_id == round.pk]
            latest_pool = mine
        else:
            mine = vs
            last_round = max((rounds[v.round_id].number for v in vs), default=None)
            latest_pool = [v for v in vs if rounds[v.round_id].number == last_round]
        f = out.cells[h.cell_id]
        f["to_visit"] += 1
        reached = any(codes[v.outcome_id].reached for v in mine)
        latest = max(latest_pool, key=lambda v: (effective_time(v, rounds[v.round_id].opened_at), v.received_at)) \
            if latest_pool else None
        code = codes[latest.outcome_id] if latest else None
        excluded = bool(not reached and code is not None and code.excluded)
        if mine:
            f["attempted"] += 1
        f["reached"] += reached
        f["nobody_home"] += bool(not reached and code is not None and code.code == "nobody_home")
        f["refused"] += bool(not reached and code is not None and code.code == "refused")
        f["excluded"] += excluded
        f["vacant"] += bool(excluded and code.code == "vacant")
        f["app_installs"] += any(v.app_installed for v in mine)
        f["visits"] += len(mine)
        f["flagged_visits"] += sum(flagged(v) for v in mine)
        if not excluded:
            for person in residents[h.pk]:
                for g in person:
                    out.key_groups[h.cell_id][g][0] += 1
                    out.key_groups[h.cell_id][g][1] += reached
        reaching = [v for v in mine if codes[v.outcome_id].reached]
        if reaching:
            # first reaching visit by effective time, per round, then the earliest over rounds
            days = [effective_time(v, rounds[v.round_id].opened_at) for v in reaching]
            out.reached_days[h.cell_id][min(days).astimezone(SHANGHAI).date()] += 1
        for v in mine:
            out.visits.append((h.cell_id, v.worker_id, h.pk, effective_day(v, rounds[v.round_id].opened_at),
                               codes[v.outcome_id].reached, v.app_installed, flagged(v), v.round_id))
    return out


def ancestors(cell: GridCell) -> dict[str, str]:
    """level → code of the cell and its areas, walking the parent links (not the stored paths)."""
    community = cell.community
    township = community.parent
    district = township.parent
    return {"cell": cell.code, "community": community.code, "township": township.code, "district": district.code,
            "city": district.parent.code}


FIGURES = ["to_visit", "attempted", "reached", "nobody_home", "refused", "excluded", "vacant", "app_installs",
           "visits", "flagged_visits"]


def by_level(ref: Reference, level: str, cells: set[int]) -> dict[str, dict]:
    """area code → figures (and key_groups: code → (residents, reached)) over these cells."""
    codes = {c.pk: ancestors(c)[level] for c in GridCell.objects.select_related("community__parent__parent__parent")}
    out: dict = {}
    for cell_id, f in ref.cells.items():
        if cell_id not in cells:
            continue
        row = out.setdefault(codes[cell_id], {**dict.fromkeys(FIGURES, 0), "key_groups": defaultdict(lambda: [0, 0])})
        for name in FIGURES:
            row[name] += f[name]
        for g, (n, r) in ref.key_groups[cell_id].items():
            row["key_groups"][g][0] += n
            row["key_groups"][g][1] += r
    return out


def workers(ref: Reference, cells: set[int]) -> dict[int, dict]:
    out: dict = {}
    for cell_id, worker, household, day, reached, app, flag, _ in ref.visits:
        if cell_id not in cells:
            continue
        w = out.setdefault(worker, {"visits": 0, "attempted": set(), "reached": set(), "app": set(), "flagged": 0,
                                    "days": set()})
        w["visits"] += 1
        w["attempted"].add(household)
        if reached:
            w["reached"].add(household)
        if app:
            w["app"].add(household)
        w["flagged"] += flag
        w["days"].add(day)
    return out


def daily(ref: Reference, cells: set[int]) -> dict[dt.date, dict]:
    out: dict = defaultdict(lambda: {"reached_new": 0, "visits": 0, "flagged": 0, "workers": set()})
    for cell_id, days in ref.reached_days.items():
        if cell_id in cells:
            for day, n in days.items():
                out[day]["reached_new"] += n
    for cell_id, worker, _, day, _, _, flag, _ in ref.visits:
        if cell_id in cells:
            out[day]["visits"] += 1
            out[day]["flagged"] += flag
            out[day]["workers"].add(worker)
    return out


def teams(refs: list[tuple[Round, Reference]], cells: set[int]) -> dict:
    """team id (None: no team) → figures, each round's cells counted for that round's holder."""
    out: dict = {}
    for round, ref in refs:
        holder = dict(CellAssignment.objects.filter(round=round).values_list("cell_id", "team_id"))
        for cell_id, f in ref.cells.items():
            if cell_id not in cells:
                continue
            t = out.setdefault(holder.get(cell_id), {**dict.fromkeys(FIGURES, 0), "cells": set(), "workers": set(),
                                                     "days": set()})
            t["cells"].add(cell_id)
            for name in FIGURES:
                t[name] += f[name]
        for cell_id, worker, _, day, _, _, _, _ in ref.visits:
            if cell_id in cells:
                t = out[holder.get(cell_id)]
                t["workers"].add(worker)
                t["days"].add(day)
    return out
