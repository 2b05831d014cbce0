"""Geometry handling for boundary imports: to WGS-84, polygonal and valid, and measured in square metres."""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.gdal import CoordTransform, GDALException, OGRGeometry, SpatialReference
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon

from server.territory.importers.report import Issue

WGS84_SRID = 4326


@contextmanager
def geos_notices_quiet() -> Iterator[None]:
    """GEOS logs a notice for every invalid geometry it looks at; the import report already says it, once."""
    gis_logger = logging.getLogger("django.contrib.gis")
    previous = gis_logger.level
    gis_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        gis_logger.setLevel(previous)


def wgs84_transform(srs: SpatialReference | None) -> CoordTransform | None:
    """The transformation from a layer's CRS to WGS-84, or None when none is needed (or none is declared)."""
    if srs is None or srs.srid == WGS84_SRID:
        return None
    return CoordTransform(srs, SpatialReference(WGS84_SRID))


@dataclass
class CleanGeometry:
    """A feature's geometry as WGS-84 polygons, or the reason there is none."""

    geom: MultiPolygon | None
    warnings: list[Issue]
    rejection: Issue | None = None


def _polygons(geom: GEOSGeometry) -> tuple[list[Polygon], bool]:
    """Polygonal parts of any geometry (collections flattened) and whether something else was dropped."""
    if geom.empty:
        return [], False
    if isinstance(geom, Polygon):
        return [geom], False
    if geom.geom_type in ("MultiPolygon", "GeometryCollection"):
        polygons, dropped = [], False
        for part in geom:
            sub, sub_dropped = _polygons(part)
            polygons.extend(sub)
            dropped = dropped or sub_dropped or not sub
        return polygons, dropped
    return [], True


def geometry_clean(*, ogr: OGRGeometry | None, transform: CoordTransform | None) -> CleanGeometry:
    """Reproject a feature's geometry to WGS-84, keep its polygonal parts and repair it if invalid.

    Invalid geometry (a self-intersecting "bow-tie", overlapping parts, ...) is repaired with GEOS
    `make_valid()` and only the polygonal parts of the result are kept, with a warning. A geometry that is
    empty, has no polygonal part or cannot be repaired is rejected. Wrap calls in geos_notices_quiet().
    """
    if ogr is None:
        return CleanGeometry(None, [], Issue("empty_geometry", "几何为空 empty geometry"))
    try:
        if transform is not None:
            ogr = ogr.transform(transform, clone=True)
        geom = GEOSGeometry(ogr.wkb, srid=WGS84_SRID)
    except (GDALException, GEOSException, ValueError) as exc:
        return CleanGeometry(None, [], Issue(
            "unsupported_geometry",
            f"几何无法读取或转换 geometry cannot be read or reprojected: {ogr.geom_name} ({exc})",
        ))
    if geom.empty:
        return CleanGeometry(None, [], Issue("empty_geometry", "几何为空 empty geometry"))
    polygons, dropped = _polygons(geom)
    if not polygons:
        return CleanGeometry(None, [], Issue("not_polygonal", f"不是面要素 not polygonal: {geom.geom_type}"))
    warnings = []
    if dropped:
        warnings.append(Issue("parts_dropped", "已去掉非面部分（点、线） non-polygonal parts (points, lines) dropped"))
    multi = MultiPolygon(*polygons, srid=WGS84_SRID)
    if not multi.valid:
        reason = multi.valid_reason
        repaired, _ = _polygons(multi.make_valid())
        repaired_multi = MultiPolygon(*repaired, srid=WGS84_SRID) if repaired else None
        if repaired_multi is None or repaired_multi.empty or not repaired_multi.valid or repaired_multi.area == 0:
            return CleanGeometry(None, warnings, Issue(
                "invalid_geometry", f"几何无效且无法修复 invalid geometry that cannot be repaired: {reason}"
            ))
        warnings.append(Issue("repaired", f"几何无效，已自动修复 invalid geometry repaired: {reason}"))
        multi = repaired_multi
    return CleanGeometry(multi, warnings)


Extent = tuple[float, float, float, float]


def extent_of(geom: GEOSGeometry) -> Extent:
    """(xmin, ymin, xmax, ymax) of a geometry, read from the WKB of its envelope.

    Django's `GEOSGeometry.extent` walks the envelope's coordinates in Python, which dominated the planning time
    of a 5,000-cell import.
    """
    wkb = bytes(geom.envelope.wkb)
    order = "<" if wkb[0] == 1 else ">"
    if len(wkb) == 21:  # a point: the envelope of a degenerate geometry
        x, y = struct.unpack_from(f"{order}2d", wkb, 5)
        return (x, y, x, y)
    # Polygon WKB: byte order, type, ring count, point count, then the corners (x0 y0) (x1 y0) (x1 y1) ...
    x0, y0, _, _, x1, y1 = struct.unpack_from(f"{order}6d", wkb, 13)
    return (x0, y0, x1, y1)


def extent_union(extents: Iterable[Extent]) -> Extent:
    extents = list(extents)
    return (min(e[0] for e in extents), min(e[1] for e in extents), max(e[2] for e in extents),
            max(e[3] for e in extents))


def territory_box() -> Polygon:
    """The deployment's territory (settings.QIAOMEN_CITY_BBOX) as a WGS-84 polygon."""
    return Polygon.from_bbox(settings.QIAOMEN_CITY_BBOX)


class MetricProjection:
    """A Lambert azimuthal equal-area projection centred on the data, so areas come out in square metres."""

    def __init__(self, *, lon: float, lat: float):
        self.srs = SpatialReference(
            f"+proj=laea +lat_0={lat:.4f} +lon_0={lon:.4f} +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
        )
        self._to_metric = CoordTransform(SpatialReference(WGS84_SRID), self.srs)

    @classmethod
    def around(cls, extents: list[Extent]) -> MetricProjection:
        """Centred on the middle of the given extents (the territory's centre when there are none)."""
        xmin, ymin, xmax, ymax = extent_union(extents) if extents else settings.QIAOMEN_CITY_BBOX
        return cls(lon=(xmin + xmax) / 2, lat=(ymin + ymax) / 2)

    def project(self, geom: GEOSGeometry) -> GEOSGeometry:
        return geom.transform(self._to_metric, clone=True)
