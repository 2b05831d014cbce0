"""The SQL that fills the coverage tables: one set of statements for a few cells (after a push) and for all cells
(the full recompute), so the two cannot drift apart.

Every statement starts from `targets`: the households a scope must visit, one row each, with their state in that
scope. For a round that is campaigns.selectors.round_households (occupied households under the campaign's areas,
minus those settled in an earlier round), joined with the round's household round state. For the campaign as a
whole it is round 1's list (every occupied household under the campaign's areas) joined with the states of all
rounds folded together: reached if any round reached it, the outcome of the latest round that visited it, visits
and flags summed. Households outside every grid cell are not counted (no cell row can hold them; visits need a
cell anyway). Portable SQL: PostgreSQL and SQLite >= 3.25 (window functions); the only vendor-specific parts are
the day and time expressions of server/visits/timing.py.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class Scope:
    """What one set of rows describes: a round, or (round_id None) the campaign as a whole."""

    campaign_id: int
    round_id: int | None
    round_ids: tuple[int, ...]  # rounds whose states and visits count
    earlier_round_ids: tuple[int, ...]  # rounds whose settled households are not on this round's list
    area_paths: tuple[str, ...]  # the campaign's areas
    reference_year: int  # residents aged ELDERLY_AGE or more in this year are elderly (the campaign's start year)


@dataclass(frozen=True)
class KeyGroups:
    tagged_ids: tuple[int, ...]  # groups given by hand (registry_resident_key_groups)
    elderly_id: int | None  # the derived group, from the birth year


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def _only(column: str, households: list[int] | None) -> tuple[str, list]:
    """`AND column IN households` when refreshing a few cells: it pins every read of states and visits to the
    cells' households whatever the planner believes. (A new round has no statistics until the next ANALYZE; the
    planner then thinks it has no visits and scans the whole round's visits and states instead: measured 30 ms
    instead of 3 ms a statement on a 1.4 M-household city.)"""
    if households is None:
        return "", []
    sql, params = in_ids(column, households)
    return f"AND {sql}", params


def _targets(scope: Scope, cells: list[int] | None, households: list[int] | None = None) -> tuple[str, list]:
    """The `targets` CTE (household_id, cell_id, reached, attempted, excluded, code, reached_at, visits, flagged,
    app) and its parameters."""
    params: list = []
    cell_filter = ""
    if cells is not None:
        cell_filter = f"AND h.cell_id IN ({_marks(cells)})"
    if scope.area_paths:
        area = " OR ".join(["a.path LIKE %s"] * len(scope.area_paths))
        area_params = [f"{p}%" for p in scope.area_paths]
    else:
        area, area_params = "1 = 0", []
    if scope.round_id is not None:
        only, only_params = _only("s.household_id", households)
        state = f"LEFT JOIN visits_householdroundstate s ON s.round_id = %s AND s.household_id = h.id {only}"
        state_params = [scope.round_id, *only_params]
        reached, app = "CASE WHEN s.reached THEN 1 ELSE 0 END", "CASE WHEN s.app_installed THEN 1 ELSE 0 END"
    else:
        # All rounds folded: the window numbers each household's states from the latest round down.
        state_cells, state_cells_params = _only("s.household_id", households)
        if cells is not None and households is None:
            state_cells = ("AND s.household_id IN (SELECT id FROM registry_household "
                           f"WHERE cell_id IN ({_marks(cells)}))")
            state_cells_params = list(cells)
        state = f"""LEFT JOIN (
    SELECT household_id, MAX(reached) AS reached, MIN(reached_at) AS reached_at, SUM(visits) AS visits,
      SUM(flagged) AS flagged, MAX(app) AS app, MAX(CASE WHEN k = 1 THEN outcome_id END) AS outcome_id
    FROM (SELECT s.household_id, CASE WHEN s.reached THEN 1 ELSE 0 END AS reached, s.reached_at, s.visits, s.flagged,
            CASE WHEN s.app_installed THEN 1 ELSE 0 END AS app, s.outcome_id,
            ROW_NUMBER() OVER (PARTITION BY s.household_id ORDER BY rr.number DESC) AS k
          FROM visits_householdroundstate s JOIN campaigns_round rr ON rr.id = s.round_id
          WHERE s.round_id IN ({_marks(scope.round_ids)}) {state_cells}) f
    GROUP BY household_id) s ON s.household_id = h.id"""
        state_params = [*scope.round_ids, *state_cells_params]
        reached, app = "COALESCE(s.reached, 0)", "COALESCE(s.app, 0)"
    settled, settled_params = "", []
    if scope.earlier_round_ids:
        only, only_params = _only("e.household_id", households)
        settled = (f"AND NOT EXISTS (SELECT 1 FROM visits_householdroundstate e WHERE e.household_id = h.id "
                   f"AND e.round_id IN ({_marks(scope.earlier_round_ids)}) AND e.settled {only})")
        settled_params = [*scope.earlier_round_ids, *only_params]
    # MATERIALIZED: computed once, then joined. Inlined, the planner under-estimates the few cells' targets and
    # re-runs the campaign's folded states for every row of the key-group join (900 ms instead of 20 ms for a
    # 500-visit push at city scale). PostgreSQL >= 12, SQLite >= 3.35.
    sql = f"""targets AS MATERIALIZED (
  SELECT h.id AS household_id, h.cell_id AS cell_id, {reached} AS reached,
    CASE WHEN s.visits > 0 THEN 1 ELSE 0 END AS attempted,
    CASE WHEN {reached} = 1 THEN 0 WHEN o.excluded THEN 1 ELSE 0 END AS excluded,
    o.code AS code, s.reached_at AS reached_at, COALESCE(s.visits, 0) AS visits, COALESCE(s.flagged, 0) AS flagged,
    {app} AS app
  FROM registry_household h
  {state}
  LEFT JOIN campaigns_outcomecode o ON o.id = s.outcome_id
  WHERE h.status = 'occupied' AND h.cell_id IS NOT NULL {cell_filter}
    AND h.community_id IN (SELECT a.id FROM territory_area a WHERE {area})
    {settled}
)"""
    params = [*state_params, *(cells or []), *area_params, *settled_params]
    return sql, params


def _key(scope: Scope) -> list:
    return [scope.campaign_id, scope.round_id]


def _cell_figures(scope: Scope, groups: KeyGroups, households: list[int] | None = None) -> tuple[str, list]:
    return (
        "INSERT INTO coverage_cellcoverage (campaign_id, round_id, cell_id, to_visit, attempted, reached, nobody_home, "
        "refused, excluded, vacant, app_installs, visits, flagged_visits, updated_at) "
        "SELECT %s, %s, cell_id, COUNT(*), SUM(attempted), SUM(reached), "
        "SUM(CASE WHEN reached = 0 AND code = 'nobody_home' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN reached = 0 AND code = 'refused' THEN 1 ELSE 0 END), SUM(excluded), "
        "SUM(CASE WHEN excluded = 1 AND code = 'vacant' THEN 1 ELSE 0 END), SUM(app), SUM(visits), SUM(flagged), %s "
        "FROM targets GROUP BY cell_id",
        [*_key(scope), timezone.now()],
    )


def _household_groups(scope: Scope, groups: KeyGroups, households: list[int] | None) -> tuple[str, list] | None:
    """SELECT household_id, key_group_id, n: residents of each key group per household (tagged by hand, or
    elderly by the birth year), for these households or for all."""
    branches, params = [], []
    if groups.tagged_ids:
        only, only_params = _only("p.household_id", households)
        branches.append(
            "SELECT p.household_id, g.keygroup_id AS key_group_id, COUNT(*) AS n FROM registry_resident p "
            "JOIN registry_resident_key_groups g ON g.resident_id = p.id "
            f"WHERE g.keygroup_id IN ({_marks(groups.tagged_ids)}) {only} GROUP BY p.household_id, g.keygroup_id")
        params += [*groups.tagged_ids, *only_params]
    if groups.elderly_id is not None:
        only, only_params = _only("p.household_id", households)
        branches.append(
            "SELECT p.household_id, %s AS key_group_id, COUNT(*) AS n FROM registry_resident p "
            f"WHERE p.birth_year <= %s {only} GROUP BY p.household_id")
        params += [groups.elderly_id, scope.reference_year - ELDERLY_AGE, *only_params]
    if not branches:
        return None
    return " UNION ALL ".join(branches), params


def _key_group_figures(scope: Scope, groups: KeyGroups, households: list[int] | None = None) -> tuple[str, list] | None:
    if not groups.tagged_ids and groups.elderly_id is None:
        return None
    return (
        "INSERT INTO coverage_cellkeygroupcoverage (campaign_id, round_id, cell_id, key_group_id, residents, reached) "
        "SELECT %s, %s, t.cell_id, hg.key_group_id, SUM(hg.n), SUM(hg.n * t.reached) FROM targets t "
        "JOIN household_groups hg ON hg.household_id = t.household_id WHERE t.excluded = 0 "
        "GROUP BY t.cell_id, hg.key_group_id",
        _key(scope),
    )


def _day_figures(scope: Scope, groups: KeyGroups, households: list[int] | None = None) -> tuple[str, list]:
    return (
        "INSERT INTO coverage_celldaycoverage (campaign_id, round_id, cell_id, day, reached_new) "
        f"SELECT %s, %s, cell_id, {local_day_sql('reached_at')}, COUNT(*) FROM targets "
        "WHERE reached = 1 AND reached_at IS NOT NULL GROUP BY 3, 4",
        _key(scope),
    )


def _uncorrected_visits(scope: Scope, households: list[int] | None) -> tuple[str, list]:
    """SELECT household_id, round_id, worker_id, reached, app, flagged, day: the uncorrected visits of the
    scope's rounds (of these households, or of all), with their effective day (server/visits/timing.py)."""
    only, only_params = _only("v.household_id", households)
    day = local_day_sql(visit_time_sql(visit="v", round="r"))
    return (
        "SELECT v.household_id, v.round_id, v.worker_id, CASE WHEN o.reached THEN 1 ELSE 0 END AS reached, "
        f"CASE WHEN v.app_installed THEN 1 ELSE 0 END AS app, {_FLAGGED} AS flagged, {day} AS day "
        "FROM visits_visit v JOIN campaigns_round r ON r.id = v.round_id "
        "JOIN campaigns_outcomecode o ON o.id = v.outcome_id "
        f"WHERE v.round_id IN ({_marks(scope.round_ids)}) {only} AND "
        f"{_UNCORRECTED if households is not None else _UNCORRECTED_ALL}",
        [*scope.round_ids, *only_params],
    )


def _visits_of(scope: Scope) -> tuple[str, list]:
    """The scope's uncorrected visits to its households to visit (joined to `targets` as t)."""
    return (
        "FROM targets t JOIN scope_visits v ON v.household_id = t.household_id "
        f"WHERE t.attempted = 1 AND v.round_id IN ({_marks(scope.round_ids)})",
        list(scope.round_ids),
    )


def _worker_figures(scope: Scope, groups: KeyGroups, households: list[int] | None = None) -> tuple[str, list]:
    source, params = _visits_of(scope)
    return (
        "INSERT INTO coverage_cellworkercoverage (campaign_id, round_id, cell_id, worker_id, visits, "
        "households_attempted, households_reached, app_installs, flagged_visits) "
        "SELECT %s, %s, t.cell_id, v.worker_id, COUNT(*), COUNT(DISTINCT v.household_id), "
        "COUNT(DISTINCT CASE WHEN v.reached = 1 THEN v.household_id END), "
        "COUNT(DISTINCT CASE WHEN v.app = 1 THEN v.household_id END), SUM(v.flagged) "
        f"{source} "
        "GROUP BY t.cell_id, v.worker_id",
        [*_key(scope), *params],
    )


def _worker_day_figures(scope: Scope, groups: KeyGroups, households: list[int] | None = None) -> tuple[str, list]:
    source, params = _visits_of(scope)
    return (
        "INSERT INTO coverage_cellworkerday (campaign_id, round_id, cell_id, worker_id, day, visits, flagged_visits) "
        f"SELECT %s, %s, t.cell_id, v.worker_id, v.day, COUNT(*), SUM(v.flagged) {source} GROUP BY 3, 4, 5",
        [*_key(scope), *params],
    )


_BUILDERS = [_cell_figures, _key_group_figures, _day_figures, _worker_figures, _worker_day_figures]


def scope_delete(*, scopes: list[Scope], cells: list[int] | None) -> None:
    """Remove the rows of these scopes (of these cells, or of all cells)."""
    if not scopes:
        return
    rounds = [s.round_id for s in scopes if s.round_id is not None]
    campaigns = sorted({s.campaign_id for s in scopes if s.round_id is None})
    parts, params = [], []
    if rounds:
        parts.append(f"round_id IN ({_marks(rounds)})")
        params += rounds
    if campaigns:
        parts.append(f"(round_id IS NULL AND campaign_id IN ({_marks(campaigns)}))")
        params += campaigns
    where = " OR ".join(parts)
    if cells is not None:
        where = f"({where}) AND cell_id IN ({_marks(cells)})"
        params += cells
    with connection.cursor() as cursor:
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


# The relations every builder reads: `targets` (the scope's households to visit), `household_groups` and
# `scope_visits`. Refreshing a few cells computes them as CTEs pinned to the cells' households; the full recompute
# materialises each once in a temporary table (targets once per scope instead of once per statement, residents
# and visits once per campaign) — the same SELECTs either way.
_SHARED = {"household_groups": "cov_household_groups", "scope_visits": "cov_scope_visits"}


def _temp(cursor, name: str, select: str, params: list, *, analyze: bool = True) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(f"CREATE TEMP TABLE {name} AS {select}", params)
    if analyze and connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {name}")


def shared_prepare(*, scopes: list[Scope], groups: KeyGroups) -> None:
    """Materialise the relations the full recompute of a campaign shares between its scopes (the campaign-wide
    scope holds every round, so its visits serve every round's scope)."""
    whole = next(s for s in scopes if s.round_id is None)
    with connection.cursor() as cursor:
        hg = _household_groups(whole, groups, None)
        _temp(cursor, _SHARED["household_groups"], *(hg or ("SELECT 0 AS household_id, 0 AS key_group_id, "
                                                              "0 AS n WHERE 1 = 0", [])))
        _temp(cursor, _SHARED["scope_visits"], *_uncorrected_visits(whole, None))
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE INDEX ON {_SHARED['household_groups']} (household_id)")
            cursor.execute(f"CREATE INDEX ON {_SHARED['scope_visits']} (household_id)")


def shared_drop() -> None:
    with connection.cursor() as cursor:
        for name in [*_SHARED.values(), "cov_targets", "cov_visits"]:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")


def scope_insert(*, scope: Scope, groups: KeyGroups, cells: list[int] | None, timings: dict | None = None,
                 households: list[int] | None = None) -> None:
    """Compute and insert the rows of one scope (for these cells, or for all cells). Rows must be deleted first.
    `households`: those of `cells` (cell_households), given when refreshing a few cells. For all cells, call
    shared_prepare() first (and shared_drop() at the end)."""
    import time

    def timed(name: str, started: float) -> None:
        if timings is not None:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - started

    targets, target_params = _targets(scope, cells, households)
    with connection.cursor() as cursor:
        if cells is None:
            started = time.perf_counter()
            _temp(cursor, "cov_targets", f"WITH {targets} SELECT * FROM targets", target_params)
            timed("_targets", started)
            head, head_params = ("targets AS (SELECT * FROM cov_targets), household_groups AS (SELECT * FROM "
                                 f"{_SHARED['household_groups']}), scope_visits AS (SELECT * FROM "
                                 f"{_SHARED['scope_visits']})"), []
        else:
            # A few cells: the targets and the cells' uncorrected visits once into temporary tables too (five
            # statements read them), the residents' key groups as a CTE pinned to the cells' households.
            started = time.perf_counter()
            _temp(cursor, "cov_targets", f"WITH {targets} SELECT * FROM targets", target_params)
            timed("_targets", started)
            started = time.perf_counter()
            _temp(cursor, "cov_visits", *_uncorrected_visits(scope, households))
            timed("_visits", started)
            hg = _household_groups(scope, groups, households)
            hg_sql, hg_params = hg or ("SELECT 0 AS household_id, 0 AS key_group_id, 0 AS n WHERE 1 = 0", [])
            head = (f"targets AS (SELECT * FROM cov_targets), household_groups AS ({hg_sql}), "
                    "scope_visits AS (SELECT * FROM cov_visits)")
            head_params = hg_params
        for build in _BUILDERS:
            statement = build(scope, groups, households)
            if statement is None:
                continue
            sql, params = statement
            started = time.perf_counter()
            cursor.execute(f"WITH {head} {sql}", [*head_params, *params])
            timed(build.__name__, started)
        cursor.execute("DROP TABLE IF EXISTS cov_targets")
        cursor.execute("DROP TABLE IF EXISTS cov_visits")
