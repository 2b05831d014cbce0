"""Reads for the sync pull: a device's scope and one page of changes since its cursor (docs/sync-protocol.md).

Scope = open rounds in which the user holds cells (assigned to them, claimed by them, or to a team they belong to),
those cells, every household of those cells (any register status), the outcome codes of those rounds' campaigns.
Records carry no names, phones or ID numbers: residents arrive as counts and key-group counts only.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db.models import Count, FloatField, Func, Q
from django.utils import timezone

from server.accounts.models import User
from server.campaigns.models import CellAssignment, OutcomeCode, Round, RoundStatus
from server.campaigns.selectors import household_states
from server.campaigns.walk_lists import walk_lists
from server.registry.models import ELDERLY_AGE, Household, Resident
from server.territory.models import GridCell
from server.visits.models import Visit

SYNCABLE_TABLES = (
    "territory_gridcell", "registry_household", "campaigns_round", "campaigns_outcomecode",
    "campaigns_cellassignment", "visits_visit",
)
SCOPE_KINDS = ("rounds", "cells", "households", "outcome_codes")


def sync_scope(*, user: User) -> dict:
    """The ids a user's devices may hold now: {"rounds": [...], "cells": {"<cell>": [rounds]}, "households": [...],
    "outcome_codes": [...]} (JSON-ready; cell keys are strings)."""
    held = (
        CellAssignment.objects.filter(Q(worker=user) | Q(team__members=user), round__status=RoundStatus.OPEN)
        .values_list("round_id", "cell_id").distinct()
    )
    cells: dict[int, set[int]] = defaultdict(set)
    for round_id, cell_id in held:
        cells[cell_id].add(round_id)
    rounds = sorted({r for rs in cells.values() for r in rs})
    campaigns = Round.objects.filter(id__in=rounds).values("campaign_id")
    return {
        "rounds": rounds,
        "cells": {str(c): sorted(rs) for c, rs in sorted(cells.items())},
        "households": sorted(Household.objects.filter(cell_id__in=list(cells)).values_list("id", flat=True)),
        "outcome_codes": sorted(OutcomeCode.objects.filter(campaign_id__in=campaigns).values_list("id", flat=True)),
    }


def scope_removed(*, before: dict, now: dict) -> dict[str, list[int]]:
    """Ids that were in the earlier scope and are not any more, per kind: the deletions a pull sends."""
    removed = {}
    for kind in SCOPE_KINDS:
        gone = {int(x) for x in before.get(kind, [])} - {int(x) for x in now.get(kind, [])}
        removed[kind] = sorted(gone)
    return removed


def _coord(fn: str) -> Func:
    return Func("location", function=fn, output_field=FloatField())


def round_records(*, ids: list[int]) -> list[dict]:
    rows = Round.objects.filter(id__in=ids).select_related("campaign").order_by("id")
    return [
        {"id": r.id, "campaign": r.campaign_id, "campaign_name": r.campaign.name, "number": r.number,
         "starts_on": r.starts_on.isoformat(), "ends_on": r.ends_on.isoformat(), "status": r.status}
        for r in rows
    ]


def outcome_code_records(*, ids: list[int]) -> list[dict]:
    rows = OutcomeCode.objects.filter(id__in=ids).order_by("campaign_id", "order", "code")
    return [
        {"id": o.id, "campaign": o.campaign_id, "code": o.code, "label": o.label, "label_en": o.label_en,
         "reached": o.reached, "revisit": o.revisit, "excluded": o.excluded, "order": o.order}
        for o in rows
    ]


def cell_records(*, cells: dict[int, list[int]]) -> list[dict]:
    """cells: cell id → the scope's rounds in which the user holds it."""
    rows = (
        GridCell.objects.filter(id__in=list(cells)).annotate(geojson=AsGeoJSON("geom", precision=6))
        .values("id", "code", "name", "community__name", "geojson").order_by("id")
    )
    import json

    return [
        {"id": r["id"], "code": r["code"], "name": r["name"], "community": r["community__name"],
         "geom": json.loads(r["geojson"]), "rounds": cells[r["id"]]}
        for r in rows
    ]


def state_record(state) -> dict | None:
    if state is None:
        return None
    return {"outcome": state.outcome, "reached": state.reached, "settled": state.settled, "visits": state.visits}


def resident_summaries(
    *, cell_ids: list[int], household_ids: list[int], known: dict[int, tuple[int, int]]
) -> dict[int, dict]:
    """household id → {"count", "elderly", "key_groups": {code: n}} for the households of these cells: counts only,
    never names, phones or ID numbers. `known`: (count, elderly) already read for some households (walk lists)."""
    born_by = timezone.localdate().year - ELDERLY_AGE
    out: dict[int, dict] = {h: {"count": 0, "elderly": 0, "key_groups": {}} for h in household_ids}
    out.update({h: {"count": n, "elderly": old, "key_groups": {}} for h, (n, old) in known.items()})
    rest = [h for h in household_ids if h not in known]
    counts = (
        Resident.objects.filter(household_id__in=rest).values("household_id")
        .annotate(n=Count("id"), old=Count("id", filter=Q(birth_year__lte=born_by))).order_by()
    ) if rest else []
    for r in counts:
        out[r["household_id"]] = {"count": r["n"], "elderly": r["old"], "key_groups": {}}
    groups = (
        Resident.key_groups.through.objects.filter(resident__household__cell_id__in=cell_ids)
        .values("resident__household_id", "keygroup__code").annotate(n=Count("id")).order_by()
    )
    for g in groups:
        out[g["resident__household_id"]]["key_groups"][g["keygroup__code"]] = g["n"]
    return out


_HOUSEHOLD_FIELDS = ("id", "register_id", "cell_id", "status", "address", "street", "building", "unit", "floor",
                     "room", "lon", "lat")


def household_records(*, cells: dict[int, list[int]]) -> list[dict]:
    """Every household of these cells (cell id → rounds held), with walk order and visit state per round."""
    rows = list(
        Household.objects.filter(cell_id__in=list(cells)).annotate(lon=_coord("ST_X"), lat=_coord("ST_Y"))
        .values(*_HOUSEHOLD_FIELDS).order_by("cell_id", "id")
    )
    counted: dict[int, tuple[int, int]] = {}
    by_round: dict[int, list[int]] = defaultdict(list)
    for cell_id, rounds in cells.items():
        for round_id in rounds:
            by_round[round_id].append(cell_id)
    order: dict[tuple[int, int], int] = {}
    states: dict[tuple[int, int], object] = {}
    for round_id, cell_ids in by_round.items():
        round = Round.objects.select_related("campaign").get(pk=round_id)
        for entries in walk_lists(round=round, cells=list(GridCell.objects.filter(id__in=cell_ids))).values():
            for e in entries:
                order[(round_id, e.household_id)] = e.order
                counted[e.household_id] = (e.residents, e.elderly)
                if e.state is not None:
                    states[(round_id, e.household_id)] = e.state
        # Households outside the walk list (vacant, demolished, settled earlier) may still have visits this round.
        held = set(cell_ids)
        rest = [r["id"] for r in rows if r["cell_id"] in held and (round_id, r["id"]) not in order]
        if rest:
            for hid, st in household_states(round=round, household_ids=rest).items():
                states[(round_id, hid)] = st
    residents = resident_summaries(cell_ids=list(cells), household_ids=[r["id"] for r in rows], known=counted)
    out = []
    for r in rows:
        hid = r["id"]
        out.append({
            "id": hid, "register_id": r["register_id"], "cell": r["cell_id"], "status": r["status"],
            "address": r["address"], "street": r["street"], "building": r["building"], "unit": r["unit"],
            "floor": r["floor"], "room": r["room"], "lon": round_coord(r["lon"]), "lat": round_coord(r["lat"]),
            "residents": residents.get(hid, {"count": 0, "elderly": 0, "key_groups": {}}),
            "rounds": [
                {"round": rid, "order": order.get((rid, hid)), "state": state_record(states.get((rid, hid)))}
                for rid in cells[r["cell_id"]]
            ],
        })
    return out


def round_coord(value: float | None) -> float | None:
    return None if value is None else round(value, 7)


def household_state_records(*, pairs: dict[int, set[int]]) -> list[dict]:
    """Visit state of (round → household ids): the partial update sent when only visits changed."""
    out = []
    for round_id, ids in sorted(pairs.items()):
        round = Round.objects.get(pk=round_id)
        states = household_states(round=round, household_ids=sorted(ids))
        for hid in sorted(ids):
            out.append({"household": hid, "round": round_id, "state": state_record(states.get(hid))})
    return out


def changed_since(*, since: int, cells: dict[int, list[int]], rounds: list[int]) -> dict:
    """What changed after `since` among common cells: cells whose own row changed, cells with a changed household
    (sent whole so walk order stays right), and (round, household) pairs with new visits."""
    cell_ids = list(cells)
    changed_cells = set(GridCell.objects.filter(id__in=cell_ids, change_seq__gt=since).values_list("id", flat=True))
    whole = set(
        Household.objects.filter(cell_id__in=cell_ids, change_seq__gt=since).values_list("cell_id", flat=True)
    )
    visited: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    rows = (
        Visit.objects.filter(round_id__in=rounds, household__cell_id__in=cell_ids, change_seq__gt=since)
        .values_list("household__cell_id", "round_id", "household_id").distinct()
    )
    for cell_id, round_id, hid in rows:
        if round_id in cells.get(cell_id, ()):
            visited[cell_id][round_id].add(hid)
    return {"cells": changed_cells, "whole": whole, "visited": visited}


def household_counts(*, cell_ids: list[int]) -> dict[int, int]:
    rows = Household.objects.filter(cell_id__in=cell_ids).values("cell_id").annotate(n=Count("id"))
    return {r["cell_id"]: r["n"] for r in rows}
