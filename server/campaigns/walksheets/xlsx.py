"""The spreadsheet walk sheet: filled on a laptop (or typed in from the paper one) and imported back.

One sheet for the cell, Chinese headings, dropdowns for what has a fixed set of answers. What the import needs
to trust the file rides along: a hidden, locked register-id column, and a very hidden "meta" sheet with the round,
the cell and a sheet id, signed with the server's key (django.core.signing) so a changed one is refused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from io import BytesIO

from django.core import signing
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from server.campaigns.walksheets.content import Sheet

FORMAT = "qiaomen-walk-sheet/1"
SIGNING_SALT = "qiaomen.campaigns.walk-sheet"
META_SHEET = "meta"
DATA_SHEET = "走访表"
HEADER_ROW = 6
YES, NO = "是", "否"
TIME_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    width: float
    editable: bool = False
    hidden: bool = False


COLUMNS = [
    Column("number", "序号", 6),
    Column("register_id", "登记编号", 20, hidden=True),
    Column("address", "地址", 32),
    Column("residents", "人数", 6),
    Column("elderly", "其中老人", 8),
    Column("state", "本轮已记", 10),
    Column("outcome", "走访结果", 12, editable=True),
    Column("leaflet", "发放资料", 9, editable=True),
    Column("app_installed", "安装反诈APP", 12, editable=True),
    Column("hotline_explained", "讲解96110", 10, editable=True),
    Column("residents_met", "见面人数", 9, editable=True),
    Column("captured_at", "走访时间", 17, editable=True),
    Column("note", "备注", 30, editable=True),
]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
INPUT_KEYS = [c.key for c in COLUMNS if c.editable]

_thin = Side(style="thin", color="999999")
_border = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
_head_fill = PatternFill("solid", fgColor="E8EDF3")
_input_fill = PatternFill("solid", fgColor="FFFDE7")


def letter(key: str) -> str:
    return get_column_letter(COLUMNS.index(COLUMN_BY_KEY[key]) + 1)


def meta_token(*, round_id: int, cell_code: str, sheet_id: str) -> str:
    """The signed statement 'this sheet was made by this server for this round and cell'."""
    payload = {"f": FORMAT, "r": round_id, "c": cell_code, "s": sheet_id, "h": HEADER_ROW}
    return signing.dumps(payload, salt=SIGNING_SALT)


def _write_meta(wb: Workbook, sheet: Sheet, sheet_id: str) -> str | None:
    """Fill the very hidden meta sheet; return a range holding the outcome labels when the dropdown needs one."""
    meta = wb.create_sheet(META_SHEET)
    rows = [
        ("format", FORMAT), ("sheet", DATA_SHEET), ("header_row", HEADER_ROW), ("round_id", sheet.round_id),
        ("cell_code", sheet.cell_code), ("sheet_id", sheet_id), ("generated_at", sheet.generated_at.isoformat()),
        ("signature", meta_token(round_id=sheet.round_id, cell_code=sheet.cell_code, sheet_id=sheet_id)),
    ]
    for r, (key, value) in enumerate(rows, start=1):
        meta.cell(r, 1, key)
        meta.cell(r, 2, value)
    for r, outcome in enumerate(sheet.outcomes, start=1):
        meta.cell(r, 4, outcome.label)
    meta.sheet_state = "veryHidden"  # not offered by Excel's or WPS's "unhide" menu
    meta.protection.sheet = True
    inline = ",".join(o.label for o in sheet.outcomes)
    if len(inline) <= 250 and not any("," in o.label or '"' in o.label for o in sheet.outcomes):
        return None
    return f"{META_SHEET}!$D$1:$D${max(len(sheet.outcomes), 1)}"


def _validations(ws, sheet: Sheet, outcome_range: str | None, first: int, last: int) -> None:
    labels = f'"{",".join(o.label for o in sheet.outcomes)}"' if outcome_range is None else outcome_range
    outcome = DataValidation(
        type="list", formula1=labels, allow_blank=True, showErrorMessage=True, showInputMessage=True,
        errorTitle="走访结果", error="请从下拉列表中选择走访结果", promptTitle="走访结果",
        prompt="从下拉列表选择一项；未走访的住户留空",
    )
    yes_no = DataValidation(
        type="list", formula1=f'"{YES},{NO}"', allow_blank=True, showErrorMessage=True,
        errorTitle="是/否", error=f"请选择“{YES}”或“{NO}”",
    )
    met = DataValidation(
        type="whole", operator="between", formula1="0", formula2="99", allow_blank=True, showErrorMessage=True,
        errorTitle="见面人数", error="请填写 0 到 99 的整数",
    )
    when = DataValidation(  # any value: only there for its input message; the import checks the time
        allow_blank=True, showInputMessage=True, promptTitle="走访时间",
        prompt="例：2026-11-05 10:30；可留空，导入时按导入时间记录",
    )
    for dv, keys in ((outcome, ["outcome"]), (yes_no, ["leaflet", "app_installed", "hotline_explained"]),
                     (met, ["residents_met"]), (when, ["captured_at"])):
        ws.add_data_validation(dv)
        for key in keys:
            dv.add(f"{letter(key)}{first}:{letter(key)}{last}")


def _heading(ws, sheet: Sheet) -> None:
    span = get_column_letter(len(COLUMNS))
    holder = sheet.holder or "（未分配）"
    lines = [
        (sheet.title, Font(bold=True, size=14)),
        (f"轮次：{sheet.round_text}　网格：{sheet.cell_text}　负责：{holder}　共 {len(sheet.rows)} 户", Font(size=11)),
        ("填写说明：每户一行。“走访结果”从下拉列表选一项；发放资料、安装反诈APP、讲解96110 选“是”或“否”；"
         "“见面人数”填实际见到的人数；“走访时间”可留空（按导入时间记录）。未走访的住户整行留空。", Font(size=10)),
        (f"走访结果可选：{'、'.join(o.label for o in sheet.outcomes)}。请勿填写居民姓名、电话、身份证号。"
         "请勿增删行或修改灰色列，否则无法导入。", Font(size=10, color="666666")),
    ]
    for r, (text, font) in enumerate(lines, start=1):
        ws.merge_cells(f"A{r}:{span}{r}")
        cell = ws.cell(r, 1, text)
        cell.font = font
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws.row_dimensions[3].height = 30


def sheet_xlsx(sheet: Sheet, *, sheet_id: str | None = None) -> bytes:
    """Render a built sheet as an .xlsx file; `sheet_id` (a UUID) tells sheets of the same cell apart."""
    sheet_id = sheet_id or str(uuid.uuid4())
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    wb.properties.title = sheet.title
    wb.properties.creator = "敲门 Qiaomen"
    outcome_range = _write_meta(wb, sheet, sheet_id)
    _heading(ws, sheet)
    for i, col in enumerate(COLUMNS, start=1):
        cell = ws.cell(HEADER_ROW, i, col.heading)
        cell.font = Font(bold=True)
        cell.fill = _head_fill
        cell.border = _border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        dim = ws.column_dimensions[get_column_letter(i)]
        dim.width = col.width
        dim.hidden = col.hidden
    first = HEADER_ROW + 1
    for r, row in enumerate(sheet.rows, start=first):
        values = {
            "number": row.number, "register_id": row.register_id, "address": row.address,
            "residents": row.residents, "elderly": row.elderly, "state": row.state,
        }
        for i, col in enumerate(COLUMNS, start=1):
            cell = ws.cell(r, i, values.get(col.key))
            cell.border = _border
            if col.editable:
                cell.protection = Protection(locked=False)
                cell.fill = _input_fill
            if col.key == "captured_at":
                cell.number_format = TIME_FORMAT
            if col.key == "register_id":
                cell.number_format = "@"  # text: a long numeric id must not turn into 3.41E+17
            if col.key == "address":
                cell.alignment = Alignment(wrap_text=True, vertical="center")
    last = max(first, first + len(sheet.rows) - 1)
    _validations(ws, sheet, outcome_range, first, last)
    ws.freeze_panes = f"D{first}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "第 &P / &N 页　走访人签名：__________　日期：__________"
    # Locked cells (ids, addresses, headings) are guarded against slips; the signed meta guards against the rest.
    ws.protection.sheet = True
    ws.protection.formatRows = False  # rows may be made taller for long notes
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()
