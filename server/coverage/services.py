"""Writes of coverage: keep the cell aggregates current after each push, and recompute them in full.

A push sends `visits_recorded` inside its transaction; `coverage_cells_queue` answers it by queueing the touched
cells (`DirtyCell`), and `coverage_dirty_refresh` (right after the commit without a broker, a Celery task at most
once a second with one) recomputes every aggregate row of the queued cells, many at a time, from their households'
visits (server/coverage/compute.py): for the pushed round, for the later rounds of its campaign (a household
settled now leaves their lists) and for the campaign as a whole. Only rows that changed are written.
`coverage_recompute` recomputes every aggregate row from the raw rows, and the household round states with them
unless asked not to (manage.py recompute_coverage, and the nightly beat job).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction

from server.campaigns import selectors as campaign_selectors
from server.campaigns.models import Campaign, Round
from server.common import workqueue
from server.common.sql import commit_async
from server.coverage import tables
from server.coverage.compute import Plan, figures_compute
from server.territory.models import Area

DERIVED_RULES = {"elderly"}  # derived key groups the figures know how to compute (server/coverage/tables.py)


def _now_us() -> int:
    return time.time_ns() // 1000


def campaign_plan(*, campaign: Campaign, from_number: int = 1) -> Plan:
    """The figures' plan for a campaign: every round numbered `from_number` or more is written, then the campaign
    as a whole."""
    from server.visits.selectors import moment_us

    paths = list(campaign.areas.values_list("path", flat=True))
    rounds = list(Round.objects.filter(campaign=campaign).order_by("number").values_list("id", "number",
                                                                                          "opened_at"))
    communities = (list(Area.objects.filter(campaign_selectors.under(paths, "path")).values_list("id", flat=True))
                   if paths else [])
    first = next((i for i, (_, number, _) in enumerate(rounds) if number >= from_number), len(rounds))
    tagged, elderly = tables.key_group_ids()
    return Plan(campaign_id=campaign.pk, rounds=tuple(r for r, _, _ in rounds), communities=tuple(sorted(communities)),
                reference_year=campaign.starts_on.year, first=first,
                opened=tuple(None if at is None else moment_us(at) for _, _, at in rounds), tagged_groups=tagged,
                elderly_group=elderly)


@transaction.atomic(savepoint=False)
def coverage_cells_refresh(*, round: Round, cell_ids: list[int]) -> int:
    """Recompute every aggregate row of these cells that a change of `round`'s visits can move; returns the rows
    written (only those that differ from the stored ones).

    Callers hold the refresher lock (server/coverage/locks.py) when refreshes may run concurrently."""
    from server.common.columns import changes_write

    cells = sorted({int(c) for c in cell_ids if c is not None})
    if not cells:
        return 0
    commit_async()
    plan, outcomes = tables.plan_read(campaign_id=round.campaign_id, reference_year=round.campaign.starts_on.year,
                                      from_number=round.number)
    inputs, stored = tables.cells_read(plan, cells=cells)
    rows = figures_compute(plan, inputs, outcomes, now_us=_now_us())
    return changes_write(tables.figures_diff(rows, stored))


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
    refresher: they only queue their cells. Figures are computed from committed visits; a push that commits while a
    refresh runs bumps its cell's `seq`, so its row survives the refresh's delete and the cell is refreshed again."""
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
    states_written: int = 0  # rows inserted, updated or deleted: the states that had drifted (0 when all agreed)
    rows: int = 0
    figures_written: int = 0  # figure rows inserted, updated or deleted
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step, for the benchmark


@transaction.atomic
def coverage_recompute(*, campaign_id: int | None = None, round_id: int | None = None, states: bool = True,
                       progress: Callable[[str], None] | None = None) -> RecomputeResult:
    """Rebuild from the raw rows: the household round states (unless `states` is False), then every figure row
    of every campaign, of one campaign, or of one round (with the later rounds of its campaign and the campaign as
    a whole, whose figures depend on it). Only rows that differ from what is stored are written. One transaction:
    readers see the old figures until the end. `progress` is called with a line of text after each step.

    The raw rows are read once for the states and the figures: on PostgreSQL by two extra connections in the
    transaction's snapshot while numpy computes (server/common/columns.py, ReaderPool)."""
    from server.common.columns import ReaderPool, changes_write
    from server.coverage.locks import refresher_lock
    from server.visits.compute import states_compute
    from server.visits.locks import everything_lock
    from server.visits.selectors import outcomes_all, visit_effective_times
    from server.visits.state import household_round_states_diff

    started = time.perf_counter()
    say = progress or (lambda line: None)
    result = RecomputeResult()
    everything_lock()
    refresher_lock(wait=True)
    if round_id is not None:
        round = Round.objects.select_related("campaign").get(pk=round_id)
        jobs = [(round.campaign, round.number, [round.pk])]
    else:
        campaigns = Campaign.objects.all() if campaign_id is None else Campaign.objects.filter(pk=campaign_id)
        jobs = [(c, 1, list(c.rounds.values_list("id", flat=True))) for c in campaigns.order_by("pk")]
    plans = [campaign_plan(campaign=c, from_number=n) for c, n, _ in jobs]
    everything = campaign_id is None and round_id is None
    # every round of the campaigns: a later round's list depends on the earlier ones
    rounds = None if everything else sorted({r for p in plans for r in p.rounds})
    state_rounds = None if everything else sorted({r for _, _, ids in jobs for r in ids})
    t = time.perf_counter()

    def step(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        result.timings[name] = result.timings.get(name, 0.0) + now - t
        t = now

    pool = ReaderPool.open(2)
    comparer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="states-diff")
    try:
        reads = tables.EverythingReads(plans, rounds=rounds, state_rounds=state_rounds if states else [], pool=pool)
        visits = reads.visits()
        step("read visits")
        effective = visit_effective_times(visits, rounds)
        outcomes = outcomes_all()
        computed = states_compute(visits, effective, outcomes)
        step("states computed")
        diff = None
        if states:  # compared with the stored rows on another thread while the figures are computed
            diff = comparer.submit(lambda: household_round_states_diff(
                states=computed, households=reads.households(), stored=reads.stored_states(),
                only_rounds=state_rounds))
            result.states = len(computed) if state_rounds is None else int(
                np.isin(computed.round, np.array(state_rounds, dtype=np.int64)).sum())
        for (campaign, _, _), plan in zip(jobs, plans, strict=True):
            inputs = reads.inputs(plan, visits, effective)
            step("read inputs")
            rows = figures_compute(plan, inputs, outcomes, now_us=_now_us(), states=computed)
            step("figures computed")
            changes = tables.figures_diff(rows, reads.stored_figures(plan))
            step("read stored figures")
            written = changes_write(changes)
            result.rows += sum(len(columns[0].values) for columns in rows.values())
            result.figures_written += written
            step("figures written")
            result.scopes += len(plan.scopes())
            say(f"{campaign.name}: {len(plan.scopes())} 组数据 scopes, 改写 rewritten {written:,} 行 rows")
            result.campaigns += 1
        if diff is not None:
            changes = diff.result()
            step("states compared")
            result.states_written = changes_write([changes])
            step("states written")
            say(f"住户本轮状态 household round states: {result.states:,}, 改写 rewritten "
                f"{result.states_written:,} ({time.perf_counter() - started:.1f} s)")
    finally:
        comparer.shutdown(wait=True)
        if pool is not None:
            pool.close()
    if result.states_written or result.figures_written:
        tables.analyze()
        step("analyze")
    result.seconds = time.perf_counter() - started
    say(f"完成 done: {result.campaigns} 个行动 campaigns, {result.scopes} 组数据 scopes, {result.seconds:.1f} s")
    return result


def coverage_round_schedule(*, round: Round) -> None:
    """After commit, compute a new round's figures (its list of households exists from the start)."""
    from server.common.soon import task_send
    from server.coverage.tasks import coverage_recompute as task

    # Broker unreachable: logged; the nightly recompute computes the round's figures.
    transaction.on_commit(lambda r=round.pk: task_send(task, round_id=r, states=False))
