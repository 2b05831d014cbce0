"""Reads of campaigns and rounds. The households a round must visit are derived here, never copied.

Round 1 = every occupied household in the campaign's scope. Round k+1 = the same, minus every household
*settled* in an earlier round of the campaign — one whose uncorrected visits include an outcome that does not
send it back (`revisit=False`: reached, vacant, moved, wrong address). Households not reached in earlier rounds
stay in; households added to the register since come in because they have no visits yet.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from server.accounts import scoping
from server.accounts.models import Team, User
from server.campaigns.models import Campaign, CellAssignment, Round
from server.registry.models import Household, HouseholdStatus
from server.territory.models import GridCell
from server.visits.models import Visit


def campaign_area_paths(*, campaign: Campaign) -> list[str]:
    return list(campaign.areas.values_list("path", flat=True))


def under(paths: list[str], field: str) -> Q:
    """`field` starts with any of these materialised paths (nothing when there are none)."""
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field}__startswith": p}) for p in paths))


def campaign_cells(*, campaign: Campaign) -> QuerySet:
    """Grid cells inside the campaign's scope."""
    return GridCell.objects.filter(under(campaign_area_paths(campaign=campaign), "path"))


def campaign_list(*, user: User) -> QuerySet:
    """Campaigns whose scope touches the user's territory."""
    scope = scoping.user_scope(user)
    qs = Campaign.objects.all()
    if scope.everything:
        return qs
    if scope.field_user is not None:
        return qs.filter(rounds__assignments__in=CellAssignment.objects.filter(
            Q(worker=user) | Q(team__members=user))).distinct()
    # Either the campaign covers one of the user's areas, or one of its areas lies inside the user's areas.
    covering = reduce(or_, (Q(areas__path__in=_ancestor_paths(p)) for p in scope.paths), Q(pk__in=[]))
    return qs.filter(covering | scope.under("areas__path")).distinct()


def _ancestor_paths(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def settled_in_earlier_rounds(*, round: Round) -> QuerySet:
    """Uncorrected visits of earlier rounds whose outcome takes the household out of later rounds."""
    return Visit.objects.filter(
        round__campaign_id=round.campaign_id, round__number__lt=round.number,
        outcome__revisit=False, corrected_by__isnull=True,
    )


def round_households(*, round: Round) -> QuerySet:
    """The households this round must visit (see module docstring)."""
    paths = campaign_area_paths(campaign=round.campaign)
    qs = Household.objects.filter(under(paths, "community__path"), status=HouseholdStatus.OCCUPIED)
    if round.number > 1:
        settled = settled_in_earlier_rounds(round=round).filter(household_id=OuterRef("pk"))
        qs = qs.filter(~Exists(settled))
    return qs


def round_cell_workloads(*, round: Round) -> dict[int, int]:
    """cell id → households this round must visit there (households outside every cell are not counted)."""
    rows = round_households(round=round).filter(cell__isnull=False).values("cell_id").annotate(n=Count("id"))
    return {r["cell_id"]: r["n"] for r in rows}


@dataclass(frozen=True)
class HouseholdState:
    outcome: str | None  # latest uncorrected outcome code this round, None if not visited
    reached: bool
    settled: bool  # no need to come back this round
    visits: int


def household_states(*, round: Round, household_ids: list[int] | None = None) -> dict[int, HouseholdState]:
    """Each visited household's state in the round, derived from its uncorrected visits.

    Reached if any uncorrected visit reached it; settled if any uncorrected visit's outcome does not send it back;
    the outcome is the latest visit's by effective time (a device clock that is impossible does not count).
    """
    qs = Visit.objects.filter(round=round, corrected_by__isnull=True)
    if household_ids is not None:
        qs = qs.filter(household_id__in=household_ids)
    from server.visits.timing import effective_time

    rows = qs.values_list("household_id", "outcome__code", "outcome__reached", "outcome__revisit", "captured_at",
                          "received_at")
    grouped: dict[int, list] = defaultdict(list)
    for hid, code, reached, revisit, at, received in rows:
        grouped[hid].append(((effective_time(at, received, round.opened_at), received), code, reached, revisit))
    states = {}
    for hid, visits in grouped.items():
        visits.sort(key=lambda v: v[0])  # latest by effective time (server/visits/timing.py)
        states[hid] = HouseholdState(
            outcome=visits[-1][1],
            reached=any(v[2] for v in visits),
            settled=any(not v[3] for v in visits),
            visits=len(visits),
        )
    return states


def round_cell_remaining(*, round: Round) -> dict[int, int]:
    """cell id → households of this round not yet settled in this round (what moves with a reassigned cell)."""
    workloads = round_cell_workloads(round=round)
    settled = (
        Visit.objects.filter(round=round, outcome__revisit=False, corrected_by__isnull=True,
                             household__in=round_households(round=round))
        .values("cell_id").annotate(n=Count("household_id", distinct=True))
    )
    done = {r["cell_id"]: r["n"] for r in settled}
    return {cid: max(0, n - done.get(cid, 0)) for cid, n in workloads.items()}


def cell_remaining_households(*, round: Round, cell: GridCell) -> int:
    """Households of the cell this round still has to visit (not yet settled in this round)."""
    ids = list(round_households(round=round).filter(cell=cell).values_list("id", flat=True))
    states = household_states(round=round, household_ids=ids)
    return sum(1 for i in ids if not (i in states and states[i].settled))


def round_summary(*, round: Round, user: User | None = None) -> dict:
    """Counts shown before and during a round: households to visit, cells, per-team workloads, assigned or not.

    With `user`, only what lies in the user's territory is counted (a township's staff see their township's part
    of a city-wide round, a worker the cells they hold), and only the holders of those cells are named."""
    households = round_households(round=round)
    assignments = CellAssignment.objects.filter(round=round).select_related("team", "worker")
    if user is not None:
        households = scoping.households_visible(user, households)
        assignments = assignments.filter(cell_id__in=scoping.grid_cells_visible(user).values("id"))
    rows = households.filter(cell__isnull=False).values("cell_id").annotate(n=Count("id"))
    workloads = {r["cell_id"]: r["n"] for r in rows}
    per_team: dict[str, dict] = {}
    assigned_cells = set()
    for a in assignments:
        assigned_cells.add(a.cell_id)
        key = f"team:{a.team_id}" if a.team_id else f"worker:{a.worker_id}"
        label = a.team.name if a.team_id else (a.worker.get_full_name() or a.worker.username)
        entry = per_team.setdefault(key, {"key": key, "label": label, "cells": 0, "households": 0})
        entry["cells"] += 1
        entry["households"] += workloads.get(a.cell_id, 0)
    unassigned = [cid for cid in workloads if cid not in assigned_cells]
    return {
        "households": households.count(),
        "households_in_cells": sum(workloads.values()),
        "cells": len(workloads),
        "cells_assigned": len(assigned_cells),
        "cells_unassigned": len(unassigned),
        "households_unassigned": sum(workloads[c] for c in unassigned),
        "holders": sorted(per_team.values(), key=lambda e: e["label"]),
    }


def round_list(*, user: User, campaign: Campaign) -> QuerySet:
    return campaign.rounds.order_by("number")


def teams_for_planning(*, user: User) -> QuerySet:
    """Teams a planner may hand cells to: those working in the planner's territory."""
    scope = scoping.user_scope(user)
    qs = Team.objects.annotate(member_count=Count("members", distinct=True)).select_related("area")
    if scope.everything:
        return qs
    if scope.field_user is not None:
        return qs.none()
    return qs.filter(scope.under("area__path"))


def cells_held_by(*, user: User, round: Round) -> QuerySet:
    """Grid cells the user holds in the round: assigned to them, claimed by them, or to a team they belong to."""
    held = CellAssignment.objects.filter(Q(worker=user) | Q(team__members=user), round=round)
    return GridCell.objects.filter(id__in=held.values("cell_id"))


def walk_list(*, round: Round, cell: GridCell, start: tuple[float, float] | None = None):
    """The cell's households of this round in walking order (see campaigns.walk_lists)."""
    from server.campaigns.walk_lists import walk_list as build

    return build(round=round, cell=cell, start=start)
