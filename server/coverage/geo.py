"""Coverage on the map: the areas of a level with their figures as GeoJSON, and vector tiles of grid cells.

Both read the same figures as `GET /api/v1/coverage` (selectors.coverage_by_area), so the map, the API and the
reports cannot disagree. Both count only the caller's cells (accounts.scoping).

- GeoJSON (any database): one Feature per area (or cell) of the level, geometry from `territory.Area.geom` /
  `territory.GridCell.geom`, simplified for the upper levels so a district's outline stays a few kilobytes.
- Vector tiles (PostGIS only): `ST_AsMVT` of the caller's cells in the tile with the figures of the round (or
  the campaign), one layer named `coverage`. SpatiaLite has no MVT encoder: the API says so (501) and the map
  page uses the GeoJSON, which is what it does anyway.
"""

from __future__ import annotations

import json

from django.contrib.gis.db.models import Union
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db import connection

from server.accounts import scoping
from server.accounts.models import User
from server.campaigns.models import Campaign, Round
from server.coverage import selectors
from server.territory.models import Area, GridCell

# Tolerance (degrees) of the outline simplification per level: ~50 m for a city, ~5 m for a community; cells
# are drawn as they are.
SIMPLIFY = {"city": 0.0005, "district": 0.0003, "township": 0.0001, "community": 0.00005, "cell": 0.0}
TILE_LAYER = "coverage"
TILE_EXTENT = 4096
TILE_ZOOMS = range(0, 23)


# The legend, worst first: (lower bound, class, colour, label). The map page, the tiles and the PDF reports'
# maps all colour by these. Areas with nothing left to visit are NO_FIGURES.
CLASSES = [
    (0.0, "lt50", "#d73027", "< 50%"),
    (0.5, "50_70", "#fc8d59", "50–70%"),
    (0.7, "70_85", "#fee08b", "70–85%"),
    (0.85, "85_95", "#91cf60", "85–95%"),
    (0.95, "ge95", "#1a9850", "≥ 95%"),
]
NO_FIGURES = ("none", "#d9d9d9", "无应访户 nothing to visit")


def coverage_class(coverage: float | None) -> str:
    """The legend's class of a coverage rate (0–1), or NO_FIGURES' class for None."""
    if coverage is None:
        return NO_FIGURES[0]
    name = CLASSES[0][1]
    for lower, key, _, _ in CLASSES:
        if coverage >= lower:
            name = key
    return name


def _class_sql(column: str) -> str:
    """coverage_class() as an SQL CASE over `column`."""
    branches = " ".join(f"WHEN {column} < {upper} THEN '{key}'"
                        for (_, key, _, _), (upper, _, _, _) in zip(CLASSES, CLASSES[1:], strict=False))
    return f"CASE WHEN {column} IS NULL THEN '{NO_FIGURES[0]}' {branches} ELSE '{CLASSES[-1][1]}' END"


def coverage_features(*, user: User, level: str, round: Round | None = None, campaign: Campaign | None = None,
                      area_code: str | None = None) -> list[dict]:
    """coverage_by_area's rows, each with `geometry` (a GEOS geometry or a GeoJSON dict; None when the area has
    no boundary) and `coverage_class`."""
    rows = selectors.coverage_by_area(user=user, level=level, round=round, campaign=campaign, area_code=area_code)
    model = GridCell if level == "cell" else Area
    ids = [r["id"] for r in rows]
    tolerance = SIMPLIFY[level]
    if tolerance:  # a few outlines, simplified with GEOS
        geoms = {pk: (g.simplify(tolerance, preserve_topology=True) if g is not None else None)
                 for pk, g in model.objects.filter(pk__in=ids).values_list("id", "geom")}
    else:  # many cells as they are: the database writes the GeoJSON (a township's 100 cells: ~4x faster)
        geoms = {pk: (json.loads(text) if text else None) for pk, text in
                 model.objects.filter(pk__in=ids).values_list("id", AsGeoJSON("geom", precision=6))}
    missing = [pk for pk in ids if geoms.get(pk) is None] if level != "cell" else []
    # An area imported without a boundary is drawn as the union of its cells.
    for pk, path in Area.objects.filter(pk__in=missing).values_list("id", "path"):
        union = GridCell.objects.filter(path__startswith=path).aggregate(u=Union("geom"))["u"]
        geoms[pk] = union.simplify(tolerance, preserve_topology=True) if union else None
    for row in rows:
        row["geometry"] = geoms.get(row["id"])
        row["coverage_class"] = coverage_class(row["coverage"])
    return rows



class TilesUnavailable(RuntimeError):
    """The database cannot encode vector tiles (SpatiaLite)."""


def tiles_available() -> bool:
    return connection.vendor == "postgresql"


def coverage_tile(*, user: User, z: int, x: int, y: int, round: Round | None = None,
                  campaign: Campaign | None = None) -> bytes:
    """One Mapbox vector tile (EPSG:3857, extent 4096) of the caller's cells with their figures.

    Properties of each feature: code, name, to_visit, attempted, reached, excluded, coverage (0–1, absent when
    nothing is left to visit), coverage_class. A tile with no cell is empty (zero bytes)."""
    if not tiles_available():
        raise TilesUnavailable("vector tiles need PostGIS (ST_AsMVT)")
    target = selectors.coverage_target(user=user, round=round, campaign=campaign)
    visible_sql, visible_params = scoping.grid_cells_visible(user).values("id").query.sql_with_params()
    if target.round is not None:
        scope_sql, scope_params = "cc.round_id = %s", [target.round.pk]
    else:
        scope_sql, scope_params = "cc.round_id IS NULL AND cc.campaign_id = %s", [target.campaign.pk]
    sql = f"""
WITH bounds AS (SELECT ST_TileEnvelope(%s, %s, %s) AS env),
tile AS (
  SELECT ST_AsMVTGeom(ST_Transform(c.geom, 3857), b.env, {TILE_EXTENT}, 64, true) AS geom,
    c.code, c.name, cc.to_visit, cc.attempted, cc.reached, cc.excluded,
    CASE WHEN cc.to_visit - cc.excluded > 0
      THEN round(cc.reached::numeric / (cc.to_visit - cc.excluded), 4)::float8 END AS coverage
  FROM bounds b
  JOIN territory_gridcell c ON c.geom && ST_Transform(b.env, 4326)
  JOIN coverage_cellcoverage cc ON cc.cell_id = c.id AND {scope_sql}
  WHERE c.id IN ({visible_sql})
)
SELECT ST_AsMVT(tile.*, %s, {TILE_EXTENT}, 'geom') FROM (
  SELECT geom, code, name, to_visit, attempted, reached, excluded, coverage,
    {_class_sql("coverage")} AS coverage_class
  FROM tile WHERE geom IS NOT NULL) tile"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [z, x, y, *scope_params, *visible_params, TILE_LAYER])
        data = cursor.fetchone()[0]
    return bytes(data) if data else b""
