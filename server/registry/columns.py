"""The register read as numpy columns (server/common/columns.py), for the computations over every household: the
coverage figures and the household round states. Unscoped: callers are services, not requests."""

from __future__ import annotations

import numpy as np

from server.common.columns import NULL, Col, Query
from server.common.sql import in_ids


def households_query(*, cells: list[int] | None) -> Query:
    """Households: id, cell (0: none), community, occupied (0/1); of these cells (occupied ones), or all."""
    where, params = "", []
    if cells is not None:
        in_cells, params = in_ids("h.cell_id", cells)
        where = f"WHERE h.status = 'occupied' AND {in_cells}"
    return Query([Col("h.id", bits=31, bound="registry_household"),
                  Col("COALESCE(h.cell_id, 0)", bits=31, bound="territory_gridcell"),
                  Col("h.community_id", bits=31, bound="territory_area"),
                  Col("CASE WHEN h.status = 'occupied' THEN 1 ELSE 0 END", bits=1)],
                 f"FROM registry_household h {where}", params)


def household_cells(households: list[np.ndarray]) -> list[np.ndarray]:
    """Out of households_query's columns: the ids ascending and their cells (NULL: none)."""
    ids, cell = households[0], households[1]
    order = np.argsort(ids, kind="stable")
    return [ids[order], np.where(cell == 0, NULL, cell)[order]]
