"""Step 1: capacity-constrained k-means (power diagram with prices tuned by Newton steps)."""

from __future__ import annotations

import math

import numpy as np

from server.campaigns.balancing.problem import _Problem
from server.campaigns.balancing.types import CANDIDATE_TEAMS


def _seed_centres(p: _Problem, rng: np.random.Generator) -> np.ndarray:
    """k-means++ on workload-weighted centroids; a team holding locked cells starts at their centre."""
    k = len(p.team_ids)
    centres = np.zeros((k, 2))
    seeded = np.zeros(k, dtype=bool)
    for t in np.unique(p.locked[p.locked >= 0]):
        mine = p.locked == t
        centres[t] = np.average(p.xy[mine], axis=0, weights=p.geo_weight[mine])
        seeded[t] = True
    d2 = np.full(len(p.xy), np.inf)
    for t in np.flatnonzero(seeded):
        d2 = np.minimum(d2, ((p.xy - centres[t]) ** 2).sum(axis=1))
    for t in np.flatnonzero(~seeded):
        mass = p.geo_weight if np.isinf(d2).all() else p.geo_weight * d2
        pick = int(rng.choice(len(mass), p=mass / mass.sum())) if mass.sum() > 0 else int(rng.integers(len(mass)))
        centres[t] = p.xy[pick]
        d2 = np.minimum(d2, ((p.xy - centres[t]) ** 2).sum(axis=1))
    return centres


def _capacity_kmeans(p: _Problem, rng: np.random.Generator, rounds: int = 6, newton_steps: int = 10) -> np.ndarray:
    """Lloyd iterations whose assignment step is a capacity-balancing power diagram."""
    k = len(p.team_ids)
    centres = _seed_centres(p, rng)
    labels = p.locked.copy()
    if (labels >= 0).all():
        return labels
    diagram = _PowerDiagram(p)
    prices = np.zeros(k)
    for _ in range(rounds):
        previous = labels
        labels, prices = diagram.balance(centres, prices, newton_steps)
        if np.array_equal(labels, previous):
            break
        mass = np.bincount(labels, p.geo_weight, minlength=k)
        for d in (0, 1):
            moment = np.bincount(labels, p.geo_weight * p.xy[:, d], minlength=k)
            centres[:, d] = np.where(mass > 0, moment / np.maximum(mass, 1e-300), centres[:, d])
    return labels


class _PowerDiagram:
    """Cells go to the team minimising squared distance − price; prices come from a damped Newton method.

    As in semi-discrete optimal transport (Kitagawa, Mérigot & Thibert 2019), a team's load depends on the price
    differences across its borders. Raising a team's price by Δ moves its border with team j by Δ / (2 d_ij), which
    shifts about (border length in cells) × (mean workload) × Δ / (2 d_ij h) households, h being the cell spacing.
    That gives a weighted Laplacian over the team border graph; solving it for the load errors (conjugate gradients)
    gives the price step, which is halved until the squared load error actually drops.
    """

    def __init__(self, p: _Problem):
        self.p = p
        k = len(p.team_ids)
        pairs = [(i, j) for i, row in enumerate(p.neighbours) for j in row if i < j]
        self.edges = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        gaps = np.sqrt(((p.xy[self.edges[:, 0]] - p.xy[self.edges[:, 1]]) ** 2).sum(axis=1))
        self.spacing = float(gaps.mean()) if gaps.size and gaps.mean() > 0 else math.sqrt(p.team_area)
        self.free = np.flatnonzero(p.locked < 0)
        fixed = p.locked >= 0
        self.fixed_load = np.bincount(p.locked[fixed], p.workload[fixed], minlength=k)
        self.mean_workload = max(float(p.workload.mean()), 1.0)

    def balance(self, centres: np.ndarray, prices: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
        xy, k = self.p.xy[self.free], len(centres)
        d2 = (xy[:, 0, None] - centres[None, :, 0]) ** 2 + (xy[:, 1, None] - centres[None, :, 1]) ** 2
        m = min(k, CANDIDATE_TEAMS)
        cand = np.argpartition(d2, m - 1, axis=1)[:, :m] if m < k else np.broadcast_to(np.arange(k), d2.shape)
        cand_d2 = np.take_along_axis(d2, cand, axis=1)
        # The previous round's prices were made for other centres; start from zero instead when that is better.
        state = min(self._assign(cand, cand_d2, prices), self._assign(cand, cand_d2, np.zeros(k)), key=lambda s: s[0])
        alpha = 1.0
        for _ in range(steps):
            error, labels, load, prices = state
            step = self._newton_step(centres, labels, load)
            alpha = min(1.0, 2 * alpha)
            while alpha > 1e-3:
                trial = self._assign(cand, cand_d2, prices + alpha * step)
                if trial[0] < error:
                    state = trial
                    break
                alpha /= 2
            else:
                break
        return state[1], state[3]

    def _assign(self, cand, cand_d2, prices):
        choice = cand[np.arange(len(cand)), np.argmin(cand_d2 - prices[cand], axis=1)]
        labels = self.p.locked.copy()
        labels[self.free] = choice
        load = self.fixed_load + np.bincount(choice, self.p.workload[self.free], minlength=len(prices))
        return float(np.square(load - self.p.share) @ (1 / self.p.share)), labels, load, prices

    def _newton_step(self, centres, labels, load):
        k = len(centres)
        a, b = labels[self.edges[:, 0]], labels[self.edges[:, 1]]
        cross = a != b
        key, count = np.unique(np.minimum(a, b)[cross] * k + np.maximum(a, b)[cross], return_counts=True)
        ta, tb = key // k, key % k
        dist = np.sqrt(((centres[ta] - centres[tb]) ** 2).sum(axis=1)) + self.spacing
        coupling = count * self.mean_workload / (2 * dist * self.spacing)
        degree = np.bincount(ta, coupling, minlength=k) + np.bincount(tb, coupling, minlength=k)
        diagonal = degree + 1e-3 * max(float(degree.mean()), 1e-12)

        def laplacian(x):
            off = np.bincount(ta, coupling * x[tb], minlength=k) + np.bincount(tb, coupling * x[ta], minlength=k)
            return diagonal * x - off

        step = _conjugate_gradient(laplacian, self.p.share - load, diagonal)
        alone = degree == 0  # no border yet: a plain gradient step
        step[alone] = 0.3 * self.p.team_area * np.clip(1 - load[alone] / self.p.share[alone], -1, 1)
        return step


def _conjugate_gradient(apply, rhs: np.ndarray, diagonal: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """Jacobi-preconditioned CG for the small, sparse, positive definite team Laplacian."""
    x, r = np.zeros_like(rhs), rhs.copy()
    z = r / diagonal
    d, rz = z.copy(), float(r @ z)
    limit = tol * float(np.linalg.norm(rhs))
    for _ in range(4 * len(rhs)):
        if float(np.linalg.norm(r)) <= limit or rz == 0:
            break
        ad = apply(d)
        step = rz / float(d @ ad)
        x += step * d
        r -= step * ad
        z = r / diagonal
        rz, previous = float(r @ z), rz
        d = z + (rz / previous) * d
    return x
