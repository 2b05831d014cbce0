"""The SQL that fills the coverage tables: one set of statements for a few cells (after a push) and for all cells
(the full recompute), so the two cannot drift apart.

A campaign's figures come from three relations, materialised once per run in temporary tables:

- `cov_hh`, one row per household the campaign counts (occupied, in a grid cell, under the campaign's areas: round
  1's list), holding its state in every scope side by side: for round i the columns `r{i}_in` (on round i's list:
  no earlier round settled it), `r{i}_reached`, `_attempted`, `_excluded`, `_code`, `_reached_at`, `_visits`,
  `_flagged`, `_app`; for the campaign as a whole the same columns prefixed `c_`, the rounds folded together
  (reached if any round reached it, the outcome of the latest round that visited it, visits and flags summed).
  One join of the households with each round's household round states: the campaign's scope needs no second pass.
- `cov_v`, the uncorrected visits of the campaign's rounds with their effective day (server/visits/timing.py);
- `cov_hg`, the residents of each key group per household (tagged by hand, or elderly by the birth year).

Then one INSERT per aggregate table writes every scope at once (a UNION ALL of one SELECT per scope over
`cov_hh`'s columns of that scope). Households outside every grid cell are not counted (no cell row can hold them;
visits need a cell anyway). Portable SQL: PostgreSQL and SQLite >= 3.25; the vendor-specific parts are the day and
time expressions of server/visits/timing.py and `_least`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from server.common.sql import in_ids
from server.registry.models import ELDERLY_AGE
from server.visits.timing import local_day_sql, visit_time_sql

_FLAGGED = "(CASE WHEN v.flag_far OR v.flag_inaccurate OR v.flag_mock OR v.flag_clock THEN 1 ELSE 0 END)"
_UNCORRECTED = "NOT EXISTS (SELECT 1 FROM visits_visit c WHERE c.corrects_id = v.id)"
# Every visit at once: hash the few corrected ids (a NOT EXISTS walks the visits in UUID order, at random).
_UNCORRECTED_ALL = "v.id NOT IN (SELECT c.corrects_id FROM visits_visit c WHERE c.corrects_id IS NOT NULL)"
TABLES = ["coverage_cellcoverage", "coverage_cellkeygroupcoverage", "coverage_celldaycoverage",
          "coverage_cellworkercoverage", "coverage_cellworkerday"]
TEMPORARY = ["cov_hh", "cov_v", "cov_hg"]
_COLUMNS = ("in", "reached", "attempted", "excluded", "code", "reached_at", "visits", "flagged", "app")


@dataclass(frozen=True)
class Plan:
    """One campaign's statements: its rounds, the households it counts, and which scopes they write."""

    campaign_id: int
    rounds: tuple[int, ...]  # round ids, by round number
    communities: tuple[int, ...]  # ids of the areas under the campaign's areas (households' communities among them)
    reference_year: int  # residents aged ELDERLY_AGE or more in this year are elderly (the campaign's start year)
    first: int = 0  # index in `rounds` of the first round whose figures are written (the later ones and the campaign
    # as a whole are written too: a household settled in round i leaves the lists of the rounds after it)

    def scopes(self) -> list[tuple[str, int | None]]:
        """(column prefix in cov_hh, round id or None for the campaign as a whole) of every scope written."""
        return [(f"r{i}", self.rounds[i]) for i in range(self.first, len(self.rounds))] + [("c", None)]


@dataclass(frozen=True)
class KeyGroups:
    tagged_ids: tuple[int, ...]  # groups given by hand (registry_resident_key_groups)
    elderly_id: int | None  # the derived group, from the birth year


def _pinned(column: str, households: list[int] | None) -> tuple[str, list]:
    """`AND column IN households` when refreshing a few cells: it pins every read of states, visits and residents to
    the cells' households whatever the planner believes (a new round has no statistics until the next ANALYZE)."""
    if households is None:
        return "", []
    sql, params = in_ids(column, households)
    return f"AND {sql}", params


def _of_targets(column: str, households: list[int] | None) -> str:
    """`AND column IN (cov_hh's households)` when refreshing a few cells: the visits and residents read are those of
    the households just selected (by index, whatever the planner's statistics), and the households' ids are sent
    once, not once per read."""
    return "" if households is None else f"AND {column} IN (SELECT household_id FROM cov_hh)"


def _least(expressions: list[str]) -> str:
    """The smallest non-NULL value of these expressions (NULL when all are)."""
    if len(expressions) == 1:
        return expressions[0]
    if connection.vendor == "postgresql":
        return f"LEAST({', '.join(expressions)})"  # LEAST ignores NULLs on PostgreSQL
    far = "'9999-12-31'"  # SQLite's MIN(a, b) is NULL if any is; timestamps are ISO text there
    return f"NULLIF(MIN({', '.join(f'COALESCE({e}, {far})' for e in expressions)}), {far})"


def _any(expressions: list[str]) -> str:
    return f"CASE WHEN {' OR '.join(expressions)} THEN 1 ELSE 0 END"


def _households(plan: Plan, cells: list[int] | None, households: list[int] | None) -> tuple[str, list]:
    """SELECT of `cov_hh` (see the module docstring)."""
    n = len(plan.rounds)
    params: list = []
    joins = []
    for i, round_id in enumerate(plan.rounds):
        pin, pin_params = _pinned(f"s{i}.household_id", households)
        joins.append(f"LEFT JOIN visits_householdroundstate s{i} ON s{i}.round_id = %s AND s{i}.household_id = h.id "
                     f"{pin}")
        params += [round_id, *pin_params]
    columns = ["h.id AS household_id", "h.cell_id AS cell_id"]
    for i in range(plan.first, n):
        settled_before = [f"s{j}.settled" for j in range(i)]
        columns += [
            f"CASE WHEN {' OR '.join(settled_before)} THEN 0 ELSE 1 END AS r{i}_in" if settled_before
            else f"1 AS r{i}_in",
            f"CASE WHEN s{i}.reached THEN 1 ELSE 0 END AS r{i}_reached",
            f"CASE WHEN s{i}.visits > 0 THEN 1 ELSE 0 END AS r{i}_attempted",
            f"CASE WHEN s{i}.reached THEN 0 WHEN o{i}.excluded THEN 1 ELSE 0 END AS r{i}_excluded",
            f"o{i}.code AS r{i}_code", f"s{i}.reached_at AS r{i}_reached_at",
            f"COALESCE(s{i}.visits, 0) AS r{i}_visits", f"COALESCE(s{i}.flagged, 0) AS r{i}_flagged",
            f"CASE WHEN s{i}.app_installed THEN 1 ELSE 0 END AS r{i}_app",
        ]
        joins.append(f"LEFT JOIN campaigns_outcomecode o{i} ON o{i}.id = s{i}.outcome_id")
    if n:
        reached = _any([f"s{i}.reached" for i in range(n)])
        visits = " + ".join(f"COALESCE(s{i}.visits, 0)" for i in range(n))
        latest = " ".join(f"WHEN s{i}.household_id IS NOT NULL THEN s{i}.outcome_id" for i in reversed(range(n)))
        columns += [
            "1 AS c_in", f"{reached} AS c_reached", f"CASE WHEN {visits} > 0 THEN 1 ELSE 0 END AS c_attempted",
            f"CASE WHEN {reached} = 1 THEN 0 WHEN oc.excluded THEN 1 ELSE 0 END AS c_excluded", "oc.code AS c_code",
            f"{_least([f's{i}.reached_at' for i in range(n)])} AS c_reached_at", f"{visits} AS c_visits",
            f"{' + '.join(f'COALESCE(s{i}.flagged, 0)' for i in range(n))} AS c_flagged",
            f"{_any([f's{i}.app_installed' for i in range(n)])} AS c_app",
        ]
        joins.append(f"LEFT JOIN campaigns_outcomecode oc ON oc.id = CASE {latest} END")
    else:  # a campaign without rounds: its households are to visit, none visited
        columns += ["1 AS c_in", "0 AS c_reached", "0 AS c_attempted", "0 AS c_excluded", "NULL AS c_code",
                    "NULL AS c_reached_at", "0 AS c_visits", "0 AS c_flagged", "0 AS c_app"]
    where = ["h.status = 'occupied'", "h.cell_id IS NOT NULL"]
    if cells is not None:
        sql, cell_params = in_ids("h.cell_id", cells)
        where.append(sql)
        params += cell_params
    community, community_params = in_ids("h.community_id", plan.communities)
    where.append(community)
    params += community_params
    return (f"SELECT {', '.join(columns)} FROM registry_household h {' '.join(joins)} WHERE {' AND '.join(where)}",
            params)


def _visits(plan: Plan, households: list[int] | None) -> tuple[str, list]:
    """SELECT of `cov_v`: household_id, round_id, worker_id, reached, app, flagged, day of the uncorrected visits of
    the campaign's rounds (of these households, or of all), with their effective day."""
    pin, pin_params = _of_targets("v.household_id", households), []
    rounds, round_params = in_ids("v.round_id", plan.rounds or [0])
    day = local_day_sql(visit_time_sql(visit="v", round="r"))
    return (
        "SELECT v.household_id, v.round_id, v.worker_id, CASE WHEN o.reached THEN 1 ELSE 0 END AS reached, "
        f"CASE WHEN v.app_installed THEN 1 ELSE 0 END AS app, {_FLAGGED} AS flagged, {day} AS day "
        "FROM visits_visit v JOIN campaigns_round r ON r.id = v.round_id "
        "JOIN campaigns_outcomecode o ON o.id = v.outcome_id "
        f"WHERE {rounds} {pin} AND {_UNCORRECTED if households is not None else _UNCORRECTED_ALL}",
        [*round_params, *pin_params],
    )


def _household_groups(plan: Plan, groups: KeyGroups, households: list[int] | None) -> tuple[str, list]:
    """SELECT of `cov_hg`: household_id, key_group_id, n: residents of each key group per household."""
    branches, params = [], []
    if groups.tagged_ids:
        pin, pin_params = _of_targets("p.household_id", households), []
        tagged, tagged_params = in_ids("g.keygroup_id", groups.tagged_ids)
        branches.append(
            "SELECT p.household_id, g.keygroup_id AS key_group_id, COUNT(*) AS n FROM registry_resident p "
            f"JOIN registry_resident_key_groups g ON g.resident_id = p.id WHERE {tagged} {pin} "
            "GROUP BY p.household_id, g.keygroup_id")
        params += [*tagged_params, *pin_params]
    if groups.elderly_id is not None:
        pin, pin_params = _of_targets("p.household_id", households), []
        branches.append(
            "SELECT p.household_id, %s AS key_group_id, COUNT(*) AS n FROM registry_resident p "
            f"WHERE p.birth_year <= %s {pin} GROUP BY p.household_id")
        params += [groups.elderly_id, plan.reference_year - ELDERLY_AGE, *pin_params]
    if not branches:
        return "SELECT 0 AS household_id, 0 AS key_group_id, 0 AS n WHERE 1 = 0", []
    return " UNION ALL ".join(branches), params


def _targets(prefix: str) -> str:
    """One scope's households to visit, out of cov_hh: household_id, cell_id, reached, attempted, excluded, code,
    reached_at, visits, flagged, app. The 0/1 flags are tested with `> 0`, not `= 1`: on a relation without
    statistics PostgreSQL guesses 0.5 % of rows for an equality and a third for a range; two equalities made it
    expect one row and loop over the visits for each household (10 ms instead of 1 ms for 500 visits)."""
    picked = ", ".join(f"{prefix}_{c} AS {c}" for c in _COLUMNS[1:])
    return f"(SELECT household_id, cell_id, {picked} FROM cov_hh WHERE {prefix}_in > 0)"


# One SELECT per scope for each aggregate table; {t} is the scope's targets, %s %s its campaign and round ids.
_CELL = (
    "coverage_cellcoverage (campaign_id, round_id, cell_id, to_visit, attempted, reached, nobody_home, refused, "
    "excluded, vacant, app_installs, visits, flagged_visits, updated_at)",
    "SELECT %s, %s, t.cell_id, COUNT(*), SUM(t.attempted), SUM(t.reached), "
    "SUM(CASE WHEN t.reached = 0 AND t.code = 'nobody_home' THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN t.reached = 0 AND t.code = 'refused' THEN 1 ELSE 0 END), SUM(t.excluded), "
    "SUM(CASE WHEN t.excluded = 1 AND t.code = 'vacant' THEN 1 ELSE 0 END), SUM(t.app), SUM(t.visits), "
    "SUM(t.flagged), %s FROM {t} t GROUP BY t.cell_id",
)
_KEY_GROUPS = (
    "coverage_cellkeygroupcoverage (campaign_id, round_id, cell_id, key_group_id, residents, reached)",
    "SELECT %s, %s, t.cell_id, hg.key_group_id, SUM(hg.n), SUM(hg.n * t.reached) FROM {t} t "
    "JOIN cov_hg hg ON hg.household_id = t.household_id WHERE t.excluded = 0 GROUP BY t.cell_id, hg.key_group_id",
)
_DAYS = (
    "coverage_celldaycoverage (campaign_id, round_id, cell_id, day, reached_new)",
    f"SELECT %s, %s, t.cell_id, {local_day_sql('t.reached_at')}, COUNT(*) FROM {{t}} t "
    "WHERE t.reached = 1 AND t.reached_at IS NOT NULL GROUP BY 3, 4",
)
# A worker's distinct households without COUNT(DISTINCT) (a sort of every visit): per household first, then summed.
_WORKERS = (
    "coverage_cellworkercoverage (campaign_id, round_id, cell_id, worker_id, visits, households_attempted, "
    "households_reached, app_installs, flagged_visits)",
    "SELECT %s, %s, w.cell_id, w.worker_id, SUM(w.n), COUNT(*), SUM(w.reached), SUM(w.app), SUM(w.flagged) FROM ("
    "SELECT t.cell_id, v.worker_id, v.household_id, COUNT(*) AS n, MAX(v.reached) AS reached, MAX(v.app) AS app, "
    "SUM(v.flagged) AS flagged FROM {t} t JOIN cov_v v ON v.household_id = t.household_id {visits} "
    "WHERE t.attempted > 0 GROUP BY t.cell_id, v.worker_id, v.household_id) w GROUP BY w.cell_id, w.worker_id",
)
_WORKER_DAYS = (
    "coverage_cellworkerday (campaign_id, round_id, cell_id, worker_id, day, visits, flagged_visits)",
    "SELECT %s, %s, t.cell_id, v.worker_id, v.day, COUNT(*), SUM(v.flagged) FROM {t} t "
    "JOIN cov_v v ON v.household_id = t.household_id {visits} WHERE t.attempted > 0 GROUP BY 3, 4, 5",
)
_INSERTS = {"cell": _CELL, "key_groups": _KEY_GROUPS, "days": _DAYS, "workers": _WORKERS,
            "worker_days": _WORKER_DAYS}


def _insert(plan: Plan, which: str) -> tuple[str, str, list]:
    """(the table and its columns, the SELECT of its rows for every scope of the plan, parameters)."""
    table, select = _INSERTS[which]
    branches, params = [], []
    now = timezone.now()
    for prefix, round_id in plan.scopes():
        # A round's figures count its own visits; the campaign's, the visits of all its rounds (all in cov_v).
        visits = "AND v.round_id = %s" if round_id is not None and "{visits}" in select else ""
        branches.append(select.format(t=_targets(prefix), visits=visits))
        params += [plan.campaign_id, round_id]
        if visits:
            params.append(round_id)  # {visits} comes after {t}, which has no parameter
        if which == "cell":
            params.append(now)
    return table, " UNION ALL ".join(branches), params


def scope_delete(*, plan: Plan, cells: list[int] | None) -> None:
    """Remove the rows of the plan's scopes (of these cells, or of all cells)."""
    rounds = [r for _, r in plan.scopes() if r is not None]
    where, params = "round_id IS NULL AND campaign_id = %s", [plan.campaign_id]
    if rounds:
        rounds_sql, rounds_params = in_ids("round_id", rounds)
        where = f"({rounds_sql} OR ({where}))"
        params = [*rounds_params, *params]
    if cells is not None:
        cells_sql, cells_params = in_ids("cell_id", cells)
        where = f"{where} AND {cells_sql}"
        params += cells_params
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one round trip
            deletes = ", ".join(f"d{i} AS (DELETE FROM {table} WHERE {where})" for i, table in enumerate(TABLES))
            cursor.execute(f"WITH {deletes} SELECT 1", params * len(TABLES))
            return
        for table in TABLES:
            cursor.execute(f"DELETE FROM {table} WHERE {where}", params)


def analyze() -> None:
    """Fresh planner statistics for the tables a full recompute rewrote (autovacuum may be off or behind; stale
    statistics after a rewrite turned 60 ms tile queries into 400 ms ones at city scale)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in [*TABLES, "visits_householdroundstate"]:
            cursor.execute(f"ANALYZE {table}")


def cell_households(*, cells: list[int]) -> list[int]:
    """Every household of these cells (any status): what a refresh of a few cells pins its reads to."""
    where, params = in_ids("cell_id", cells)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM registry_household WHERE {where}", params)
        return [r[0] for r in cursor.fetchall()]


def _temp(cursor, name: str, select: str, params: list, *, every_cell: bool, index: str | None) -> None:
    # Every cell on PostgreSQL: an unlogged table, created and dropped inside the recompute's transaction (one
    # recompute at a time, server/visits/locks.py), because parallel workers can scan it and not a temporary table.
    kind = "UNLOGGED" if connection.vendor == "postgresql" and every_cell else "TEMP"
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(f"CREATE {kind} TABLE {name} AS {select}", params)
    if connection.vendor == "postgresql":
        if index:
            cursor.execute(f"CREATE INDEX ON {name} ({index})")
        if every_cell:
            cursor.execute(f"ANALYZE {name}")


def scopes_insert(*, plan: Plan, groups: KeyGroups, cells: list[int] | None, households: list[int] | None = None,
                  timings: dict | None = None) -> None:
    """Compute and insert the rows of every scope of the plan (for these cells, or for all cells). Rows must be
    deleted first (scope_delete). `households`: those of `cells` (cell_households), given when refreshing a few
    cells."""

    def timed(name: str, started: float) -> None:
        if timings is not None:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - started

    few = households is not None
    relations = [("cov_hh", _households(plan, cells, households), None),
                 ("cov_v", _visits(plan, households), "household_id"),
                 ("cov_hg", _household_groups(plan, groups, households), "household_id")]
    inserts = [_insert(plan, which) for which in _INSERTS
               if which != "key_groups" or groups.tagged_ids or groups.elderly_id is not None]
    with connection.cursor() as cursor:
        if few and connection.vendor == "postgresql":
            # A few cells on PostgreSQL: one statement, the relations as materialised CTEs and the inserts as
            # data-modifying CTEs: no temporary tables to create and drop (≈ 5 ms each) and one plan whose
            # estimates come from the pinned reads.
            started = time.perf_counter()
            ctes = [f"{name} AS MATERIALIZED ({select})" for name, (select, _), _ in relations]
            ctes += [f"w{i} AS (INSERT INTO {table} {select})" for i, (table, select, _) in enumerate(inserts)]
            params = [p for _, (_, ps), _ in relations for p in ps] + [p for *_, ps in inserts for p in ps]
            cursor.execute(f"WITH {', '.join(ctes)} SELECT 1", params)
            timed("statement", started)
            return
        for name, (select, params), index in relations:
            started = time.perf_counter()
            _temp(cursor, name, select, params, every_cell=not few, index=None if few else index)
            timed(name, started)
        for table, select, params in inserts:
            started = time.perf_counter()
            if connection.vendor == "postgresql":
                # PostgreSQL plans no INSERT … SELECT in parallel, but a CREATE TABLE … AS: the rows are computed
                # by parallel workers into an unlogged table, then copied (thousands of rows, not millions).
                cursor.execute("DROP TABLE IF EXISTS cov_rows")
                columns = table[table.index("(") + 1:table.rindex(")")]
                cursor.execute(f"CREATE UNLOGGED TABLE cov_rows AS SELECT * FROM ({select}) x ({columns})", params)
                cursor.execute(f"INSERT INTO {table} SELECT * FROM cov_rows")
                cursor.execute("DROP TABLE cov_rows")
            else:
                cursor.execute(f"INSERT INTO {table} {select}", params)
            timed(table.split()[0], started)
        for name in TEMPORARY:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
