"""The boundary importer: areas, grid cells or police-station jurisdictions from a GIS file into the territory tree.

Two phases. *Planning* reads the file, cleans every geometry, resolves parents, compares with the database and
checks grid cells for overlaps and for lying outside their community; it writes nothing, and a dry run stops
there. *Applying* writes the plan in one transaction, keeps the materialised paths below moved areas consistent
and re-assigns the households around changed cells.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models, transaction

from server.territory.importers.cells import cells_overlap_check, cells_shape_check
from server.territory.importers.geometry import (
    MetricProjection,
    extent_of,
    geometry_clean,
    geos_notices_quiet,
    territory_box,
    wgs84_transform,
)
from server.territory.importers.levels import (
    AREA_LEVEL_LABELS,
    CODE_PATTERN,
    ImportLevel,
    attribute_text,
    scheme_parent_code,
)
from server.territory.importers.paths import area_subtree_paths_move
from server.territory.importers.plan import PlannedFeature
from server.territory.importers.reading import (
    CODE_FIELDS,
    NAME_FIELDS,
    BoundaryFileError,
    SourceFeature,
    SourceLayer,
    boundary_file_read,
)
from server.territory.importers.report import Action, BoundaryImportReport, FeatureOutcome
from server.territory.importers.spatial import households_reassign_around, in_chunks
from server.territory.models import Area


class BoundaryImportError(Exception):
    """The import cannot run at all: unreadable file, unknown level, unknown or mismatched --parent.

    The message is bilingual and says what to do.
    """


def import_level_parse(level: str) -> ImportLevel:
    """The level named on the command line, or BoundaryImportError listing the valid ones."""
    try:
        return ImportLevel(str(level).strip().lower())
    except ValueError:
        valid = ", ".join(f"{lv.value} ({lv.label.split()[0]})" for lv in ImportLevel)
        raise BoundaryImportError(f"未知层级 unknown level {level!r}; 可选 choose one of: {valid}") from None


def _default_parent(level: ImportLevel, parent_code: str | None) -> Area | None:
    if not parent_code:
        return None
    if level.parent_level is None:
        raise BoundaryImportError(
            f"层级不符 level mismatch: {level.label} 没有上级，请去掉 --parent {parent_code} "
            f"a {level.value} has no parent, drop --parent"
        )
    parent = Area.objects.filter(code=parent_code).first()
    if parent is None:
        raise BoundaryImportError(
            f"上级代码不存在 unknown --parent code {parent_code}: 请先导入上级区域或检查代码 "
            f"import the parent level first or check the code"
        )
    if parent.level != level.parent_level:
        raise BoundaryImportError(
            f"层级不符 level mismatch: --parent {parent_code} {parent.name} 是 is a "
            f"{AREA_LEVEL_LABELS[parent.level]}, {level.label} 的上级应是 needs a parent that is a "
            f"{AREA_LEVEL_LABELS[level.parent_level]}"
        )
    return parent


def _by_code(model: type[models.Model], codes: set[str], **filters) -> dict[str, models.Model]:
    found = {}
    for chunk in in_chunks(sorted(codes)):
        found.update({obj.code: obj for obj in model.objects.filter(code__in=chunk, **filters)})
    return found


def _check_attributes(feature: SourceFeature, outcome: FeatureOutcome, level: ImportLevel, seen: dict) -> None:
    code, name = outcome.code, outcome.name
    max_code = level.model._meta.get_field("code").max_length
    max_name = level.model._meta.get_field("name").max_length
    if code is None:
        outcome.reject("missing_code", f"缺少代码 missing code (字段 attribute: {'/'.join(CODE_FIELDS)})")
    elif not CODE_PATTERN.match(code) or len(code) > max_code:
        outcome.reject(
            "bad_code", f"代码无效 invalid code {code!r}: 只能是不超过 {max_code} 位的数字、字母、_ 或 - "
            f"only up to {max_code} digits, letters, _ or -"
        )
    elif code in seen:
        outcome.reject(
            "duplicate_code", f"代码在文件中重复 code repeated in the file (见要素 see feature #{seen[code]})"
        )
    elif name is None:
        outcome.reject("missing_name", f"缺少名称 missing name (字段 attribute: {'/'.join(NAME_FIELDS)})")
    elif len(name) > max_name:
        outcome.reject("bad_name", f"名称超过 {max_name} 字 name longer than {max_name} characters")
    if code is not None and code not in seen:
        seen[code] = feature.fid


def _read_features(source: SourceLayer, level: ImportLevel, report: BoundaryImportReport) -> list[PlannedFeature]:
    transform = wgs84_transform(source.srs)
    if source.srs is None:
        report.notes.append("文件没有声明坐标系，按 WGS-84 经纬度读取 the file declares no CRS; read as WGS-84 lon/lat")
    territory = territory_box().prepared
    planned, seen = [], {}
    for feature in source.features:
        outcome = FeatureOutcome(
            fid=feature.fid, code=attribute_text(feature.code), name=attribute_text(feature.name)
        )
        report.features.append(outcome)
        item = PlannedFeature(outcome)
        planned.append(item)
        _check_attributes(feature, outcome, level, seen)
        if not item.usable:
            continue
        clean = geometry_clean(ogr=feature.geom, transform=transform)
        outcome.warnings.extend(clean.warnings)
        if clean.rejection is not None:
            outcome.action, outcome.rejection = Action.REJECTED, clean.rejection
            continue
        if not territory.intersects(clean.geom):
            outcome.reject(
                "outside_territory",
                "完全在本市范围 (QIAOMEN_CITY_BBOX) 之外，坐标系是否正确？ lies entirely outside the territory "
                f"(QIAOMEN_CITY_BBOX); wrong CRS? extent {tuple(round(v, 4) for v in extent_of(clean.geom))}",
            )
            continue
        if not territory.contains(clean.geom):
            outcome.warn(
                "partly_outside_territory", "部分超出本市范围 partly outside the territory (QIAOMEN_CITY_BBOX)"
            )
        item.geom, item.extent = clean.geom, extent_of(clean.geom)
    return planned


def _resolve_parents(planned: list[PlannedFeature], sources: list[SourceFeature], level: ImportLevel,
                     default_parent: Area | None, report: BoundaryImportReport) -> None:
    usable = [(p, s) for p, s in zip(planned, sources, strict=True) if p.usable]
    existing = _by_code(level.model, {p.outcome.code for p, _ in usable})
    wanted = {attribute_text(s.parent_code) for _, s in usable} | {
        scheme_parent_code(level, p.outcome.code) for p, _ in usable
    }
    areas = _by_code(Area, {c for c in wanted if c}) if level.parent_level is not None else {}
    # Current parents of known codes, in one query rather than one per feature.
    parent_ids = {getattr(obj, f"{level.parent_field}_id") for obj in existing.values()} - {None}
    current_parents = Area.objects.in_bulk(sorted(parent_ids)) if level.parent_level is not None else {}
    inferred = 0
    for item, source in usable:
        outcome = item.outcome
        item.existing = existing.get(outcome.code)
        if level.is_area and item.existing is not None and item.existing.level != level.value:
            outcome.reject("level_conflict", f"代码已存在，但层级是 code already exists as a {item.existing.level} "
                           f"({item.existing.name}), 不是 not a {level.value}")
            continue
        if level.parent_level is None:
            continue
        scheme_code = scheme_parent_code(level, outcome.code)
        own_code = attribute_text(source.parent_code)
        if own_code:
            parent = areas.get(own_code)
            if parent is None:
                outcome.reject("unknown_parent", f"上级代码不存在 unknown parent code {own_code}")
                continue
            if parent.level != level.parent_level:
                outcome.reject("parent_level", f"上级 {own_code} 是 is a {AREA_LEVEL_LABELS[parent.level]}, "
                               f"应是 should be a {AREA_LEVEL_LABELS[level.parent_level]}")
                continue
        elif default_parent is not None:
            parent = default_parent
        elif item.existing is not None:  # re-import without a parent: it stays where it is
            parent = current_parents.get(getattr(item.existing, f"{level.parent_field}_id"))
        elif scheme_code in areas and areas[scheme_code].level == level.parent_level:
            parent = areas[scheme_code]
            inferred += 1
        else:
            parent = None
        if parent is None and level.parent_required:
            outcome.reject("missing_parent", "缺少上级代码 no parent: 请用 --parent 或 parent/上级代码 字段 "
                           "give --parent or a parent/上级代码 attribute")
            continue
        if parent is not None and scheme_code and scheme_code != parent.code:
            outcome.warn("code_parent_mismatch", f"代码 {outcome.code} 不以上级代码开头 does not extend its parent's "
                         f"code {parent.code}", other_codes=(parent.code,))
        item.parent = parent
    if inferred:
        report.notes.append(
            f"{inferred} 个要素的上级由代码推断 parents of {inferred} features inferred from their codes"
        )


def _classify(planned: list[PlannedFeature], level: ImportLevel) -> None:
    for item in planned:
        if not item.usable:
            continue
        outcome, old = item.outcome, item.existing
        if old is None:
            outcome.action = Action.CREATE
            continue
        if old.name != outcome.name:
            outcome.changed.append("name")
        if getattr(old, f"{level.parent_field}_id") != (item.parent.pk if item.parent else None):
            outcome.changed.append("parent")
        if old.geom is None or not old.geom.equals_exact(item.geom, 1e-9):
            outcome.changed.append("geom")
        outcome.action = Action.UPDATE if outcome.changed else Action.UNCHANGED


def _plan(
    source: SourceLayer, level: ImportLevel, default_parent: Area | None, report: BoundaryImportReport
) -> list[PlannedFeature]:
    planned = _read_features(source, level, report)
    _resolve_parents(planned, source.features, level, default_parent, report)
    if level is ImportLevel.CELL:
        tolerance = settings.QIAOMEN_OVERLAP_TOLERANCE_M2
        projection = MetricProjection.around([p.extent for p in planned if p.usable])
        cells_shape_check(planned=planned, projection=projection, tolerance_m2=tolerance, report=report)
        cells_overlap_check(planned=planned, projection=projection, tolerance_m2=tolerance)
    _classify(planned, level)
    return planned


@transaction.atomic
def _apply(planned: list[PlannedFeature], level: ImportLevel, report: BoundaryImportReport) -> None:
    model = level.model
    has_updated_at = any(f.name == "updated_at" for f in model._meta.concrete_fields)
    moved_cells, boxes = [], []
    for item in planned:
        outcome = item.outcome
        if outcome.action not in (Action.CREATE, Action.UPDATE):
            continue
        if outcome.action == Action.CREATE:
            obj = model(code=outcome.code, name=outcome.name, geom=item.geom, **{level.parent_field: item.parent})
            if level.is_area:
                obj.level = level.value
            obj.save()
        else:
            obj = item.existing
            if "geom" in outcome.changed and obj.geom is not None:
                boxes.append(extent_of(obj.geom))
            old_path = obj.path
            obj.name, obj.geom = outcome.name, item.geom
            setattr(obj, level.parent_field, item.parent)
            fields = ["name", "geom", level.parent_field, "path"] + (["updated_at"] if has_updated_at else [])
            obj.save(update_fields=fields)
            if level.is_area and obj.path != old_path:
                report.paths_rewritten += area_subtree_paths_move(old_path=old_path, new_path=obj.path)
        if level is ImportLevel.CELL and (outcome.action == Action.CREATE or "geom" in outcome.changed):
            moved_cells.append(obj.pk)
            boxes.append(item.extent)
    if level is ImportLevel.CELL:
        report.households_reassigned = households_reassign_around(cell_ids=moved_cells, boxes=boxes)


def boundaries_import(
    *,
    path: str | Path,
    level: str,
    parent_code: str | None = None,
    dry_run: bool = False,
    layer_name: str | None = None,
    encoding: str | None = None,
) -> BoundaryImportReport:
    """Import the areas, grid cells or police-station jurisdictions of one layer of a GIS file.

    `level` is city, district, township, community, cell or station. Features are matched by code: new codes are
    created, known ones updated (name, boundary, parent; paths below a moved area follow), nothing is deleted or
    duplicated. Each feature's parent is its own parent/上级代码 attribute, else `parent_code`, else its current
    parent (re-import), else the area whose code its own code extends (341102001 → 341102). Broken features
    are rejected with a reason and the rest imported; docs/import-areas.md has every rule. With `dry_run`
    nothing is written.

    Raises BoundaryImportError when the import cannot run at all (unreadable file, unknown level, unknown
    `parent_code` or one at the wrong level).
    """
    import_level = import_level_parse(level)
    default_parent = _default_parent(import_level, parent_code)
    try:
        source = boundary_file_read(path=path, layer_name=layer_name, encoding=encoding)
    except BoundaryFileError as exc:
        raise BoundaryImportError(str(exc)) from exc
    if not source.features:
        raise BoundaryImportError(f"图层中没有要素 the layer has no features: {path} [{source.layer_name}]")
    report = BoundaryImportReport(
        source=str(path), layer=source.layer_name, level=import_level.value, dry_run=dry_run, srs=source.srs_label,
        notes=list(source.notes),
    )
    with geos_notices_quiet():
        planned = _plan(source, import_level, default_parent, report)
    if not dry_run:
        _apply(planned, import_level, report)
    return report


__all__ = ["BoundaryImportError", "ImportLevel", "boundaries_import", "import_level_parse"]
