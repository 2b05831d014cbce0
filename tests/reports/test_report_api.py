"""Who may ask for and download which report; what the API answers to bad input; the weekly job; retention."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from server.reports import services
from server.reports.models import Report, ReportKind, ReportStatus
from server.territory.models import Area, AreaLevel
from tests.factories import PASSWORD, Role, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def client_for(user) -> APIClient:
    client = APIClient()
    client.login(username=user.username, password=PASSWORD)
    return client


def post(client, **body):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/api/v1/reports", body, format="json")


def test_nobody_reaches_a_report_outside_their_territory(visited, chief, campaign, mini_city):
    """A township's staff see their township's reports only; a chief of the other district sees none of them."""
    township_staff = make_user("staff", Role.TOWNSHIP_STAFF, areas=[visited.township])
    other_township = Area.objects.filter(parent=visited.district, level=AreaLevel.TOWNSHIP).exclude(
        pk=visited.township.pk).get()
    other_chief = make_user("chief2", Role.STATION_CHIEF, areas=[mini_city.districts[1]])
    staff = client_for(township_staff)
    # the township's staff: their own township yes, the neighbouring one and the district no
    ok = post(staff, area=visited.township.code, round=visited.r1.pk, format="xlsx")
    assert ok.status_code == 202 and ok.json()["status"] == ReportStatus.QUEUED
    assert staff.get(f"/api/v1/reports/{ok.json()['id']}").json()["status"] == ReportStatus.DONE
    for code in (other_township.code, visited.district.code, mini_city.city.code):
        r = post(staff, area=code, round=visited.r1.pk)
        assert r.status_code == 400 and "area" in r.json()["errors"], code
    # the chief's district report is theirs; the township's staff cannot see, poll or download it
    district_report = post(client_for(chief), area=visited.district.code, campaign=campaign.pk, format="pdf").json()
    assert staff.get(f"/api/v1/reports/{district_report['id']}").status_code == 404
    assert staff.get(f"/api/v1/reports/{district_report['id']}/download").status_code == 404
    assert [r["id"] for r in staff.get("/api/v1/reports").json()] == [ok.json()["id"]]
    # the chief sees both (the township lies in the district); the other district's chief neither
    assert {r["id"] for r in client_for(chief).get("/api/v1/reports").json()} == {ok.json()["id"],
                                                                                  district_report["id"]}
    other = client_for(other_chief)
    assert other.get("/api/v1/reports").json() == []
    for rid in (ok.json()["id"], district_report["id"]):
        assert other.get(f"/api/v1/reports/{rid}").status_code == 404
        assert other.get(f"/api/v1/reports/{rid}/download").status_code == 404
    # a field worker may not ask for one at all, and sees none
    worker = make_user("fw", Role.GRID_WORKER, areas=[mini_city.communities[0]])
    assert post(client_for(worker), area=visited.township.code, round=visited.r1.pk).status_code == 400
    assert client_for(worker).get("/api/v1/reports").json() == []
    assert APIClient().get(f"/api/v1/reports/{ok.json()['id']}/download").status_code in (401, 403)


def test_bad_requests_name_the_field_and_store_nothing(visited, chief, campaign, mini_city):
    client = client_for(chief)
    community = visited.township.children.first()
    cases = [
        ({"area": "999999", "round": visited.r1.pk}, "area"),
        ({"area": community.code, "round": visited.r1.pk}, "area"),  # reports are by township, district, city
        ({"area": visited.township.code}, "campaign"),
        ({"area": visited.township.code, "round": 987654}, "round"),
        ({"area": visited.township.code, "campaign": campaign.pk, "format": "docx"}, "format"),
    ]
    for body, field in cases:
        r = post(client, **body)
        assert r.status_code == 400, body
        data = r.json()
        assert field in data.get("errors", {}) or data.get("field") == field, (body, data)
    # a campaign that does not reach the area: a campaign over district 1 only, asked for a township of district 0
    from server.campaigns import services as campaign_services
    admin = make_user("cityadmin", Role.CITY_ADMIN, areas=[mini_city.city])
    far = campaign_services.campaign_create(name="南谯区行动", areas=[mini_city.districts[1]],
                                            starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 12, 31),
                                            created_by=admin)
    r = post(client_for(admin), area=visited.township.code, campaign=far.pk)
    assert r.status_code == 400 and r.json()["code"] == "campaign_outside_area"
    assert "南谯区行动" in r.json()["detail"]
    assert Report.objects.count() == 0


def test_progress_and_failure_are_recorded(visited, chief, campaign, monkeypatch):
    """A report that cannot be made says why, in Chinese and English, and offers no download."""
    from server.campaigns.walksheets import fonts

    monkeypatch.setattr(fonts, "CANDIDATES", [])
    monkeypatch.setattr(fonts, "_fontconfig", lambda: [])
    monkeypatch.setenv("QIAOMEN_CJK_FONT", "")
    fonts.reset()
    try:
        r = post(client_for(chief), area=visited.township.code, round=visited.r1.pk, format="pdf").json()
    finally:
        fonts.reset()
    r = client_for(chief).get(f"/api/v1/reports/{r['id']}").json()
    assert r["status"] == ReportStatus.FAILED and r["download_url"] is None
    assert "fonts-wqy-microhei" in r["error"] and "中文" in r["error"] and "font" in r["error"]
    assert client_for(chief).get(f"/api/v1/reports/{r['id']}/download").status_code == 409
    ok = post(client_for(chief), area=visited.township.code, round=visited.r1.pk, format="xlsx").json()
    report = Report.objects.get(pk=ok["id"])
    assert (report.progress, report.status, report.requested_by, report.error) == (100, "done", chief, "")
    assert report.started_at <= report.finished_at and report.size > 0 and report.file.name.endswith(".xlsx")
    assert report.expires_at - report.requested_at == dt.timedelta(days=30)


def test_weekly_job_makes_one_report_pair_per_township_once(visited, campaign, django_capture_on_commit_callbacks):
    # round 2 opened in the test run: "today" is the Monday after the week it was opened in
    opened = timezone.localtime(visited.r2.opened_at).date()
    monday = opened + dt.timedelta(days=7 - opened.weekday())
    with django_capture_on_commit_callbacks(execute=True):
        made = services.reports_weekly_create(today=monday)
    townships = Area.objects.filter(parent=visited.district, level=AreaLevel.TOWNSHIP)
    assert sorted((r.area.code, r.format) for r in made) == sorted(
        (t.code, f) for t in townships for f in ("pdf", "xlsx"))
    assert all(r.kind == ReportKind.WEEKLY and r.requested_by is None for r in made)
    assert {Report.objects.get(pk=r.pk).status for r in made} == {ReportStatus.DONE}
    assert services.reports_weekly_create(today=monday) == []  # beat firing twice adds nothing
    weekly = Report.objects.filter(kind=ReportKind.WEEKLY, area=visited.township).first()
    assert "周报" in weekly.title and weekly.expires_at - weekly.requested_at == dt.timedelta(days=730)
    # the township's staff may download the weekly report of their township
    staff = make_user("staff", Role.TOWNSHIP_STAFF, areas=[visited.township])
    assert client_for(staff).get(f"/api/v1/reports/{weekly.pk}/download").status_code == 200
    # once the round is closed, a later week with no open round makes nothing
    from server.campaigns import services as campaign_services
    campaign_services.round_close(round=visited.r2, user=None)
    assert services.reports_weekly_create(today=monday + dt.timedelta(days=70)) == []


def test_expired_reports_and_their_files_are_dropped(visited, chief):
    client = client_for(chief)
    r = post(client, area=visited.township.code, round=visited.r1.pk).json()
    report = Report.objects.get(pk=r["id"])
    path = report.file.path
    assert services.reports_prune(now=report.expires_at - dt.timedelta(minutes=1)) == 0
    assert services.reports_prune(now=report.expires_at + dt.timedelta(minutes=1)) == 1
    assert not Report.objects.filter(pk=report.pk).exists()
    import os
    assert not os.path.exists(path)


def test_broker_unreachable_the_request_is_answered_and_the_report_says_why(visited, monkeypatch):
    """The report request commits, then the broker cannot be reached: 202 all the same, and the report is failed
    with a message to ask again — not a 500 after the commit, not a report queued for ever."""
    from kombu.exceptions import OperationalError

    from server.reports import tasks

    staff = make_user("staff", Role.TOWNSHIP_STAFF, areas=[visited.township])
    monkeypatch.setitem(tasks.report_generate.app.conf, "task_always_eager", False)

    def unreachable(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")

    monkeypatch.setattr(tasks.report_generate, "apply_async", unreachable)
    response = post(client_for(staff), area=visited.township.code, round=visited.r2.pk)
    assert response.status_code == 202, response.content
    report = Report.objects.get(pk=response.json()["id"])
    assert report.status == ReportStatus.FAILED and "任务队列暂不可用" in report.error
    body = client_for(staff).get(f"/api/v1/reports/{report.pk}").json()
    assert body["status"] == "failed" and "task queue is unavailable" in body["error"]
