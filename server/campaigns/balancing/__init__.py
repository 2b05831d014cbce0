"""Automatic assignment of a round's grid cells to teams (自动分片): even workloads, compact and contiguous territories.

Pure algorithm, no Django: the caller turns grid cells and teams into `CellWorkload` / `TeamCapacity`, calls
`balance_cells`, and writes `BalanceResult.assignment` into CellAssignment rows itself.

Method, in three steps:

1. **Capacity-constrained k-means.** Centres are seeded by k-means++ on the workload-weighted cell centroids (a team
   holding locked cells starts at their centre). Cells are assigned by a *power diagram*: each cell goes to the team
   minimising ``squared distance − price[team]``, with prices chosen so that loads follow capacities. That is the
   form of the optimal solution of capacity-constrained least-squares clustering (an optimal transport problem), and
   power cells are convex, so territories come out compact and in one piece. Centres then move to the weighted mean
   of their cells and the two steps repeat, as in Lloyd's algorithm. Prices are found by a damped Newton method on
   the graph of team borders (see `_PowerDiagram`), which takes ~10 steps where plain dual ascent takes hundreds.
2. **Repair.** Pieces of a team cut off from its main part go to the least-loaded adjacent team; a team left without
   cells (only when centroids coincide) takes the outermost cell of the most loaded team.
3. **Local search over the adjacency graph.** Cells are whole, so step 1 balances only to about one cell's workload.
   Boundary cells are moved between adjacent teams, or swapped (a swap shifts only the *difference* of two workloads:
   fine control), picking the move that most reduces Σ (ratio − 1)² with the distance to the new centre as a
   tie-break, and never splitting a team or emptying one. Where a whole region is over- or under-loaded, households
   are passed along a chain of adjacent teams to the nearest team of the opposite sign. The search stops as soon as
   `balance ≤ target`, so compactness is not traded for balance nobody asked for, or when no move improves.

Same input and seed give the same output: the only randomness is ``numpy.random.default_rng(seed)`` in the seeding,
and every tie is broken by input order.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np

from server.campaigns.balancing.kmeans import _capacity_kmeans
from server.campaigns.balancing.problem import _balance, _components, _Problem
from server.campaigns.balancing.search import _LocalSearch
from server.campaigns.balancing.types import (
    BalanceResult,
    BalancingError,
    CellWorkload,
    TeamCapacity,
    TeamLoad,
)

__all__ = ["BalanceResult", "BalancingError", "CellWorkload", "TeamCapacity", "TeamLoad", "assignment_figures",
           "balance_cells"]


def balance_cells(
    *,
    cells: Sequence[CellWorkload],
    teams: Sequence[TeamCapacity],
    adjacency: Iterable[tuple[Hashable, Hashable]] = (),
    locked: Mapping[Hashable, Hashable] | None = None,
    target: float = 1.15,
    seed: int = 0,
) -> BalanceResult:
    """Assign every cell to a team so that workloads follow capacities and each team's cells lie together.

    `adjacency` lists pairs of cells whose polygons touch. Pairs naming cells not in `cells` are ignored. A cell left
    without neighbours is linked to its 4 nearest centroids, every cell is when the list is clearly partial (fewer
    than 3 neighbours per cell on average), and separate islands are linked to the rest by their shortest gap.
    `locked` (cell id → team id, e.g. manual overrides) is kept as is. More teams than cells is allowed: the result
    lists the teams that got nothing. Raises `BalancingError` for input that cannot be balanced.
    """
    if not target >= 1.0:
        raise BalancingError(f"目标均衡度不能小于 1（收到 {target}）/ Target balance must be at least 1 (got {target})")
    problem = _Problem(cells, teams, adjacency, locked or {})
    labels = _capacity_kmeans(problem, np.random.default_rng(seed))
    search = _LocalSearch(problem, labels)
    search.repair()
    search.run(target)
    return _figures(problem, search.labels, target)


def assignment_figures(
    *,
    cells: Sequence[CellWorkload],
    teams: Sequence[TeamCapacity],
    assignment: Mapping[Hashable, Hashable],
    adjacency: Iterable[tuple[Hashable, Hashable]] = (),
    target: float = 1.15,
) -> BalanceResult:
    """The figures of `balance_cells` for an assignment made elsewhere (by hand, last round), for comparison."""
    problem = _Problem(cells, teams, adjacency, {})
    missing = [c.id for c in cells if c.id not in assignment]
    if missing:
        raise BalancingError(
            f"有 {len(missing)} 个网格未分配 / {len(missing)} cells are not assigned, e.g. {missing[0]!r}")
    labels = np.array([problem.team_index(assignment[c.id]) for c in cells], dtype=np.int64)
    return _figures(problem, labels, target)


def _figures(p: _Problem, labels: np.ndarray, target: float) -> BalanceResult:
    k = len(p.team_ids)
    load = np.bincount(labels, p.workload, minlength=k)
    count = np.bincount(labels, minlength=k)
    mass = np.bincount(labels, p.geo_weight, minlength=k)
    centre = np.column_stack([np.bincount(labels, p.geo_weight * p.xy[:, d], minlength=k) for d in (0, 1)])
    centre /= np.maximum(mass, 1e-300)[:, None]
    dist = np.sqrt(((p.xy - centre[labels]) ** 2).sum(axis=1))
    spread = np.bincount(labels, dist, minlength=k) / np.maximum(count, 1)
    teams, disconnected = {}, []
    for t, tid in enumerate(p.team_ids):
        connected = len(_components(set(np.flatnonzero(labels == t).tolist()), p.neighbours)) <= 1
        if not connected:
            disconnected.append(tid)
        teams[tid] = TeamLoad(
            team_id=tid, capacity=float(p.capacity[t]), workload=int(round(load[t])), fair_share=float(p.fair_share[t]),
            ratio=float(load[t] / p.share[t]) if p.total else 1.0, cells=int(count[t]), spread_m=float(spread[t]),
            connected=connected,
        )
    balance = _balance(load, p.share)
    return BalanceResult(
        assignment={cid: p.team_ids[t] for cid, t in zip(p.cell_ids, labels.tolist(), strict=True)},
        teams=teams,
        balance=balance,
        compactness_m=float(dist.mean()),
        disconnected_teams=tuple(disconnected),
        empty_teams=tuple(tid for t, tid in enumerate(p.team_ids) if count[t] == 0),
        target_reached=balance <= target,
    )
