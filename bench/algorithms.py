"""Micro-benchmark of the pure planning algorithms (no database): cell balancing and walking order.

    .venv/bin/python bench/algorithms.py [--repeat 3]

Balancing: a jittered grid of ~250 m cells (workloads 200–500) to teams of equal and of unequal capacity (1:1.5:2:3),
600 cells × 40 teams and 5,000 cells × 300 teams. Walking order: 500 and 800 random points in a 500 m cell, the
2-opt time, the whole `walk_order` call, and the 2-opt length relative to the plain nearest-neighbour tour.
Times are the best of --repeat runs. The last line printed is one JSON object of figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.campaigns.balancing import CellWorkload, TeamCapacity, balance_cells  # noqa: E402
from server.campaigns.walk_order import (  # noqa: E402
    HouseholdAddress,
    nearest_neighbour,
    path_length,
    two_opt,
    walk_order,
)


def grid(nx: int, ny: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    dlat = 250.0 / 111_195.0
    dlon = dlat / np.cos(np.radians(22.54))
    cells, adjacency = [], []
    for iy in range(ny):
        for ix in range(nx):
            jx, jy = rng.uniform(-0.3, 0.3, 2)
            cells.append(CellWorkload(f"{iy}-{ix}", (114.05 + (ix + jx) * dlon, 22.54 + (iy + jy) * dlat),
                                      int(rng.integers(200, 501))))
            if ix:
                adjacency.append((f"{iy}-{ix}", f"{iy}-{ix - 1}"))
            if iy:
                adjacency.append((f"{iy}-{ix}", f"{iy - 1}-{ix}"))
    return cells, adjacency


def bench_balancing(nx: int, ny: int, k: int, capacities: list[float], repeat: int) -> dict:
    cells, adjacency = grid(nx, ny)
    teams = [TeamCapacity(i, capacities[i % len(capacities)]) for i in range(k)]
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = balance_cells(cells=cells, teams=teams, adjacency=adjacency, seed=0)
        best = min(best, time.perf_counter() - t0)
    return {"s": round(best, 3), "balance": round(result.balance, 4), "compactness_m": round(result.compactness_m, 1),
            "disconnected": len(result.disconnected_teams), "empty": len(result.empty_teams)}


def bench_walk(n: int, repeat: int) -> dict:
    xy = np.random.default_rng(n).uniform(0, 500, (n, 2))
    dist = np.hypot(xy[:, 0, None] - xy[None, :, 0], xy[:, 1, None] - xy[None, :, 1])
    greedy = nearest_neighbour(dist, 0)
    best, tour = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        tour = two_opt(dist, greedy)
        best = min(best, time.perf_counter() - t0)
    # The whole call on households without building numbers: projection, distances, tour.
    households = [HouseholdAddress(id=i, lon=114.05 + x / 102_800, lat=22.54 + y / 111_195) for i, (x, y) in
                  enumerate(xy.tolist())]
    total = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        walk_order(households=households)
        total = min(total, time.perf_counter() - t0)
    return {"two_opt_ms": round(best * 1000, 1), "walk_order_ms": round(total * 1000, 1),
            "vs_nearest_neighbour": round(path_length(xy, tour) / path_length(xy, greedy), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    figures = {}
    for name, (nx, ny, k) in {"600x40": (25, 24, 40), "5000x300": (100, 50, 300)}.items():
        for label, caps in {"equal": [1.0], "unequal": [2.0, 3.0, 4.0, 6.0]}.items():
            figures[f"balance_{name}_{label}"] = row = bench_balancing(nx, ny, k, caps, args.repeat)
            print(f"balance {name:>8} {label:>7}: {row}")
    for n in (500, 800):
        figures[f"walk_{n}"] = row = bench_walk(n, args.repeat)
        print(f"walk order {n}: {row}")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
