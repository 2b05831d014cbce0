"""What an import did: the result object, its printed summary and the CSV report of row problems."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from server.registry.importing.validation import ERROR, Problem

REPORT_HEADER = ("行号 row", "登记编号 register_id", "列 column", "值 value", "级别 level", "原因 reason", "reason")
LEVEL_TEXT = {ERROR: "错误 error (未导入 not imported)", "notice": "提示 notice (已导入 imported)"}
SHOWN_OUTSIDE = 10


@dataclass
class ImportResult:
    """The outcome of one register import. `written` is False for a dry run and for a strict run with errors."""

    path: Path
    file_kind: str
    strict: bool
    dry_run: bool
    rows_read: int = 0
    rows_rejected: int = 0
    households_created: int = 0
    households_updated: int = 0
    households_unchanged: int = 0
    residents_created: int = 0
    residents_removed: int = 0
    has_residents: bool = False
    outside_cells: list[str] = field(default_factory=list)  # register ids of households in no grid cell
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: tuple[str, ...] = ()
    written: bool = False
    report_path: Path | None = None
    seconds: float = 0.0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == ERROR]

    def summary_lines(self) -> list[str]:
        """The summary printed by the command, one fact a line, Chinese then English."""
        would = "将" if not self.written else ""
        lines = [
            f"文件 file: {self.path} ({self.file_kind})",
            f"读取行数 rows read: {self.rows_read}",
            f"拒绝行数 rows rejected: {self.rows_rejected}",
            f"{would}新建住户 households created: {self.households_created}",
            f"{would}更新住户 households updated: {self.households_updated}",
            f"未变住户 households unchanged: {self.households_unchanged}",
        ]
        if self.has_residents:
            lines.append(f"{would}写入居民 residents: {self.residents_created}"
                         f"（替换原有 replacing {self.residents_removed}）")
        shown = ", ".join(self.outside_cells[:SHOWN_OUTSIDE])
        shown += " …" if len(self.outside_cells) > SHOWN_OUTSIDE else ""
        lines.append(f"不在任何网格内的住户 households outside every grid cell: {len(self.outside_cells)}"
                     + (f" ({shown})" if shown else ""))
        if self.ignored_columns:
            lines.append("忽略的列 ignored columns: " + "、".join(self.ignored_columns))
        if self.report_path:
            lines.append(f"报告 report: {self.report_path}")
        if self.dry_run:
            lines.append("试运行，未写入任何数据 dry run: nothing was written")
        elif self.strict and self.errors:
            lines.append("严格模式：有错误行，未写入任何数据 strict: some rows are bad, nothing was written")
        else:
            lines.append(f"完成 done in {self.seconds:.1f} s")
        return lines


def report_default_path(*, source: Path) -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.VAR_DIR) / "import-reports" / f"{source.stem}-{stamp}-errors.csv"


def report_write(*, path: Path, problems: list[Problem]) -> Path:
    """Write the problems as CSV (UTF-8 with BOM, so that Excel on a Chinese Windows opens it correctly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(REPORT_HEADER)
        for p in sorted(problems, key=lambda p: p.row):
            out.writerow((p.row, p.register_id, p.column, p.value, LEVEL_TEXT[p.level], p.reason_zh, p.reason_en))
    return path
