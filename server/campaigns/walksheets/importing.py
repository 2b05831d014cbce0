"""Reading a filled XLSX walk sheet back into visits.

Every filled row becomes a VisitInput and goes through visits.services.visits_record, the same checks as a visit
pushed from a phone. A visit's id is a UUID5 of the sheet, the round, the household and what the row says, so
importing the same filled file again answers `duplicate` and stores nothing twice; changing a row and importing
again adds a new visit (visits are append-only: the household's state follows its latest visits).
Bad rows are reported with row, column and reason and do not stop the good ones. A file whose signed meta is
missing or changed is refused whole (WalkSheetError) before anything is stored.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import IO

from django.core import signing
from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException

from server.accounts.models import User
from server.campaigns import selectors
from server.campaigns.models import Round
from server.campaigns.walksheets import xlsx
from server.campaigns.walksheets.content import campaign_outcomes
from server.common.errors import DomainError
from server.territory.models import GridCell
from server.visits.models import VisitSource
from server.visits.services import MESSAGES as VISIT_MESSAGES
from server.visits.services import VisitInput, VisitResult, visits_record

# Visit ids of paper sheets live in their own UUID5 namespace.
NAMESPACE = uuid.UUID("3dcd59b5-be2e-5f74-928e-c4f714fdb820")
TRUE_WORDS = {"是", "是的", "有", "已", "y", "yes", "true", "1", "✓", "√", "✔"}
FALSE_WORDS = {"否", "无", "没有", "未", "n", "no", "false", "0", "×", "✗"}  # × means "no" on Chinese forms
TIME_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y.%m.%d %H:%M",
                "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H:%M", "%Y年%m月%d日%H时%M分", "%Y-%m-%dT%H:%M",
                "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"]
MAX_MET = 99
MAX_NOTE = 500
FUTURE_TOLERANCE = dt.timedelta(minutes=30)


class WalkSheetError(DomainError):
    """The file as a whole cannot be imported; nothing was stored."""


@dataclass
class SheetRowError:
    """One problem of one row, as the person who filled the sheet finds it: row number and column heading."""

    row: int
    column: str  # heading ("走访结果"); "" when the row as a whole was rejected by visits_record
    column_letter: str
    code: str
    zh: str
    en: str
    register_id: str = ""

    def message(self, language: str = "zh-hans") -> str:
        text = self.en if language.startswith("en") else self.zh
        if language.startswith("en"):
            where = f"Row {self.row}" + (f", column {self.column_letter} ({self.column})" if self.column else "")
        else:
            where = f"第{self.row}行" + (f"“{self.column}”列（{self.column_letter}）" if self.column else "")
        return f"{where}: {text}" if language.startswith("en") else f"{where}：{text}"


@dataclass
class SheetImportResult:
    round_id: int
    cell_code: str
    sheet_id: str
    dry_run: bool
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    skipped: int = 0
    errors: list[SheetRowError] = field(default_factory=list)
    visits: list[tuple[int, VisitResult]] = field(default_factory=list)  # (row, result) of each row sent on


class _RowError(Exception):
    def __init__(self, key: str, code: str, zh: str, en: str):
        super().__init__(en)
        self.key, self.code, self.zh, self.en = key, code, zh, en


def _refuse(code: str, zh: str, en: str) -> WalkSheetError:
    return WalkSheetError(code, zh, en)


# ---------------------------------------------------------------- the file and its meta


def _open(path_or_file: str | IO[bytes]):
    try:
        return load_workbook(path_or_file, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _refuse(
            "not_xlsx", "无法读取该文件：请上传系统导出的 .xlsx 走访表（不要另存为 .xls 或 .csv）",
            "Cannot read the file: upload the .xlsx walk sheet exported by the system (not .xls or .csv)",
        ) from exc


def _tampered(detail: str) -> WalkSheetError:
    return _refuse(
        "meta_tampered", f"走访表的校验信息被修改（{detail}），整表不予导入。请使用系统导出的原始表格重新填写。",
        f"The walk sheet's signed meta was changed ({detail}); the whole file is refused. "
        "Fill in a sheet exported by the system.",
    )


def _read_meta(wb) -> dict:
    if xlsx.META_SHEET not in wb.sheetnames:
        raise _refuse(
            "no_meta", "这不是系统导出的走访表，或其隐藏的校验信息已丢失，整表不予导入。",
            "This is not a walk sheet exported by the system, or its hidden meta sheet was lost; the file is refused.",
        )
    ws = wb[xlsx.META_SHEET]
    shown = {str(k).strip(): v for k, v in ws.iter_rows(min_col=1, max_col=2, values_only=True) if k}
    try:
        payload = signing.loads(str(shown.get("signature") or ""), salt=xlsx.SIGNING_SALT)
    except signing.BadSignature as exc:
        raise _tampered("signature") from exc
    if payload.get("f") != xlsx.FORMAT:
        raise _tampered("format")
    for key, short in (("round_id", "r"), ("cell_code", "c"), ("sheet_id", "s"), ("header_row", "h")):
        if str(shown.get(key, "")).strip() != str(payload[short]):
            raise _tampered(key)
    return {"round_id": int(payload["r"]), "cell_code": payload["c"], "sheet_id": payload["s"],
            "header_row": int(payload["h"]), "sheet": str(shown.get("sheet") or xlsx.DATA_SHEET)}


def _data_sheet(wb, name: str):
    if name in wb.sheetnames:
        return wb[name]
    visible = [ws for ws in wb.worksheets if ws.title != xlsx.META_SHEET and ws.sheet_state == "visible"]
    if not visible:
        raise _refuse("no_sheet", "文件中没有走访表工作表", "The file has no walk sheet")
    return visible[0]  # the tab was renamed: harmless


def _columns(ws, header_row: int) -> dict[str, int]:
    """heading → key mapping read from the file, so the import does not depend on column positions."""
    by_heading = {c.heading: c.key for c in xlsx.COLUMNS}
    found = {}
    for i, value in enumerate(next(ws.iter_rows(min_row=header_row, max_row=header_row, values_only=True), ())):
        key = by_heading.get(str(value or "").strip())
        if key:
            found[key] = i
    missing = [xlsx.COLUMN_BY_KEY[k].heading for k in ["register_id", *xlsx.INPUT_KEYS] if k not in found]
    if missing:
        names = "、".join(missing)
        raise _refuse("bad_header", f"表头缺少以下列：{names}。请勿修改表头。",
                      f"The heading row lacks these columns: {names}. Do not change the heading row.")
    return found


# ---------------------------------------------------------------- cell values


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _yes_no(key: str, value) -> bool:
    if _blank(value):
        return False
    if isinstance(value, bool):
        return value
    word = _text(value).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _RowError(key, "bad_yes_no", f"“{_text(value)}”应为“是”或“否”",
                    f"“{_text(value)}” should be 是 (yes) or 否 (no)")


def _count(value) -> int:
    if _blank(value):
        return 0
    number = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip().removesuffix("人")
        number = int(text) if text.isdigit() else None
    if number is None or not 0 <= number <= MAX_MET:
        raise _RowError("residents_met", "not_a_number", f"“{_text(value)}”不是人数（应为 0 到 {MAX_MET} 的整数）",
                        f"“{_text(value)}” is not a head count (a whole number from 0 to {MAX_MET})")
    return number


def _bad_time(value) -> _RowError:
    return _RowError("captured_at", "bad_time", f"“{_text(value)}”不是有效的日期时间（例：2026-11-05 10:30）",
                     f"“{_text(value)}” is not a valid date and time (e.g. 2026-11-05 10:30)")


def _when(value) -> dt.datetime | None:
    """The visit time as written, aware in the server's time zone (Asia/Shanghai); None when left blank."""
    if _blank(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 30000 < value < 80000:
        value = from_excel(value)  # a date typed into a cell without a date format
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time(12, 0))  # the day is what matters; noon keeps it that day in UTC
    elif isinstance(value, str):
        text = " ".join(value.strip().replace("：", ":").split())
        for fmt in TIME_FORMATS:
            try:
                parsed = dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
            if "%H" not in fmt:
                parsed = parsed.replace(hour=12)
            break
        else:
            raise _bad_time(value)
    else:
        raise _bad_time(value)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _check_time(when: dt.datetime, raw, round: Round, now: dt.datetime) -> None:
    if when > now + FUTURE_TOLERANCE:
        raise _RowError("captured_at", "time_in_future", f"走访时间“{_text(raw)}”晚于当前时间",
                        f"The visit time “{_text(raw)}” is in the future")
    earliest = round.starts_on
    if round.opened_at is not None:
        earliest = min(earliest, timezone.localdate(round.opened_at))
    if timezone.localdate(when) < earliest:
        raise _RowError("captured_at", "time_before_round", f"走访时间“{_text(raw)}”早于本轮开始日期（{earliest}）",
                        f"The visit time “{_text(raw)}” is before the round started ({earliest})")


# ---------------------------------------------------------------- rows


@dataclass
class _Context:
    round: Round
    sheet_id: str
    households: dict[str, int]  # register id → household id, for this round and cell
    outcomes: dict[str, str]  # label / code / English label (lower case) → code
    outcome_labels: str
    now: dt.datetime
    seen: dict[str, int] = field(default_factory=dict)  # register id → first row


def _row_visit(ctx: _Context, number: int, values: dict) -> VisitInput:
    register_id = _text(values["register_id"]) if not _blank(values.get("register_id")) else ""
    if not register_id:
        raise _RowError("register_id", "missing_register_id", "该行缺少登记编号（隐藏列被清空，或这是自行添加的行）",
                        "The row has no register id (the hidden column was cleared, or the row was added by hand)")
    if register_id not in ctx.households:
        raise _RowError("register_id", "unknown_register_id", f"登记编号 {register_id} 不是本轮该网格需要走访的住户",
                        f"Register id {register_id} is not a household of this cell in this round")
    if register_id in ctx.seen:
        first = ctx.seen[register_id]
        raise _RowError("register_id", "repeated_row", f"登记编号 {register_id} 与第{first}行重复",
                        f"Register id {register_id} repeats row {first}")
    ctx.seen[register_id] = number
    raw_outcome = values.get("outcome")
    if _blank(raw_outcome):
        raise _RowError("outcome", "no_outcome", "未填写走访结果（本行其他列已填写）",
                        "No outcome, although other columns of the row are filled in")
    outcome = ctx.outcomes.get(_text(raw_outcome)) or ctx.outcomes.get(_text(raw_outcome).lower())
    if outcome is None:
        raise _RowError("outcome", "unknown_outcome",
                        f"“{_text(raw_outcome)}”不是本次行动的走访结果，可选：{ctx.outcome_labels}",
                        f"“{_text(raw_outcome)}” is not an outcome of this campaign; "
                        f"choose one of: {ctx.outcome_labels}")
    flags = {key: _yes_no(key, values.get(key)) for key in ("leaflet", "app_installed", "hotline_explained")}
    met = _count(values.get("residents_met"))
    when = _when(values.get("captured_at"))
    if when is not None:
        _check_time(when, values.get("captured_at"), ctx.round, ctx.now)
    note = "" if _blank(values.get("note")) else _text(values["note"])
    if len(note) > MAX_NOTE:
        raise _RowError("note", "note_too_long", f"备注过长（{len(note)}字，最多{MAX_NOTE}字）",
                        f"The note is too long ({len(note)} characters, at most {MAX_NOTE})")
    # The id depends on what the row says, never on when it is imported: same row, same id, `duplicate`.
    content = [ctx.sheet_id, ctx.round.pk, register_id, outcome, flags["leaflet"], flags["app_installed"],
               flags["hotline_explained"], met, when.isoformat() if when else "", note]
    visit_id = uuid.uuid5(NAMESPACE, json.dumps(content, ensure_ascii=False, separators=(",", ":")))
    return VisitInput(
        id=str(visit_id), household=ctx.households[register_id], round=ctx.round.pk, outcome=outcome,
        captured_at=when or ctx.now, residents_met=met, risk_note=note, **flags,
    )


def _context(round: Round, cell: GridCell, sheet_id: str, now: dt.datetime) -> _Context:
    outcomes = campaign_outcomes(campaign_id=round.campaign_id)
    names: dict[str, str] = {}
    for o in outcomes:
        names.update({o.code: o.code, o.code.lower(): o.code, o.label: o.code})
        if o.label_en:
            names[o.label_en.lower()] = o.code
    households = dict(
        selectors.round_households(round=round).filter(cell=cell).values_list("register_id", "id")
    )
    return _Context(round=round, sheet_id=sheet_id, households=households, outcomes=names,
                    outcome_labels="、".join(o.label for o in outcomes), now=now)


def walk_sheet_import(
    *, path_or_file: str | IO[bytes], user: User, language: str = "zh-hans", dry_run: bool = False,
    now: dt.datetime | None = None,
) -> SheetImportResult:
    """Record the visits of a filled XLSX walk sheet; report every bad row with its row, column and reason.

    Blank rows are skipped. A file without its signed meta, or with a changed one, is refused whole
    (WalkSheetError). With dry_run nothing is stored, but the answer is the one a real import would give.
    """
    now = now or timezone.now()
    wb = _open(path_or_file)
    meta = _read_meta(wb)
    round = Round.objects.select_related("campaign").filter(pk=meta["round_id"]).first()
    cell = GridCell.objects.filter(code=meta["cell_code"]).first()
    if round is None or cell is None:
        raise _refuse("unknown_round", "该走访表对应的轮次或网格已不存在",
                      "The sheet's round or grid cell no longer exists")
    ws = _data_sheet(wb, meta["sheet"])
    columns = _columns(ws, meta["header_row"])
    ctx = _context(round, cell, meta["sheet_id"], now)
    result = SheetImportResult(round_id=round.pk, cell_code=cell.code, sheet_id=meta["sheet_id"], dry_run=dry_run)
    items: list[tuple[int, VisitInput]] = []
    for number, row in enumerate(ws.iter_rows(min_row=meta["header_row"] + 1, values_only=True),
                                 start=meta["header_row"] + 1):
        values = {key: (row[i] if i < len(row) else None) for key, i in columns.items()}
        if all(_blank(values.get(k)) for k in xlsx.INPUT_KEYS):
            if not _blank(values.get("register_id")):
                result.skipped += 1  # a household nobody went to: left for the next sheet or the phone
            continue
        try:
            items.append((number, _row_visit(ctx, number, values)))
        except _RowError as e:
            column = xlsx.COLUMN_BY_KEY[e.key]
            result.rejected += 1
            result.errors.append(SheetRowError(
                row=number, column=column.heading, column_letter=xlsx.letter(e.key), code=e.code, zh=e.zh, en=e.en,
                register_id=_text(values["register_id"]) if not _blank(values.get("register_id")) else "",
            ))
    with transaction.atomic():
        answers = visits_record(user=user, items=[v for _, v in items], source=VisitSource.PAPER,
                                device_id=f"sheet:{meta['sheet_id']}", language=language, now=now)
        if dry_run:
            transaction.set_rollback(True)
    by_household = {v: k for k, v in ctx.households.items()}
    for (number, item), answer in zip(items, answers, strict=True):
        result.visits.append((number, answer))
        if answer.status == "accepted":
            result.accepted += 1
        elif answer.status == "duplicate":
            result.duplicate += 1
        else:
            result.rejected += 1
            zh, en = VISIT_MESSAGES.get(answer.code, (answer.message, answer.message))
            result.errors.append(SheetRowError(row=number, column="", column_letter="", code=answer.code, zh=zh,
                                               en=en, register_id=by_household.get(item.household, "")))
    result.errors.sort(key=lambda e: e.row)
    if dry_run:
        for _, answer in result.visits:
            answer.visit = None  # rolled back: not a stored row
    return result
