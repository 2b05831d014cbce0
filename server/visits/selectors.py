"""Reads of visits as columns, for the computations of server/visits/compute.py and server/coverage/compute.py."""

from __future__ import annotations

from collections import Counter

import numpy as np
from django.db import connection

from server.common.columns import TIME, Col, Query, nullable, queries_read
from server.common.sql import in_ids
from server.visits.compute import (
    KIND_NOBODY_HOME,
    KIND_OTHER,
    KIND_REFUSED,
    KIND_VACANT,
    Outcomes,
    VisitColumns,
    effective_times,
)
from server.visits.timing import clock_skew_seconds

_FLAGGED = "CASE WHEN v.flag_far OR v.flag_inaccurate OR v.flag_mock OR v.flag_clock THEN 1 ELSE 0 END"


_VISIT_COLUMNS = [Col("v.household_id", bits=31, bound="registry_household"),
                  Col("v.worker_id", bits=31, bound="accounts_user"),
                  Col("v.round_id", bits=31, bound="campaigns_round"),
                  Col("v.outcome_id", bits=30, bound="campaigns_outcomecode"), Col(_FLAGGED, bits=1),
                  Col("CASE WHEN v.app_installed THEN 1 ELSE 0 END", bits=1),
                  Col("v.captured_at", TIME), Col("v.received_at", TIME)]


def visits_queries(*, rounds: list[int] | None = None, households: list[int] | None = None,
                   households_sql: tuple[str, list] | None = None,
                   part: tuple[int, int] | None = None) -> list[Query]:
    """Two queries whose results `visits_of` turns into the uncorrected visits (of these rounds; of these
    households, or of those `households_sql` selects; or all): every visit, and the visits a later one corrects.
    `part` (k, n): the k-th of n parts of the table's pages (PostgreSQL: a TID range scan of its blocks), to read a
    city's visits in n parallel parts, each scanning only its pages; the corrected visits all come with part 0 (a
    correction and the visit it corrects may lie in different parts: `visits_of` takes them out of all parts
    together).

    A correction is of the same household and round as the visit it corrects (visits.services), so the corrected
    visits are found by index from the corrections of the same households and rounds, and taken out in numpy: no
    look-up per visit (a NOT EXISTS per visit walked the visits in UUID order, i.e. at random; a hashed NOT IN of
    the corrected ids probed the hash 2 M times in the full recompute)."""
    where, params = [], []
    if rounds is not None:
        sql, p = in_ids("{t}.round_id", rounds or [0])
        where.append(sql)
        params += p
    if households is not None:
        sql, p = in_ids("{t}.household_id", households or [0])
        where.append(sql)
        params += p
    if households_sql is not None:
        where.append(f"{{t}}.household_id IN ({households_sql[0]})")
        params += households_sql[1]
    condition = " AND ".join(where) or "true"
    blocks = ""
    if part is not None and part[1] > 1:
        blocks = _blocks(*part)
    every = Query(_VISIT_COLUMNS, f"FROM visits_visit v WHERE {condition.format(t='v')}{blocks}", params)
    corrected = Query(_VISIT_COLUMNS, "FROM visits_visit v WHERE v.id IN (SELECT c.corrects_id FROM visits_visit c "
                                      f"WHERE c.corrects_id IS NOT NULL AND {condition.format(t='c')})"
                                      f"{' AND false' if part is not None and part[0] > 0 else ''}", params)
    return [every, corrected]


def _blocks(k: int, n: int) -> str:
    """The condition on v.ctid of the k-th of n parts of the visits table's pages, by the page count the planner
    knows; the first part starts at page 0 and the last has no end, so the parts cover every row however the
    table grew."""
    pages = _visit_pages()
    start, end = pages * k // n, pages * (k + 1) // n
    lower = f" AND v.ctid >= '({start},0)'::tid" if k > 0 else ""
    upper = f" AND v.ctid < '({end},0)'::tid" if k < n - 1 else ""
    return lower + upper


def _visit_pages() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT GREATEST(relpages, 1) FROM pg_class WHERE oid = 'visits_visit'::regclass")
        return int(cursor.fetchone()[0])


def visits_of(every: list[np.ndarray], corrected: list[np.ndarray]) -> VisitColumns:
    """The uncorrected visits, from visits_queries' two results: every visit but one for each corrected visit with
    the same columns (all that the figures and states use: visits that agree in all of them are interchangeable)."""
    visits = _visit_columns(every)
    if not len(corrected[0]):
        return visits
    gone = _visit_columns(corrected)
    fields = list(VisitColumns.__dataclass_fields__)
    candidates = np.flatnonzero(np.isin(visits.household, np.unique(gone.household)))
    wanted = Counter(zip(*(getattr(gone, f).tolist() for f in fields), strict=True))
    drop = []
    for row, key in zip(candidates.tolist(),
                        zip(*(getattr(visits, f)[candidates].tolist() for f in fields), strict=True), strict=True):
        if wanted.get(key):
            wanted[key] -= 1
            drop.append(row)
    if len(drop) != len(gone):  # never: the corrected visits were read with the same conditions in one snapshot
        raise RuntimeError("a corrected visit is missing from the visits read")
    keep = np.ones(len(visits), bool)
    keep[drop] = False
    return visits.take(np.flatnonzero(keep))


def _visit_columns(columns: list[np.ndarray]) -> VisitColumns:
    household, worker, round_id, outcome, flagged, app, captured, received = columns
    return VisitColumns(household=household, round=round_id, worker=worker, outcome=outcome, flagged=flagged,
                        app=app, captured=captured, received=received)


def visit_columns(*, rounds: list[int] | None = None, households: list[int] | None = None) -> VisitColumns:
    """The uncorrected visits (of these rounds, of these households, or all), read now."""
    return visits_of(*queries_read(visits_queries(rounds=rounds, households=households)))


_KIND = (f"CASE o.code WHEN 'nobody_home' THEN {KIND_NOBODY_HOME} WHEN 'refused' THEN {KIND_REFUSED} "
         f"WHEN 'vacant' THEN {KIND_VACANT} ELSE {KIND_OTHER} END")


def outcomes_query(*, campaign_sql: tuple[str, list] | None = None) -> Query:
    """Outcome codes (of the campaign `campaign_sql` selects, or all) as Outcomes' columns."""
    where, params = ("", []) if campaign_sql is None else (f"WHERE o.campaign_id = ({campaign_sql[0]})",
                                                             campaign_sql[1])
    flag = "CASE WHEN {} THEN 1 ELSE 0 END".format
    return Query([Col("o.id"), Col(flag("o.reached"), bits=1), Col(flag("o.revisit"), bits=1),
                  Col(flag("o.excluded"), bits=1), Col(_KIND, bits=3)], f"FROM campaigns_outcomecode o {where}",
                 params)


def outcomes_of(columns: list[np.ndarray]) -> Outcomes:
    order = np.argsort(columns[0], kind="stable")
    ids, reached, revisit, excluded, kind = (c[order] for c in columns)
    return Outcomes(ids=ids, reached=reached, revisit=revisit, excluded=excluded, kind=kind)


def rounds_query(*, campaign_sql: tuple[str, list]) -> Query:
    """The rounds of a campaign: id, number, opening time (NULL: none)."""
    return Query([Col("r.id"), Col("r.number"), Col(nullable("r.opened_at", TIME), TIME)],
                 f"FROM campaigns_round r WHERE r.campaign_id = ({campaign_sql[0]})", campaign_sql[1])


def outcomes_all() -> Outcomes:
    from server.campaigns.models import OutcomeCode

    return Outcomes.of(list(OutcomeCode.objects.values_list("id", "code", "reached", "revisit", "excluded")))


def round_openings(rounds: list[int] | None = None) -> dict[int, int | None]:
    """Round id → its opening time in µs since the Unix epoch (None if it has none)."""
    from server.campaigns.models import Round

    qs = Round.objects.all() if rounds is None else Round.objects.filter(pk__in=rounds)
    return {pk: None if opened is None else moment_us(opened) for pk, opened in qs.values_list("pk", "opened_at")}


def visit_effective_times(visits: VisitColumns, rounds: list[int] | None = None) -> np.ndarray:
    return effective_times(visits, opened=round_openings(rounds), skew_us=clock_skew_seconds() * 1_000_000)


def moment_us(moment) -> int:
    import datetime as dt

    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def household_cells(households: list[int]) -> dict[int, int | None]:
    where, params = in_ids("id", households)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, cell_id FROM registry_household WHERE {where}", params)
        return dict(cursor.fetchall())
