"""Every coverage figure of a campaign, computed in numpy from the raw rows: the households it counts, their
uncorrected visits and their residents' key groups. One function for the few cells of a push and for the whole
city, so the incremental refresh and the full recompute cannot disagree (tests/coverage/test_figures.py compares
both with an independent computation in plain Python).

Per scope (each round written, then the campaign as a whole) and per household the campaign counts:

- round i: on the list unless an earlier round settled it; reached, attempted, excluded (not reached, the latest
  outcome takes it out of the base), the latest outcome, reached_at, visits, flagged visits and app installs of
  its round-i state;
- the campaign: on the list; reached if any round reached it, the latest round's latest outcome, reached_at the
  earliest over the rounds, visits and flags summed, app installed in any round.

The figures are then sums over the households on the list, per cell: the household figures; the residents of each
key group (households not excluded) and those in reached households; households first reached per day; per worker
the visits, distinct households attempted / reached / with the app installed (by that worker's visits) and flagged
visits; per worker and day the visits and flagged visits. Definitions: docs/coverage.md.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from server.common.columns import NULL, Column
from server.common.groups import Groups, Lookup, dense
from server.visits.compute import (
    KIND_NOBODY_HOME,
    KIND_REFUSED,
    KIND_VACANT,
    Outcomes,
    StateColumns,
    VisitColumns,
    local_days,
    states_compute,
)

_NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Plan:
    """One campaign's figures to write: its rounds (ids by round number) and the first of them whose figures are
    written; the rounds after it and the campaign as a whole are written too (a household settled in round i leaves
    the lists of the rounds after it)."""

    campaign_id: int
    rounds: tuple[int, ...]
    communities: tuple[int, ...]  # areas whose households the campaign counts
    reference_year: int  # residents aged ELDERLY_AGE or more in this year are elderly (the campaign's start year)
    first: int = 0
    opened: tuple[int | None, ...] = ()  # each round's opening time (µs since the Unix epoch), for effective times
    tagged_groups: tuple[int, ...] = ()  # key groups tagged by hand
    elderly_group: int | None = None  # the key group derived from the birth year

    def scopes(self) -> list[tuple[int, int | None]]:
        """(round index or -1 for the campaign, round id or None) of every scope written."""
        return [(i, self.rounds[i]) for i in range(self.first, len(self.rounds))] + [(-1, None)]


@dataclass
class Inputs:
    """What the figures are computed from: the households the campaign counts (ids ascending, their cells), the
    uncorrected visits of its rounds with their effective times, and key-group memberships (one entry per resident
    and group)."""

    household: np.ndarray
    cell: np.ndarray
    visits: VisitColumns
    effective: np.ndarray
    member_household: np.ndarray
    member_group: np.ndarray


@dataclass
class _Scope:
    """Per household (aligned with Inputs.household) in one scope."""

    listed: np.ndarray  # bool: on the scope's list
    reached: np.ndarray
    attempted: np.ndarray
    excluded: np.ndarray
    kind: np.ndarray
    reached_at: np.ndarray  # _NEVER if not reached
    visits: np.ndarray
    flagged: np.ndarray
    app: np.ndarray


_I, _B = "integer", "bigint"
_SCOPE = [("campaign_id", _B), ("round_id", _B), ("cell_id", _B)]
# Each figure table's columns as figures_compute gives them (name, database type).
SCHEMA: dict[str, list[tuple[str, str]]] = {
    "coverage_cellcoverage": [*_SCOPE, *((n, _I) for n in (
        "to_visit", "attempted", "reached", "nobody_home", "refused", "excluded", "vacant", "app_installs", "visits",
        "flagged_visits")), ("updated_at", "timestamp with time zone")],
    "coverage_cellkeygroupcoverage": [*_SCOPE, ("key_group_id", _B), ("residents", _I), ("reached", _I)],
    "coverage_celldaycoverage": [*_SCOPE, ("day", "date"), ("reached_new", _I)],
    "coverage_cellworkercoverage": [*_SCOPE, ("worker_id", _B), ("visits", _I), ("households_attempted", _I),
                                    ("households_reached", _I), ("app_installs", _I), ("flagged_visits", _I)],
    "coverage_cellworkerday": [*_SCOPE, ("worker_id", _B), ("day", "date"), ("visits", _I), ("flagged_visits", _I)],
}
TABLES = tuple(SCHEMA)


def figures_compute(plan: Plan, inputs: Inputs, outcomes: Outcomes, *, now_us: int,
                    states: StateColumns | None = None, threads: bool | None = None) -> dict[str, list[Column]]:
    """Table name → the rows of every scope of the plan, as columns for server.common.columns. `states`: the
    household round states of these visits, if the caller computed them already (the full recompute). `threads`:
    compute the independent parts on two threads (default: when there are more than 100,000 visits).

    Households are numbered in cell order, so a cell's households are one segment of every per-household array
    and its figures one reduction; the per-visit figures share two sorts (by cell, worker and household; by cell,
    worker and day) across all scopes."""
    cells, cell_of = dense(inputs.cell)
    by_cell = Groups([cell_of, inputs.household]).order
    household_ids, cell_of = inputs.household[by_cell], cell_of[by_cell]
    cell_start = np.flatnonzero(np.r_[True, cell_of[1:] != cell_of[:-1]]) if len(cell_of) else np.zeros(0, np.int64)
    households = Lookup(household_ids)
    position = households.find(inputs.visits.household)
    counted = position >= 0
    visits = inputs.visits.take(np.flatnonzero(counted))
    effective = inputs.effective[counted]
    visit_household = position[counted]
    if states is None:
        states = states_compute(visits, effective, outcomes)
    grid = _per_round(plan, households, states, outcomes)
    visit_reached = outcomes.reached[outcomes.position(visits.outcome)] == 1
    visit_cell = cell_of[visit_household]
    flagged = visits.flagged.astype(np.int32)
    member = households.find(inputs.member_household)
    known = member >= 0
    member, member_group = member[known], inputs.member_group[known]

    # numpy lets go of the GIL in its sorts and reductions: at city scale the independent parts run on two threads
    with _Runner(parallel=len(visits) > 100_000 if threads is None else threads) as run:
        scopes = run.map(lambda scope: (scope[1], _scope(grid, scope[0], outcomes)), plan.scopes())
        workers = run.call(lambda: _WorkerSort(Groups([visit_cell, visits.worker, visit_household
                                                       - cell_start[visit_cell]]),  # rank in cell: 31 bits or less
                                               visit_household, visits.round, visit_reached, visits.app == 1, flagged))
        days = run.call(lambda: _WorkerSort(Groups([visit_cell, visits.worker, local_days(effective)]),
                                            visit_household, visits.round, None, None, flagged))
        by_group = run.call(lambda: Groups([cell_of[member], member_group]))
        scopes, workers, days, by_group = scopes.result(), workers.result(), days.result(), by_group.result()
        member = by_group.sort(member)

        def tables(round_id: int | None, scope: _Scope) -> dict[str, list[Column]]:
            key = (plan.campaign_id, round_id)
            return {"coverage_cellcoverage": _cells(key, scope, cells, cell_start, now_us),
                    "coverage_cellkeygroupcoverage": _key_groups(key, scope, cells, by_group, member),
                    "coverage_celldaycoverage": _days(key, scope, cells, cell_of),
                    "coverage_cellworkercoverage": _workers(key, cells, workers, scope.listed, round_id),
                    "coverage_cellworkerday": _worker_days(key, cells, days, scope.listed, round_id)}

        per_scope = run.map(lambda scope: tables(*scope), scopes).result()
    out: dict[str, list[list[Column]]] = {t: [part[t] for part in per_scope] for t in TABLES}
    return {table: _concat(parts) for table, parts in out.items()}


def _per_round(plan: Plan, households: Lookup, states: StateColumns,
               outcomes: Outcomes) -> dict[str, np.ndarray]:
    """Each round's state of each household, as (rounds × households) arrays; has = 0 where it has none."""
    shape = (len(plan.rounds), len(households.ids))
    grid = {name: np.zeros(shape, np.int8) for name in ("has", "reached", "settled", "app")}
    grid.update({name: np.zeros(shape, np.int32) for name in ("visits", "flagged", "outcome")})
    grid["reached_at"] = np.full(shape, _NEVER, np.int64)
    if not len(states) or not plan.rounds:
        return grid
    rounds = np.array(plan.rounds, dtype=np.int64)
    by_id = np.argsort(rounds)
    ri = np.minimum(np.searchsorted(rounds[by_id], states.round), len(rounds) - 1)
    hi = households.find(states.household)
    mine = (rounds[by_id][ri] == states.round) & (hi >= 0)
    at = by_id[ri[mine]] * shape[1] + hi[mine]  # flat positions in the grid
    grid["has"].ravel()[at] = 1
    for name in ("reached", "settled", "visits", "flagged", "app"):
        grid[name].ravel()[at] = getattr(states, name)[mine]
    grid["outcome"].ravel()[at] = outcomes.position(states.outcome[mine])
    reached_at = states.reached_at[mine]
    grid["reached_at"].ravel()[at] = np.where(reached_at == NULL, _NEVER, reached_at)
    return grid


def _scope(grid: dict[str, np.ndarray], index: int, outcomes: Outcomes) -> _Scope:
    """Each household's figures in one scope: round `index`, or the campaign as a whole (index -1)."""
    rounds, n = grid["has"].shape
    if index >= 0:
        listed = np.ones(n, bool) if index == 0 else ~(grid["settled"][:index] == 1).any(axis=0)
        has, reached = grid["has"][index] == 1, grid["reached"][index] == 1
        outcome = grid["outcome"][index]
        reached_at, visits = grid["reached_at"][index], grid["visits"][index]
        flagged, app = grid["flagged"][index], grid["app"][index] == 1
    elif rounds:
        listed = np.ones(n, bool)
        has_any = grid["has"] == 1
        has = has_any.any(axis=0)
        reached = (grid["reached"] == 1).any(axis=0)
        # the latest round's latest outcome: the last round (by number) that has a state
        last = rounds - 1 - np.argmax(has_any[::-1], axis=0)
        outcome = grid["outcome"][last, np.arange(n)]
        reached_at = grid["reached_at"].min(axis=0)
        visits, flagged = grid["visits"].sum(axis=0), grid["flagged"].sum(axis=0)
        app = (grid["app"] == 1).any(axis=0)
    else:  # a campaign without rounds: its households are to visit, none visited
        listed, has, reached, app = np.ones(n, bool), np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
        outcome, visits, flagged = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
        reached_at = np.full(n, _NEVER)
    if len(outcomes.ids):
        excluded = has & ~reached & (outcomes.excluded[outcome] == 1)
        kind = np.where(has, outcomes.kind[outcome], -1)
    else:
        excluded, kind = np.zeros(n, bool), np.full(n, -1)
    return _Scope(listed=listed, reached=reached, attempted=visits > 0, excluded=excluded, kind=kind,
                  reached_at=np.where(reached, reached_at, _NEVER), visits=visits, flagged=flagged, app=app)


def _key(key: tuple[int, int | None], n: int) -> list[Column]:
    campaign_id, round_id = key
    return [Column("campaign_id", "bigint", np.full(n, campaign_id, np.int64)),
            Column("round_id", "bigint", np.full(n, NULL if round_id is None else round_id, np.int64))]


def _cells(key, s: _Scope, cells: np.ndarray, cell_start: np.ndarray, now_us: int) -> list[Column]:
    """The household figures of each cell: sums over its segment of the households (in cell order)."""
    m = s.listed

    def count(values) -> np.ndarray:
        return np.add.reduceat(np.where(m, values, 0), cell_start, dtype=np.int64) if len(cell_start) else \
            np.zeros(0, np.int64)

    not_reached = ~s.reached
    figures = {
        "to_visit": count(np.ones(len(m), np.int8)), "attempted": count(s.attempted), "reached": count(s.reached),
        "nobody_home": count(not_reached & (s.kind == KIND_NOBODY_HOME)),
        "refused": count(not_reached & (s.kind == KIND_REFUSED)), "excluded": count(s.excluded),
        "vacant": count(s.excluded & (s.kind == KIND_VACANT)), "app_installs": count(s.app),
        "visits": count(s.visits), "flagged_visits": count(s.flagged),
    }
    rows = np.flatnonzero(figures["to_visit"] > 0)
    return [*_key(key, len(rows)), Column("cell_id", "bigint", cells[rows]),
            *(Column(name, "integer", values[rows]) for name, values in figures.items()),
            Column("updated_at", "timestamp with time zone", np.full(len(rows), now_us, np.int64))]


def _key_groups(key, s: _Scope, cells, by_group: Groups, member: np.ndarray) -> list[Column]:
    """Residents of each key group in the households on the list and not excluded; of them, in those reached."""
    counts = s.listed[member] & ~s.excluded[member]  # `member`: in by_group's order
    residents = by_group.sum_sorted(counts)
    reached = by_group.sum_sorted(counts & s.reached[member])
    rows = np.flatnonzero(residents > 0)
    return [*_key(key, len(rows)), Column("cell_id", "bigint", cells[by_group.keys[0][rows]]),
            Column("key_group_id", "bigint", by_group.keys[1][rows]), Column("residents", "integer", residents[rows]),
            Column("reached", "integer", reached[rows])]


def _days(key, s: _Scope, cells, cell_of) -> list[Column]:
    """Households first reached per day: a count per (cell, day), the days being few."""
    m = s.listed & s.reached & (s.reached_at != _NEVER)
    days = local_days(s.reached_at[m])
    if not len(days):
        return [*_key(key, 0), *(Column(n, t, np.zeros(0, np.int64)) for n, t in SCHEMA[_DAY_TABLE][2:])]
    first, span = int(days.min()), int(days.max() - days.min()) + 1
    counts = np.bincount(cell_of[m] * span + (days - first), minlength=len(cells) * span)
    rows = np.flatnonzero(counts)
    return [*_key(key, len(rows)), Column("cell_id", "bigint", cells[rows // span]),
            Column("day", "date", rows % span + first), Column("reached_new", "integer", counts[rows])]


_DAY_TABLE = "coverage_celldaycoverage"


class _Runner:
    """Runs functions now (one thread) or on a pool of two threads; `call`/`map` give objects with `result()`."""

    def __init__(self, *, parallel: bool):
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="figures") if parallel else None

    def call(self, fn):
        return self._pool.submit(fn) if self._pool else _Done(fn())

    def map(self, fn, items):
        if not self._pool:
            return _Done([fn(i) for i in items])
        futures = [self._pool.submit(fn, i) for i in items]
        return _Done.later(lambda: [f.result() for f in futures])

    def __enter__(self) -> _Runner:
        return self

    def __exit__(self, *exc) -> None:
        if self._pool:
            self._pool.shutdown(wait=True)


class _Done:
    def __init__(self, value=None, later=None):
        self._value, self._later = value, later

    @classmethod
    def later(cls, fn) -> _Done:
        return cls(later=fn)

    def result(self):
        return self._later() if self._later else self._value


class _WorkerSort:
    """The visits in the order of a Groups (by cell, worker and household or day), with what every scope reduces."""

    def __init__(self, groups, household, round_ids, reached, app, flagged):
        self.groups = groups
        self.household, self.round = groups.sort(household), groups.sort(round_ids)
        self.reached = None if reached is None else groups.sort(reached)
        self.app = None if app is None else groups.sort(app)
        self.flagged = groups.sort(flagged)

    def mine(self, listed: np.ndarray, round_id: int | None) -> np.ndarray:
        """Which visits (in this order) a scope counts: of households on its list, in its round."""
        mine = listed[self.household]
        if round_id is not None:
            mine &= self.round == round_id
        return mine


def _workers(key, cells, w: _WorkerSort, listed: np.ndarray, round_id: int | None) -> list[Column]:
    """Per (cell, worker): visits, and distinct households visited, reached, with the app installed, by that
    worker's visits; from one sort by (cell, worker, household) shared by every scope."""
    g = w.groups
    mine = w.mine(listed, round_id)
    visits = g.sum_sorted(mine)
    visited = visits > 0
    reached_h = g.any_sorted(mine & w.reached)
    app_h = g.any_sorted(mine & w.app)
    flagged_h = g.sum_sorted(np.where(mine, w.flagged, 0))
    cell, worker = g.keys[0], g.keys[1]
    if not len(cell):
        starts = np.zeros(0, np.int64)
    else:
        boundary = np.ones(len(cell), bool)
        boundary[1:] = (cell[1:] != cell[:-1]) | (worker[1:] != worker[:-1])
        starts = np.flatnonzero(boundary)

    def total(values) -> np.ndarray:
        return np.add.reduceat(values, starts, dtype=np.int64) if len(starts) else np.zeros(0, np.int64)

    attempted = total(visited)
    rows = np.flatnonzero(attempted > 0)
    return [*_key(key, len(rows)), Column("cell_id", "bigint", cells[cell[starts][rows]]),
            Column("worker_id", "bigint", worker[starts][rows]), Column("visits", "integer", total(visits)[rows]),
            Column("households_attempted", "integer", attempted[rows]),
            Column("households_reached", "integer", total(reached_h)[rows]),
            Column("app_installs", "integer", total(app_h)[rows]),
            Column("flagged_visits", "integer", total(flagged_h)[rows])]


def _worker_days(key, cells, w: _WorkerSort, listed: np.ndarray, round_id: int | None) -> list[Column]:
    g = w.groups
    mine = w.mine(listed, round_id)
    visits = g.sum_sorted(mine)
    rows = np.flatnonzero(visits > 0)
    return [*_key(key, len(rows)), Column("cell_id", "bigint", cells[g.keys[0][rows]]),
            Column("worker_id", "bigint", g.keys[1][rows]), Column("day", "date", g.keys[2][rows]),
            Column("visits", "integer", visits[rows]),
            Column("flagged_visits", "integer", g.sum_sorted(np.where(mine, w.flagged, 0))[rows])]


def _concat(parts: list[list[Column]]) -> list[Column]:
    return [Column(first.name, first.db_type, np.concatenate([p[i].values for p in parts]))
            for i, first in enumerate(parts[0])]
