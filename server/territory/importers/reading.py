"""Reading boundary files through GDAL: any vector format GDAL opens, attributes decoded, geometries 2-D."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.gis.gdal import DataSource, GDALException, OGRGeometry, SpatialReference

# Attribute names accepted for each value, in order of preference; matched case-insensitively.
# "parent_cod" is "parent_code" cut to the 10 characters a Shapefile (DBF) allows.
CODE_FIELDS = ("code", "adcode", "编码", "代码")
NAME_FIELDS = ("name", "名称")
PARENT_FIELDS = ("parent", "parent_code", "parent_cod", "上级代码")

# Chinese Shapefiles without a .cpg file are usually GBK; GB18030 reads GBK and more.
FALLBACK_ENCODING = "gb18030"


class BoundaryFileError(Exception):
    """The file cannot be used at all (unreadable, no such layer, ...). The message is bilingual."""


@dataclass
class SourceFeature:
    fid: int | None
    code: object
    name: object
    parent_code: object
    geom: OGRGeometry | None


@dataclass
class SourceLayer:
    path: str
    layer_name: str
    srs: SpatialReference | None
    fields: list[str]
    code_field: str | None
    name_field: str | None
    parent_field: str | None
    features: list[SourceFeature] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def srs_label(self) -> str:
        if self.srs is None:
            return "未声明 undeclared"
        srid = self.srs.srid
        return f"EPSG:{srid} {self.srs.name}" if srid else (self.srs.name or "自定义 custom")


def _pick_field(fields: list[str], candidates: tuple[str, ...]) -> str | None:
    by_lower = {}
    for name in fields:
        by_lower.setdefault(name.strip().lower(), name)
    for candidate in candidates:
        if candidate in by_lower:
            return by_lower[candidate]
    return None


def _open(path: str, encoding: str) -> DataSource:
    try:
        return DataSource(path, encoding=encoding)
    except GDALException as exc:
        raise BoundaryFileError(
            f"无法读取文件 cannot read the file {path}: GDAL 不能识别或打不开 GDAL could not open it ({exc})"
        ) from exc


def _read_layer(ds: DataSource, path: str, layer_name: str | None) -> SourceLayer:
    names = [lyr.name for lyr in ds]
    if not names:
        raise BoundaryFileError(f"文件中没有图层 the file has no layer: {path}")
    if layer_name is None:
        if len(names) > 1:
            raise BoundaryFileError(
                f"文件有多个图层，请用 --layer 选择 the file has several layers, choose one with --layer: "
                f"{', '.join(names)}"
            )
        layer_name = names[0]
    if layer_name not in names:
        raise BoundaryFileError(f"没有图层 no layer named {layer_name!r}; 可选 available: {', '.join(names)}")
    layer = ds[layer_name]
    fields = list(layer.fields)
    source = SourceLayer(
        path=path, layer_name=layer_name, srs=layer.srs, fields=fields,
        code_field=_pick_field(fields, CODE_FIELDS), name_field=_pick_field(fields, NAME_FIELDS),
        parent_field=_pick_field(fields, PARENT_FIELDS),
    )
    for feat in layer:
        try:
            geom = feat.geom
        except GDALException:
            geom = None  # a feature without geometry: rejected later as empty
        if geom is not None:
            # Heights and measures mean nothing here, and the columns are 2-D.
            geom.set_3d(False)
            geom.set_measured(False)
        source.features.append(SourceFeature(
            fid=feat.fid,
            code=feat.get(source.code_field) if source.code_field else None,
            name=feat.get(source.name_field) if source.name_field else None,
            parent_code=feat.get(source.parent_field) if source.parent_field else None,
            geom=geom,
        ))
    return source


def boundary_file_read(*, path: str | Path, layer_name: str | None = None, encoding: str | None = None) -> SourceLayer:
    """Read every feature of one layer of a vector file (GeoJSON, Shapefile, GeoPackage, anything GDAL reads).

    Attribute text is decoded as `encoding` (default UTF-8); when that was not given and the text is not UTF-8
    (a Chinese Shapefile without a .cpg file), it is read again as GB18030 and a note says so.
    Raises BoundaryFileError when the file cannot be used at all.
    """
    path = str(path)
    if not Path(path).exists():
        raise BoundaryFileError(f"文件不存在 no such file: {path}")
    try:
        return _read_layer(_open(path, encoding or "utf-8"), path, layer_name)
    except UnicodeDecodeError as exc:
        if encoding:
            raise BoundaryFileError(
                f"属性文字不是 {encoding} 编码 attribute text is not {encoding}: {exc.reason}; "
                f"请用 --encoding 指定 choose the right one with --encoding"
            ) from exc
    try:
        source = _read_layer(_open(path, FALLBACK_ENCODING), path, layer_name)
    except UnicodeDecodeError as exc:
        raise BoundaryFileError(
            f"属性文字既不是 UTF-8 也不是 GB18030 attribute text is neither UTF-8 nor GB18030 ({exc.reason}); "
            f"请用 --encoding 指定 choose the encoding with --encoding"
        ) from exc
    source.notes.append(
        "属性文字不是 UTF-8，已按 GB18030 读取 attribute text is not UTF-8, read as GB18030 "
        "(用 --encoding 指定 use --encoding to choose)"
    )
    return source
