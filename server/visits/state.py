"""Each household's state in a round, kept up to date incrementally from its visits: what coverage reads.

The rules are those of campaigns.selectors.household_states (uncorrected visits only; the latest outcome by device
time; reached if any visit reached it; settled if any visit's outcome does not send it back; reached_at is the
effective time of the first reaching visit). After every accepted push the touched households are refreshed
(after commit, through the Celery task `visits.household_round_states_refresh`, inline without a broker), and the
signal `household_round_states_refreshed` lets coverage refresh its cell figures in the same transaction;
`household_round_states_rebuild` recomputes all.
"""

from __future__ import annotations

from django.db import connection, models, transaction

from server.common.sql import commit_async, in_ids


class HouseholdRoundState(models.Model):
    # Every push rewrites these rows, so every index costs it: the (round, household) constraint serves look-ups by
    # round, and nothing looks states up by outcome (deleting an outcome code scans them once). With the table's
    # fillfactor (migration 0007) an update that changes no indexed column stays on its page (HOT) and writes no
    # index entry at all. No foreign-key constraints in the database (migration 0008): the rows are derived from the
    # visits, which hold the constraints, and their deferred checks ran at each refresh's commit, a lookup and a row
    # lock of the household, round, cell and outcome per row (16 ms of a 500-household refresh at city scale).
    # Django's on_delete still deletes a household's or round's states and clears a cell or outcome.
    round = models.ForeignKey("campaigns.Round", on_delete=models.CASCADE, related_name="+", db_index=False,
                              db_constraint=False)
    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="+",
                                  db_constraint=False)
    cell = models.ForeignKey("territory.GridCell", null=True, on_delete=models.SET_NULL, related_name="+",
                             db_constraint=False)
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
        constraints = [models.UniqueConstraint(fields=["round", "household"], name="one_state_per_household_round")]
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


_FIELDS = ("cell_id", "outcome_id", "reached", "settled", "visits", "flagged", "app_installed", "last_visit_at",
           "reached_at")


def _select(where: str, *, few: bool = False) -> str:
    """One statement computes the states (portable: PostgreSQL and SQLite >= 3.25), so a push of 500 visits
    refreshes its households in milliseconds and a full rebuild is one pass over the visits: a window numbers each
    household's visits latest first (the latest outcome is row 1) instead of a correlated sub-query per household."""
    from server.visits.timing import visit_time_sql

    # A few households: look each visit's correction up (index). Every visit (the full rebuild): hash the few
    # thousand corrected ids once — a NOT EXISTS there walked the visits in UUID order, i.e. at random (6 of 14 s).
    uncorrected = ("NOT EXISTS (SELECT 1 FROM visits_visit c WHERE c.corrects_id = v.id)" if few else
                   "v.id NOT IN (SELECT c.corrects_id FROM visits_visit c WHERE c.corrects_id IS NOT NULL)")
    return f"""
SELECT round_id, household_id, MAX(cell_id) AS cell_id,
  MAX(CASE WHEN k = 1 THEN outcome_id END) AS outcome_id,
  MAX(CASE WHEN reached THEN 1 ELSE 0 END) = 1 AS reached,
  MAX(CASE WHEN revisit THEN 0 ELSE 1 END) = 1 AS settled,
  COUNT(*) AS visits,
  SUM(CASE WHEN flag_far OR flag_inaccurate OR flag_mock OR flag_clock THEN 1 ELSE 0 END) AS flagged,
  MAX(CASE WHEN app_installed THEN 1 ELSE 0 END) = 1 AS app_installed,
  MAX(captured_at) AS last_visit_at,
  MIN(CASE WHEN reached THEN effective_at END) AS reached_at
FROM (
  SELECT v.round_id, v.household_id, h.cell_id, v.outcome_id, o.reached, o.revisit, v.flag_far, v.flag_inaccurate,
    v.flag_mock, v.flag_clock, v.app_installed, v.captured_at, {visit_time_sql(visit="v", round="r")} AS effective_at,
    ROW_NUMBER() OVER (PARTITION BY v.round_id, v.household_id
                       ORDER BY {visit_time_sql(visit="v", round="r")} DESC, v.received_at DESC) AS k
  FROM visits_visit v
  JOIN campaigns_outcomecode o ON o.id = v.outcome_id
  JOIN registry_household h ON h.id = v.household_id
  JOIN campaigns_round r ON r.id = v.round_id
  WHERE {uncorrected} {where}
) x
GROUP BY round_id, household_id
"""


_UPSERT = (
    "INSERT INTO visits_householdroundstate (round_id, household_id, cell_id, outcome_id, reached, settled, visits, "
    "flagged, app_installed, last_visit_at, reached_at) {select} ON CONFLICT (round_id, household_id) DO UPDATE SET "
    + ", ".join(f"{f} = excluded.{f}" for f in _FIELDS)
)


@transaction.atomic(savepoint=False)
def household_round_states_refresh(*, round_id: int, household_ids: list[int]) -> int:
    """Recompute the state rows of these households in the round from their visits; returns rows written.

    Takes the cell locks of server/visits/locks.py first, then tells `household_round_states_refreshed`'s
    receivers (coverage) in the same transaction, so derived figures never run ahead of or behind the states. A
    household whose visits no longer count (none left, or all corrected) loses its state row."""
    from server.visits.locks import cells_lock
    from server.visits.signals import household_round_states_refreshed

    ids = sorted({int(h) for h in household_ids})
    if not ids:
        return 0
    commit_async()
    with connection.cursor() as cursor:
        where, params = in_ids("id", ids)
        cursor.execute(f"SELECT DISTINCT cell_id FROM registry_household WHERE {where} AND cell_id IS NOT NULL",
                       params)
        cells = sorted(r[0] for r in cursor.fetchall())
        cells_lock(cell_ids=cells)
        visit_ids, visit_params = in_ids("v.household_id", ids)
        state_ids, state_params = in_ids("household_id", ids)
        computed = _select(f"AND v.round_id = %s AND {visit_ids}", few=True)
        gone = (f"DELETE FROM visits_householdroundstate WHERE round_id = %s AND {state_ids} AND household_id NOT IN "
                "(SELECT household_id FROM {computed})")
        if connection.vendor == "postgresql":  # one round trip: the states computed once, the rest deleted
            cursor.execute(
                f"WITH computed AS MATERIALIZED ({computed}), gone AS ({gone.format(computed='computed')}) "
                + _UPSERT.format(select="SELECT * FROM computed WHERE true"),
                [round_id, *visit_params, round_id, *state_params])
            written = cursor.rowcount
        else:
            cursor.execute(gone.format(computed=f"({computed})"), [round_id, *state_params, round_id, *visit_params])
            cursor.execute(_UPSERT.format(select=computed), [round_id, *visit_params])
            written = cursor.rowcount
    household_round_states_refreshed.send(sender=HouseholdRoundState, round_id=round_id, household_ids=ids,
                                          cell_ids=cells)
    return written


@transaction.atomic
def household_round_states_rebuild(*, round_id: int | None = None) -> int:
    """Recompute every state row (of one round, or of all rounds) from the visits.

    Keeps refreshes out meanwhile (server/visits/locks.py). Sends no signal: whoever rebuilds recomputes what
    depends on the states (coverage's recompute does both)."""
    from server.visits.locks import everything_lock

    everything_lock()
    where, params = ("", []) if round_id is None else ("AND v.round_id = %s", [round_id])
    current = ("visits_householdroundstate" if round_id is None else
               "(SELECT * FROM visits_householdroundstate WHERE round_id = %s)")
    columns = ", ".join(["round_id", "household_id", *_FIELDS])
    changed = " OR ".join(f"s.{f} IS DISTINCT FROM n.{f}" for f in _FIELDS)
    # Rewrite only what changed. One pass computes the states from the visits and matches them with the stored rows
    # (a full outer join): each row of new_states says what to do with it — 'new' (insert), 'changed' (update by
    # id), 'gone' (no visit backs the stored row any more: delete by id) or nothing. A nightly rebuild at city scale
    # (1.46 M rows, nearly all unchanged) then costs the computation and one hash join, not 1.46 M deletes and
    # indexed inserts, and leaves no dead rows behind (autovacuum may be off or behind). No statement both grows
    # the states table and looks rows up in it: an INSERT … WHERE NOT EXISTS into an empty states table (the first
    # recompute after an import) was planned as a nested loop that rescanned the heap it was growing (15 min and
    # counting for 1.46 M rows).
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS new_states")
        if connection.vendor == "postgresql":
            # The window sorts every visit: in memory, not in 4 MB runs merged on disk (4.2 s of 12 at city scale).
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(
            f"CREATE TEMP TABLE new_states AS SELECT n.*, s.id AS state_id, CASE WHEN s.id IS NULL THEN 'new' "
            f"WHEN n.household_id IS NULL THEN 'gone' WHEN {changed} THEN 'changed' END AS todo "
            f"FROM ({_select(where)}) n FULL OUTER JOIN {current} s "
            "ON s.round_id = n.round_id AND s.household_id = n.household_id", [*params, *params])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem TO DEFAULT")
        cursor.execute("SELECT COUNT(*) FROM new_states WHERE household_id IS NOT NULL")
        total = cursor.fetchone()[0]
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE new_states")  # estimates for the few rows to write
        cursor.execute("DELETE FROM visits_householdroundstate WHERE id IN "
                       "(SELECT state_id FROM new_states WHERE todo = 'gone')")
        cursor.execute(
            "UPDATE visits_householdroundstate SET " + ", ".join(f"{f} = n.{f}" for f in _FIELDS)
            + " FROM new_states n WHERE n.todo = 'changed' AND visits_householdroundstate.id = n.state_id")
        cursor.execute(f"INSERT INTO visits_householdroundstate ({columns}) SELECT {columns} FROM new_states "
                       "WHERE todo = 'new'")
        cursor.execute("DROP TABLE new_states")
    return total


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
    One drainer at a time (server/visits/locks.py); the refresh sends `household_round_states_refreshed` as usual."""
    from server.common import workqueue
    from server.visits.locks import drainer_lock

    def work(queued):
        for round_id, ids in workqueue.by_round(queued).items():
            household_round_states_refresh(round_id=round_id, household_ids=ids)

    return workqueue.queue_drain(table="visits_statequeue", column="household_id",
                                 lock=lambda: drainer_lock(wait=False), work=work, batch=batch, passes=passes)
