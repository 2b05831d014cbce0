"""Walk sheets for volunteers without phones: a printable PDF, a fillable XLSX, and importing the XLSX back."""

import datetime as dt
import re
import shutil
import subprocess
from io import BytesIO

import pytest
from django.contrib.gis.geos import Point
from openpyxl import load_workbook

from server.campaigns import selectors, services
from server.campaigns.models import OutcomeCode
from server.campaigns.walksheets import (
    CJKFontMissing,
    WalkSheetError,
    fonts,
    walk_sheet_import,
    walk_sheet_pdf,
    walk_sheet_xlsx,
)
from server.campaigns.walksheets.content import MATERIALS
from server.campaigns.walksheets.xlsx import COLUMNS, HEADER_ROW
from server.registry.models import Resident
from server.visits.models import Visit, VisitSource
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db
D = dt.date
TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 11, 6, 12, 0, tzinfo=TZ)
HEAD = {c.heading: i + 1 for i, c in enumerate(COLUMNS)}


@pytest.fixture
def open_round(mini_city, campaign, chief, team):
    r1 = services.round_create(campaign=campaign, starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 10))
    cell = mini_city.cells[0]
    services.cell_assign(round=r1, cell=cell, team=team, user=chief, reason="计划")
    services.round_open(round=r1, user=chief)
    return r1, cell


def _pdf_pages(tmp_path, pdf: bytes) -> list[str]:
    """The text of each page, whitespace removed (a heading may wrap inside its column)."""
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (apt-get install poppler-utils) is needed to read the PDF's text")
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return [re.sub(r"\s+", "", page) for page in text.split("\f") if page.strip()]


def _rows(ws) -> dict[str, int]:
    """register id → spreadsheet row."""
    col = HEAD["登记编号"]
    return {ws.cell(r, col).value: r for r in range(HEADER_ROW + 1, ws.max_row + 1) if ws.cell(r, col).value}


def _fill(data: bytes, fills: dict[str, dict[str, object]], meta: dict[str, object] | None = None) -> BytesIO:
    """Fill rows by register id with {heading: value}, as a volunteer would in Excel or WPS."""
    wb = load_workbook(BytesIO(data))
    ws = wb["走访表"]
    rows = _rows(ws)
    for register_id, values in fills.items():
        for heading, value in values.items():
            ws.cell(rows[register_id], HEAD[heading], value)
    for key, value in (meta or {}).items():
        m = wb["meta"]
        for r in range(1, m.max_row + 1):
            if m.cell(r, 1).value == key:
                m.cell(r, 2, value)
    out = BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def _ids(round, cell) -> list[str]:
    return [e.register_id for e in selectors.walk_list(round=round, cell=cell)]


# ---------------------------------------------------------------- PDF


def test_pdf_embeds_a_cjk_font_and_shows_campaign_cell_outcomes_but_no_names(tmp_path, open_round, campaign):
    r1, cell = open_round
    pdf = walk_sheet_pdf(round=r1, cell=cell)
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdffonts"):
        path = tmp_path / "fonts.pdf"
        path.write_bytes(pdf)
        lines = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        fonts_used = lines.splitlines()[2:]
        assert any("TrueType" in f for f in fonts_used)
        # columns: name type encoding emb sub uni ...; every font the sheet uses is embedded
        assert all(f.split()[-5] == "yes" for f in fonts_used if "Helvetica" not in f), lines
    else:
        assert b"/FontFile2" in pdf
    [text] = _pdf_pages(tmp_path, pdf)
    assert campaign.name in text and cell.name in text and cell.code in text
    for label in OutcomeCode.objects.filter(campaign=campaign).values_list("label", flat=True):
        assert label in text
    for _, label in MATERIALS:
        assert label in text
    assert "一队" in text  # the team holding the cell
    for register_id in _ids(r1, cell):
        assert register_id in text
    assert "走访人签名" in text and "第1/1页" in text
    names = Resident.objects.filter(household__cell=cell).values_list("name", flat=True)
    assert names and not any(name in text for name in names)
    assert "13812345678" not in text


def test_pdf_of_a_big_cell_repeats_the_heading_and_numbers_pages(tmp_path, mini_city, open_round):
    r1, cell = open_round
    first = mini_city.households[0]
    for _ in range(40):
        HouseholdFactory(community=first.community, cell=cell, location=Point(first.location.x, first.location.y,
                                                                               srid=4326))
    pdf = walk_sheet_pdf(round=r1, cell=cell)
    pages = _pdf_pages(tmp_path, pdf)
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert "见面宣传" in page and "地址有误" in page and "走访人签名" in page
        assert f"第{number}/{len(pages)}页" in page


def test_pdf_without_a_cjk_font_says_what_to_install(monkeypatch, open_round):
    r1, cell = open_round
    monkeypatch.delenv("QIAOMEN_CJK_FONT", raising=False)
    monkeypatch.setattr(fonts, "CANDIDATES", [("/nonexistent/font.ttc", 0)])
    monkeypatch.setattr(fonts, "_fontconfig", lambda: [("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0)])
    fonts.reset()
    try:
        with pytest.raises(CJKFontMissing) as e:
            walk_sheet_pdf(round=r1, cell=cell)
        assert "apt-get install fonts-wqy-microhei" in str(e.value) and "QIAOMEN_CJK_FONT" in str(e.value)
    finally:
        fonts.reset()


# ---------------------------------------------------------------- XLSX


def test_xlsx_lists_the_walk_list_in_order_under_chinese_headings(open_round):
    r1, cell = open_round
    wb = load_workbook(BytesIO(walk_sheet_xlsx(round=r1, cell=cell)))
    ws = wb["走访表"]
    headings = [ws.cell(HEADER_ROW, i).value for i in range(1, len(COLUMNS) + 1)]
    wanted = ["序号", "地址", "人数", "走访结果", "发放资料", "安装反诈APP", "讲解96110", "见面人数", "走访时间",
              "备注"]
    assert set(wanted) <= set(headings)
    assert ws.column_dimensions["B"].hidden and headings[1] == "登记编号"
    assert ws.protection.sheet and ws.cell(HEADER_ROW + 1, HEAD["登记编号"]).protection.locked
    assert not ws.cell(HEADER_ROW + 1, HEAD["走访结果"]).protection.locked
    entries = selectors.walk_list(round=r1, cell=cell)
    got = [(ws.cell(r, 1).value, ws.cell(r, 2).value, ws.cell(r, HEAD["人数"]).value)
           for r in range(HEADER_ROW + 1, ws.max_row + 1)]
    assert got == [(e.order, e.register_id, e.residents) for e in entries]
    assert wb["meta"].sheet_state == "veryHidden"
    dropdowns = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    outcome = dropdowns[f"G{HEADER_ROW + 1}:G{HEADER_ROW + len(entries)}"]
    assert "见面宣传" in outcome and "地址有误" in outcome


# ---------------------------------------------------------------- import


def test_filled_sheet_imports_as_paper_visits_with_the_right_outcomes(open_round, chief):
    r1, cell = open_round
    a, b, c = _ids(r1, cell)
    filled = _fill(walk_sheet_xlsx(round=r1, cell=cell), {
        a: {"走访结果": "见面宣传", "发放资料": "是", "安装反诈APP": "是", "讲解96110": "否", "见面人数": 2,
            "走访时间": dt.datetime(2026, 11, 5, 10, 30), "备注": "老人独居，已教会识别冒充公检法"},
        b: {"走访结果": "无人在家"},
    })
    result = walk_sheet_import(path_or_file=filled, user=chief, now=NOW)
    assert (result.accepted, result.duplicate, result.rejected, result.skipped) == (2, 0, 0, 1)
    assert result.errors == []
    va = Visit.objects.get(household__register_id=a)
    assert va.source == VisitSource.PAPER and va.outcome.code == "reached" and va.worker == chief
    assert va.leaflet and va.app_installed and not va.hotline_explained and va.residents_met == 2
    assert va.captured_at == dt.datetime(2026, 11, 5, 10, 30, tzinfo=TZ)
    assert va.risk_note.startswith("老人独居") and va.device_id == f"sheet:{result.sheet_id}"
    vb = Visit.objects.get(household__register_id=b)
    assert vb.outcome.code == "nobody_home" and vb.captured_at == NOW  # no time written: the import's time
    assert not Visit.objects.filter(household__register_id=c).exists()
    state = selectors.household_states(round=r1)
    assert state[va.household_id].reached and not state[vb.household_id].settled


def test_importing_the_same_sheet_twice_answers_duplicate(open_round, chief):
    r1, cell = open_round
    a, b, _ = _ids(r1, cell)
    data = _fill(walk_sheet_xlsx(round=r1, cell=cell), {a: {"走访结果": "拒访"}, b: {"走访结果": "空置"}}).getvalue()
    first = walk_sheet_import(path_or_file=BytesIO(data), user=chief, now=NOW)
    later = NOW + dt.timedelta(hours=3)  # blank visit times default to the import time, but the ids do not
    second = walk_sheet_import(path_or_file=BytesIO(data), user=chief, now=later)
    assert first.accepted == 2 and (second.accepted, second.duplicate, second.rejected) == (0, 2, 0)
    assert Visit.objects.filter(round=r1).count() == 2


def test_unknown_outcome_is_a_row_error_and_the_other_rows_are_recorded(open_round, chief):
    r1, cell = open_round
    a, b, c = _ids(r1, cell)
    filled = _fill(walk_sheet_xlsx(round=r1, cell=cell), {
        a: {"走访结果": "见面宣传"}, b: {"走访结果": "出差了"}, c: {"走访结果": "搬离"},
    })
    result = walk_sheet_import(path_or_file=filled, user=chief, now=NOW)
    assert (result.accepted, result.rejected) == (2, 1)
    [error] = result.errors
    row = HEADER_ROW + 2
    assert (error.row, error.column, error.column_letter, error.code) == (row, "走访结果", "G", "unknown_outcome")
    assert "出差了" in error.zh and "见面宣传" in error.zh and "not an outcome" in error.en
    assert error.message() == f"第{row}行“走访结果”列（G）：{error.zh}"
    assert error.message("en").startswith(f"Row {row}, column G")
    assert set(Visit.objects.values_list("household__register_id", flat=True)) == {a, c}


def test_bad_cells_are_reported_by_row_and_column(mini_city, open_round, chief):
    r1, cell = open_round
    a, b, c = _ids(r1, cell)
    other_cell = mini_city.households[3].register_id  # a household of another cell
    filled = _fill(walk_sheet_xlsx(round=r1, cell=cell), {
        a: {"走访结果": "见面宣传", "见面人数": "两个"},
        b: {"走访结果": "见面宣传", "走访时间": "11月5号上午"},
        c: {"走访结果": "见面宣传", "发放资料": "也许", "登记编号": other_cell},
    })
    result = walk_sheet_import(path_or_file=filled, user=chief, now=NOW)
    assert result.accepted == 0 and result.rejected == 3
    got = {(e.row, e.column, e.code) for e in result.errors}
    assert got == {
        (HEADER_ROW + 1, "见面人数", "not_a_number"),
        (HEADER_ROW + 2, "走访时间", "bad_time"),
        (HEADER_ROW + 3, "登记编号", "unknown_register_id"),
    }
    assert Visit.objects.count() == 0


def test_a_closed_rounds_sheet_is_rejected_row_by_row(open_round, chief):
    r1, cell = open_round
    a, b, _ = _ids(r1, cell)
    filled = _fill(walk_sheet_xlsx(round=r1, cell=cell), {a: {"走访结果": "见面宣传"}, b: {"走访结果": "拒访"}})
    services.round_close(round=r1, user=chief)
    result = walk_sheet_import(path_or_file=filled, user=chief, now=NOW)
    assert (result.accepted, result.rejected) == (0, 2)
    assert [(e.row, e.code) for e in result.errors] == [(HEADER_ROW + 1, "round_closed"),
                                                        (HEADER_ROW + 2, "round_closed")]
    assert all(e.zh == "该轮次已结束，不再接收走访" and e.en == "The round is closed" for e in result.errors)
    assert Visit.objects.count() == 0


def test_a_sheet_with_changed_meta_is_refused_whole(mini_city, campaign, open_round, chief):
    r1, cell = open_round
    a, _, _ = _ids(r1, cell)
    data = walk_sheet_xlsx(round=r1, cell=cell)
    for change in ({"round_id": r1.pk + 1}, {"cell_code": mini_city.cells[1].code}, {"signature": "x"}):
        with pytest.raises(WalkSheetError) as e:
            walk_sheet_import(path_or_file=_fill(data, {a: {"走访结果": "见面宣传"}}, meta=change), user=chief)
        assert e.value.code == "meta_tampered" and "整表不予导入" in e.value.zh
    wb = load_workbook(BytesIO(data))
    del wb["meta"]
    stripped = BytesIO()
    wb.save(stripped)
    stripped.seek(0)
    with pytest.raises(WalkSheetError) as e:
        walk_sheet_import(path_or_file=stripped, user=chief)
    assert e.value.code == "no_meta"
    with pytest.raises(WalkSheetError) as e:
        walk_sheet_import(path_or_file=BytesIO("序号,地址\n1,x\n".encode()), user=chief)
    assert e.value.code == "not_xlsx"
    assert Visit.objects.count() == 0


def test_dry_run_answers_like_an_import_but_stores_nothing(open_round, chief):
    r1, cell = open_round
    a, b, _ = _ids(r1, cell)
    data = _fill(walk_sheet_xlsx(round=r1, cell=cell), {a: {"走访结果": "见面宣传"}, b: {"走访结果": "？"}}).getvalue()
    trial = walk_sheet_import(path_or_file=BytesIO(data), user=chief, dry_run=True, now=NOW)
    assert (trial.accepted, trial.rejected) == (1, 1) and Visit.objects.count() == 0
    real = walk_sheet_import(path_or_file=BytesIO(data), user=chief, now=NOW)
    assert (real.accepted, real.duplicate) == (1, 0) and Visit.objects.count() == 1


def test_a_worker_outside_the_holding_team_gets_not_assigned_per_row(open_round, workers):
    r1, cell = open_round
    a, _, _ = _ids(r1, cell)
    filled = _fill(walk_sheet_xlsx(round=r1, cell=cell), {a: {"走访结果": "见面宣传"}})
    result = walk_sheet_import(path_or_file=filled, user=workers[2], language="en", now=NOW)
    assert [(e.row, e.code) for e in result.errors] == [(HEADER_ROW + 1, "not_assigned")]
    member = walk_sheet_import(path_or_file=_fill(walk_sheet_xlsx(round=r1, cell=cell), {a: {"走访结果": "见面宣传"}}),
                               user=workers[0], now=NOW)
    assert member.accepted == 1

