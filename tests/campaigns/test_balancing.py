"""Automatic cell-to-team balancing: even workloads, compact contiguous territories, locks kept, clear errors."""

import random

import numpy as np
import pytest

from server.campaigns.balancing import (
    BalancingError,
    CellWorkload,
    TeamCapacity,
    assignment_figures,
    balance_cells,
)

LAT0, LON0, CELL_M = 22.54, 114.05, 250.0


def jittered_grid(nx=25, ny=24, seed=1, low=200, high=500):
    """nx × ny cells of ~250 m around Shenzhen, centroids jittered, workloads low–high, 4-neighbour adjacency."""
    rng = np.random.default_rng(seed)
    dlat = CELL_M / 111_195.0
    dlon = dlat / np.cos(np.radians(LAT0))
    cells, adjacency = [], []
    for iy in range(ny):
        for ix in range(nx):
            jx, jy = rng.uniform(-0.3, 0.3, 2)
            cells.append(CellWorkload(f"{iy}-{ix}", (LON0 + (ix + jx) * dlon, LAT0 + (iy + jy) * dlat),
                                      int(rng.integers(low, high + 1))))
            if ix:
                adjacency.append((f"{iy}-{ix}", f"{iy}-{ix - 1}"))
            if iy:
                adjacency.append((f"{iy}-{ix}", f"{iy - 1}-{ix}"))
    return cells, adjacency


@pytest.fixture(scope="module")
def city():
    return jittered_grid()


def equal_teams(k, capacity=60.0):
    return [TeamCapacity(f"team-{i}", capacity) for i in range(k)]


def test_600_cells_to_40_equal_teams_are_even_compact_and_contiguous(city):
    cells, adjacency = city
    teams = equal_teams(40)
    result = balance_cells(cells=cells, teams=teams, adjacency=adjacency, seed=0)

    assert set(result.assignment) == {c.id for c in cells}
    assert set(result.assignment.values()) == {t.id for t in teams}
    assert result.balance <= 1.15 and result.target_reached
    assert len(result.disconnected_teams) <= 2
    assert result.empty_teams == ()
    assert sum(t.workload for t in result.teams.values()) == sum(c.workload for c in cells)

    # The same team sizes scattered at random: a territory nobody could walk.
    labels = list(result.assignment.values())
    random.Random(0).shuffle(labels)
    scattered = assignment_figures(cells=cells, teams=teams, adjacency=adjacency,
                                   assignment=dict(zip(result.assignment, labels, strict=True)))
    assert result.compactness_m < scattered.compactness_m / 3
    assert len(scattered.disconnected_teams) > 30


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_balance_holds_for_other_cities_and_seeds(seed):
    cells, adjacency = jittered_grid(seed=seed)
    result = balance_cells(cells=cells, teams=equal_teams(40), adjacency=adjacency, seed=seed)
    assert result.balance <= 1.15
    assert len(result.disconnected_teams) <= 2


def test_unequal_capacities_get_proportional_workloads(city):
    cells, adjacency = city
    teams = [TeamCapacity(f"team-{i}", [30.0, 45.0, 60.0, 90.0][i % 4]) for i in range(40)]
    result = balance_cells(cells=cells, teams=teams, adjacency=adjacency)

    assert result.balance <= 1.15
    assert len(result.disconnected_teams) <= 2
    by_capacity = {}
    for load in result.teams.values():
        by_capacity.setdefault(load.capacity, []).append(load.workload)
    mean = {cap: np.mean(loads) for cap, loads in by_capacity.items()}
    assert 2.6 < mean[90.0] / mean[30.0] < 3.4


def test_a_team_with_double_capacity_gets_about_double_workload(city):
    cells, adjacency = city
    teams = equal_teams(39) + [TeamCapacity("big", 120.0)]
    result = balance_cells(cells=cells, teams=teams, adjacency=adjacency)

    others = np.mean([t.workload for tid, t in result.teams.items() if tid != "big"])
    assert 1.75 < result.teams["big"].workload / others < 2.25
    assert result.balance <= 1.15


def test_locked_cells_stay_with_their_team(city):
    cells, adjacency = city
    teams = equal_teams(40)
    # A manual override: the south-west 3×2 block belongs to team-7, two far cells to team-3.
    locked = {f"{iy}-{ix}": "team-7" for iy in range(2) for ix in range(3)}
    locked.update({"23-24": "team-3", "12-12": "team-3"})
    result = balance_cells(cells=cells, teams=teams, adjacency=adjacency, locked=locked)

    assert all(result.assignment[cell] == team for cell, team in locked.items())
    assert result.balance <= 1.15
    assert "team-7" not in result.disconnected_teams


def test_same_input_and_seed_give_the_same_assignment(city):
    cells, adjacency = city
    first = balance_cells(cells=cells, teams=equal_teams(40), adjacency=adjacency, seed=7)
    again = balance_cells(cells=cells, teams=equal_teams(40), adjacency=adjacency, seed=7)
    assert first.assignment == again.assignment
    assert first.balance == again.balance


def test_without_adjacency_nearest_centroids_stand_in(city):
    cells, _ = city
    result = balance_cells(cells=cells, teams=equal_teams(40))
    assert result.balance <= 1.15
    assert len(result.disconnected_teams) <= 2


def test_5000_cells_to_300_teams():
    cells, adjacency = jittered_grid(nx=100, ny=50, seed=4)
    result = balance_cells(cells=cells, teams=equal_teams(300), adjacency=adjacency)
    assert result.balance <= 1.15
    assert len(result.disconnected_teams) <= 10


def test_more_teams_than_cells_leaves_some_teams_without_cells():
    cells, adjacency = jittered_grid(nx=3, ny=2)
    teams = equal_teams(8)
    result = balance_cells(cells=cells, teams=teams, adjacency=adjacency)

    assert set(result.assignment) == {c.id for c in cells}
    assert len(set(result.assignment.values())) == 6
    assert len(result.empty_teams) == 2
    assert not result.target_reached


def test_cells_on_one_spot_still_spread_over_all_teams():
    cells = [CellWorkload(i, (LON0, LAT0), 100) for i in range(9)]
    result = balance_cells(cells=cells, teams=equal_teams(3))
    assert result.balance == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("teams", "cells", "words"),
    [
        ([], [CellWorkload("a", (LON0, LAT0), 10)], ("队伍", "No teams")),
        ([TeamCapacity("t", 0)], [CellWorkload("a", (LON0, LAT0), 10)], ("工作能力", "positive capacity")),
        ([TeamCapacity("t", -3.0)], [CellWorkload("a", (LON0, LAT0), 10)], ("工作能力", "positive capacity")),
        ([TeamCapacity("t", 1.0)], [], ("网格", "No grid cells")),
    ],
)
def test_impossible_input_is_refused_in_both_languages(teams, cells, words):
    with pytest.raises(BalancingError) as error:
        balance_cells(cells=cells, teams=teams)
    for word in words:
        assert word in str(error.value)


def test_a_lock_naming_an_unknown_team_is_refused(city):
    cells, adjacency = city
    with pytest.raises(BalancingError, match="Unknown team"):
        balance_cells(cells=cells, teams=equal_teams(4), adjacency=adjacency, locked={"0-0": "team-99"})
