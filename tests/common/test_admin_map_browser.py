"""The admin's map widget draws a grid cell with no internet: no web tiles, no CDN, Chinese labels."""

from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.browser import admin_login, chromium_page
from tests.factories import PASSWORD, Role, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_grid_cell_map_draws_offline_in_chinese(live_server, mini_city):
    cell = mini_city.cells[0]
    make_user("city", Role.CITY_ADMIN, areas=[mini_city.city])
    with chromium_page() as page:
        admin_login(page, live_server.url, "city", PASSWORD)
        page.goto(f"{live_server.url}/admin/territory/gridcell/{cell.pk}/change/")
        page.wait_for_selector(".leaflet-container path.leaflet-interactive", timeout=15000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "admin-gridcell.png"))
        heading = page.inner_text("#content h1")
        save_label = page.get_attribute("input[name=_save]", "value")
        hosts = {urlparse(u).hostname for u in page.requested if u.startswith("http")}
    assert heading.split() == ["修改", "网格"] and save_label == "保存"
    assert hosts <= {urlparse(live_server.url).hostname}, f"requests left the machine: {hosts}"
