"""Security headers on every page, and the pages still work under them: a city admin walks the admin, the planner,
the reports page, the coverage map and the API docs in headless Chromium, and the browser reports no
Content-Security-Policy violation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from server.accounts import services as account_services
from server.campaigns import services as campaign_services
from tests.browser import admin_login, chromium_page
from tests.factories import PASSWORD, Role, make_user

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

# Collects the page's CSP violations; Playwright's init scripts run before the page's own and are not subject to it.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(
  `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile || location.href}:${e.lineNumber}`));
"""


def _csp_directives(header: str) -> dict[str, list[str]]:
    parts = (p.strip().split() for p in header.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


def _assert_headers(headers: dict[str, str], url: str) -> None:
    headers = {k.lower(): v for k, v in headers.items()}
    assert "content-security-policy" in headers, f"no CSP on {url}"
    csp = _csp_directives(headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"], url
    assert "'unsafe-eval'" not in csp.get("script-src", []) and "'unsafe-inline'" not in csp.get("script-src", []), url
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"], url
    assert headers.get("x-frame-options") == "DENY", url
    assert headers.get("x-content-type-options") == "nosniff", url
    assert headers.get("referrer-policy") == "same-origin", url
    assert "geolocation=()" in headers.get("permissions-policy", ""), url


@pytest.mark.django_db
def test_every_kind_of_response_carries_the_headers(client, mini_city):
    make_user("city", Role.CITY_ADMIN, areas=[mini_city.city])
    anonymous = [client.get("/admin/login/"), client.get("/api/v1/me"), client.get("/api/schema/")]
    client.login(username="city", password=PASSWORD)
    signed_in = [client.get(u) for u in ("/admin/", "/plan/", "/reports/", "/api/docs/", "/api/redoc/",
                                         "/api/v1/areas", "/api/schema/", "/coverage/", "/api/v1/health")]
    for response in anonymous + signed_in:
        _assert_headers(dict(response.headers), response.request["PATH_INFO"])
    # The docs pages' inline init code runs because it carries this response's nonce, and only that.
    docs = signed_in[3]
    nonce = next(v for v in _csp_directives(docs["Content-Security-Policy"])["script-src"] if v.startswith("'nonce-"))
    assert f'<script nonce="{nonce[7:-1]}">' in docs.content.decode()
    # Redoc styles itself with <style> elements it makes at run time: inline styles there, not elsewhere.
    assert "'unsafe-inline'" in _csp_directives(signed_in[4]["Content-Security-Policy"])["style-src"]
    assert "'unsafe-inline'" not in _csp_directives(signed_in[2]["Content-Security-Policy"])["style-src"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_work_with_no_csp_violation(live_server, mini_city):
    district = mini_city.districts[0]
    make_user("city", Role.CITY_ADMIN, areas=[mini_city.city])
    workers = [make_user(f"w{i}", Role.GRID_WORKER, areas=[mini_city.communities[0]]) for i in range(2)]
    account_services.team_create(name="一队", area=district, members=workers)
    campaign = campaign_services.campaign_create(
        name="琅琊区冬季敲门", areas=[district], starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 12, 31),
        created_by=None)
    round = campaign_services.round_create(campaign=campaign, starts_on=dt.date(2026, 11, 1),
                                           ends_on=dt.date(2026, 11, 10))
    base = live_server.url
    console: list[str] = []
    violations: list[str] = []
    with chromium_page() as page:
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
        responses = {}
        page.on("response", lambda r: responses.setdefault(r.url.split("?")[0], dict(r.headers))
                if r.request.resource_type == "document" else None)

        def visit(path: str, ready: str) -> None:
            page.goto(f"{base}{path}")
            page.wait_for_selector(ready, timeout=20_000)
            violations.extend(page.evaluate("window.__cspViolations"))

        admin_login(page, base, "city", PASSWORD)
        page.wait_for_selector("#content h1")
        visit("/admin/", "#content-main .module")
        visit("/admin/territory/gridcell/", "#result_list tbody tr")
        # the admin's map widget: an inline script with the request's nonce draws the cell
        visit(f"/admin/territory/gridcell/{mini_city.cells[0].pk}/change/",
              ".leaflet-container path.leaflet-interactive")
        visit("/plan/", "table.grid, .empty, main h1")
        assert campaign.name in page.inner_text("main")
        visit(f"/plan/campaigns/{campaign.pk}/", "table.grid tbody tr")
        # the round map draws its cells, and auto-assign (a POST through the API with the CSRF token) fills the
        # workload table, whose colour swatches are set through the CSSOM (no style attribute)
        visit(f"/plan/rounds/{round.pk}/", "path.leaflet-interactive")
        page.wait_for_selector("#map[data-cells='4']")  # a selector: the CSP forbids the eval of a string predicate
        assert page.locator("path.leaflet-interactive").count() == 4
        page.click("#auto-form button[type=submit]")
        page.wait_for_selector("#status:has-text('已分配')")
        swatch = page.eval_on_selector("#team-table tbody tr .swatch", "e => getComputedStyle(e).backgroundColor")
        assert swatch not in ("", "rgba(0, 0, 0, 0)"), swatch
        violations.extend(page.evaluate("window.__cspViolations"))
        # reports: the page's script reads its data from JSON elements (no inline script) and preselects the round
        visit(f"/reports/?area={mini_city.city.code}&round={round.pk}", "#request-form")
        page.select_option("#area", mini_city.districts[0].code)
        page.wait_for_selector(f"#round option[value='{round.pk}']", state="attached")
        assert page.locator("#campaign option").first.inner_text() == campaign.name
        # the coverage map: its script draws the districts from the API
        visit(f"/coverage/?round={round.pk}", "#map[data-state='ready']")
        assert page.locator("path.leaflet-interactive").count() > 0
        violations.extend(page.evaluate("window.__cspViolations"))
        # API docs: Swagger UI (served from this server) renders the operations; Redoc renders the schema
        visit("/api/docs/", ".swagger-ui .opblock")
        assert page.locator(".swagger-ui .opblock").count() > 10
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "api-docs-csp.png"))
        visit("/api/redoc/", "[role=menuitem], .menu-content li")
        page.wait_for_selector("h1:has-text('Qiaomen')")
    # Redoc's sidebar shows its maker's logo from the internet: the policy keeps that one request from leaving the
    # machine, and it is the only thing it stops.
    redoc_logo = "img-src blocked https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert [v for v in violations if not v.startswith(redoc_logo)] == [], violations
    assert [m for m in console if "cdn.redoc.ly/redoc/logo-mini.svg" not in m] == [], console
    for url, headers in responses.items():
        if url.startswith(base) and "/admin/login" not in url:
            _assert_headers(headers, url)
