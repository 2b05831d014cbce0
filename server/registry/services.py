"""Writes to the register."""

from __future__ import annotations

from django.db import connection, transaction

from server.common import pii
from server.common.errors import DomainError
from server.registry.models import Household, Resident


class RevealRefused(DomainError):
    status_code = 403


@transaction.atomic
def household_phones_reveal(*, user, household: Household, reason: str) -> list[dict]:
    """The full phone numbers of a household's residents, for a user whose work needs them, with a reason.

    Each reveal is one audit entry (who, when, which household and residents, why; never the numbers). The caller
    has checked that the household is visible to the user (404 otherwise)."""
    from server.accounts.permissions import can_reveal_phone
    from server.audit.models import AuditAction
    from server.audit.services import audit_record

    reason = (reason or "").strip()
    if len(reason) < 4:
        raise DomainError("reason_required", "请填写查看完整号码的原因（至少4个字）",
                          "Give the reason for revealing the number (at least 4 characters)", field="reason")
    if not can_reveal_phone(user, household):
        raise RevealRefused("reveal_forbidden", "您的角色不能查看完整手机号，请联系派出所所长或本网格网格员",
                            "Your role may not see full phone numbers: ask the station chief or this cell's worker")
    residents = list(household.residents.order_by("id"))
    shown = [{"id": r.pk, "name": r.name, "phone": pii.phone_decrypt(r.phone_cipher), "phone_masked": r.phone_masked}
             for r in residents if r.phone_cipher]
    audit_record(actor=user, action=AuditAction.PHONE_REVEAL, obj=household, object_repr=household.register_id,
                 territory=household.cell or household.community,
                 changes={"residents": [r["id"] for r in shown]}, reason=reason)
    return shown


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
UPDATE registry_household AS u SET cell_id = m.cell_id
FROM (
    SELECT DISTINCT ON (h.id) h.id AS household_id, c.id AS cell_id
    FROM registry_household AS h
    JOIN territory_gridcell AS c ON h.location && c.geom AND ST_Intersects(c.geom, h.location)
    WHERE {where}
    ORDER BY h.id, c.id
) AS m
WHERE u.id = m.household_id
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

# The same rule for many staged points at once (the register importer). PostGIS joins the cells to the points
# through a GiST index on the points (~50x faster than one index probe per point); SpatiaLite probes the cells'
# R*Tree table directly (~7x faster than through the SpatialIndex virtual table).
_MATCH_POSTGIS = """
SELECT p.{key} AS key, min(c.id) AS cell_id
FROM territory_gridcell AS c JOIN {table} AS p ON p.location && c.geom AND ST_Intersects(c.geom, p.location)
GROUP BY p.{key}
"""
_MATCH_SPATIALITE = """
SELECT key, cell_id FROM (
    SELECT p.{key} AS key, (
        SELECT c.id FROM territory_gridcell AS c
        WHERE c.id IN (
            SELECT pkid FROM idx_territory_gridcell_geom
            WHERE xmin <= p.lon AND xmax >= p.lon AND ymin <= p.lat AND ymax >= p.lat
        ) AND ST_Intersects(c.geom, MakePoint(p.lon, p.lat, 4326)) = 1
        ORDER BY c.id LIMIT 1
    ) AS cell_id
    FROM {table} AS p
) WHERE cell_id IS NOT NULL
"""


def grid_cells_match_sql(*, table: str, key: str) -> str:
    """SQL selecting `key, cell_id` for each row of `table` whose point lies in a grid cell.

    `table` holds the points as columns `lon` and `lat` (WGS-84) and, on PostGIS, as a geometry column `location`
    with a GiST index (without it the join is slow). Where cells overlap the lowest cell id wins, as in
    household_cells_assign on SpatiaLite; rows in no cell are absent. Used by bulk imports that stage rows first.
    """
    sql = _MATCH_POSTGIS if connection.vendor == "postgresql" else _MATCH_SPATIALITE
    return sql.format(table=table, key=key)


_ASSIGN_CHUNK = 10_000  # ids bound per statement: PostgreSQL allows 65,535 parameters, SQLite 32,766


@transaction.atomic
def household_cells_assign(*, household_ids: list[int] | None = None, only_unassigned: bool = False) -> int:
    """Put households into the grid cell containing their point (or none). Returns the number of rows updated.

    `household_ids` limits the update (None: every household); `only_unassigned` leaves placed households alone.
    Long id lists are processed in chunks.
    """
    if household_ids is not None and len(household_ids) > _ASSIGN_CHUNK:
        return sum(
            _cells_assign(household_ids=household_ids[i : i + _ASSIGN_CHUNK], only_unassigned=only_unassigned)
            for i in range(0, len(household_ids), _ASSIGN_CHUNK)
        )
    return _cells_assign(household_ids=household_ids, only_unassigned=only_unassigned)


def _cells_assign(*, household_ids: list[int] | None, only_unassigned: bool) -> int:
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
                cur.execute(
                    f"UPDATE registry_household AS h SET cell_id = NULL WHERE {where} AND h.cell_id IS NOT NULL "
                    "AND NOT EXISTS (SELECT 1 FROM territory_gridcell AS c WHERE h.location && c.geom "
                    "AND ST_Intersects(c.geom, h.location))", params)
            cur.execute(_ASSIGN_POSTGIS.format(where=where), params)
        else:
            cur.execute(_ASSIGN_SPATIALITE.format(where=where), params)
        return cur.rowcount
