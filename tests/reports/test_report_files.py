"""Reports made inline (no broker), through the API: the XLSX read back with openpyxl and the PDF's text extracted,
both compared with an independent count over the raw rows."""

from __future__ import annotations

import io

import pytest
from django.test import TestCase
from openpyxl import load_workbook
from pypdf import PdfReader
from rest_framework.test import APIClient

from server.reports.models import Report, ReportStatus
from server.territory.models import Area, GridCell
from tests.factories import PASSWORD
from tests.reports import independent

pytestmark = pytest.mark.django_db
FIGURES = ["to_visit", "attempted", "reached", "nobody_home", "refused", "excluded", "coverage", "app_installs",
           "visits", "flagged_visits"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def ask(client, **body) -> dict:
    with TestCase.captureOnCommitCallbacks(execute=True):
        r = client.post("/api/v1/reports", body, format="json")
    assert r.status_code == 202, r.content
    report = client.get(f"/api/v1/reports/{r.json()['id']}").json()
    assert report["status"] == ReportStatus.DONE, report
    return report


def fetch(client, report) -> bytes:
    r = client.get(report["download_url"])
    assert r.status_code == 200
    return b"".join(r.streaming_content)


@pytest.fixture
def api(chief):
    client = APIClient()
    client.login(username=chief.username, password=PASSWORD)
    return client


def _sheet_rows(ws) -> tuple[list[str], list[str], list[list]]:
    rows = list(ws.iter_rows(values_only=True))
    return list(rows[2]), list(rows[3]), [list(r) for r in rows[4:]]


def test_township_xlsx_matches_independent_count(api, visited):
    township = visited.township
    report = ask(api, area=township.code, round=visited.r2.pk, format="xlsx")
    wb = load_workbook(io.BytesIO(fetch(api, report)))
    assert wb.sheetnames[:3] == ["乡镇街道", "社区村", "网格"]
    for sheet, level, expected_codes in [
        ("乡镇街道", "township", [township.code]),
        ("社区村", "community", list(Area.objects.filter(parent=township).values_list("code", flat=True))),
        ("网格", "cell", list(GridCell.objects.filter(path__startswith=township.path).values_list("code", flat=True))),
    ]:
        ws = wb[sheet]
        zh, en, rows = _sheet_rows(ws)
        assert zh[:2] == ["代码", "名称"] and en[:2] == ["Code", "Name"]
        assert "覆盖率" in zh and "Coverage" in en and "见面户数" in zh
        assert ws.freeze_panes == "C5"
        expected = independent.figures(round=visited.r2, level=level, under_path=township.path)
        got = {row[0]: dict(zip(zh, row, strict=True)) for row in rows}
        assert sorted(got) == sorted(expected) == sorted(expected_codes)
        names = dict(zip(FIGURES, [h for h in zh if h not in ("代码", "名称", "所属")], strict=True))
        for code, f in expected.items():
            for key in FIGURES:
                if key == "coverage" and f[key] is not None:
                    assert got[code][names[key]] == pytest.approx(f[key], abs=1e-4), (sheet, code)
                else:
                    assert got[code][names[key]] == f[key], (sheet, code, key)
        coverage_col = zh.index("覆盖率") + 1
        assert all(ws.cell(row=r, column=coverage_col).number_format == "0.0%" for r in range(5, 5 + len(rows)))
        assert not any(isinstance(v, str) and v.startswith("=") for row in rows for v in row)  # values, not formulas
    # by round: the township's coverage in rounds 1 and 2
    zh, _, rows = _sheet_rows(wb["按轮次"])
    by_round = {row[0]: dict(zip(zh, row, strict=True)) for row in rows}
    for r in (visited.r1, visited.r2):
        f = independent.figures(round=r, level="township", under_path=township.path)[township.code]
        assert by_round[r.number]["见面户数"] == f["reached"]
        assert by_round[r.number]["覆盖率"] == pytest.approx(f["coverage"], abs=1e-4)
    assert wb["网格"].column_dimensions["B"].width >= 12  # names are readable without widening


def test_district_xlsx_has_every_level(api, visited):
    report = ask(api, area=visited.district.code, round=visited.r1.pk, format="xlsx")
    wb = load_workbook(io.BytesIO(fetch(api, report)))
    assert wb.sheetnames[:4] == ["区县", "乡镇街道", "社区村", "网格"]
    zh, _, rows = _sheet_rows(wb["乡镇街道"])
    expected = independent.figures(round=visited.r1, level="township", under_path=visited.district.path)
    assert {r[0]: r[zh.index("应访户数")] for r in rows} == {c: f["to_visit"] for c, f in expected.items()}
    assert {r[2] for r in rows} == {visited.district.name}  # "part of"


def _pdf_text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_township_pdf_holds_chinese_names_headings_and_figures(api, visited):
    township = visited.township
    report = ask(api, area=township.code, round=visited.r2.pk, format="pdf")
    body = fetch(api, report)
    assert body.startswith(b"%PDF")
    text = _pdf_text(body)
    squeezed = "".join(text.split())
    f = independent.figures(round=visited.r2, level="township", under_path=township.path)[township.code]
    for words in [f"{township.name}覆盖情况报表（第2轮）", "关键指标", "覆盖地图", "覆盖率", "应访户数", "见面户数",
                  "无人在家", "各社区村", "各网格", "按轮次", "琅琊区敲门行动"]:
        assert words in squeezed, words
    for community in Area.objects.filter(parent=township):
        assert community.name in squeezed
    assert f"{f['coverage'] * 100:.1f}%" in squeezed
    cells = independent.figures(round=visited.r2, level="cell", under_path=township.path)
    names = dict(GridCell.objects.values_list("code", "name"))
    for code, cf in cells.items():
        # the cell's row: its name, its community, then the figures in the column order of the headings
        after = squeezed.split(names[code], 1)[1]
        expected = "".join(str(cf[k]) for k in ("to_visit", "attempted", "reached", "nobody_home", "refused",
                                                "excluded")) + (f"{cf['coverage'] * 100:.1f}%" if cf["coverage"]
                                                                is not None else "—")
        assert expected in after[:80], (code, after[:80])
    fonts = {str(f.get_object()["/BaseFont"]) for page in PdfReader(io.BytesIO(body)).pages
             for f in page["/Resources"]["/Font"].values()}
    assert any("QiaomenCJK" in name or "+" in name for name in fonts), fonts  # the CJK font is embedded (subset)
    assert Report.objects.get(pk=report["id"]).size == len(body)
