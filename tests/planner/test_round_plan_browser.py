"""The planner pages in headless Chromium: a chief plans a round end to end with no internet."""

import datetime as dt
from pathlib import Path
from urllib.parse import urlparse

import pytest

from server.accounts import services as account_services
from server.campaigns import services
from server.campaigns.models import AssignmentChange, CellAssignment, Round, RoundStatus
from tests.browser import admin_login, chromium_page
from tests.factories import PASSWORD, Role, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_chief_plans_round_in_browser(live_server, mini_city):
    district = mini_city.districts[0]
    make_user("chief", Role.STATION_CHIEF, areas=[district])
    workers = [make_user(f"w{i}", Role.GRID_WORKER, areas=[mini_city.communities[0]]) for i in range(3)]
    account_services.team_create(name="一队", area=district, members=workers[:2])
    account_services.team_create(name="二队", area=district, members=workers[2:])
    campaign = services.campaign_create(name="琅琊区冬季敲门", areas=[district], starts_on=dt.date(2026, 11, 1),
                                        ends_on=dt.date(2026, 12, 31), created_by=None)
    base = live_server.url
    with chromium_page() as page:
        admin_login(page, base, "chief", PASSWORD)
        # campaign page: add round 1 through the form
        page.goto(f"{base}/plan/campaigns/{campaign.pk}/")
        page.fill("input[name=starts_on]", "2026-11-01")
        page.fill("input[name=ends_on]", "2026-11-10")
        page.click("form.inline button[type=submit]")
        page.wait_for_selector("text=已新增第1轮")
        assert "12" in page.inner_text("table.grid tbody tr")  # households counted before opening
        round = Round.objects.get(campaign=campaign, number=1)
        # round map: auto-assign, then move one cell
        page.goto(f"{base}/plan/rounds/{round.pk}/")
        page.wait_for_selector("#map[data-cells='4']")  # a selector: the CSP forbids the eval of a string predicate
        assert page.locator("path.leaflet-interactive").count() == 4
        page.click("#auto-form button[type=submit]")
        page.wait_for_selector("#status:has-text('已分配')")
        rows = page.locator("#team-table tbody tr")
        assert rows.count() == 2
        page.locator("path.leaflet-interactive").first.click()
        page.wait_for_selector("#cell-panel:not([hidden])")
        holder = page.inner_text("#cell-info").split("负责：")[1]
        page.select_option("#move-form select", label="二队" if holder == "一队" else "一队")
        page.fill("#move-form input[name=reason]", "一队人手不足")
        page.click("#move-form button[type=submit]")
        page.wait_for_selector("#status:has-text('已改派')")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "planner-round.png"))
        # rounds 2 and 3, then open round 1, close it, and open round 2 — all from the campaign page
        page.goto(f"{base}/plan/campaigns/{campaign.pk}/")
        for n, (a, b) in enumerate([("2026-11-11", "2026-11-20"), ("2026-11-21", "2026-11-30")], start=2):
            page.fill("input[name=starts_on]", a)
            page.fill("input[name=ends_on]", b)
            page.click("form.inline button[type=submit]")
            page.wait_for_selector(f"text=已新增第{n}轮")
        page.click("form[action$='/open'] button >> nth=0")
        page.wait_for_selector("text=第1轮已开启")
        # a second round may not open while the first is open: the page says why
        page.click("form[action$='/open'] button >> nth=0")
        page.wait_for_selector("text=请先结束第1轮")
        page.click("form[action$='/close'] button")
        page.wait_for_selector("text=第1轮已结束")
        page.click("form[action$='/open'] button >> nth=0")
        page.wait_for_selector("text=第2轮已开启")
        hosts = {urlparse(u).hostname for u in page.requested if u.startswith("http")}
    assert hosts <= {urlparse(base).hostname}, f"requests left the machine: {hosts}"
    assert CellAssignment.objects.filter(round=round).count() == 4
    assert AssignmentChange.objects.filter(round=round, reason="一队人手不足").exists()
    statuses = dict(Round.objects.filter(campaign=campaign).values_list("number", "status"))
    assert statuses == {1: RoundStatus.CLOSED, 2: RoundStatus.OPEN, 3: RoundStatus.DRAFT}
