"""The household round states computed from visit columns (numpy): one function for a push's few households and
for every visit of the city, so the refresh after a push and the nightly rebuild cannot disagree.

The rules (those of campaigns.selectors.household_states and docs/coverage.md): only uncorrected visits count (the
reader leaves the corrected ones out); the latest outcome is that of the visit with the latest effective time
(server/visits/timing.py), ties broken by the later receipt, then by the larger outcome id, so the choice never
depends on the order rows come in; reached if any visit reached the household; settled if any visit's outcome does
not send it back; reached_at is the effective time of the first reaching visit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from server.common.columns import NULL
from server.common.groups import Groups

KIND_OTHER, KIND_NOBODY_HOME, KIND_REFUSED, KIND_VACANT = 0, 1, 2, 3
_KINDS = {"nobody_home": KIND_NOBODY_HOME, "refused": KIND_REFUSED, "vacant": KIND_VACANT}
DAY_US = 86_400_000_000
LOCAL_OFFSET_US = 8 * 3_600_000_000  # Asia/Shanghai, no daylight saving time since 1991 (server/visits/timing.py)


@dataclass
class VisitColumns:
    """Uncorrected visits, one entry per visit (int64 columns; times in µs since the Unix epoch)."""

    household: np.ndarray
    round: np.ndarray
    worker: np.ndarray
    outcome: np.ndarray
    flagged: np.ndarray  # 0/1: GPS far, inaccurate or mocked, or a device clock far off
    app: np.ndarray  # 0/1: the anti-fraud app installed
    captured: np.ndarray
    received: np.ndarray

    def __len__(self) -> int:
        return len(self.household)

    def take(self, rows: np.ndarray) -> VisitColumns:
        return VisitColumns(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))


@dataclass
class Outcomes:
    """Outcome codes, by id (sorted): reached, sends back (revisit), takes the household out of the base
    (excluded), and which of the counted codes it is (KIND_*)."""

    ids: np.ndarray
    reached: np.ndarray
    revisit: np.ndarray
    excluded: np.ndarray
    kind: np.ndarray

    @classmethod
    def of(cls, rows: list[tuple[int, str, bool, bool, bool]]) -> Outcomes:
        """From (id, code, reached, revisit, excluded) rows."""
        rows = sorted(rows)
        column = (lambda i: np.array([r[i] for r in rows], dtype=np.int64)) if rows else (
            lambda i: np.zeros(0, np.int64))
        return cls(ids=column(0), reached=column(2), revisit=column(3), excluded=column(4),
                   kind=np.array([_KINDS.get(r[1], KIND_OTHER) for r in rows], dtype=np.int64))

    def position(self, outcome_ids: np.ndarray) -> np.ndarray:
        """Each outcome id's position in these columns (every id must be known)."""
        position = np.searchsorted(self.ids, outcome_ids)
        if len(outcome_ids) and (position.max() >= len(self.ids) or (self.ids[position] != outcome_ids).any()):
            raise ValueError("a visit's outcome code is unknown")
        return position


def effective_times(visits: VisitColumns, *, opened: dict[int, int | None], skew_us: int) -> np.ndarray:
    """Each visit's effective time: the device time unless it is later than the receipt or earlier than the round's
    opening, beyond the allowed skew; then the receive time (server/visits/timing.py). `opened`: round id → µs
    (None: the round has no opening time, no lower bound)."""
    rounds = np.array(sorted(opened), dtype=np.int64)
    lower = np.array([NULL if opened[r] is None else opened[r] - skew_us for r in rounds.tolist()], dtype=np.int64)
    floor = lower[np.searchsorted(rounds, visits.round)] if len(rounds) else np.full(len(visits), NULL)
    impossible = (visits.captured > visits.received + skew_us) | ((floor != NULL) & (visits.captured < floor))
    return np.where(impossible, visits.received, visits.captured)


def local_days(times_us: np.ndarray) -> np.ndarray:
    """Asia/Shanghai calendar days (days since 1970-01-01) of UTC times in µs."""
    return (times_us + LOCAL_OFFSET_US) // DAY_US


@dataclass
class StateColumns:
    """One entry per (round, household) with at least one uncorrected visit."""

    round: np.ndarray
    household: np.ndarray
    outcome: np.ndarray  # the latest visit's
    reached: np.ndarray
    settled: np.ndarray
    visits: np.ndarray
    flagged: np.ndarray
    app: np.ndarray
    last_visit_at: np.ndarray  # the latest device time
    reached_at: np.ndarray  # effective time of the first reaching visit, NULL if none reached

    def __len__(self) -> int:
        return len(self.household)


def states_compute(visits: VisitColumns, effective: np.ndarray, outcomes: Outcomes) -> StateColumns:
    """The state of every (round, household) these visits belong to."""
    groups = Groups([visits.round, visits.household])
    position = outcomes.position(visits.outcome)
    reached = outcomes.reached[position]
    latest = groups.argmax_last(effective, visits.received, visits.outcome)
    first_reach = np.where(reached == 1, effective, np.iinfo(np.int64).max)
    reached_at = groups.min(first_reach)
    return StateColumns(
        round=groups.keys[0], household=groups.keys[1], outcome=visits.outcome[latest],
        reached=groups.max(reached), settled=groups.max(1 - outcomes.revisit[position]),
        visits=groups.counts(), flagged=groups.sum(visits.flagged), app=groups.max(visits.app),
        last_visit_at=groups.max(visits.captured),
        reached_at=np.where(reached_at == np.iinfo(np.int64).max, NULL, reached_at),
    )

