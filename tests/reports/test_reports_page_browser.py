"""The reports page in headless Chromium: ask for a report, watch its progress, download it — inline, and through a
real Celery worker where one runs (CI's PostGIS pass)."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlparse

import pytest
from pypdf import PdfReader

from server.reports.models import Report
from tests.browser import admin_login, chromium_page
from tests.factories import PASSWORD, Role, make_user
from tests.reports import independent
from tests.reports.conftest import build_visited

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

# Every text the report's status cell shows, in order, as the page updates it.
WATCH = """() => { window.qmStates = [];
  new MutationObserver(() => document.querySelectorAll('#reports tbody tr[data-id] td.state').forEach(td => {
    const t = td.innerText.trim(); if (window.qmStates[window.qmStates.length - 1] !== t) window.qmStates.push(t); }))
  .observe(document.querySelector('#reports tbody'), {subtree: true, childList: true, characterData: true}); }"""


def _request_and_download(live_server, visited, tmp_path, *, fmt: str, shot: str | None = None):
    base = live_server.url
    with chromium_page() as page:
        page.goto(f"{base}/reports/")
        assert "/admin/login/" in page.url  # login required
        admin_login(page, base, "staff", PASSWORD)
        page.goto(f"{base}/reports/?area={visited.township.code}&round={visited.r2.pk}")
        assert page.inner_text("h1").startswith("覆盖情况报表")
        assert page.locator("#area option").count() == 1  # their township only, never the neighbour's
        assert page.input_value("#round") == str(visited.r2.pk)  # preselected from the link (the map page's)
        assert "还没有报表" in page.inner_text("#reports")
        page.evaluate(WATCH)
        page.check(f"input[name=format][value={fmt}]")
        page.click("#request-form button[type=submit]")
        page.wait_for_selector("#reports tbody tr[data-status=done] td.download a", timeout=120_000)
        states = page.evaluate("window.qmStates")
        row = page.inner_text("#reports tbody tr[data-status=done]")
        if shot:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / shot), full_page=True)
        with page.expect_download() as info:
            page.click("#reports tbody tr[data-status=done] td.download a")
        download = info.value
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        hosts = {urlparse(u).hostname for u in page.requested if u.startswith("http")}
    assert hosts <= {urlparse(base).hostname}, f"requests left the machine: {hosts}"
    assert f"{visited.township.name}覆盖情况报表（第2轮）" in row and "下载" in row
    assert download.suggested_filename.startswith(f"覆盖报表_{visited.township.name}_第2轮")
    return saved, states


@pytest.fixture
def visited_with_staff(mini_city, campaign, chief, team, workers):
    visited = build_visited(mini_city, campaign, chief, team, workers)
    make_user("staff", Role.TOWNSHIP_STAFF, areas=[visited.township])
    return visited


def test_township_staff_get_a_pdf_report_from_the_page(live_server, visited_with_staff, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    visited = visited_with_staff
    saved, states = _request_and_download(live_server, visited, tmp_path, fmt="pdf", shot="reports-page.png")
    text = "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(saved.read_bytes())).pages).split())
    f = independent.figures(round=visited.r2, level="township", under_path=visited.township.path)[visited.township.code]
    assert "关键指标" in text and f"{f['coverage'] * 100:.1f}%" in text
    assert "已完成" in states[-1]
    assert Report.objects.get().requested_by.username == "staff"


@pytest.mark.celery_worker
def test_progress_shows_while_a_worker_makes_the_report(live_server, mini_city, campaign, chief, team, workers,
                                                         celery_worker_mode, tmp_path):
    celery_worker_mode.conf.task_always_eager = True  # the data's own tasks inline
    visited = build_visited(mini_city, campaign, chief, team, workers)
    make_user("staff", Role.TOWNSHIP_STAFF, areas=[visited.township])
    celery_worker_mode.conf.task_always_eager = False
    try:
        saved, states = _request_and_download(live_server, visited, tmp_path, fmt="xlsx")
    finally:
        for report in Report.objects.all():
            report.file.delete(save=False)  # written by the worker under the real MEDIA_ROOT
    assert saved.read_bytes()[:2] == b"PK"
    # the row appeared queued (or already running) and was updated by polling until done
    assert any("排队中" in s or "生成中" in s for s in states), states
    assert "已完成" in states[-1], states
