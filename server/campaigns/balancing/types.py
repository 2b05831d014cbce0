"""Inputs, outputs, errors and tuning constants of the cell balancer."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8
KNN_FALLBACK = 4  # nearest cells linked to a cell that the adjacency list leaves without neighbours
SPARSE_DEGREE = 3  # fewer touching neighbours per cell on average than this: the list is partial, add nearest cells
CANDIDATE_TEAMS = 24  # in step 1 a cell only considers this many nearest team centres
COMPACTNESS_WEIGHT = 0.004  # tie-break weight of (Δ squared distance / team area) against Δ Σ (ratio − 1)²


class BalancingError(ValueError):
    """The cells or teams cannot be balanced as given; the message says why, in Chinese and English."""


@dataclass(frozen=True)
class CellWorkload:
    """A grid cell to assign: `centroid` is (lon, lat) in WGS-84 degrees, `workload` the households to visit."""

    id: Hashable
    centroid: tuple[float, float]
    workload: int


@dataclass(frozen=True)
class TeamCapacity:
    """A team and what it can do in the round: workers × households a day × days (any positive number)."""

    id: Hashable
    capacity: float


@dataclass(frozen=True)
class TeamLoad:
    """One team's figures. `ratio` = workload / fair share, fair share = total workload × capacity / Σ capacity;
    `spread_m` = mean distance from its cells to its workload-weighted centre."""

    team_id: Hashable
    capacity: float
    workload: int
    fair_share: float
    ratio: float
    cells: int
    spread_m: float
    connected: bool


@dataclass(frozen=True)
class BalanceResult:
    """`assignment` maps every cell id to a team id. `balance` = max ratio / min ratio over all teams (1.0 is
    perfect, infinite when a team got no work); `compactness_m` = mean distance from a cell to its team's centre;
    `disconnected_teams` hold cells that are not one connected piece; `empty_teams` got no cell at all."""

    assignment: dict[Hashable, Hashable]
    teams: dict[Hashable, TeamLoad]
    balance: float
    compactness_m: float
    disconnected_teams: tuple[Hashable, ...]
    empty_teams: tuple[Hashable, ...]
    target_reached: bool
