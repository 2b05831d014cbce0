"""The other sheets of a report — progress by day, key groups, teams, workers — and the campaign report, read back
from the XLSX and compared with an independent count over the raw rows."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import TestCase
from openpyxl import load_workbook
from pypdf import PdfReader
from rest_framework.test import APIClient

from server.territory.models import Area
from tests.factories import PASSWORD
from tests.reports import independent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def report_bytes(user, **body) -> bytes:
    client = APIClient()
    client.login(username=user.username, password=PASSWORD)
    with TestCase.captureOnCommitCallbacks(execute=True):
        r = client.post("/api/v1/reports", body, format="json")
    report = client.get(f"/api/v1/reports/{r.json()['id']}").json()
    assert report["status"] == "done", report
    return b"".join(client.get(report["download_url"]).streaming_content)


def sheet(wb, name: str) -> list[dict]:
    rows = list(wb[name].iter_rows(values_only=True))
    zh = rows[2]
    return [dict(zip(zh, r, strict=True)) for r in rows[4:]]


def test_round_report_days_key_groups_teams_and_workers(visited, chief, team):
    township = visited.township
    wb = load_workbook(io.BytesIO(report_bytes(chief, area=township.code, round=visited.r2.pk)))
    assert {"逐日进度", "重点人群", "小分队", "网格员", "说明"} <= set(wb.sheetnames)

    # progress by day: households first reached each day, cumulated, over today's base
    days = sheet(wb, "逐日进度")
    expected = independent.reached_by_day(round=visited.r2, under_path=township.path)
    assert len(expected) >= 2  # the fixture spreads round 2 over several days
    assert {d["日期"].date(): d["新见面户数"] for d in days if d["新见面户数"]} == dict(expected)
    own = independent.figures(round=visited.r2, level="township", under_path=township.path)[township.code]
    last = days[-1]
    assert last["累计见面户数"] == own["reached"]
    assert last["累计覆盖率"] == pytest.approx(own["coverage"], abs=1e-4)
    assert wb["逐日进度"].cell(row=5, column=4).number_format == "0.0%"

    # key groups of the township itself
    groups = {r["重点人群"]: r for r in sheet(wb, "重点人群") if r["代码"] == township.code}
    kg = independent.key_groups(round=visited.r2, under_path=township.path)
    assert kg["elderly"]["residents"] > 0 and kg["student"]["residents"] > 0
    by_name = {"老年人（60岁以上）": "elderly", "学生": "student"}
    for name, code in by_name.items():
        assert groups[name]["应访人数"] == kg[code]["residents"]
        assert groups[name]["已见面人数"] == kg[code]["reached"]
    communities = set(Area.objects.filter(parent=township).values_list("code", flat=True))
    assert communities <= {r["代码"] for r in sheet(wb, "重点人群")}  # and the level below

    # workers: visits and households by their own visits
    got = {r["账号"]: r for r in sheet(wb, "网格员")}
    want = independent.workers(round=visited.r2, under_path=township.path)
    assert set(got) == set(want)
    for username, w in want.items():
        assert (got[username]["走访次数"], got[username]["走访户数"], got[username]["见面户数"],
                got[username]["出勤天数"]) == (w["visits"], w["households_attempted"], w["households_reached"],
                                              w["active_days"]), username
    visits = [r["走访次数"] for r in sheet(wb, "网格员")]
    assert visits == sorted(visits, reverse=True)

    # the team holds every cell: its row is the township's
    teams = {r["小分队"]: r for r in sheet(wb, "小分队")}
    assert teams[team.name]["见面户数"] == own["reached"] and teams[team.name]["应访户数"] == own["to_visit"]
    assert teams[team.name]["网格员人数"] == len(want)


def test_campaign_report_counts_a_household_reached_in_any_round(visited, chief, campaign):
    township = visited.township
    body = report_bytes(chief, area=township.code, campaign=campaign.pk)
    wb = load_workbook(io.BytesIO(body))
    expected = independent.figures(campaign=campaign, level="cell", under_path=township.path)
    got = {r["代码"]: r for r in sheet(wb, "网格")}
    assert sorted(got) == sorted(expected)
    for code, f in expected.items():
        for key, heading in [("to_visit", "应访户数"), ("attempted", "已走访户数"), ("reached", "见面户数"),
                             ("nobody_home", "无人在家"), ("refused", "拒访"), ("excluded", "空置/搬离等"),
                             ("visits", "走访次数")]:
            assert got[code][heading] == f[key], (code, key)
    # the campaign reached more than either round alone
    own = independent.figures(campaign=campaign, level="township", under_path=township.path)[township.code]
    rounds = {r["轮次"]: r for r in sheet(wb, "按轮次")}
    assert set(rounds) == {1, 2}
    assert own["reached"] == rounds[1]["见面户数"] + rounds[2]["见面户数"]  # round 2 visits only the unsettled
    assert sheet(wb, "社区村")[0]["覆盖率"] == pytest.approx(own["coverage"], abs=1e-4)
    assert "整个行动" in wb["说明"]["B6"].value


def test_pdf_draws_the_days_and_lists_teams_workers_and_key_groups(visited, chief, team, workers):
    township = visited.township
    text = "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(report_bytes(
        chief, area=township.code, round=visited.r2.pk, format="pdf"))).pages).split())
    for words in ["逐日累计覆盖率", "重点人群覆盖", "老年人（60岁以上）", "各小分队", team.name, "各网格员",
                  workers[0].username]:
        assert words in text, words
    assert "尚无走访" not in text  # the day chart has its points
    first = min(independent.reached_by_day(round=visited.r2, under_path=township.path))
    assert f"{first:%m-%d}" in text or f"{first - dt.timedelta(days=1):%m-%d}" in text  # an axis label
