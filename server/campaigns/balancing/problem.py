"""The balancing problem in arrays: projected centroids, workloads, capacities, the neighbour graph."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from server.campaigns.balancing.types import EARTH_RADIUS_M, KNN_FALLBACK, SPARSE_DEGREE, BalancingError


class _Problem:
    """Validated input as arrays: cell positions in local metres, workloads, fair shares, neighbour lists."""

    def __init__(self, cells, teams, adjacency, locked):
        if not teams:
            raise BalancingError("没有可分配的队伍，请先建立队伍 / No teams to assign cells to; create teams first")
        if not cells:
            raise BalancingError("本轮没有需要分配的网格 / No grid cells to assign in this round")
        self.team_ids, self.cell_ids = [t.id for t in teams], [c.id for c in cells]
        self._team_pos = {tid: i for i, tid in enumerate(self.team_ids)}
        cell_pos = {cid: i for i, cid in enumerate(self.cell_ids)}
        if len(self._team_pos) != len(teams) or len(cell_pos) != len(cells):
            raise BalancingError("队伍或网格编号重复 / Duplicate team or cell ids")
        for t in teams:
            try:
                ok = math.isfinite(float(t.capacity)) and float(t.capacity) > 0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise BalancingError(
                    f"队伍 {t.id!r} 的工作能力必须为正数（收到 {t.capacity!r}），请检查人数和天数 / "
                    f"Team {t.id!r} needs a positive capacity (got {t.capacity!r}); check its workers and days"
                )
        for c in cells:
            if not c.workload >= 0:
                raise BalancingError(f"网格 {c.id!r} 的户数为负 / Cell {c.id!r} has a negative workload")
        self.capacity = np.array([float(t.capacity) for t in teams])
        self.workload = np.array([float(c.workload) for c in cells])
        self.total = float(self.workload.sum())
        self.fair_share = self.total * self.capacity / self.capacity.sum()
        self.share = np.maximum(self.fair_share, 1e-9)  # safe divisor when nothing is to be done
        # Used for centres only: a small floor so zero-workload cells still pull their team's centre.
        self.geo_weight = self.workload + 1e-3 * max(self.total / len(cells), 1.0)
        lonlat = np.array([c.centroid if c.centroid is not None else (np.nan, np.nan) for c in cells], dtype=float)
        if not np.isfinite(lonlat).all():
            bad = cells[int(np.flatnonzero(~np.isfinite(lonlat).all(axis=1))[0])].id
            raise BalancingError(f"网格 {bad!r} 没有中心点坐标 / Cell {bad!r} has no centroid")
        self.xy = _project(lonlat)
        span = self.xy.max(axis=0) - self.xy.min(axis=0)
        self.team_area = max(float(span[0] * span[1]), float(span.max()) ** 2 / 4, 1.0) / len(teams)
        self.locked = np.full(len(cells), -1, dtype=np.int64)
        for cid, tid in locked.items():
            if cid not in cell_pos:
                raise BalancingError(f"锁定的网格 {cid!r} 不在本轮 / Locked cell {cid!r} is not in this round")
            self.locked[cell_pos[cid]] = self.team_index(tid)
        self.neighbours = self._neighbour_lists(adjacency, cell_pos)

    def team_index(self, team_id) -> int:
        if team_id not in self._team_pos:
            raise BalancingError(f"未知队伍 {team_id!r} / Unknown team {team_id!r}")
        return self._team_pos[team_id]

    def _neighbour_lists(self, adjacency, cell_pos) -> list[list[int]]:
        n = len(self.cell_ids)
        sets = [set() for _ in range(n)]
        for a, b in adjacency:
            i, j = cell_pos.get(a), cell_pos.get(b)
            if i is not None and j is not None and i != j:
                sets[i].add(j)
                sets[j].add(i)
        lonely = [i for i in range(n) if not sets[i]]
        if sum(len(x) for x in sets) < SPARSE_DEGREE * n:
            lonely = list(range(n))  # too few pairs to be a full tiling: every cell also gets its nearest cells
        if lonely:
            nearest = _nearest(self.xy[lonely], self.xy, min(KNN_FALLBACK + 1, n))
            for i, row in zip(lonely, nearest.tolist(), strict=True):
                for j in row:
                    if j != i:
                        sets[i].add(j)
                        sets[j].add(i)
        # Islands (a kNN cluster, cells across a river) are joined to the rest by their shortest gap, so that
        # "contiguous" stays achievable: a walk across a bridge is still a walk.
        pieces = _components(set(range(n)), sets)
        main = np.array(sorted(pieces[0]))
        for piece in pieces[1:]:
            part = np.array(sorted(piece))
            near = _nearest(self.xy[part], self.xy[main], 1)[:, 0]
            i = int(np.argmin(((self.xy[part] - self.xy[main[near]]) ** 2).sum(axis=1)))
            a, b = int(part[i]), int(main[near[i]])
            sets[a].add(b)
            sets[b].add(a)
            main = np.concatenate((main, part))
        return [sorted(s) for s in sets]


def _nearest(points: np.ndarray, among: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k nearest of `among` for each point, nearest first, in blocks to bound memory."""
    out = np.empty((len(points), k), dtype=np.int64)
    block = max(1, 2_000_000 // len(among))
    for s in range(0, len(points), block):
        p = points[s:s + block]
        d2 = (p[:, 0, None] - among[None, :, 0]) ** 2 + (p[:, 1, None] - among[None, :, 1]) ** 2
        out[s:s + block] = np.argsort(d2, axis=1, kind="stable")[:, :k]
    return out


def _project(lonlat: np.ndarray) -> np.ndarray:
    """Equirectangular projection around the mean latitude: metre-accurate at the scale of a district."""
    lat0 = math.radians(float(lonlat[:, 1].mean()))
    rad = np.radians(lonlat)
    return np.column_stack((EARTH_RADIUS_M * math.cos(lat0) * rad[:, 0], EARTH_RADIUS_M * rad[:, 1]))


def _components(members: set[int], neighbours) -> list[set[int]]:
    """Connected pieces of a set of cells, largest first (ties: lowest cell index first)."""
    left, pieces = set(members), []
    for start in sorted(members):
        if start in left:
            piece, queue = {start}, deque([start])
            left.discard(start)
            while queue:
                for nb in neighbours[queue.popleft()]:
                    if nb in left:
                        left.discard(nb)
                        piece.add(nb)
                        queue.append(nb)
            pieces.append(piece)
    pieces.sort(key=lambda s: (-len(s), min(s)))
    return pieces


def _balance(load: np.ndarray, share: np.ndarray) -> float:
    if float(load.sum()) == 0:
        return 1.0
    ratio = load / share
    low = float(ratio.min())
    return float(ratio.max()) / low if low > 0 else math.inf
