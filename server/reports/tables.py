"""The report's tables with their Chinese and English headings: what the XLSX sheets and the PDF tables show."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.reports.content import FIGURE_COLUMNS, LevelTable, ReportContent


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    kind: str = "text"  # text | int | pct (a fraction, shown as a percentage) | date
    short: str = ""  # English heading for the PDF's narrow columns (default: en)
    pdf: bool = True  # printed in the PDF too (codes are in the XLSX only)


@dataclass
class Table:
    sheet: str  # sheet name (≤ 31 characters)
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    frozen_columns: int = 2
    key: str = ""  # "level:<level>", "rounds", ...


FIGURES = [Column(key, zh, en, kind, short) for key, zh, en, kind, short in FIGURE_COLUMNS]


def level_table(table: LevelTable, *, own: bool) -> Table:
    """One level's rows: code, name, the area above (except for the report's own area), then the figures."""
    zh, en = table.label
    columns = [Column("code", "代码", "Code", pdf=False), Column("name", "名称", "Name")]
    if not own:
        columns.append(Column("parent", "所属", "Part of"))
    columns += FIGURES
    rows = [[row.get(c.key) for c in columns] for row in table.rows]
    title = f"本级（{zh}）" if own else f"各{zh}"
    return Table(sheet=zh, title=f"{title} {en}", columns=columns, rows=rows, key=f"level:{table.level}")


def rounds_table(content: ReportContent) -> Table:
    """The area's own figures in every round shown."""
    columns = [Column("number", "轮次", "Round", "int"), Column("starts_on", "开始", "Starts", "date"),
               Column("ends_on", "结束", "Ends", "date"), Column("status", "状态", "Status", pdf=False), *FIGURES]
    rows = []
    for r in content.rounds:
        values = {"number": r.number, "starts_on": r.starts_on, "ends_on": r.ends_on, "status": r.status,
                  **{c.key: r.figures.get(c.key, 0 if c.kind == "int" else None) for c in FIGURES}}
        rows.append([values[c.key] for c in columns])
    return Table(sheet="按轮次", title="按轮次 By round", columns=columns, rows=rows, frozen_columns=1,
                 key="rounds")


def content_tables(content: ReportContent) -> list[Table]:
    """Every table of the report in order: levels, then rounds."""
    tables = [level_table(t, own=i == 0) for i, t in enumerate(content.levels)]
    tables.append(rounds_table(content))
    return tables
