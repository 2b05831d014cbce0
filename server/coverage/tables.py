"""The database side of the figures: read what server/coverage/compute.py computes them from, and replace the
figure rows of a plan's scopes (of a few cells after a push, or of every cell in the full recompute)."""

from __future__ import annotations

import numpy as np
from django.db import connection

from server.common.columns import NULL, Changes, Col, Column, Query, queries_read, rows_diff
from server.common.sql import in_ids
from server.coverage.compute import SCHEMA, TABLES, Inputs, Plan
from server.registry.columns import household_cells, households_query
from server.registry.models import ELDERLY_AGE
from server.visits.compute import Outcomes, VisitColumns, effective_times


def key_group_ids() -> tuple[tuple[int, ...], int | None]:
    """(the groups tagged by hand, the elderly group derived from the birth year or None)."""
    from server.registry.models import KeyGroup

    groups = list(KeyGroup.objects.values_list("id", "code", "derived"))
    elderly = next((gid for gid, code, derived in groups if code == "elderly" and derived), None)
    return tuple(sorted(gid for gid, _, derived in groups if not derived)), elderly


def _cells_households(cells: list[int]) -> tuple[str, list]:
    """SQL of the ids of the occupied households of these cells (whatever their area: the campaign's areas are
    applied in numpy, by `counted`; a list of hundreds of communities in the SQL cost milliseconds to plan)."""
    in_cells, params = in_ids("h.cell_id", cells)
    return f"SELECT h.id FROM registry_household h WHERE h.status = 'occupied' AND {in_cells}", params


def counted(plan: Plan, households: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(ids ascending, cells) of the households the campaign counts, out of households_query's columns: occupied,
    in a grid cell, in the campaign's areas."""
    ids, cell, community, occupied = households
    mine = (occupied == 1) & (cell != 0) & np.isin(community, np.array(plan.communities, dtype=np.int64))
    ids, cell = ids[mine], cell[mine]
    order = np.argsort(ids, kind="stable")
    return ids[order], cell[order]


def members_query(plan: Plan, *, cells: list[int] | None) -> Query:
    """(household, key group) of every resident in a key group: tagged by hand, or elderly by the birth year (aged
    ELDERLY_AGE or more in the campaign's reference year); of the occupied households of these cells, or of all.

    For some cells (PostgreSQL): one pass over their residents, each resident's tags by index and the elderly group
    if old enough. For all: the elderly by the (birth year, household) index, and the tags joined to their residents
    in one merge or hash join (a tag look-up per resident of the city cost 4 M index probes)."""
    tagged, elderly = plan.tagged_groups, plan.elderly_group
    params: list = []
    pin = ""
    if cells is not None:
        sql, params = _cells_households(cells)
        pin = f"WHERE p.household_id IN ({sql})"
    if not tagged and elderly is None:
        return Query([Col("0"), Col("0")], "WHERE 1 = 0")
    cutoff = int(plan.reference_year - ELDERLY_AGE)
    cols = [Col("m.household_id", bits=31, bound="registry_household"),
            Col("m.key_group_id", bits=31, bound="registry_keygroup")]
    groups, group_params = in_ids("g.keygroup_id", tagged or [0])
    if connection.vendor == "postgresql" and cells is not None:
        branches = []
        if tagged:
            branches.append(f"SELECT g.keygroup_id FROM registry_resident_key_groups g WHERE g.resident_id = p.id "
                            f"AND {groups}")
        if elderly is not None:
            branches.append(f"SELECT {int(elderly)} WHERE p.birth_year <= {cutoff}")
        return Query(cols, f"FROM (SELECT p.household_id, x.key_group_id FROM registry_resident p CROSS JOIN "
                           f"LATERAL ({' UNION ALL '.join(branches)}) x (key_group_id) {pin}) m",
                     [*(group_params if tagged else []), *params])
    branches, all_params = [], []
    if tagged:
        branches.append("SELECT p.household_id, g.keygroup_id AS key_group_id FROM registry_resident p "
                        f"JOIN registry_resident_key_groups g ON g.resident_id = p.id AND {groups} {pin}")
        all_params += [*group_params, *params]
    if elderly is not None:
        where = f"{pin} AND" if pin else "WHERE"
        branches.append(f"SELECT p.household_id, {int(elderly)} FROM registry_resident p {where} "
                        f"p.birth_year <= {cutoff}")
        all_params += params
    return Query(cols, f"FROM ({' UNION ALL '.join(branches)}) m", all_params)


def inputs_of(plan: Plan, households: list[np.ndarray], visits: VisitColumns, effective: np.ndarray,
              members: list[np.ndarray]) -> Inputs:
    ids, cell = counted(plan, households)
    return Inputs(household=ids, cell=cell, visits=visits, effective=effective, member_household=members[0],
                  member_group=members[1])


def plan_read(*, campaign_id: int, reference_year: int, from_number: int) -> tuple[Plan, Outcomes]:
    """The plan of a campaign's figures (as services.campaign_plan) and its outcome codes: one statement."""
    from server.visits.selectors import outcomes_of as outcomes_from
    from server.visits.selectors import outcomes_query, rounds_query

    campaign = ("SELECT %s", [campaign_id])
    flag = "CASE WHEN {} THEN 1 ELSE 0 END".format
    rounds, outcomes, groups, communities = queries_read([
        rounds_query(campaign_sql=campaign), outcomes_query(campaign_sql=campaign),
        Query([Col("g.id"), Col(flag("g.derived"), bits=1), Col(flag("g.code = 'elderly'"), bits=1)],
              "FROM registry_keygroup g"),
        Query([Col("a.id")], "FROM territory_area a WHERE EXISTS (SELECT 1 FROM campaigns_campaign_areas ca "
                             "JOIN territory_area p ON p.id = ca.area_id WHERE ca.campaign_id = %s AND "
                             "substr(a.path, 1, length(p.path)) = p.path)", [campaign_id])], prepare=True)
    ids, numbers, opened = rounds
    order = np.argsort(numbers, kind="stable")
    ids, numbers, opened = ids[order], numbers[order], opened[order]
    first = int(np.searchsorted(numbers, from_number))
    group_ids, derived, elderly = groups
    elderly_ids = group_ids[(derived == 1) & (elderly == 1)]
    plan = Plan(campaign_id=campaign_id, rounds=tuple(ids.tolist()), communities=tuple(sorted(communities[0].tolist())),
                reference_year=reference_year, first=first,
                opened=tuple(None if o == NULL else o for o in opened.tolist()),
                tagged_groups=tuple(sorted(group_ids[derived == 0].tolist())),
                elderly_group=int(elderly_ids.min()) if len(elderly_ids) else None)
    return plan, outcomes_from(outcomes)


def _effective(plan: Plan, visits: VisitColumns) -> np.ndarray:
    from server.visits.timing import clock_skew_seconds

    return effective_times(visits, opened=dict(zip(plan.rounds, plan.opened, strict=True)),
                           skew_us=clock_skew_seconds() * 1_000_000)


def cells_read(plan: Plan, *, cells: list[int]) -> tuple[Inputs, dict[str, list[np.ndarray]]]:
    """What the figures of the plan's scopes in these cells are computed from, and their stored rows: one
    statement on PostgreSQL."""
    from server.visits.selectors import visits_of, visits_queries

    households, every, corrected, members, *stored = queries_read([
        households_query(cells=cells),
        *visits_queries(rounds=list(plan.rounds), households_sql=_cells_households(cells)),
        members_query(plan, cells=cells), *(stored_query(t, plan, cells) for t in TABLES)], prepare=True)
    visits = visits_of(every, corrected)
    return (inputs_of(plan, households, visits, _effective(plan, visits), members),
            dict(zip(TABLES, stored, strict=True)))


class EverythingReads:
    """The reads of a full recompute, started at once: on the pool's connections in parallel (their results are
    futures until asked for), or in one statement on this connection."""

    def __init__(self, plans: list[Plan], *, rounds: list[int] | None, state_rounds: list[int] | None, pool):
        from server.visits.selectors import visits_queries
        from server.visits.state import states_stored_query

        parts = 2 if pool is not None else 1
        # the visits first, on every connection: the states are computed from them while the rest is read
        batches: list[tuple[str, list[Query]]] = [("visits", visits_queries(rounds=rounds, part=(k, parts)))
                                                  for k in range(parts)]
        batches += [(f"members{i}", [members_query(p, cells=None)]) for i, p in enumerate(plans)]
        batches.append(("households", [households_query(cells=None)]))  # filtered per campaign in numpy
        if state_rounds is None or state_rounds:
            batches.append(("states", [states_stored_query(rounds=state_rounds)]))
        batches += [(f"figures{i}", [stored_query(t, p, None) for t in TABLES]) for i, p in enumerate(plans)]
        self._plans = plans
        if pool is not None:
            self._pending = [(name, pool.submit_queries(queries)) for name, queries in batches]
        else:
            done = queries_read([q for _, queries in batches for q in queries])
            self._pending, at = [], 0
            for name, queries in batches:
                self._pending.append((name, done[at:at + len(queries)]))
                at += len(queries)

    def _get(self, name: str) -> list[list[list[np.ndarray]]]:
        out = []
        for n, value in self._pending:
            if n == name:
                out.append(value.result() if hasattr(value, "result") else value)
        return out

    def visits(self) -> VisitColumns:
        from server.visits.selectors import visits_of

        parts = self._get("visits")  # [every, corrected] of each part
        return visits_of(*([np.concatenate(columns) for columns in zip(*(part[i] for part in parts), strict=True)]
                           for i in (0, 1)))

    def households(self) -> list[np.ndarray]:
        """ids ascending and their cells (NULL: none), for the states."""
        return household_cells(self._get("households")[0][0])

    def stored_states(self) -> list[np.ndarray]:
        found = self._get("states")
        return found[0][0] if found else []

    def inputs(self, plan: Plan, visits: VisitColumns, effective: np.ndarray) -> Inputs:
        mine = np.isin(visits.round, np.array(plan.rounds, dtype=np.int64))
        if not mine.all():  # other campaigns' visits too (one campaign: all of them, no copy)
            visits, effective = visits.take(np.flatnonzero(mine)), effective[mine]
        members = self._get(f"members{self._plans.index(plan)}")[0][0]
        return inputs_of(plan, self._get("households")[0][0], visits, effective, members)

    def stored_figures(self, plan: Plan) -> dict[str, list[np.ndarray]]:
        return dict(zip(TABLES, self._get(f"figures{self._plans.index(plan)}")[0], strict=True))


_COMPARED_OUT = {"updated_at"}  # written with the rows that changed, not compared


def _day_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} - DATE '1970-01-01')"
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"


def _scope_where(plan: Plan, cells: list[int] | None) -> tuple[str, list]:
    """The rows of the plan's scopes (of these cells, or all)."""
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
    return where, params


def stored_query(table: str, plan: Plan, cells: list[int] | None) -> Query:
    """The stored rows of a figure table in the plan's scopes: id, then the computed columns (but time stamps), in
    their order; a campaign row's round reads as 0 (stored_of makes it NULL)."""
    where, params = _scope_where(plan, cells)
    cols = [Col("id")]
    for name, db_type in SCHEMA[table]:
        if name in _COMPARED_OUT:
            continue
        if name == "round_id":
            cols.append(Col("COALESCE(round_id, 0)", bits=31, bound="campaigns_round"))
        elif db_type == "date":
            cols.append(Col(_day_sql(name), bits=24))
        elif db_type == "integer":
            cols.append(Col(name, bits=31))
        else:
            cols.append(Col(name, bits=31, bound=_BOUNDS[name]))
    return Query(cols, f"FROM {table} WHERE {where}", params)


_BOUNDS = {"campaign_id": "campaigns_campaign", "cell_id": "territory_gridcell", "key_group_id": "registry_keygroup",
           "worker_id": "accounts_user"}


def stored_of(values: list[np.ndarray], table: str) -> list[np.ndarray]:
    names = [name for name, _ in SCHEMA[table] if name not in _COMPARED_OUT]
    out = list(values)
    r = 1 + names.index("round_id")
    out[r] = np.where(out[r] == 0, NULL, out[r])
    return out


def figures_diff(rows: dict[str, list[Column]], stored: dict[str, list[np.ndarray]]) -> list[Changes]:
    """What turns the stored figure rows into the computed ones, table by table."""
    changes = []
    for table, columns in rows.items():
        names = [c.name for c in columns if c.name not in _COMPARED_OUT]
        key = [n for n in names if n in _KEY]
        changes.append(rows_diff(table, computed=columns, key=key, compared=[n for n in names if n not in _KEY],
                                 stored=stored_of(stored[table], table)))
    return changes


_KEY = {"campaign_id", "round_id", "cell_id", "key_group_id", "day", "worker_id"}


def analyze() -> None:
    """Fresh planner statistics for the tables a full recompute rewrote (autovacuum may be off or behind; stale
    statistics after a rewrite turned 60 ms tile queries into 400 ms ones at city scale)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in [*TABLES, "visits_householdroundstate"]:
            cursor.execute(f"ANALYZE {table}")
