"""Writes of the campaign plan: campaigns, rounds, and who holds which cell. Every service is atomic and raises
PlanError (code + Chinese/English message) before changing anything."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from server.accounts import scoping
from server.accounts.models import Team, User
from server.audit.models import AuditAction
from server.audit.services import AuditEvent, audit_record, audit_record_many
from server.campaigns import selectors
from server.campaigns.errors import PlanError
from server.campaigns.models import AssignmentChange, Campaign, CellAssignment, OutcomeCode, Round, RoundStatus
from server.territory.models import Area, GridCell


def campaign_territory(campaign: Campaign) -> Area | None:
    """The smallest area holding all of a campaign's areas: the territory its audit entries are filed under."""
    paths = list(campaign.areas.values_list("path", flat=True))
    if not paths:
        return None
    parts = [p.strip("/").split("/") for p in paths]
    common = []
    for codes in zip(*parts, strict=False):
        if len(set(codes)) != 1:
            break
        common.append(codes[0])
    return Area.objects.filter(code=common[-1]).first() if common else None


def _round_audit(round: Round, action: str, user: User | None, changes: dict | None = None, reason: str = "") -> None:
    audit_record(actor=user, action=action, obj=round, territory=campaign_territory(round.campaign),
                 changes={"campaign": round.campaign_id, "number": round.number, **(changes or {})}, reason=reason)


def round_edit_record(*, round: Round, user: User | None, before: dict | None, reason: str = "") -> None:
    """Audit a round added (`before` None) or edited (dates, status) outside these services: the campaign admin."""
    after = {"starts_on": round.starts_on, "ends_on": round.ends_on, "status": round.status}
    if before is None:
        _round_audit(round, AuditAction.ROUND_CREATE, user, after, reason)
        return
    diff = {k: {"from": before.get(k), "to": v} for k, v in after.items() if before.get(k) != v}
    if diff:
        _round_audit(round, AuditAction.ROUND_EDIT, user, diff, reason)


def _holder(team_id: int | None, worker_id: int | None) -> dict:
    return {"team": team_id, "worker": worker_id}


# (code, label, English, reached, revisit, excluded)
DEFAULT_OUTCOME_CODES = [
    ("reached", "见面宣传", "Reached face to face", True, False, False),
    ("nobody_home", "无人在家", "Nobody home", False, True, False),
    ("refused", "拒访", "Refused", False, True, False),
    ("vacant", "空置", "Vacant", False, False, True),
    ("moved", "搬离", "Moved away", False, False, True),
    ("wrong_address", "地址有误", "Wrong address", False, False, True),
]


@transaction.atomic
def campaign_create(
    *, name: str, areas: Iterable[Area], starts_on: dt.date, ends_on: dt.date, created_by: User | None,
    description: str = "", outcome_codes: list[tuple] | None = None,
) -> Campaign:
    """Create a campaign over a set of areas with its outcome codes (the default six unless given)."""
    areas = list(areas)
    if not areas:
        raise PlanError("no_scope", "行动范围不能为空", "A campaign needs at least one area")
    if ends_on < starts_on:
        raise PlanError("bad_dates", "结束日期早于开始日期", "The end date is before the start date")
    if created_by is not None:
        in_scope = scoping.areas_visible(created_by).filter(pk__in=[a.pk for a in areas])
        visible = set(in_scope.values_list("pk", flat=True))
        outside = [a for a in areas if a.pk not in visible]
        if outside:
            names = "、".join(a.name for a in outside)
            raise PlanError("outside_territory", f"超出您的辖区：{names}", f"Outside your territory: {names}")
    campaign = Campaign.objects.create(
        name=name, description=description, starts_on=starts_on, ends_on=ends_on, created_by=created_by
    )
    campaign.areas.set(areas)
    OutcomeCode.objects.bulk_create(
        OutcomeCode(campaign=campaign, code=c, label=label, label_en=en, reached=r, revisit=rv, excluded=ex, order=i)
        for i, (c, label, en, r, rv, ex) in enumerate(outcome_codes or DEFAULT_OUTCOME_CODES)
    )
    audit_record(actor=created_by, action=AuditAction.CAMPAIGN_CREATE, obj=campaign,
                 territory=campaign_territory(campaign),
                 changes={"areas": [a.code for a in areas], "starts_on": starts_on, "ends_on": ends_on})
    return campaign


@transaction.atomic
def round_create(*, campaign: Campaign, starts_on: dt.date, ends_on: dt.date, user: User | None = None) -> Round:
    """Add the next numbered round; its window may not overlap another round's of the same campaign."""
    if ends_on < starts_on:
        raise PlanError("bad_dates", "结束日期早于开始日期", "The end date is before the start date")
    if starts_on < campaign.starts_on or ends_on > campaign.ends_on:
        raise PlanError(
            "outside_campaign", f"轮次时间须在行动期内（{campaign.starts_on}—{campaign.ends_on}）",
            f"The round must lie within the campaign's dates ({campaign.starts_on} – {campaign.ends_on})",
        )
    clash = campaign.rounds.select_for_update().filter(starts_on__lte=ends_on, ends_on__gte=starts_on).first()
    if clash:
        raise PlanError(
            "overlapping_rounds", f"与第{clash.number}轮时间重叠（{clash.starts_on}—{clash.ends_on}）",
            f"Overlaps round {clash.number} ({clash.starts_on} – {clash.ends_on})",
        )
    last = campaign.rounds.order_by("-number").first()
    if last and starts_on <= last.ends_on:
        raise PlanError("rounds_out_of_order", "新轮次须在上一轮之后", "A new round must start after the previous one")
    round = Round.objects.create(
        campaign=campaign, number=(last.number + 1) if last else 1, starts_on=starts_on, ends_on=ends_on
    )
    _round_audit(round, AuditAction.ROUND_CREATE, user, {"starts_on": starts_on, "ends_on": ends_on})
    return round


@transaction.atomic
def round_open(*, round: Round, user: User | None) -> Round:
    """Open a draft round: the previous round must be closed and the round must have households to visit."""
    round.refresh_from_db(from_queryset=Round.objects.select_for_update())
    if round.status != RoundStatus.DRAFT:
        raise PlanError(
            "not_draft", f"第{round.number}轮不是筹备状态，无法开启", f"Round {round.number} is not a draft"
        )
    previous = round.campaign.rounds.filter(number__lt=round.number).exclude(status=RoundStatus.CLOSED).first()
    if previous:
        raise PlanError("previous_open", f"请先结束第{previous.number}轮", f"Close round {previous.number} first")
    if not selectors.round_households(round=round).exists():
        raise PlanError("no_households", "本轮没有需要走访的住户，无法开启", "This round has no households to visit")
    round.status = RoundStatus.OPEN
    round.opened_at = timezone.now()
    round.save(update_fields=["status", "opened_at"])
    _round_audit(round, AuditAction.ROUND_OPEN, user, {"status": {"from": RoundStatus.DRAFT, "to": RoundStatus.OPEN}})
    return round


@transaction.atomic
def round_close(*, round: Round, user: User | None) -> Round:
    """Close an open round. Refused while a worker's claimed cell still has households left to visit."""
    round.refresh_from_db(from_queryset=Round.objects.select_for_update())
    if round.status != RoundStatus.OPEN:
        raise PlanError("not_open", f"第{round.number}轮未在进行中", f"Round {round.number} is not open")
    unresolved = []
    for claim in CellAssignment.objects.filter(round=round, source=CellAssignment.Source.CLAIM).select_related(
        "cell", "worker"
    ):
        left = selectors.cell_remaining_households(round=round, cell=claim.cell)
        if left:
            unresolved.append((claim, left))
    if unresolved:
        zh = "；".join(f"{c.cell.name}（{c.worker.username}认领，剩{n}户）" for c, n in unresolved)
        en = "; ".join(f"{c.cell.code} (claimed by {c.worker.username}, {n} left)" for c, n in unresolved)
        raise PlanError(
            "unresolved_claims", f"仍有未完成的认领网格：{zh}。请先收回或改派。",
            f"Claimed cells are unfinished: {en}. Release or reassign them first.",
            cells=[c.cell.code for c, _ in unresolved],
        )
    round.status = RoundStatus.CLOSED
    round.closed_at = timezone.now()
    round.save(update_fields=["status", "closed_at"])
    _round_audit(round, AuditAction.ROUND_CLOSE, user, {"status": {"from": RoundStatus.OPEN, "to": RoundStatus.CLOSED}})
    return round


def _holder_name(a: CellAssignment) -> str:
    if a.worker_id:
        return a.worker.get_full_name() or a.worker.username
    return a.team.name if a.team_id else "?"


def _check_cell(*, round: Round, cell: GridCell, user: User | None) -> None:
    if round.status == RoundStatus.CLOSED:
        raise PlanError("round_closed", f"第{round.number}轮已结束", f"Round {round.number} is closed")
    if not selectors.campaign_cells(campaign=round.campaign).filter(pk=cell.pk).exists():
        raise PlanError(
            "outside_scope", f"网格 {cell.name}（{cell.code}）不在本次行动范围内",
            f"Grid cell {cell.code} is outside the campaign's scope",
        )
    if user is not None and not scoping.grid_cells_visible(user).filter(pk=cell.pk).exists():
        raise PlanError(
            "outside_territory", f"网格 {cell.code} 不在您的辖区内", f"Grid cell {cell.code} is outside your territory"
        )


def _check_team(team: Team | None) -> None:
    if team is not None and not team.members.exists():
        raise PlanError("team_empty", f"宣传小分队“{team.name}”没有成员", f"Team “{team.name}” has no members")


@transaction.atomic
def cell_assign(
    *, round: Round, cell: GridCell, team: Team | None = None, worker: User | None = None, user: User | None,
    reason: str = "", source: str = CellAssignment.Source.PLAN,
) -> CellAssignment | None:
    """Hand a cell to a team and/or a worker (both None: take it back). Its remaining households move with it;
    visits already made stay with whoever made them. The change is recorded with who, when and why."""
    _check_cell(round=round, cell=cell, user=user)
    _check_team(team)
    current = CellAssignment.objects.select_for_update().filter(round=round, cell=cell).first()
    wanted = (team.pk if team else None, worker.pk if worker else None)
    if current and (current.team_id, current.worker_id) == wanted:
        return current
    AssignmentChange.objects.create(
        round=round, cell=cell, changed_by=user, reason=reason,
        from_team_id=current.team_id if current else None, from_worker_id=current.worker_id if current else None,
        to_team=team, to_worker=worker,
        remaining_households=selectors.cell_remaining_households(round=round, cell=cell),
    )
    taken_back = team is None and worker is None
    audit_record(
        actor=user, action=AuditAction.CELL_UNASSIGN if taken_back else AuditAction.CELL_ASSIGN,
        object_type="territory.gridcell", object_id=cell.pk, object_repr=f"{cell.name}（{cell.code}）", territory=cell,
        changes={"round": round.pk, "round_number": round.number,
                 "from": _holder(current.team_id if current else None, current.worker_id if current else None),
                 "to": _holder(team.pk if team else None, worker.pk if worker else None)},
        reason=reason,
    )
    if taken_back:
        if current:
            current.delete()
        return None
    if current is None:
        return CellAssignment.objects.create(
            round=round, cell=cell, team=team, worker=worker, source=source, assigned_by=user
        )
    current.team, current.worker, current.source = team, worker, source
    current.assigned_by, current.assigned_at = user, timezone.now()
    current.save(update_fields=["team", "worker", "source", "assigned_by", "assigned_at"])
    return current


@transaction.atomic
def _campaign_is_theirs(campaign: Campaign, user: User) -> bool:
    """Does the campaign work where the user works: one of its areas inside one of the user's areas, or above it?"""
    if user.is_superuser:
        return True
    mine = list(user.areas.values_list("path", flat=True))
    theirs = campaign.areas.values_list("path", flat=True)
    return any(a.startswith(m) or m.startswith(a) for a in theirs for m in mine)


def cell_claim(*, round: Round, cell: GridCell, worker: User) -> CellAssignment:
    """A worker checks out an unassigned cell of an open round of a campaign where they work (any cell of its
    scope); a held cell is refused with who holds it. A campaign elsewhere is refused before anything about it is
    said (whether the round is open, who holds the cell)."""
    if not _campaign_is_theirs(round.campaign, worker):
        raise PlanError("outside_territory", "该行动不在您的工作区域内，不能认领其网格",
                        "This campaign is outside the areas you work in: you cannot claim its cells")
    if round.status != RoundStatus.OPEN:
        raise PlanError("round_not_open", f"第{round.number}轮未在进行中", f"Round {round.number} is not open")
    if not selectors.campaign_cells(campaign=round.campaign).filter(pk=cell.pk).exists():
        raise PlanError(
            "outside_scope", f"网格 {cell.code} 不在本次行动范围内", f"Grid cell {cell.code} is outside the campaign"
        )
    held = CellAssignment.objects.select_for_update(of=("self",)).filter(round=round, cell=cell).select_related(
        "team", "worker").first()
    if held:
        if held.worker_id == worker.pk:
            return held
        who = _holder_name(held)
        raise PlanError("cell_held", f"该网格已由{who}负责", f"This cell is already held by {who}", holder=who)
    AssignmentChange.objects.create(
        round=round, cell=cell, changed_by=worker, to_worker=worker, reason="认领 claim",
        remaining_households=selectors.cell_remaining_households(round=round, cell=cell),
    )
    audit_record(actor=worker, action=AuditAction.CELL_CLAIM, object_type="territory.gridcell", object_id=cell.pk,
                 object_repr=f"{cell.name}（{cell.code}）", territory=cell,
                 changes={"round": round.pk, "round_number": round.number, "to": _holder(None, worker.pk)},
                 reason="认领 claim")
    return CellAssignment.objects.create(
        round=round, cell=cell, worker=worker, source=CellAssignment.Source.CLAIM, assigned_by=worker
    )


@transaction.atomic
def round_auto_assign(
    *, round: Round, teams: list[Team], user: User | None, keep_manual: bool = True,
    reason: str = "自动分配 auto-assign", seed: int = 0,
) -> dict:
    """Split the round's cells among teams so that workloads follow capacity (workers × households a day × days)
    and each team's cells lie together (capacity-constrained k-means + local search, see campaigns.balancing).

    Cells held by single workers (claims, personal assignments) are left alone; with `keep_manual`, cells a planner
    gave by hand to one of these teams stay with it and count toward its load.
    """
    from server.campaigns import balancing

    if round.status == RoundStatus.CLOSED:
        raise PlanError("round_closed", f"第{round.number}轮已结束", f"Round {round.number} is closed")
    if not teams:
        raise PlanError("no_teams", "请至少选择一支宣传小分队", "Choose at least one team")
    members = {t.pk: t.members.count() for t in teams}
    for t in teams:
        if members[t.pk] == 0:
            raise PlanError("team_empty", f"宣传小分队“{t.name}”没有成员", f"Team “{t.name}” has no members")
    workloads = selectors.round_cell_workloads(round=round)
    cells_qs = selectors.campaign_cells(campaign=round.campaign).filter(id__in=list(workloads))
    if user is not None:
        cells_qs = scoping.grid_cells_visible(user, cells_qs)
    cells = list(cells_qs.only("id", "code", "name", "path", "geom"))
    current = {a.cell_id: a for a in CellAssignment.objects.select_for_update().filter(round=round)}
    team_ids = {t.pk for t in teams}
    locked = {}
    candidates = []
    for c in cells:
        a = current.get(c.id)
        if a is not None and a.worker_id:
            continue  # a worker's own cell: not ours to move
        if keep_manual and a is not None and a.source == CellAssignment.Source.PLAN and a.team_id in team_ids:
            locked[c.id] = a.team_id
        candidates.append(c)
    if not candidates:
        raise PlanError("no_cells", "没有可分配的网格（本轮无应访住户）", "No cells to assign this round")
    try:
        result = _balance(balancing, round, candidates, teams, members, workloads, locked, seed)
    except balancing.BalancingError as e:
        raise PlanError("cannot_balance", str(e), str(e)) from e
    remaining = selectors.round_cell_remaining(round=round)
    now = timezone.now()
    changes, creates, updates = [], [], []
    for c in candidates:
        team_id = result.assignment[c.id]
        a = current.get(c.id)
        if a is not None and a.team_id == team_id:
            continue
        changes.append(AssignmentChange(
            round=round, cell_id=c.id, from_team_id=a.team_id if a else None, to_team_id=team_id,
            changed_by=user, changed_at=now, reason=reason, remaining_households=remaining.get(c.id, 0)))
        if a is None:
            creates.append(CellAssignment(round=round, cell_id=c.id, team_id=team_id,
                                          source=CellAssignment.Source.AUTO, assigned_by=user, assigned_at=now))
        else:
            a.team_id, a.source, a.assigned_by, a.assigned_at = team_id, CellAssignment.Source.AUTO, user, now
            updates.append(a)
    AssignmentChange.objects.bulk_create(changes, batch_size=1000)
    by_id = {c.id: c for c in candidates}
    audit_record_many(actor=user, events=[
        AuditEvent(action=AuditAction.CELL_ASSIGN, object_type="territory.gridcell", object_id=str(ch.cell_id),
                   object_repr=f"{by_id[ch.cell_id].name}（{by_id[ch.cell_id].code}）", territory=by_id[ch.cell_id],
                   changes={"round": round.pk, "round_number": round.number, "auto": True,
                            "from": _holder(ch.from_team_id, None), "to": _holder(ch.to_team_id, None)},
                   reason=reason)
        for ch in changes])
    CellAssignment.objects.bulk_create(creates, batch_size=1000)
    CellAssignment.objects.bulk_update(updates, ["team", "source", "assigned_by", "assigned_at"], batch_size=1000)
    names = {t.pk: t.name for t in teams}
    return {
        "cells_assigned": len(candidates),
        "cells_changed": len(changes),
        # inf when a team got no work: JSON has no infinity, so say "none" explicitly
        "balance": result.balance if math.isfinite(result.balance) else None,
        "compactness_m": result.compactness_m,
        "disconnected_teams": [names[t] for t in result.disconnected_teams],
        "empty_teams": [names[t] for t in result.empty_teams],
        "teams": [
            {"id": tid, "name": names[tid], "workload": load.workload, "capacity": load.capacity,
             "ratio": load.ratio, "cells": load.cells}
            for tid, load in result.teams.items()
        ],
    }


def _balance(balancing, round, candidates, teams, members, workloads, locked, seed):
    from server.territory.selectors import grid_cell_adjacency

    return balancing.balance_cells(
        cells=[balancing.CellWorkload(id=c.id, centroid=(c.geom.centroid.x, c.geom.centroid.y),
                                      workload=workloads.get(c.id, 0)) for c in candidates],
        teams=[balancing.TeamCapacity(id=t.pk, capacity=float(members[t.pk] * t.households_per_day * round.days))
               for t in teams],
        adjacency=grid_cell_adjacency(cells=candidates), locked=locked, seed=seed,
    )
