"""Writes of coverage: keep the cell aggregates current after each push, and recompute them in full.

After a push commits, `visits.household_round_states_refresh` (a Celery task; inline without a broker) rewrites
the touched households' round states and, in the same transaction and under the same cell locks, sends
`household_round_states_refreshed`; `coverage_cells_queue` answers it by queueing the touched cells
(`DirtyCell`), and `coverage_dirty_refresh` (right after the commit without a broker, a Celery task at most once a
second with one) recomputes every aggregate row of the queued cells, many at a time: for the pushed round, for the
later rounds of its campaign (a household settled now leaves their lists) and for the campaign as a whole.
`coverage_recompute` rebuilds the household round states from the
visits and then every aggregate row (manage.py recompute_coverage, and the nightly beat job).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction

from server.campaigns import selectors as campaign_selectors
from server.campaigns.models import Campaign, Round
from server.common import workqueue
from server.common.sql import commit_async
from server.coverage import statements
from server.coverage.statements import KeyGroups, Plan
from server.registry.models import KeyGroup
from server.territory.models import Area

DERIVED_RULES = {"elderly"}  # derived key groups the statements know how to compute


def key_groups_current() -> KeyGroups:
    """Which key groups count and how: tagged by hand, or (elderly) derived from the birth year."""
    groups = list(KeyGroup.objects.values_list("id", "code", "derived"))
    elderly = next((gid for gid, code, derived in groups if code == "elderly" and derived), None)
    return KeyGroups(tagged_ids=tuple(gid for gid, _, derived in groups if not derived), elderly_id=elderly)


def campaign_plan(*, campaign: Campaign, from_number: int = 1) -> Plan:
    """The statements' plan for a campaign: every round numbered `from_number` or more is written, then the
    campaign as a whole."""
    paths = list(campaign.areas.values_list("path", flat=True))
    rounds = list(Round.objects.filter(campaign=campaign).order_by("number").values_list("id", "number"))
    communities = (list(Area.objects.filter(campaign_selectors.under(paths, "path")).values_list("id", flat=True))
                   if paths else [])
    first = next((i for i, (_, number) in enumerate(rounds) if number >= from_number), len(rounds))
    return Plan(campaign_id=campaign.pk, rounds=tuple(r for r, _ in rounds), communities=tuple(communities),
                reference_year=campaign.starts_on.year, first=first)


@transaction.atomic(savepoint=False)
def coverage_cells_refresh(*, round: Round, cell_ids: list[int]) -> None:
    """Recompute every aggregate row of these cells that a change of `round`'s visits can move.

    Callers hold the refresher lock (server/coverage/locks.py) when refreshes may run concurrently."""
    cells = sorted({int(c) for c in cell_ids if c is not None})
    if not cells:
        return
    commit_async()
    plan = campaign_plan(campaign=round.campaign, from_number=round.number)
    households = statements.cell_households(cells=cells)
    statements.scope_delete(plan=plan, cells=cells)
    statements.scopes_insert(plan=plan, groups=key_groups_current(), cells=cells, households=households)


def coverage_cells_queue(*, round_id: int, cell_ids: list[int]) -> None:
    """Queue these cells (in the caller's transaction) and make sure a refresh runs after it commits.

    Without a broker the refresh runs right after the commit, inline. With one, a refresh is scheduled at most once
    a second per app process (server/common/soon.py); a beat job (`coverage-dirty-refresh`, every minute) is the
    safety net for a lost task."""
    if any(c is not None for c in cell_ids):
        workqueue.pairs_queue(table="coverage_dirtycell", column="cell_id", round_id=round_id, ids=cell_ids)
        transaction.on_commit(_dirty_refresh_soon)


DIRTY_REFRESH_DELAY_S = 1.0


def _dirty_refresh_soon() -> None:
    from server.common.soon import task_soon
    from server.coverage.tasks import coverage_dirty_refresh as task

    task_soon(task, key="coverage-dirty-refresh", delay=DIRTY_REFRESH_DELAY_S)


def coverage_dirty_refresh(*, batch: int = 500, passes: int = 50) -> int:
    """Work off the queue: recompute the figures of the queued cells, up to `batch` a transaction, and drop the
    queue rows that did not change meanwhile; returns the number of (round, cell) rows refreshed.

    One refresher at a time (server/coverage/locks.py, server/common/workqueue.py). Pushes never wait for a
    refresher: their states refresh only queues cells. Figures are read from committed round states; a push that
    commits while a refresh runs bumps its cell's `seq`, so its row survives the refresh's delete and the cell is
    refreshed again."""
    from server.coverage.locks import refresher_lock

    return workqueue.queue_drain(table="coverage_dirtycell", column="cell_id", lock=lambda: refresher_lock(wait=False),
                                 work=_dirty_cells_refresh, batch=batch, passes=passes)


def _dirty_cells_refresh(queued: list[workqueue.Queued]) -> None:
    cells = workqueue.by_round(queued)
    rounds = Round.objects.select_related("campaign").in_bulk(list(cells))
    for round_id, ids in cells.items():
        if round_id in rounds:
            coverage_cells_refresh(round=rounds[round_id], cell_ids=ids)


@dataclass
class RecomputeResult:
    campaigns: int = 0
    scopes: int = 0
    states: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step, for the benchmark


@transaction.atomic
def coverage_recompute(*, campaign_id: int | None = None, round_id: int | None = None, states: bool = True,
                       progress: Callable[[str], None] | None = None) -> RecomputeResult:
    """Rebuild from the raw visits: the household round states (unless `states` is False), then every aggregate
    row of every campaign, of one campaign, or of one round (with the later rounds of its campaign and the
    campaign as a whole, whose figures depend on it). One transaction: readers see the old figures until the end.
    `progress` is called with a line of text after each step."""
    from server.coverage.locks import refresher_lock
    from server.visits.locks import everything_lock
    from server.visits.state import household_round_states_rebuild

    started = time.perf_counter()
    say = progress or (lambda line: None)
    result = RecomputeResult()
    everything_lock()
    refresher_lock(wait=True)
    if connection.vendor == "postgresql":
        # No JIT compilation for this transaction: each statement runs once over millions of rows, and compiling
        # its expressions cost more than it saved (the states 6.4 s with JIT, 5.2 s without, at city scale).
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
    if round_id is not None:
        round = Round.objects.select_related("campaign").get(pk=round_id)
        jobs = [(round.campaign, round.number, [round.pk])]
    else:
        campaigns = Campaign.objects.all() if campaign_id is None else Campaign.objects.filter(pk=campaign_id)
        jobs = [(c, 1, list(c.rounds.values_list("id", flat=True))) for c in campaigns.order_by("pk")]
    if states:
        t0 = time.perf_counter()
        if campaign_id is None and round_id is None:
            result.states = household_round_states_rebuild()
        else:
            result.states = sum(household_round_states_rebuild(round_id=r) for _, _, ids in jobs for r in ids)
        result.timings["states"] = time.perf_counter() - t0
        say(f"住户本轮状态 household round states: {result.states:,} ({result.timings['states']:.1f} s)")
    groups = key_groups_current()
    for campaign, from_number, _ in jobs:
        plan = campaign_plan(campaign=campaign, from_number=from_number)
        t0 = time.perf_counter()
        statements.scope_delete(plan=plan, cells=None)
        result.timings["delete"] = result.timings.get("delete", 0.0) + time.perf_counter() - t0
        t0 = time.perf_counter()
        statements.scopes_insert(plan=plan, groups=groups, cells=None, timings=result.timings)
        result.scopes += len(plan.scopes())
        say(f"{campaign.name}: {len(plan.scopes())} 组数据 scopes, {time.perf_counter() - t0:.1f} s")
        result.campaigns += 1
    statements.analyze()
    result.seconds = time.perf_counter() - started
    say(f"完成 done: {result.campaigns} 个行动 campaigns, {result.scopes} 组数据 scopes, {result.seconds:.1f} s")
    return result


def coverage_round_schedule(*, round: Round) -> None:
    """After commit, compute a new round's figures (its list of households exists from the start)."""
    from server.common.soon import task_send
    from server.coverage.tasks import coverage_recompute as task

    # Broker unreachable: logged; the nightly recompute computes the round's figures.
    transaction.on_commit(lambda r=round.pk: task_send(task, round_id=r, states=False))
