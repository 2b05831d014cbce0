"""Each household's state in a round, kept up to date incrementally from its visits: what coverage reads.

The rules are those of campaigns.selectors.household_states (uncorrected visits only; the latest outcome by device
time; reached if any visit reached it; settled if any visit's outcome does not send it back). After every accepted
push the touched households are refreshed (after commit, through the Celery task
`visits.household_round_states_refresh`, inline without a broker); `household_round_states_rebuild` recomputes all.
"""

from __future__ import annotations

from django.db import connection, models, transaction


class HouseholdRoundState(models.Model):
    round = models.ForeignKey("campaigns.Round", on_delete=models.CASCADE, related_name="+")
    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="+")
    cell = models.ForeignKey("territory.GridCell", null=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.ForeignKey("campaigns.OutcomeCode", null=True, on_delete=models.SET_NULL, related_name="+")
    reached = models.BooleanField(default=False)
    settled = models.BooleanField(default=False)
    visits = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)
    app_installed = models.BooleanField(default=False)
    last_visit_at = models.DateTimeField(null=True)

    class Meta:
        app_label = "visits"
        verbose_name = "住户本轮状态"
        verbose_name_plural = "住户本轮状态 household round states"
        constraints = [models.UniqueConstraint(fields=["round", "household"], name="one_state_per_household_round")]
        indexes = [models.Index(fields=["round", "cell"])]

    def __str__(self) -> str:
        return f"{self.household_id}@{self.round_id}"


_FIELDS = ("cell_id", "outcome_id", "reached", "settled", "visits", "flagged", "app_installed", "last_visit_at")

# One statement computes and upserts the states (portable: PostgreSQL and SQLite >= 3.24), so a push of 500 visits
# refreshes its households in milliseconds instead of building 500 model objects.
_UNCORRECTED = "NOT EXISTS (SELECT 1 FROM visits_visit c WHERE c.corrects_id = {v}.id)"
_SELECT = f"""
SELECT v.round_id, v.household_id, h.cell_id,
  (SELECT l.outcome_id FROM visits_visit l
    WHERE l.round_id = v.round_id AND l.household_id = v.household_id AND {_UNCORRECTED.format(v="l")}
    ORDER BY l.captured_at DESC, l.received_at DESC LIMIT 1),
  MAX(CASE WHEN o.reached THEN 1 ELSE 0 END) = 1,
  MAX(CASE WHEN o.revisit THEN 0 ELSE 1 END) = 1,
  COUNT(*),
  SUM(CASE WHEN v.flag_far OR v.flag_inaccurate OR v.flag_mock OR v.flag_clock THEN 1 ELSE 0 END),
  MAX(CASE WHEN v.app_installed THEN 1 ELSE 0 END) = 1,
  MAX(v.captured_at)
FROM visits_visit v
JOIN campaigns_outcomecode o ON o.id = v.outcome_id
JOIN registry_household h ON h.id = v.household_id
WHERE {_UNCORRECTED.format(v="v")} {{where}}
GROUP BY v.round_id, v.household_id, h.cell_id
"""
_UPSERT = (
    "INSERT INTO visits_householdroundstate (round_id, household_id, cell_id, outcome_id, reached, settled, visits, "
    "flagged, app_installed, last_visit_at) {select} ON CONFLICT (round_id, household_id) DO UPDATE SET "
    + ", ".join(f"{f} = excluded.{f}" for f in _FIELDS)
)


@transaction.atomic
def household_round_states_refresh(*, round_id: int, household_ids: list[int]) -> int:
    """Recompute the state rows of these households in the round from their visits; returns rows written."""
    ids = sorted({int(h) for h in household_ids})
    if not ids:
        return 0
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM visits_householdroundstate WHERE round_id = %s AND household_id IN ({marks}) AND NOT EXISTS "
            f"(SELECT 1 FROM visits_visit v WHERE v.round_id = visits_householdroundstate.round_id AND "
            f"v.household_id = visits_householdroundstate.household_id)", [round_id, *ids])
        where = f"AND v.round_id = %s AND v.household_id IN ({marks})"
        cursor.execute(_UPSERT.format(select=_SELECT.format(where=where)), [round_id, *ids])
        return cursor.rowcount


@transaction.atomic
def household_round_states_rebuild(*, round_id: int | None = None) -> int:
    """Recompute every state row (of one round, or of all rounds) from the visits."""
    qs = HouseholdRoundState.objects.all()
    if round_id is not None:
        qs = qs.filter(round_id=round_id)
    qs.delete()
    where, params = ("AND v.round_id = %s", [round_id]) if round_id is not None else ("", [])
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT.format(select=_SELECT.format(where=where)), params)
        return cursor.rowcount


def household_round_states_schedule(*, round_households: dict[int, set[int]]) -> None:
    """After the current transaction commits, refresh the states of these households (round id → household ids)."""
    from server.visits.tasks import household_round_states_refresh as task

    for round_id, ids in round_households.items():
        if ids:
            ids = sorted(ids)
            transaction.on_commit(lambda r=round_id, i=ids: task.delay(round_id=r, household_ids=i))
