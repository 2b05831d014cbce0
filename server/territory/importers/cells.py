"""Rules only grid cells follow: one polygon each, inside their community, not overlapping other cells."""

from __future__ import annotations

from server.territory.importers.geometry import MetricProjection, extent_union
from server.territory.importers.overlaps import CellShape, cell_overlaps_find
from server.territory.importers.plan import PlannedFeature
from server.territory.importers.report import BoundaryImportReport
from server.territory.importers.spatial import ids_in_box, in_chunks
from server.territory.models import GridCell


def cells_shape_check(*, planned: list[PlannedFeature], projection: MetricProjection, tolerance_m2: float,
                      report: BoundaryImportReport) -> None:
    """Make each usable cell one polygon and check it lies inside its community.

    A cell is stored as one Polygon: parts smaller than `tolerance_m2` (slivers from repair or digitising) are
    dropped with a warning; several larger parts reject the feature, as does lying wholly outside the
    community. Sticking out of it by more than `tolerance_m2` is a warning.
    """
    tolerance = tolerance_m2
    community_shapes: dict[int, tuple] = {}
    no_boundary: set[str] = set()
    for item in planned:
        if not item.usable:
            continue
        outcome, wgs_parts = item.outcome, list(item.geom)
        metric_parts = [projection.project(part) for part in wgs_parts]
        keep = [i for i, part in enumerate(metric_parts) if part.area > tolerance] or [
            max(range(len(metric_parts)), key=lambda i: metric_parts[i].area)
        ]
        if len(keep) > 1:
            areas = ", ".join(f"{metric_parts[i].area:.0f}" for i in keep)
            outcome.reject("multipart_cell", f"网格必须是一个连续的面，此要素有 {len(keep)} 块 a grid cell must be one "
                           f"polygon, this one has {len(keep)} parts ({areas} m²); 请拆分或修正 split or fix it")
            continue
        if len(metric_parts) > 1:
            dropped = sum(p.area for i, p in enumerate(metric_parts) if i != keep[0])
            outcome.warn("slivers_dropped", f"去掉 {len(metric_parts) - 1} 个碎片 dropped {len(metric_parts) - 1} "
                         f"sliver part(s), {dropped:.1f} m²", area_m2=dropped)
        item.geom, item.metric = wgs_parts[keep[0]], metric_parts[keep[0]]
        community = item.parent
        if community.geom is None:
            no_boundary.add(community.code)
            continue
        if community.pk not in community_shapes:
            metric = projection.project(community.geom)
            community_shapes[community.pk] = (metric, metric.prepared)
        metric, prepared = community_shapes[community.pk]
        if prepared.contains(item.metric):
            continue
        outside = item.metric.difference(metric).area
        if item.metric.area - outside <= tolerance:
            outcome.reject("outside_community", f"完全在所属社区 {community.code} {community.name} 之外 lies entirely "
                           f"outside its community {community.code}; 上级代码或坐标系是否正确？ wrong parent or CRS?",
                           other_codes=(community.code,))
        elif outside > tolerance:
            outcome.warn("outside_community", f"网格 {outcome.code} 超出所属社区 {community.code} {outside:.0f} 平方米 "
                         f"cell {outcome.code} extends {outside:.0f} m² outside its community {community.code}",
                         other_codes=(community.code,), area_m2=outside)
    if no_boundary:
        report.notes.append(f"社区没有边界，未检查网格是否在社区内 communities without a boundary, containment not "
                            f"checked: {', '.join(sorted(no_boundary))}")


def cells_overlap_check(*, planned: list[PlannedFeature], projection: MetricProjection, tolerance_m2: float) -> None:
    """Warn, on both features, about usable cells overlapping each other or cells already in the database."""
    mine = [CellShape(p.outcome.code, p.metric, in_file=True, ref=p) for p in planned if p.usable]
    if not mine:
        return
    replaced = {shape.code for shape in mine}
    box = extent_union(p.extent for p in planned if p.usable)
    nearby = GridCell.objects.filter(id__in=ids_in_box(GridCell, "geom", box)).values_list("id", "code")
    # Cells this file replaces are compared in their new shape only; fetch the others' geometry.
    keep = [pk for pk, code in nearby if code not in replaced]
    others = [
        CellShape(cell.code, projection.project(cell.geom), in_file=False)
        for chunk in in_chunks(keep) for cell in GridCell.objects.filter(id__in=chunk).only("code", "geom")
    ]
    for a, b, area in cell_overlaps_find(cells=mine + others, tolerance_m2=tolerance_m2):
        where = "" if b.in_file else " (数据库中已有 already in the database)"
        message = (
            f"网格 {a.code} 与 {b.code} 重叠 {area:.0f} 平方米 cells {a.code} and {b.code} overlap by {area:.0f} m²"
        )
        a.ref.outcome.warn("overlap", message + where, other_codes=(b.code,), area_m2=area)
        if b.in_file:
            b.ref.outcome.warn("overlap", message, other_codes=(a.code,), area_m2=area)
