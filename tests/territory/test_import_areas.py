"""manage.py import_areas: boundary files of every format and level into the territory tree."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command

from server.registry.models import Household
from server.territory.importers import Action, boundaries_import, territory_paths_inconsistent
from server.territory.models import Area, AreaLevel, GridCell, PoliceStation

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "boundaries"
CHAIN = [  # (file, level, --parent): the order docs/import-areas.md gives
    ("341100_city.geojson", "city", None),
    ("341100_districts.shp", "district", "341100"),
    ("341102_townships.gpkg", "township", "341102"),
    ("341102001_communities_epsg4548.geojson", "community", "341102001"),
    ("341102001001_cells.geojson", "cell", None),
]


def run(path, *args: str) -> str:
    out = StringIO()
    call_command("import_areas", str(path), *args, stdout=out)
    return out.getvalue()


def import_chain(upto: str) -> str:
    """Import the fixture files level by level down to `upto`; returns the last command's output."""
    for name, level, parent in CHAIN:
        output = run(FIXTURES / name, "--level", level, *(["--parent", parent] if parent else []))
        if level == upto:
            return output
    raise AssertionError(upto)


def box(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def write_geojson(tmp_path: Path, features: list[tuple[dict, dict | None]], name: str = "in.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": geom} for props, geom in features
    ]}, ensure_ascii=False), encoding="utf-8")
    return path


def metres_between(a: Point, b: Point) -> float:
    return a.transform(32650, clone=True).distance(b.transform(32650, clone=True))


# --- formats, CRS ---------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_geojson_shapefile_and_geopackage_each_import_with_their_attribute_spellings():
    out = import_chain("township")

    city = Area.objects.get(code="341100")  # GeoJSON, numeric DataV `adcode`
    assert (city.name, city.level, city.parent, city.path) == ("滁州市", AreaLevel.CITY, None, "341100/")
    nanqiao = Area.objects.get(code="341103")  # Shapefile, CODE/NAME, Chinese through the .cpg
    assert (nanqiao.name, nanqiao.parent, nanqiao.path) == ("南谯区", city, "341100/341103/")
    qingliu = Area.objects.get(code="341102001")  # GeoPackage, 代码/名称
    assert (qingliu.name, qingliu.parent.code, qingliu.path) == ("清流街道", "341102", "341100/341102/341102001/")
    # A feature's own 上级代码 wins over --parent.
    assert Area.objects.get(code="341103100").path == "341100/341103/341103100/"
    assert "新建 create 3" in out
    assert territory_paths_inconsistent() == []


@pytest.mark.django_db
def test_projected_crs_is_reprojected_to_wgs84_within_a_metre():
    out = import_chain("community")

    assert "EPSG:4548" in out
    xiangqiao = Area.objects.get(code="341102001001")
    assert xiangqiao.geom.srid == 4326 and xiangqiao.path.startswith("341100/341102/341102001/")
    # The fixture's corner was 118.28E 32.30N before ogr2ogr projected it to Gauss-Kruger metres.
    corner = Point(118.28, 32.30, srid=4326)
    nearest = min((Point(xy, srid=4326) for xy in xiangqiao.geom[0][0]), key=lambda p: metres_between(p, corner))
    assert metres_between(nearest, corner) < 1.0
    assert xiangqiao.geom.contains(Point(118.29, 32.31, srid=4326))


@pytest.mark.django_db
@pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="needs ogr2ogr (gdal-bin) to write a GBK Shapefile")
def test_gbk_shapefile_without_cpg_is_read_as_gb18030_with_a_note(tmp_path, mini_city):
    source = write_geojson(tmp_path, [({"CODE": "341102001002", "NAME": "梅铺社区"}, box(118.1, 32.0, 118.2, 32.1))])
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", str(tmp_path / "gbk.shp"), str(source),
                    "-lco", "ENCODING=GBK"], check=True, capture_output=True)
    (tmp_path / "gbk.cpg").unlink()

    out = run(tmp_path / "gbk.shp", "--level", "community", "--parent", "341102001")

    assert Area.objects.get(code="341102001002").name == "梅铺社区"
    assert "GB18030" in out


@pytest.mark.django_db
@pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="needs ogr2ogr (gdal-bin) to write a GeoPackage")
def test_a_file_with_several_layers_needs_layer(tmp_path, mini_city):
    gpkg = tmp_path / "two.gpkg"
    for layer, code, update in (("roads", "341102001005", []), ("communities", "341102001006", ["-update"])):
        source = write_geojson(tmp_path, [({"code": code, "name": layer}, box(118.1, 32.0, 118.2, 32.1))])
        subprocess.run(["ogr2ogr", "-f", "GPKG", *update, "-nln", layer, str(gpkg), str(source)],
                       check=True, capture_output=True)

    with pytest.raises(CommandError, match="--layer: .*roads.*communities|--layer: .*communities.*roads"):
        run(gpkg, "--level", "community", "--parent", "341102001")
    run(gpkg, "--level", "community", "--parent", "341102001", "--layer", "communities")

    assert list(Area.objects.filter(code__startswith="34110200100").values_list("code", flat=True)) == [
        "341102001001", "341102001006"
    ]


# --- geometry repair and rejection ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_bow_tie_area_is_repaired_with_a_warning(tmp_path, mini_city):
    bow_tie = {"type": "Polygon", "coordinates": [[[118.1, 32.0], [118.2, 32.1], [118.2, 32.0], [118.1, 32.1],
                                                   [118.1, 32.0]]]}
    path = write_geojson(tmp_path, [({"code": "341102001002", "name": "蝴蝶结社区"}, bow_tie)])

    report = boundaries_import(path=path, level="community", parent_code="341102001")

    outcome = report.features[0]
    assert outcome.action == Action.CREATE
    assert [w.kind for w in outcome.warnings] == ["repaired"]
    assert "Self-intersection" in outcome.warnings[0].message
    geom = Area.objects.get(code="341102001002").geom
    assert geom.valid and len(geom) == 2  # the two triangles of the bow-tie


@pytest.mark.django_db
def test_problem_cells_are_warned_or_rejected_with_code_and_reason_while_the_rest_imports():
    import_chain("cell")

    out = run(FIXTURES / "341102001001_cells_problems.geojson", "--level", "cell")

    c = "341102001001"
    imported = {f"{c}{n:03d}" for n in (1, 2, 3, 4, 5, 6, 7, 11, 12, 14)}
    assert set(GridCell.objects.values_list("code", flat=True)) == imported
    for code, reason in [
        (f"{c}008", "must be one polygon, this one has 2 parts"), (f"{c}009", "几何为空 empty geometry"),
        (f"{c}010", "not polygonal: LineString"), (f"{c}013", "lies entirely outside its community"),
        ("341102001099001", "unknown parent code 341102001099"), ("#10", "missing code"),
    ]:
        line = next(line for line in out.splitlines() if line.startswith(f"[拒绝 rejected] {code} "))
        assert reason in line, line
    # Overlaps name both cells and the area, inside the file and against the database.
    assert f"cells {c}005 and {c}002 overlap by" in out and "(数据库中已有 already in the database)" in out
    assert out.count(f"cells {c}006 and {c}011 overlap by") == 2  # on both features
    assert f"cell {c}012 extends" in out and f"outside its community {c}" in out
    # The twisted corner was repaired and its ~5 m² lobe dropped; the one-part MultiPolygon became a Polygon.
    assert GridCell.objects.get(code=f"{c}007").geom.valid
    assert GridCell.objects.get(code=f"{c}014").geom.geom_type == "Polygon"
    assert "拒绝 rejected 6" in out


@pytest.mark.django_db
def test_overlaps_within_tolerance_are_not_reported(tmp_path, mini_city, settings):
    settings.QIAOMEN_OVERLAP_TOLERANCE_M2 = 25
    # 1e-7° of longitude (~1 cm) along a 0.02° (~2.2 km) edge: ~20 m² of digitising noise.
    path = write_geojson(tmp_path, [
        ({"code": "341102001001003", "name": "三"}, box(118.04, 32.00, 118.06 + 1e-7, 32.02)),
        ({"code": "341102001001004", "name": "四"}, box(118.06, 32.00, 118.08, 32.02)),
        ({"code": "341102001001005", "name": "五"}, box(118.08 - 0.001, 32.00, 118.10, 32.02)),
    ])

    report = boundaries_import(path=path, level="cell", parent_code="341102001001")

    overlaps = report.warnings_of("overlap")
    assert {w.other_codes for _, w in overlaps} == {("341102001001005",), ("341102001001004",)}
    assert all(w.area_m2 > 10_000 for _, w in overlaps)


@pytest.mark.django_db
def test_multipolygon_cell_and_duplicate_codes(tmp_path, mini_city):
    two_parts = {"type": "MultiPolygon", "coordinates": [box(118.04, 32.0, 118.05, 32.01)["coordinates"],
                                                         box(118.06, 32.0, 118.07, 32.01)["coordinates"]]}
    path = write_geojson(tmp_path, [
        ({"code": "341102001001003", "name": "两块"}, two_parts),
        ({"code": "341102001001004", "name": "四"}, box(118.08, 32.0, 118.09, 32.01)),
        ({"code": "341102001001004", "name": "又是四"}, box(118.09, 32.0, 118.10, 32.01)),
    ])

    report = boundaries_import(path=path, level="cell", parent_code="341102001001")

    assert [(f.code, f.action, f.rejection and f.rejection.kind) for f in report.features] == [
        ("341102001001003", Action.REJECTED, "multipart_cell"),
        ("341102001001004", Action.CREATE, None),
        ("341102001001004", Action.REJECTED, "duplicate_code"),
    ]
    assert GridCell.objects.get(code="341102001001004").name == "四"


# --- parents and paths ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_code_known_at_another_level_is_rejected(tmp_path, mini_city):
    path = write_geojson(tmp_path, [({"code": "341102002", "name": "其实是乡镇"}, box(118.1, 32.0, 118.2, 32.1))])

    report = boundaries_import(path=path, level="community", parent_code="341102001")

    assert report.features[0].rejection.kind == "level_conflict"
    assert Area.objects.get(code="341102002").level == AreaLevel.TOWNSHIP


@pytest.mark.django_db
def test_parent_comes_from_the_code_when_not_given_and_is_required(tmp_path, mini_city):
    path = write_geojson(tmp_path, [
        ({"code": "341102001001003", "name": "推断"}, box(118.04, 32.0, 118.06, 32.02)),
        ({"code": "X1", "name": "无上级"}, box(118.06, 32.0, 118.08, 32.02)),
    ])

    report = boundaries_import(path=path, level="cell")

    assert GridCell.objects.get(code="341102001001003").path == "341100/341102/341102001/341102001001/341102001001003/"
    assert report.features[1].rejection.kind == "missing_parent"
    assert any("inferred" in note for note in report.notes)


@pytest.mark.django_db
def test_changed_parent_moves_the_whole_subtree(tmp_path, mini_city):
    township = Area.objects.get(code="341102001")
    path = write_geojson(tmp_path, [
        ({"代码": "341102001", "名称": "清流街道", "上级代码": "341103"},
         {"type": "MultiPolygon", "coordinates": [json.loads(township.geom.geojson)["coordinates"][0]]}),
    ])

    out = run(path, "--level", "township")

    assert "上级 parent" in out and "不以上级代码开头" in out  # 341102001 under 341103 breaks the numbering
    township.refresh_from_db()
    assert township.parent.code == "341103" and township.name == "清流街道"
    assert Area.objects.get(code="341102001001").path == "341100/341103/341102001/341102001001/"
    assert set(GridCell.objects.filter(community__code="341102001001").values_list("path", flat=True)) == {
        "341100/341103/341102001/341102001001/341102001001001/",
        "341100/341103/341102001/341102001001/341102001001002/",
    }
    assert territory_paths_inconsistent() == []


@pytest.mark.django_db
def test_police_stations_import_under_a_district(tmp_path, mini_city):
    path = write_geojson(tmp_path, [({"code": "PS341102001", "name": "清流派出所"}, box(118.0, 32.0, 118.2, 32.2))])

    run(path, "--level", "station", "--parent", "341102")

    station = PoliceStation.objects.get(code="PS341102001")
    assert (station.district.code, station.path, station.geom.geom_type) == (
        "341102", "341100/341102/PS341102001/", "MultiPolygon"
    )


# --- re-import, dry run, households ----------------------------------------------------------------------------

def _reshaped_cells(tmp_path: Path) -> Path:
    """mini_city's cells 001/002 with the border moved from 118.02 to 118.03 and 002 renamed."""
    return write_geojson(tmp_path, [
        ({"code": "341102001001001", "name": "琅琊区第1街道社区1网格"}, box(118.00, 32.00, 118.03, 32.02)),
        ({"code": "341102001001002", "name": "新名字"}, box(118.03, 32.00, 118.05, 32.02)),
        ({"code": "341102001001003", "name": "第三网格"}, box(118.05, 32.00, 118.07, 32.02)),
    ])


@pytest.mark.django_db
def test_reimport_updates_by_code_without_duplicates_and_reassigns_households(tmp_path, mini_city):
    moved = mini_city.households[3]  # in cell 002 at 118.025E
    assert moved.cell.code == "341102001001002" and moved.location.x == pytest.approx(118.025)
    path = _reshaped_cells(tmp_path)

    report = boundaries_import(path=path, level="cell", parent_code="341102001001")
    again = boundaries_import(path=path, level="cell", parent_code="341102001001")

    assert report.codes(Action.UPDATE) == ["341102001001001", "341102001001002"]
    assert report.codes(Action.CREATE) == ["341102001001003"]
    assert report.features[1].changed == ["name", "geom"]
    assert again.counts == {"create": 0, "update": 0, "unchanged": 3, "rejected": 0}
    assert GridCell.objects.filter(code__startswith="341102001001").count() == 3
    assert GridCell.objects.get(code="341102001001002").name == "新名字"
    assert GridCell.objects.get(code="341102001001001").geom.extent == pytest.approx((118.0, 32.0, 118.03, 32.02))
    moved.refresh_from_db()
    assert moved.cell.code == "341102001001001"
    # Only the six households around the reshaped cells were recomputed, not the other district's.
    assert report.households_reassigned == 6 < Household.objects.count()


@pytest.mark.django_db
def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path, mini_city):
    before = {c.code: (c.name, c.geom.wkt, c.updated_at) for c in GridCell.objects.all()}
    cells_before = dict(Household.objects.values_list("id", "cell_id"))

    out = run(_reshaped_cells(tmp_path), "--level", "cell", "--parent", "341102001001", "--dry-run")

    assert "试运行" in out and "dry run" in out
    assert "新建 create 1 / 更新 update 2 / 未变 unchanged 0" in out
    assert "更新 update 2: 341102001001001, 341102001001002" in out
    assert "新建 create 1: 341102001001003" in out
    assert {c.code: (c.name, c.geom.wkt, c.updated_at) for c in GridCell.objects.all()} == before
    assert dict(Household.objects.values_list("id", "cell_id")) == cells_before


# --- errors ---------------------------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("args, message", [
    (["--level", "village"], "unknown level 'village'"),
    (["--level", "cell", "--parent", "341199"], "unknown --parent code 341199"),
    (["--level", "township", "--parent", "341102001001"], "level mismatch"),
    (["--level", "city", "--parent", "341100"], "has no parent"),
])
def test_bad_level_or_parent_is_a_command_error(tmp_path, mini_city, args, message):
    path = write_geojson(tmp_path, [({"code": "341102003", "name": "x"}, box(118.0, 32.0, 118.1, 32.1))])
    with pytest.raises(CommandError, match=message):
        run(path, *args)
    assert not Area.objects.filter(code="341102003").exists()


@pytest.mark.django_db
def test_unreadable_file_and_nothing_importable_are_command_errors(tmp_path, mini_city):
    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("this is not GeoJSON", encoding="utf-8")
    with pytest.raises(CommandError, match="cannot read the file"):
        run(garbage, "--level", "community")
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "missing.shp", "--level", "community")
    only_bad = write_geojson(tmp_path, [({"code": "341102001009", "name": "线"},
                                         {"type": "LineString", "coordinates": [[118, 32], [118.1, 32.1]]})])
    with pytest.raises(CommandError, match="no feature could be imported"):
        run(only_bad, "--level", "community", "--parent", "341102001")


def test_committed_geojson_fixtures_match_their_generator():
    spec = importlib.util.spec_from_file_location("make_boundaries", FIXTURES / "make_boundaries.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, build in [("341100_city.geojson", module.city), ("341102001001_cells.geojson", module.cells),
                        ("341102001001_cells_problems.geojson", module.cells_problems)]:
        assert json.loads((FIXTURES / name).read_text(encoding="utf-8")) == build(), name
