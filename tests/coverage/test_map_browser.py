"""The coverage map page in headless Chromium with no network: areas drawn and coloured, drill-down from the
districts to one cell's households, the numbers panel against the independent computation, the round selector,
the legend; and the WGS-84 → GCJ-02 shift against a Python rendering of the published formula."""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import urlparse

import pytest

from server.territory.models import GridCell
from tests.browser import admin_login, chromium_page
from tests.coverage import reference
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def key_groups(transactional_db):
    """The default key groups (a data migration; an earlier transactional test's flush removed them)."""
    import importlib

    from django.apps import apps

    importlib.import_module("server.registry.migrations.0002_default_key_groups").add_groups(apps, None)


SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _figure(page, name: str) -> int:
    return int(page.inner_text(f"#figure-{name}").replace(",", ""))


def _ready(page, level: str, features: int):
    """Wait for the map to have drawn `features` areas of `level` (a selector: the CSP forbids eval'd predicates)."""
    try:
        page.wait_for_selector(f"#map[data-state=ready][data-level={level}][data-features='{features}']",
                               state="attached", timeout=15_000)
    except Exception:
        state = page.evaluate("JSON.stringify(document.getElementById('map').dataset)")
        raise AssertionError(f"map not ready at {level} with {features}: {state}, status: "
                             f"{page.inner_text('#status')!r}, console: {getattr(page, 'console', [])}") from None


def test_drill_down_from_districts_to_households(live_server, scenario, mini_city):
    s = scenario
    cells = set(GridCell.objects.values_list("id", flat=True))
    ref1 = reference.compute(s.campaign, s.round1)
    by_district = reference.by_level(ref1, "district", cells)
    by_cell = reference.by_level(ref1, "cell", cells)
    base = live_server.url
    with chromium_page() as page:
        page.goto(f"{base}/coverage/")
        assert "/admin/login/" in page.url  # login required
        admin_login(page, base, s.city_admin.username, PASSWORD)
        page.goto(f"{base}/coverage/?round={s.round1.pk}")
        _ready(page, "district", 2)
        assert page.locator("path.leaflet-interactive").count() == 2
        assert page.input_value("#round-select") == f"round:{s.round1.pk}"
        assert _figure(page, "to_visit") == sum(f["to_visit"] for f in by_district.values())
        assert _figure(page, "reached") == sum(f["reached"] for f in by_district.values())
        assert page.locator("#legend li").count() == 6
        # the rows of the panel, one per district, with their coverage
        rows = page.locator("#rows tbody tr")
        assert rows.count() == 2
        district = mini_city.districts[0]
        expected = by_district[district.code]
        base_n = expected["to_visit"] - expected["excluded"]
        assert f"{expected['reached'] / base_n * 100:.1f}%" in rows.nth(0).inner_text()
        # drill down by the panel's links: district → township → community
        page.click(f"#rows a:text('{district.name}')")
        _ready(page, "township", 2)
        township = mini_city.townships[0]
        page.click(f"#rows a:text('{township.name}')")
        _ready(page, "community", 1)
        page.click(f"#rows a:text('{mini_city.communities[0].name}')")
        _ready(page, "cell", 2)
        assert "琅琊区" in page.inner_text("#crumbs") and township.name in page.inner_text("#crumbs")
        # click a cell on the map: its figures and its households
        page.locator("path.leaflet-interactive").first.click()
        page.wait_for_selector("#households:not([hidden])")
        code = page.get_attribute("#map", "data-selected")
        f = by_cell[code]
        assert _figure(page, "to_visit") == f["to_visit"] and _figure(page, "reached") == f["reached"]
        assert _figure(page, "excluded") == f["excluded"]
        households = page.locator("#households tbody tr")
        assert households.count() == f["to_visit"]
        assert page.locator("#households tbody tr.state-not_reached").count() == \
            f["to_visit"] - f["reached"] - f["excluded"]
        assert page.locator("path.household").count() == f["to_visit"]
        assert "138" not in page.inner_text("#households") or "****" in page.inner_text("#households")
        link = page.get_attribute("#xlsx-link", "href")
        assert f"round={s.round1.pk}" in link and f"area={code}" in link
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "coverage-map-cell.png"))
        # another round: the same level, round 2's figures
        page.select_option("#round-select", f"round:{s.round2.pk}")
        ref2 = reference.compute(s.campaign, s.round2)
        community = mini_city.communities[0]
        _ready(page, "cell", sum(code.startswith(community.code) for code in reference.by_level(ref2, "cell", cells)))
        assert _figure(page, "to_visit") == reference.by_level(ref2, "community", cells)[community.code]["to_visit"]
        # back up by the crumbs to the districts, for the overview picture
        page.click("#crumbs a >> nth=0")
        _ready(page, "district", 2)
        page.screenshot(path=str(SHOTS / "coverage-map.png"))
        hosts = {urlparse(u).hostname for u in page.requested if u.startswith("http")}
    assert hosts <= {urlparse(base).hostname}, f"requests left the machine: {hosts}"


def _gcj02(lon: float, lat: float) -> tuple[float, float]:
    """The published WGS-84 → GCJ-02 approximation, written out again in Python as the test's reference."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    d_lat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
             + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
             + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
             + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0)
    d_lon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
             + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
             + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
             + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    d_lat = d_lat * 180.0 / ((a * (1 - ee)) / (magic * math.sqrt(magic)) * math.pi)
    d_lon = d_lon * 180.0 / (a / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lon + d_lon, lat + d_lat


def test_gcj02_base_map_shifts_the_cells(live_server, scenario, settings):
    settings.QIAOMEN_TILE_URL = f"{live_server.url}/static/no-tiles/{{z}}/{{x}}/{{y}}.png"  # never left the machine
    settings.QIAOMEN_TILE_CRS = "gcj02"
    base = live_server.url
    with chromium_page() as page:
        admin_login(page, base, scenario.city_admin.username, PASSWORD)
        page.goto(f"{base}/coverage/?round={scenario.round1.pk}")
        _ready(page, "district", 2)
        for lon, lat in ((118.3, 32.3), (116.397428, 39.90923), (121.47, 31.23)):
            got = page.evaluate(f"window.QiaomenGcj02.fromWgs84({lon}, {lat})")
            want = _gcj02(lon, lat)
            assert got == pytest.approx(want, abs=1e-9)
            assert 0.001 < abs(got[0] - lon) + abs(got[1] - lat) < 0.02  # a few hundred metres, as in China
        assert page.evaluate("window.QiaomenGcj02.fromWgs84(2.35, 48.85)") == [2.35, 48.85]  # outside China
        # what is drawn is shifted: the bounds of the two districts' corners, moved onto the GCJ-02 base map
        drawn = list(map(float, page.get_attribute("#map", "data-bounds").split(",")))
        corners = [_gcj02(lon, lat) for lon in (118.0, 118.5, 119.0) for lat in (32.0, 32.5)]
        want = [min(c[0] for c in corners), min(c[1] for c in corners), max(c[0] for c in corners),
                max(c[1] for c in corners)]
        assert drawn == pytest.approx(want, abs=1e-6)
        assert abs(drawn[0] - 118.0) > 0.001  # and not the WGS-84 one
