"""Walk sheets (走访表) for volunteers without a phone: a printable PDF, a fillable XLSX, and the XLSX import.

The API layer calls these three functions; each takes model objects and does its own reads. Permission checks
(who may print which cell) are the caller's: the sheet itself holds no names or phone numbers.
"""

from __future__ import annotations

from server.campaigns.models import Round
from server.campaigns.walksheets.content import sheet_build
from server.campaigns.walksheets.fonts import CJKFontMissing
from server.campaigns.walksheets.importing import SheetImportResult, SheetRowError, WalkSheetError, walk_sheet_import
from server.territory.models import GridCell


def walk_sheet_pdf(*, round: Round, cell: GridCell) -> bytes:
    """The printable walk sheet of one cell in one round (A4 landscape, CJK font embedded).

    Raises CJKFontMissing, naming the package to install, on a machine without a CJK TrueType font.
    """
    from server.campaigns.walksheets.pdf import sheet_pdf

    return sheet_pdf(sheet_build(round=round, cell=cell))


def walk_sheet_xlsx(*, round: Round, cell: GridCell) -> bytes:
    """The fillable walk sheet of one cell in one round, importable with walk_sheet_import."""
    from server.campaigns.walksheets.xlsx import sheet_xlsx

    return sheet_xlsx(sheet_build(round=round, cell=cell))


CONTENT_TYPES = {"pdf": "application/pdf",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def walk_sheet_export(*, user, round: Round, cell: GridCell, fmt: str) -> tuple[bytes, str]:
    """The walk sheet of a cell as PDF or XLSX for `user` (who may see the cell: the caller checks), recorded in
    the audit trail as an export with its number of rows. → (body, content type)."""
    from server.common.exports import export_record

    if fmt not in CONTENT_TYPES:
        raise WalkSheetError("bad_format", "格式应为 pdf 或 xlsx", "The format must be pdf or xlsx", field="format")
    sheet = sheet_build(round=round, cell=cell)
    if fmt == "pdf":
        from server.campaigns.walksheets.pdf import sheet_pdf

        body = sheet_pdf(sheet)
    else:
        from server.campaigns.walksheets.xlsx import sheet_xlsx

        body = sheet_xlsx(sheet)
    export_record(user=user, what=f"walk_sheet:{fmt}", rows=len(sheet.rows),
                  params={"cell": cell, "round": round.pk, "round_number": round.number})
    return body, CONTENT_TYPES[fmt]


def walk_sheet_filename(*, round: Round, cell: GridCell, ext: str) -> str:
    """A download name such as 走访表_第1轮_341102001001001.pdf."""
    return f"走访表_第{round.number}轮_{''.join(ch for ch in cell.code if ch.isalnum())}.{ext}"


__all__ = [
    "CJKFontMissing", "SheetImportResult", "SheetRowError", "WalkSheetError", "walk_sheet_export",
    "walk_sheet_filename", "walk_sheet_import", "walk_sheet_pdf", "walk_sheet_xlsx",
]
