"""Steps 2–3: repair of cut-off pieces and local search over the adjacency graph."""

from __future__ import annotations

import numpy as np

from server.campaigns.balancing.problem import _balance, _components, _Problem
from server.campaigns.balancing.types import COMPACTNESS_WEIGHT


class _LocalSearch:
    """Steps 2 and 3: repair, then moves, swaps and chains of boundary cells between adjacent teams."""

    def __init__(self, p: _Problem, labels: np.ndarray):
        self.p, self.labels, self.share = p, labels.copy(), p.share
        k = len(p.team_ids)
        self.load = np.bincount(labels, p.workload, minlength=k).astype(float)
        self.members = [set() for _ in range(k)]
        for c, t in enumerate(labels.tolist()):
            self.members[t].add(c)
        self.mass = np.bincount(labels, p.geo_weight, minlength=k)
        self.moment = np.column_stack([np.bincount(labels, p.geo_weight * p.xy[:, d], minlength=k) for d in (0, 1)])
        self.pieces = [len(_components(m, p.neighbours)) for m in self.members]
        self.free = (p.locked < 0).tolist()
        self.w = p.workload.tolist()

    def repair(self) -> None:
        for t in range(len(self.members)):
            for piece in _components(self.members[t], self.p.neighbours)[1:]:
                around = sorted({int(self.labels[nb]) for c in piece for nb in self.p.neighbours[c]} - {t})
                if around and all(self.free[c] for c in piece):
                    to = min(around, key=lambda j: self.load[j] / self.share[j])
                    self._apply(tuple((c, t, to) for c in sorted(piece)))
        for t in range(len(self.members)):
            if not self.members[t]:
                self._give_empty_team(t)

    def _give_empty_team(self, t: int) -> None:
        for donor in np.argsort(-self.load / self.share, kind="stable").tolist():
            if len(self.members[donor]) > 1:
                centre = self._centre(donor)
                cells = sorted((c for c in self.members[donor] if self.free[c]),
                               key=lambda c: (-float(((self.p.xy[c] - centre) ** 2).sum()), c))
                for c in cells:
                    if self._keeps_pieces(((c, donor, t),)):
                        self._apply(((c, donor, t),))
                        return

    def run(self, target: float, max_rounds: int = 200) -> None:
        tol = (target - 1) / (target + 1)  # every ratio within 1 ± tol ⇒ balance ≤ target
        for _ in range(max_rounds):
            if _balance(self.load, self.share) <= target:
                return
            ratio = self.load / self.share
            order = np.argsort(-np.abs(ratio - 1), kind="stable").tolist()
            applied = sum(self._improve(t) for t in order if abs(ratio[t] - 1) > tol / 2)
            if not applied and not any(self._chain(t) for t in order[:4]):
                return

    def _improve(self, t: int) -> bool:
        """Apply the best single move or swap between team t and one of its neighbours, if any improves."""
        labels, free = self.labels, self.free
        outs: dict[int, set[int]] = {}  # team j → free cells of t touching j
        ins: dict[int, set[int]] = {}  # team j → free cells of j touching t
        for c in self.members[t]:
            for nb in self.p.neighbours[c]:
                j = int(labels[nb])
                if j != t:
                    if free[c]:
                        outs.setdefault(j, set()).add(c)
                    if free[nb]:
                        ins.setdefault(j, set()).add(nb)
        options = []  # (score, tie-break, moves), a move being (cell, from team, to team)
        for j in sorted(set(outs) | set(ins)):
            give, take = sorted(outs.get(j, ())), sorted(ins.get(j, ()))
            plans = [((c, t, j),) for c in give] + [((c, j, t),) for c in take]
            plans += [((a, t, j), (b, j, t)) for a in give for b in take]
            for moves in plans:
                gain = self._delta(t, j, sum(self.w[c] if a == t else -self.w[c] for c, a, _ in moves))
                if gain < 0:
                    pull = sum(self._pull(c, a, b) for c, a, b in moves)
                    options.append((gain + COMPACTNESS_WEIGHT * pull, len(options), moves))
        options.sort()
        for _, _, moves in options[:30]:
            if self._keeps_pieces(moves):
                self._apply(moves)
                return True
        return False

    def _chain(self, t: int, depth: int = 8) -> bool:
        """Pass households along a path of adjacent teams from or to the nearest team of the opposite sign:
        fixes a region whose teams are all over- (or under-) loaded together, where single moves cannot help."""
        ratio = self.load / self.share
        sign = 1.0 if ratio[t] > 1 else -1.0
        parent, rings = {t: t}, [[t]]
        for _ in range(depth):
            rings.append([])
            for i in rings[-2]:
                for j in self._team_neighbours(i):
                    if j not in parent:
                        parent[j] = i
                        rings[-1].append(j)
        ends = [j for ring in rings[1:] for j in sorted(ring, key=lambda j: -sign * ratio[j])
                if sign * (ratio[j] - 1) < 0]
        for end in ends[:6]:
            path = [end]
            while path[-1] != t:
                path.append(parent[path[-1]])
            if self._try_path(path[::-1] if sign > 0 else path):  # households flow from over- to under-loaded
                return True
        return False

    def _try_path(self, path: list[int]) -> bool:
        src, dst = path[0], path[-1]
        es, ed = self.load[src] - self.share[src], self.load[dst] - self.share[dst]
        want = (es * self.share[dst] - ed * self.share[src]) / (self.share[src] + self.share[dst])
        before, done = self._imbalance(), []
        for x, y in zip(path, path[1:], strict=False):
            moved = {c for c, _, _ in done}
            options = sorted(
                (abs(self.w[c] - want) + COMPACTNESS_WEIGHT * self._pull(c, x, y) * self.share[x], c)
                for c in self.members[x]
                if self.free[c] and c not in moved and any(self.labels[nb] == y for nb in self.p.neighbours[c])
            )
            step = next(((c, x, y) for _, c in options[:12] if self._keeps_pieces(((c, x, y),))), None)
            if step is None:
                break
            self._apply((step,))
            done.append(step)
            want = self.w[step[0]]  # what the next team should pass on to stay where it was
        else:
            if self._imbalance() < before - 1e-12:
                return True
        for c, x, y in reversed(done):
            self._apply(((c, y, x),))
        return False

    def _team_neighbours(self, t: int) -> list[int]:
        return sorted({int(self.labels[nb]) for c in self.members[t] for nb in self.p.neighbours[c]} - {t})

    def _imbalance(self) -> float:
        """Σ (ratio − 1)²: every team counts alike, as in the balance figure (max ratio / min ratio)."""
        return float(np.square(self.load / self.share - 1).sum())

    def _delta(self, a: int, b: int, amount: float) -> float:
        """Change of the imbalance when `amount` households go from team a to team b."""
        ra, rb = self.load[a] / self.share[a] - 1, self.load[b] / self.share[b] - 1
        na, nb = ra - amount / self.share[a], rb + amount / self.share[b]
        return na * na - ra * ra + nb * nb - rb * rb

    def _centre(self, t: int) -> np.ndarray:
        return self.moment[t] / self.mass[t] if self.members[t] else np.zeros(2)

    def _pull(self, c: int, a: int, b: int) -> float:
        """How much farther cell c lies from team b's centre than from team a's, relative to a team's area."""
        if not self.members[b]:
            return 0.0
        xy = self.p.xy[c]
        return float(((xy - self._centre(b)) ** 2).sum() - ((xy - self._centre(a)) ** 2).sum()) / self.p.team_area

    def _keeps_pieces(self, moves) -> bool:
        """True when no team involved is emptied or ends up in more pieces than it is in now."""
        after = {}
        for c, a, b in moves:
            after.setdefault(a, set(self.members[a])).discard(c)
            after.setdefault(b, set(self.members[b])).add(c)
        for team, members in after.items():
            if not members:
                return False
            if len(moves) == 1 and team == moves[0][2]:
                continue  # a cell joining a team it touches cannot split it
            if len(_components(members, self.p.neighbours)) > max(self.pieces[team], 1):
                return False
        return True

    def _apply(self, moves) -> None:
        gw, xy = self.p.geo_weight, self.p.xy
        for c, a, b in moves:
            self.labels[c] = b
            self.members[a].discard(c)
            self.members[b].add(c)
            self.load[a] -= self.w[c]
            self.load[b] += self.w[c]
            self.mass[a] -= gw[c]
            self.mass[b] += gw[c]
            self.moment[a] -= gw[c] * xy[c]
            self.moment[b] += gw[c] * xy[c]
        for team in {m[1] for m in moves} | {m[2] for m in moves}:
            self.pieces[team] = len(_components(self.members[team], self.p.neighbours))
