"""A report made end to end by a real Celery worker on Redis (CI starts both; skipped without a broker): asked for
through the API, followed by polling, downloaded, and checked against an independent count over the raw rows."""

from __future__ import annotations

import io
import time

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from rest_framework.test import APIClient

from server.reports.models import Report, ReportStatus
from tests.factories import PASSWORD
from tests.reports import independent
from tests.reports.conftest import build_visited

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _wait(client, rid: int, timeout: float = 120) -> tuple[dict, list[tuple[str, int]]]:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/reports/{rid}").json()
        seen.append((body["status"], body["progress"]))
        if body["status"] in (ReportStatus.DONE, ReportStatus.FAILED):
            return body, seen
        time.sleep(0.2)
    raise AssertionError(f"report {rid} not made in {timeout} s: {seen[-3:]}")


def test_worker_makes_township_reports(mini_city, campaign, chief, team, workers, celery_worker_mode):
    # the data is built with tasks inline; celery_worker_mode only switches eager off when the test body runs
    celery_worker_mode.conf.task_always_eager = True
    visited = build_visited(mini_city, campaign, chief, team, workers)
    celery_worker_mode.conf.task_always_eager = False
    client = APIClient()
    client.login(username=chief.username, password=PASSWORD)
    township = visited.township
    made = []
    try:
        for fmt in ("xlsx", "pdf"):
            r = client.post("/api/v1/reports", {"area": township.code, "round": visited.r2.pk, "format": fmt},
                            format="json")
            assert r.status_code == 202 and r.json()["status"] == ReportStatus.QUEUED  # not made inline
            made.append(r.json()["id"])
            body, seen = _wait(client, r.json()["id"])
            assert body["status"] == ReportStatus.DONE, body["error"]
            assert [p for _, p in seen] == sorted(p for _, p in seen)  # progress only moves forward
            download = client.get(body["download_url"])
            assert download.status_code == 200
            content = b"".join(download.streaming_content)
            if fmt == "xlsx":
                wb = load_workbook(io.BytesIO(content))
                rows = list(wb["网格"].iter_rows(values_only=True))
                zh = list(rows[2])
                got = {row[0]: row for row in rows[4:]}
                expected = independent.figures(round=visited.r2, level="cell", under_path=township.path)
                assert sorted(got) == sorted(expected)
                for code, f in expected.items():
                    assert got[code][zh.index("见面户数")] == f["reached"]
                    assert got[code][zh.index("应访户数")] == f["to_visit"]
                    assert got[code][zh.index("无人在家")] == f["nobody_home"]
            else:
                text = "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split())
                f = independent.figures(round=visited.r2, level="township", under_path=township.path)[township.code]
                assert f"{township.name}覆盖情况报表（第2轮）" in text and "关键指标" in text
                assert f"{f['coverage'] * 100:.1f}%" in text
        report = Report.objects.get(pk=made[0])
        assert report.started_at and report.finished_at and report.size > 0
    finally:
        for report in Report.objects.filter(pk__in=made):
            report.file.delete(save=False)  # the worker wrote under the real MEDIA_ROOT
