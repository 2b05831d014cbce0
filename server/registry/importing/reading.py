"""Reading register files: CSV (UTF-8 with or without BOM, GBK/GB18030, UTF-16) and XLSX, as rows of text."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from server.registry.importing.columns import ImportFileError

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
_SNIFF_BYTES = 1 << 20


def encoding_detect(path: Path) -> str:
    """utf-8-sig / utf-16 from a BOM; else utf-8 if the whole file decodes as UTF-8; else gb18030 (a GBK superset).

    Chinese Excel saves "CSV" in the system code page (GBK); a GBK file is practically never valid UTF-8.
    """
    with path.open("rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := f.read(_SNIFF_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def cell_text(value: object) -> str:
    """An XLSX cell as the text a person sees: 13812345678 not 13812345678.0, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass
class RegisterFile:
    """An open register file: its header, its rows (numbered as a spreadsheet shows them) and its progress."""

    path: Path
    kind: str  # "csv" | "xlsx"
    encoding: str
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    size: int  # progress total: bytes for CSV, rows for XLSX
    _position: object = field(default=None, repr=False)
    _close: object = field(default=None, repr=False)

    def position(self) -> int:
        return self._position() if self._position else 0

    def close(self) -> None:
        if self._close:
            self._close()


def register_file_open(*, path: Path) -> RegisterFile:
    """Open a CSV or XLSX register; raise ImportFileError with a message for the user when it cannot be read."""
    if not path.is_file():
        raise ImportFileError(f"找不到文件 file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return _xlsx_open(path)
    if suffix in CSV_SUFFIXES:
        return _csv_open(path)
    raise ImportFileError(
        f"不支持的文件类型 unsupported file type '{suffix}': 请用 CSV 或 XLSX use CSV or XLSX "
        "(旧版 .xls 请在 Excel 中另存为 .xlsx; save old .xls files as .xlsx)"
    )


def _csv_open(path: Path) -> RegisterFile:
    encoding = encoding_detect(path)
    raw = path.open("rb")
    text = io.TextIOWrapper(raw, encoding=encoding, newline="")
    try:
        first = text.readline()
    except UnicodeDecodeError as exc:
        raw.close()
        raise ImportFileError(f"无法识别文件编码 cannot decode the file ({encoding}): {exc}") from exc
    if not first.strip():
        raw.close()
        raise ImportFileError(f"文件为空或第一行不是表头 the file is empty or its first line is not a header: {path}")
    delimiter = _delimiter(first)
    header = next(csv.reader([first], delimiter=delimiter))

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        try:
            for number, row in enumerate(csv.reader(text, delimiter=delimiter), start=2):  # noqa: B007
                yield number, row
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ImportFileError(f"第 {number + 1} 行附近无法读取 cannot read near row {number + 1}: {exc}") from exc
        finally:
            raw.close()

    return RegisterFile(
        path=path, kind="csv", encoding=encoding.replace("-sig", " BOM"), header=header, rows=rows(),
        size=path.stat().st_size, _position=raw.tell, _close=raw.close,
    )


def _xlsx_open(path: Path) -> RegisterFile:
    import openpyxl  # only XLSX imports pay for it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or mislabelled file
        raise ImportFileError(f"无法打开 XLSX 文件 cannot open the XLSX file: {exc}") from exc
    sheet = book.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    header = [cell_text(v).strip() for v in next(values, ())]
    if not any(header):
        book.close()
        raise ImportFileError(f"第一个工作表的第一行不是表头 the first sheet's first row is not a header: {path}")
    done = [1]

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, row in enumerate(values, start=2):
                done[0] = number
                yield number, [cell_text(v) for v in row]
        finally:
            book.close()

    return RegisterFile(
        path=path, kind="xlsx", encoding="xlsx", header=header, rows=rows(), size=sheet.max_row or 0,
        _position=lambda: done[0], _close=book.close,
    )
