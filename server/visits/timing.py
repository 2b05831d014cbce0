"""When a visit happened, for figures by day: the device clock, unless it is impossible.

A phone's clock can be wrong (set by hand, a dead battery resets it). A visit is stored with both the device time
(`captured_at`) and the server's receive time (`received_at`). For figures by day the *effective time* is the
device time, unless that time is impossible:

- later than the server received the visit (plus the allowed skew, `QIAOMEN_CLOCK_SKEW_S`): the phone is ahead;
- earlier than the round was opened (minus the same skew): no phone could record a visit of a round it had not
  pulled yet, so its clock is behind.

Then the receive time stands in. The same effective time orders a household's visits for its *latest* outcome
(visits.HouseholdRoundState, the walk lists, the pull), so a phone whose clock runs a day ahead cannot keep its
visit "latest" over a later one. An offline phone that pushes two days later keeps its visits on the day they
were made (its device time is plausible), which the receive time alone would get wrong. A clock that is wrong
yet plausible (a few hours behind, inside the round) cannot be detected and is used as is.

Days are Asia/Shanghai calendar days. SQLite stores UTC text and has no time zones: there the day is the UTC time
plus 8 hours, which is the same thing (China has had no daylight saving time since 1991).
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

TIME_ZONE = "Asia/Shanghai"
UTC_OFFSET_HOURS = 8


def clock_skew_seconds() -> int:
    return int(float(getattr(settings, "QIAOMEN_CLOCK_SKEW_S", 900)))


def effective_time(captured_at, received_at, opened_at):
    """A visit's effective time in Python (the same rule as visit_time_sql): the device time, unless it is later
    than the receipt or earlier than the round's opening, beyond the allowed skew; then the receive time."""
    import datetime as dt

    skew = dt.timedelta(seconds=clock_skew_seconds())
    if captured_at > received_at + skew or (opened_at is not None and captured_at < opened_at - skew):
        return received_at
    return captured_at


def visit_time_sql(*, visit: str = "v", round: str = "r") -> str:
    """SQL for a visit's effective time; `visit` and `round` are the aliases of visits_visit and campaigns_round."""
    skew = clock_skew_seconds()
    captured, received, opened = f"{visit}.captured_at", f"{visit}.received_at", f"{round}.opened_at"
    if connection.vendor == "postgresql":
        late = f"{received} + interval '{skew} seconds'"
        early = f"{opened} - interval '{skew} seconds'"
    else:
        late = f"datetime({received}, '+{skew} seconds')"
        early = f"datetime({opened}, '-{skew} seconds')"
    # A NULL opened_at (a round opened outside round_open) gives no lower bound: the comparison is NULL, not true.
    return f"(CASE WHEN {captured} > {late} OR {captured} < {early} THEN {received} ELSE {captured} END)"


def local_day_sql(expr: str) -> str:
    """SQL for the Asia/Shanghai calendar day of a UTC timestamp expression."""
    if connection.vendor == "postgresql":
        return f"(({expr}) AT TIME ZONE '{TIME_ZONE}')::date"
    return f"date({expr}, '+{UTC_OFFSET_HOURS} hours')"
