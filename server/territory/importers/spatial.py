"""Spatial-index lookups on both backends, and re-assigning the households around changed cells."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.contrib.gis.geos import Polygon
from django.db import connection, models
from django.db.models.expressions import RawSQL

from server.registry.models import Household
from server.registry.services import household_cells_assign
from server.territory.importers.geometry import Extent, extent_union

CHUNK = 2000


def in_chunks(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    """Lists of at most `size` items: SQLite allows only so many parameters in one statement."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def ids_in_box(model: type[models.Model], field: str, box: Extent) -> models.QuerySet:
    """Ids of the rows whose `field` envelope meets the WGS-84 box, found through the spatial index.

    On PostGIS `&&` uses the GiST index; on SpatiaLite an ORM bounding-box filter would scan every row, so the
    R-tree is queried through its SpatialIndex table.
    """
    if connection.vendor == "postgresql":
        return model.objects.filter(**{f"{field}__bboverlaps": Polygon.from_bbox(box)}).values("id")
    column = model._meta.get_field(field).column
    return model.objects.filter(id__in=RawSQL(
        "SELECT ROWID FROM SpatialIndex WHERE f_table_name = %s AND f_geometry_column = %s "
        "AND search_frame = BuildMbr(%s, %s, %s, %s, 4326)",
        (model._meta.db_table, column, *box),
    )).values("id")


def households_reassign_around(*, cell_ids: list[int], boxes: list[Extent]) -> int:
    """Re-assign to cells the households that were in, or now lie within reach of, created or reshaped cells.

    Only households inside the changed cells' old and new extents, or assigned to one of those cells, are
    recomputed, so importing one community's cells does not touch the whole city. Returns the number of
    households recomputed (as counted by household_cells_assign).
    """
    if not cell_ids or not Household.objects.exists():
        return 0
    ids = set(ids_in_box(Household, "location", extent_union(boxes)).values_list("id", flat=True))
    for chunk in in_chunks(cell_ids):
        ids.update(Household.objects.filter(cell_id__in=chunk).values_list("id", flat=True))
    if len(ids) * 2 > Household.objects.count():
        return household_cells_assign()  # most of the register: one set-based pass beats id lists
    return sum(household_cells_assign(household_ids=chunk) for chunk in in_chunks(sorted(ids)))
