"""Each household's state in a round, kept up to date incrementally from its visits: what the walk lists, the pull
and the household lists read (coverage's figures are computed from the visits themselves, by the same rules).

The rules are those of campaigns.selectors.household_states, computed in numpy by server/visits/compute.py
(uncorrected visits only; the latest outcome by effective time; reached if any visit reached it; settled if any
visit's outcome does not send it back; reached_at is the effective time of the first reaching visit). After every
accepted push the touched households are refreshed (after commit: inline without a broker, through the queue and
`household_round_states_drain` with one); `household_round_states_rebuild` recomputes all and writes only the rows
that differ.
"""

from __future__ import annotations

import numpy as np
from django.db import connection, models, transaction

from server.common.columns import NULL, TIME, nullable
from server.common.sql import commit_async, in_ids


class HouseholdRoundState(models.Model):
    # Every push rewrites these rows, so every index costs it (a row updated off its page writes an entry in each).
    # Three indexes: the primary key, the (household, round) constraint, which serves the look-ups by household too,
    # and (round, cell) for a cell's states; nothing looks states up by outcome or by cell alone (deleting an outcome
    # code or a grid cell scans them once). With the table's
    # fillfactor (migration 0007) an update that changes no indexed column stays on its page (HOT) and writes no
    # index entry at all. No foreign-key constraints in the database (migration 0008): the rows are derived from the
    # visits, which hold the constraints, and their deferred checks ran at each refresh's commit, a lookup and a row
    # lock of the household, round, cell and outcome per row (16 ms of a 500-household refresh at city scale).
    # Django's on_delete still deletes a household's or round's states and clears a cell or outcome.
    round = models.ForeignKey("campaigns.Round", on_delete=models.CASCADE, related_name="+", db_index=False,
                              db_constraint=False)
    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="+", db_index=False,
                                  db_constraint=False)
    cell = models.ForeignKey("territory.GridCell", null=True, on_delete=models.SET_NULL, related_name="+",
                             db_index=False, db_constraint=False)
    outcome = models.ForeignKey("campaigns.OutcomeCode", null=True, on_delete=models.SET_NULL, related_name="+",
                                db_index=False, db_constraint=False)
    reached = models.BooleanField(default=False)
    settled = models.BooleanField(default=False)
    visits = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)
    app_installed = models.BooleanField(default=False)
    last_visit_at = models.DateTimeField(null=True)
    # Effective time (server/visits/timing.py) of the first uncorrected visit that reached the household.
    reached_at = models.DateTimeField(null=True)

    class Meta:
        app_label = "visits"
        verbose_name = "住户本轮状态"
        verbose_name_plural = "住户本轮状态 household round states"
        # (household, round): also serves the look-ups by household (a household's deletion, the household lists)
        constraints = [models.UniqueConstraint(fields=["household", "round"], name="one_state_per_household_round")]
        indexes = [models.Index(fields=["round", "cell"])]

    def __str__(self) -> str:
        return f"{self.household_id}@{self.round_id}"


class StateQueue(models.Model):
    """A household whose state in a round is behind its visits: queued by a push when a broker is configured,
    worked off by `household_round_states_drain`, which refreshes many households in one statement, so a burst of
    single-visit pushes costs one refresh a second instead of a Celery message and a refresh each."""

    round = models.ForeignKey("campaigns.Round", on_delete=models.CASCADE, related_name="+", db_index=False)
    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="+", db_index=False)
    seq = models.PositiveBigIntegerField(default=0, help_text="bumped by every push queued meanwhile")
    queued_at = models.DateTimeField()

    class Meta:
        app_label = "visits"
        verbose_name = "待刷新住户"
        verbose_name_plural = "待刷新住户 households waiting for a state refresh"
        constraints = [models.UniqueConstraint(fields=["round", "household"], name="statequeue_once")]

    def __str__(self) -> str:
        return f"{self.household_id}@{self.round_id}"


_TABLE = "visits_householdroundstate"


def _state_columns(states, cells: np.ndarray) -> list:
    """The columns of these states (server/visits/compute.py) as rows of the states table."""
    from server.common.columns import model_columns

    return model_columns(
        HouseholdRoundState, round=states.round, household=states.household, cell=cells, outcome=states.outcome,
        reached=states.reached, settled=states.settled, visits=states.visits, flagged=states.flagged,
        app_installed=states.app, last_visit_at=states.last_visit_at, reached_at=states.reached_at)


@transaction.atomic(savepoint=False)
def household_round_states_refresh(*, round_id: int, household_ids: list[int]) -> int:
    """Recompute the state rows of these households in the round from their visits; returns rows written.

    Takes the locks of server/visits/locks.py first. A household whose visits no longer count (none left, or all
    corrected) loses its state row. Three round trips: the locks (which also give the households' cells), one read
    (the visits, the round's outcome codes and opening), one write."""
    from server.common.columns import Col, Query, queries_read
    from server.visits.compute import effective_times, states_compute
    from server.visits.locks import households_lock
    from server.visits.selectors import outcomes_of, outcomes_query, visits_of, visits_queries
    from server.visits.timing import clock_skew_seconds

    ids = sorted({int(h) for h in household_ids})
    if not ids:
        return 0
    if connection.vendor != "postgresql":
        commit_async()
    cell_of = households_lock(household_ids=ids)
    round_sql = ("SELECT campaign_id FROM campaigns_round WHERE id = %s", [round_id])
    every, corrected, outcomes, opened = queries_read([
        *visits_queries(rounds=[round_id], households=ids), outcomes_query(campaign_sql=round_sql),
        Query([Col(nullable("r.opened_at", TIME), TIME)], "FROM campaigns_round r WHERE r.id = %s", [round_id])],
        prepare=True)
    visits = visits_of(every, corrected)
    opened_at = int(opened[0][0]) if len(opened[0]) and opened[0][0] != NULL else None
    effective = effective_times(visits, opened={round_id: opened_at}, skew_us=clock_skew_seconds() * 1_000_000)
    states = states_compute(visits, effective, outcomes_of(outcomes))
    state_cells = np.array([cell_of.get(h) or NULL for h in states.household.tolist()], dtype=np.int64)
    gone = sorted(set(ids) - set(states.household.tolist()))
    _states_write(round_id, _state_columns(states, state_cells), gone)
    return len(states)


def _states_write(round_id: int, columns: list, gone: list[int]) -> None:
    """Upsert these states and delete the rows of the households that lost theirs (one statement on
    PostgreSQL: the deleted and the upserted rows are different households)."""
    from server.common.columns import _pg_execute, _unnest, rows_upsert

    if connection.vendor != "postgresql":
        rows_upsert(_TABLE, ["household_id", "round_id"], columns)
        if gone:
            where, params = in_ids("household_id", gone)
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {_TABLE} WHERE round_id = %s AND {where}", [round_id, *params])
        return
    n = len(columns[0].values)
    names = [c.name for c in columns]
    update = ", ".join(f"{c} = excluded.{c}" for c in names if c not in ("household_id", "round_id"))
    sql, params = _unnest(columns, n) if n else ("SELECT * FROM (VALUES (1)) x WHERE false", [])
    _pg_execute(f"WITH gone AS (DELETE FROM {_TABLE} WHERE round_id = %s AND household_id = ANY(%s::bigint[])) "
                f"INSERT INTO {_TABLE} ({', '.join(names)}) {sql} "
                f"ON CONFLICT (household_id, round_id) DO UPDATE SET {update}", [round_id, gone, *params],
                prepare=True)


@transaction.atomic
def household_round_states_rebuild(*, round_id: int | None = None) -> int:
    """Recompute every state row (of one round, or of all rounds) from the visits; returns the number of states.

    Keeps refreshes out meanwhile (server/visits/locks.py). Sends no signal: whoever rebuilds recomputes what
    depends on the states (coverage's recompute reads the visits once for both)."""
    from server.common.columns import changes_write, queries_read
    from server.registry.columns import household_cells, households_query
    from server.visits.compute import states_compute
    from server.visits.locks import everything_lock
    from server.visits.selectors import outcomes_all, visit_effective_times, visits_of, visits_queries

    everything_lock()
    rounds = None if round_id is None else [round_id]
    every, corrected, households, stored = queries_read([*visits_queries(rounds=rounds), households_query(cells=None),
                                                         states_stored_query(rounds=rounds)])
    visits = visits_of(every, corrected)
    states = states_compute(visits, visit_effective_times(visits, rounds), outcomes_all())
    households = household_cells(households)
    changes_write([household_round_states_diff(states=states, households=households, stored=stored)])
    return len(states)


_COMPARED = ("cell_id", "outcome_id", "reached", "settled", "visits", "flagged", "app_installed", "last_visit_at",
             "reached_at")


def states_stored_query(*, rounds: list[int] | None):
    """The stored states (of these rounds, or all): id, round, household and every derived field (NULL as NULL),
    packed by twos on PostgreSQL."""
    from server.common.columns import TIME, Col, Query, nullable

    where, params = ("", []) if rounds is None else in_ids("round_id", rounds)
    flag = "CASE WHEN {} THEN 1 ELSE 0 END".format
    return Query([Col("id"), Col("round_id", bits=31, bound="campaigns_round"),
                  Col("household_id", bits=31, bound="registry_household"),
                  Col("COALESCE(cell_id, 0)", bits=31, bound="territory_gridcell"),
                  Col("COALESCE(outcome_id, 0)", bits=31, bound="campaigns_outcomecode"),
                  Col(flag("reached"), bits=1), Col(flag("settled"), bits=1), Col("visits", bits=30),
                  Col("flagged", bits=30), Col(flag("app_installed"), bits=1),
                  Col(nullable("last_visit_at", TIME), TIME), Col(nullable("reached_at", TIME), TIME)],
                 f"FROM {_TABLE} {'WHERE ' + where if where else ''}", params)


def states_stored(columns: list[np.ndarray]) -> list[np.ndarray]:
    """states_stored_query's columns with NULL for the cell or outcome read as 0."""
    out = list(columns)
    for i in (3, 4):
        out[i] = np.where(out[i] == 0, NULL, out[i])
    return out


def household_round_states_diff(*, states, households: list[np.ndarray], stored: list[np.ndarray],
                                only_rounds: list[int] | None = None):
    """The changes that make the stored state rows equal to these states (server/visits/compute.py, computed from
    every uncorrected visit, or from those of `only_rounds`, the rounds of the stored rows read).
    `households`: ids ascending and their cells (NULL: none), as read; `stored`: states_stored_query's columns.

    Only rows that differ are written: a nightly rebuild at city scale (1.46 M rows, nearly all unchanged) costs
    reading and comparing, not 1.46 M writes, and leaves no dead rows behind."""
    from server.common.columns import rows_diff
    from server.common.groups import Lookup

    if only_rounds is not None:
        mine = np.isin(states.round, np.array(only_rounds, dtype=np.int64))
        states = type(states)(*(getattr(states, f)[mine] for f in states.__dataclass_fields__))
    position = Lookup(households[0]).find(states.household)
    state_cells = np.where(position >= 0, households[1][np.maximum(position, 0)], NULL) if len(households[0]) \
        else np.full(len(states), NULL)
    return rows_diff(_TABLE, computed=_state_columns(states, state_cells), key=["round_id", "household_id"],
                     compared=list(_COMPARED), stored=states_stored(stored))


STATES_DRAIN_DELAY_S = 1.0


def household_round_states_schedule(*, round_households: dict[int, set[int]]) -> None:
    """Have these households' states (round id → household ids) refreshed once the current transaction commits.

    Without a broker: right after the commit, inline. With one: the households are queued (`StateQueue`, in this
    transaction) and `household_round_states_drain` runs within a second or so (server/common/soon.py)."""
    from server.common import workqueue
    from server.visits.tasks import household_round_states_refresh as task

    for round_id, ids in round_households.items():
        if not ids:
            continue
        ids = sorted(ids)
        if task.app.conf.task_always_eager:
            transaction.on_commit(lambda r=round_id, i=ids: task(round_id=r, household_ids=i))  # inline
        else:
            workqueue.pairs_queue(table="visits_statequeue", column="household_id", round_id=round_id, ids=ids)
            transaction.on_commit(_drain_soon)


def _drain_soon() -> None:
    from server.common.soon import task_soon
    from server.visits.tasks import household_round_states_drain as task

    task_soon(task, key="visits-states-drain", delay=STATES_DRAIN_DELAY_S)


def household_round_states_drain(*, batch: int = 2000, passes: int = 50) -> int:
    """Refresh the states of the queued households, `batch` a transaction; returns the rows worked off.
    One drainer at a time (server/visits/locks.py)."""
    from server.common import workqueue
    from server.visits.locks import drainer_lock

    def work(queued):
        for round_id, ids in workqueue.by_round(queued).items():
            household_round_states_refresh(round_id=round_id, household_ids=ids)

    return workqueue.queue_drain(table="visits_statequeue", column="household_id",
                                 lock=lambda: drainer_lock(wait=False), work=work, batch=batch, passes=passes)
