"""Writes to the register."""

from __future__ import annotations

from django.db import connection, transaction

from server.common import pii
from server.registry.models import Resident


def resident_set_identity(*, resident: Resident, phone: str | None = None, id_number: str | None = None) -> Resident:
    """Store a phone (encrypted + masked) and/or an ID number (keyed hash + last 4) on an unsaved or saved resident.

    The caller validates; this only transforms. Nothing is saved here so that bulk imports can batch.
    """
    if phone is not None:
        resident.phone_cipher = pii.phone_encrypt(phone)
        resident.phone_masked = pii.phone_mask(phone)
    if id_number is not None:
        resident.id_hash = pii.id_number_hash(id_number)
        resident.id_last4 = pii.id_number_last4(id_number)
    return resident


# Point-in-polygon through each backend's spatial index. A plain ORM `contains` lookup on SpatiaLite scans
# every polygon (~4.7 ms a point), so both statements go to the R-tree / GiST index explicitly.
_ASSIGN_POSTGIS = """
UPDATE registry_household AS h SET cell_id = c.id
FROM territory_gridcell AS c
WHERE {where} AND h.location && c.geom AND ST_Intersects(c.geom, h.location)
"""
_ASSIGN_SPATIALITE = """
UPDATE registry_household SET cell_id = (
    SELECT c.id FROM territory_gridcell AS c
    WHERE c.id IN (
        SELECT ROWID FROM SpatialIndex
        WHERE f_table_name = 'territory_gridcell' AND f_geometry_column = 'geom'
          AND search_frame = registry_household.location
    ) AND ST_Intersects(c.geom, registry_household.location) = 1
    ORDER BY c.id LIMIT 1
)
WHERE {where}
"""


@transaction.atomic
def household_cells_assign(*, household_ids: list[int] | None = None, only_unassigned: bool = False) -> int:
    """Put households into the grid cell containing their point (or none). Returns the number of rows updated.

    `household_ids` limits the update (None: every household); `only_unassigned` leaves placed households alone.
    """
    conditions, params = ["TRUE" if connection.vendor == "postgresql" else "1=1"], []
    if household_ids is not None:
        if not household_ids:
            return 0
        col = "h.id" if connection.vendor == "postgresql" else "id"
        conditions.append(f"{col} IN ({','.join(['%s'] * len(household_ids))})")
        params.extend(household_ids)
    if only_unassigned:
        conditions.append("h.cell_id IS NULL" if connection.vendor == "postgresql" else "cell_id IS NULL")
    where = " AND ".join(conditions)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            if not only_unassigned:
                # Households that left every cell must lose their old cell too.
                cur.execute(f"UPDATE registry_household AS h SET cell_id = NULL WHERE {where}", params)
            cur.execute(_ASSIGN_POSTGIS.format(where=where), params)
        else:
            cur.execute(_ASSIGN_SPATIALITE.format(where=where), params)
        return cur.rowcount
