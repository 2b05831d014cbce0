"""The report as a workbook: one sheet per level (the area itself, then each level below it down to cells), then
the other tables of the content. Values only, never formulas, so a forwarded copy shows the same numbers in any
spreadsheet program; Chinese heading row with the English one under it; headings frozen; percentages formatted.
"""

from __future__ import annotations

from io import BytesIO
from unicodedata import east_asian_width

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from server.reports.content import ReportContent
from server.reports.tables import Table, content_tables

HEAD_ROW = 3  # title and subtitle above the headings
PCT_FORMAT = "0.0%"
_thin = Side(style="thin", color="B0B7C3")
_border = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
_head_fill = PatternFill("solid", fgColor="E8EDF3")
_head_font = Font(bold=True)
_en_font = Font(italic=True, color="555555", size=9)


def _text_width(value) -> float:
    if isinstance(value, float):
        text = f"{value:.1%}"
    elif hasattr(value, "isoformat"):
        text = "2026-01-01"
    else:
        text = str(value if value is not None else "")
    return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)


def table_sheet_write(ws, table: Table, *, title: str, subtitle: str) -> None:
    """One table on one sheet: title and subtitle, Chinese and English headings, values, widths, filter."""
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = subtitle
    ws["A2"].font = Font(color="555555", size=9)
    widths = []
    for col, column in enumerate(table.columns, start=1):
        zh = ws.cell(row=HEAD_ROW, column=col, value=column.zh)
        en = ws.cell(row=HEAD_ROW + 1, column=col, value=column.en)
        zh.font, en.font = _head_font, _en_font
        for c in (zh, en):
            c.fill, c.border = _head_fill, _border
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        widths.append(max(_text_width(column.zh), _text_width(column.en) * 0.9))
    for r, values in enumerate(table.rows, start=HEAD_ROW + 2):
        for col, (column, value) in enumerate(zip(table.columns, values, strict=True), start=1):
            cell = ws.cell(row=r, column=col, value=value)
            cell.border = _border
            if column.kind == "pct":
                cell.number_format = PCT_FORMAT
            elif column.kind == "date":
                cell.number_format = "yyyy-mm-dd"
            elif column.kind == "dec":
                cell.number_format = "0.0"
            widths[col - 1] = max(widths[col - 1], _text_width(value))
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(max(width + 2, 8), 40)
    # Headings and the name column stay in view while scrolling.
    ws.freeze_panes = ws.cell(row=HEAD_ROW + 2, column=min(table.frozen_columns, len(table.columns)) + 1)
    if table.rows:
        ws.auto_filter.ref = f"A{HEAD_ROW + 1}:{get_column_letter(len(table.columns))}{HEAD_ROW + 1 + len(table.rows)}"


def _about(ws, content: ReportContent) -> None:
    ws["A1"] = "报表说明 About this report"
    ws["A1"].font = Font(bold=True, size=13)
    lines = [
        ("报表 Report", content.title),
        ("区域 Area", f"{content.area.name}（{content.area.code}）"),
        ("行动 Campaign", content.campaign.name),
        ("范围 Scope", content.scope_text),
        ("生成时间 Generated at", f"{timezone.localtime(content.generated_at):%Y-%m-%d %H:%M}（北京时间）"),
        ("覆盖率 Coverage", "见面户数 ÷（应访户数 − 空置/搬离）；无应访户时留空。"
                          "Reached ÷ (households to visit − vacant/moved); empty when nothing is left to visit."),
        ("应访户数 To visit", "本轮需要走访的在住户：第1轮为全部在住户，之后各轮为此前未见面的住户。"
                            "Occupied households the round must visit; later rounds: those not settled before."),
        ("GPS异常 GPS-flagged", "定位离住户过远、精度差、模拟定位或设备时钟偏差的走访。"
                              "Visits far from the household, imprecise, mock location or device clock off."),
        ("数据来源 Source", "与覆盖情况接口 /api/v1/coverage 相同的统计。Same figures as the coverage API."),
    ]
    for r, (key, value) in enumerate(lines, start=3):
        ws.cell(row=r, column=1, value=key).font = _head_font
        ws.cell(row=r, column=2, value=value).alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 90


def report_xlsx(content: ReportContent) -> bytes:
    """Render the content as XLSX bytes."""
    wb = Workbook()
    wb.remove(wb.active)
    subtitle = (f"{content.campaign.name} · {content.scope_text} · 生成于 "
                f"{timezone.localtime(content.generated_at):%Y-%m-%d %H:%M}")
    for table in content_tables(content):
        table_sheet_write(wb.create_sheet(table.sheet), table, title=f"{content.title} · {table.title}",
                          subtitle=subtitle)
    _about(wb.create_sheet("说明"), content)
    wb.properties.title = content.title
    wb.properties.creator = "敲门 Qiaomen"
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()

