"""What the coverage map reads: GeoJSON of areas with their figures, the households behind the figures (masked,
scoped, XLSX audited) and vector tiles (PostGIS) — each checked against the independent computation of
tests/coverage/reference.py on the scenario of tests/coverage/conftest.py."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.gis.db.models import Extent
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from server.accounts import scoping
from server.audit.models import AuditEntry
from server.coverage.selectors import LEVELS
from server.territory.models import GridCell
from tests.coverage import reference
from tests.coverage.test_figures import client_for, get, scopes
from tests.factories import Role, make_user

pytestmark = pytest.mark.django_db


def _class(coverage):
    if coverage is None:
        return "none"
    return "lt50" if coverage < 0.5 else "50_70" if coverage < 0.7 else "70_85" if coverage < 0.85 else \
        "85_95" if coverage < 0.95 else "ge95"


def test_geojson_figures_and_outlines_match_the_independent_computation(scenario):
    client = client_for(scenario.city_admin)
    cells = set(GridCell.objects.values_list("id", flat=True))
    for params, round in scopes(scenario):
        ref = reference.compute(scenario.campaign, round)
        for level in LEVELS:
            body = get(client, "coverage-geojson", {**params, "level": level})
            assert body["type"] == "FeatureCollection"
            expected = reference.by_level(ref, level, cells)
            features = {f["properties"]["code"]: f for f in body["features"]}
            assert set(features) == set(expected), (params, level)
            for code, figures in expected.items():
                f = features[code]
                assert f["type"] == "Feature" and f["id"] == code
                for name in reference.FIGURES:
                    assert f["properties"][name] == figures[name], (params, level, code, name)
                assert f["properties"]["coverage_class"] == _class(f["properties"]["coverage"])
                if level == "cell":
                    drawn = GEOSGeometry(str(f["geometry"]).replace("'", '"'))
                    assert drawn.equals_exact(GridCell.objects.get(code=code).geom, tolerance=1e-6)
            assert body["total"]["to_visit"] == sum(f["to_visit"] for f in expected.values())


def test_geojson_counts_only_the_callers_territory(scenario, mini_city):
    chief = client_for(scenario.chief)  # district 0 only
    body = get(chief, "coverage-geojson", {"round": scenario.round1.pk, "level": "cell"})
    mine = set(GridCell.objects.filter(path__startswith=mini_city.districts[0].path).values_list("code", flat=True))
    assert {f["properties"]["code"] for f in body["features"]} == mine & {
        f["properties"]["code"] for f in get(client_for(scenario.city_admin), "coverage-geojson",
                                              {"round": scenario.round1.pk, "level": "cell"})["features"]}
    district1 = mini_city.districts[1].code
    response = chief.get(reverse("coverage-geojson"), {"round": scenario.round1.pk, "area": district1})
    assert response.status_code == 400 and "area" in response.json()["errors"]


def _reference_states(ref, cells: set[int]) -> dict[str, dict[str, int]]:
    """cell code → expected number of households in each state."""
    codes = dict(GridCell.objects.values_list("id", "code"))
    return {codes[c]: {"not_reached": f["to_visit"] - f["reached"] - f["excluded"], "reached": f["reached"],
                       "excluded": f["excluded"]}
            for c, f in ref.cells.items() if c in cells}


def test_household_lists_are_the_households_behind_the_figures(scenario):
    client = client_for(scenario.city_admin)
    cells = set(GridCell.objects.values_list("id", flat=True))
    for round in (scenario.round1, scenario.round2):
        expected = _reference_states(reference.compute(scenario.campaign, round), cells)
        for state in ("not_reached", "reached", "excluded"):
            body = get(client, "coverage-households", {"round": round.pk, "state": state, "limit": 2000})
            got: dict[str, int] = {}
            for row in body["results"]:
                assert row["state"] == state
                got[row["cell"]] = got.get(row["cell"], 0) + 1
            want = {code: n[state] for code, n in expected.items() if n[state]}
            assert got == want, (round.number, state)
            assert body["count"] == sum(want.values())
        every = get(client, "coverage-households", {"round": round.pk, "state": "all", "limit": 2000})
        assert every["count"] == sum(sum(n.values()) for n in expected.values())


def test_household_list_is_masked_and_scoped(scenario, mini_city):
    hs = scenario.households
    resident = hs[1].residents.order_by("id").first()
    resident.phone_masked = "139****5678"
    resident.save(update_fields=["phone_masked"])
    # a field role sees only the cells it holds (w2 holds cells 0–1 in the open round 2)
    worker = client_for(scenario.workers[2])
    body = get(worker, "coverage-households", {"round": scenario.round2.pk, "state": "all", "limit": 2000})
    held = set(scoping.grid_cells_visible(scenario.workers[2]).values_list("code", flat=True))
    assert held == {c.code for c in mini_city.cells[:2]}
    assert body["count"] > 0 and {r["cell"] for r in body["results"]} <= held
    admin = get(client_for(scenario.city_admin), "coverage-households",
                {"round": scenario.round1.pk, "state": "all", "area": hs[1].cell.code})
    row = next(r for r in admin["results"] if r["register_id"] == hs[1].register_id)
    assert row["contact"] == f"{resident.name[0]}{'*' * (len(resident.name) - 1)} 139****5678"
    full_names = set(hs[1].residents.values_list("name", flat=True))
    assert not any(name in str(admin) for name in full_names if len(name) > 1)
    assert row["state"] == "reached" and row["visits"] == 2 and row["outcome"] == "reached"
    # someone with no territory there
    outsider = make_user("far-away", Role.TOWNSHIP_STAFF, areas=[mini_city.districts[1].children.first()])
    response = client_for(outsider).get(reverse("coverage-households"),
                                        {"round": scenario.round1.pk, "area": hs[1].cell.code})
    assert response.status_code == 400 and "area" in response.json()["errors"]
    # the list belongs to a round
    response = client_for(scenario.city_admin).get(reverse("coverage-households"), {"campaign": scenario.campaign.pk})
    assert response.status_code == 400 and "round" in response.json()["errors"]


def test_household_xlsx_is_the_same_list_and_is_audited(scenario):
    client = client_for(scenario.chief)
    params = {"round": scenario.round2.pk, "state": "not_reached"}
    listed = get(client, "coverage-households", {**params, "limit": 2000})
    response = client.get(reverse("coverage-households-xlsx"), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws["A1"].value.startswith(scenario.campaign.name) and "未见面" in ws["A1"].value
    assert [c.value for c in ws[3]][:4] == ["网格", "社区/村", "登记编号", "地址"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=5) if r[0].value]
    assert sorted(r[2] for r in rows) == sorted(r["register_id"] for r in listed["results"])
    assert all(r[4] == "未见面" for r in rows) and len(rows) == listed["count"] > 0
    for r in rows:  # contacts masked in the file too
        assert not re.search(r"1[3-9]\d{9}", str(r[9] or ""))
    entry = AuditEntry.objects.filter(object_id="round_households:xlsx").latest("at")
    assert entry.actor_id == scenario.chief.pk and entry.rows == len(rows)
    assert entry.changes["params"]["round"] == scenario.round2.pk


def test_tiles_on_spatialite_say_to_use_geojson(scenario):
    if connection.vendor == "postgresql":
        pytest.skip("PostGIS serves tiles: see test_tiles_hold_the_cells_with_their_figures")
    response = client_for(scenario.city_admin).get("/tiles/coverage/10/843/414.pbf", {"round": scenario.round1.pk})
    assert response.status_code == 501
    assert response.json()["code"] == "tiles_unavailable" and "geojson" in response.json()["detail"]


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.mark.postgis
def test_tiles_hold_the_cells_with_their_figures(scenario, mini_city):
    import mapbox_vector_tile

    cells = set(GridCell.objects.values_list("id", flat=True))
    ref = reference.by_level(reference.compute(scenario.campaign, scenario.round1), "cell", cells)
    west, south, east, north = GridCell.objects.filter(code__in=ref).aggregate(e=Extent("geom"))["e"]
    admin, chief = client_for(scenario.city_admin), client_for(scenario.chief)
    seen_admin, seen_chief = {}, set()
    for z in (9, 10, 12):  # every tile over the cells, at three zooms
        (x0, y0), (x1, y1) = _tile_of(west, north, z), _tile_of(east, south, z)
        assert (x1 - x0 + 1) * (y1 - y0 + 1) <= 64
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                url = f"/tiles/coverage/{z}/{x}/{y}.pbf"
                response = admin.get(url, {"round": scenario.round1.pk})
                assert response.status_code in (200, 204), response.content[:200]
                if response.status_code == 200:
                    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
                    layer = mapbox_vector_tile.decode(response.content)["coverage"]
                    for f in layer["features"]:
                        seen_admin[f["properties"]["code"]] = f["properties"]
                response = chief.get(url, {"round": scenario.round1.pk})
                if response.status_code == 200:
                    layer = mapbox_vector_tile.decode(response.content)["coverage"]
                    seen_chief |= {f["properties"]["code"] for f in layer["features"]}
    assert set(seen_admin) == set(ref), "every cell with figures is in the tiles around it"
    for code, props in seen_admin.items():
        for name in ("to_visit", "attempted", "reached", "excluded"):
            assert props[name] == ref[code][name], (code, name)
        assert props["coverage_class"] == _class(props.get("coverage"))
    mine = set(GridCell.objects.filter(path__startswith=mini_city.districts[0].path).values_list("code", flat=True))
    assert seen_chief and seen_chief <= mine
    bad = admin.get("/tiles/coverage/3/9/1.pbf", {"round": scenario.round1.pk})
    assert bad.status_code == 400 and bad.json()["errors"]["z"]


def test_an_area_without_a_boundary_is_drawn_as_its_cells(scenario, mini_city):
    from django.contrib.gis.db.models import Union

    from server.territory.models import Area

    township = mini_city.townships[0]
    Area.objects.filter(pk=township.pk).update(geom=None)
    body = get(client_for(scenario.city_admin), "coverage-geojson",
               {"round": scenario.round1.pk, "level": "township", "area": mini_city.districts[0].code})
    feature = next(f for f in body["features"] if f["id"] == township.code)
    drawn = GEOSGeometry(str(feature["geometry"]).replace("'", '"'))
    cells = GridCell.objects.filter(path__startswith=township.path).aggregate(u=Union("geom"))["u"]
    assert drawn.area == pytest.approx(cells.area, rel=1e-6) and drawn.intersects(cells)
    other = next(f for f in body["features"] if f["id"] == mini_city.townships[1].code)
    assert GEOSGeometry(str(other["geometry"]).replace("'", '"')).area == pytest.approx(0.25 ** 2, rel=1e-6)
