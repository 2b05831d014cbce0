"""The report's tables with their Chinese and English headings: what the XLSX sheets and the PDF tables show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from server.reports.content import FIGURE_COLUMNS, LevelTable, ReportContent


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    kind: str = "text"  # text | int | dec (one decimal) | pct (a fraction, shown as a percentage) | date
    short: str = ""  # English heading for the PDF's narrow columns (default: en)
    pdf: bool = True  # printed in the PDF too (codes are in the XLSX only)


@dataclass
class Table:
    sheet: str  # sheet name (≤ 31 characters)
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    frozen_columns: int = 2
    key: str = ""  # "level:<level>", "rounds", "days", "teams", "workers", "key_groups"
    pdf_rows: int | None = None  # the PDF prints at most this many rows (the XLSX has them all)


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


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def days_table(content: ReportContent) -> Table:
    columns = [Column("day", "日期", "Day", "date"), Column("reached_new", "新见面户数", "Newly reached", "int"),
               Column("reached_cumulative", "累计见面户数", "Reached so far", "int"),
               Column("coverage_cumulative", "累计覆盖率", "Coverage so far", "pct"),
               Column("visits", "走访次数", "Visits", "int"),
               Column("flagged_visits", "GPS异常走访", "GPS-flagged visits", "int"),
               Column("workers_active", "出勤网格员", "Workers active", "int")]
    rows = [[_day(d["day"]), *[d[c.key] for c in columns[1:]]] for d in content.days]
    return Table(sheet="逐日进度", title="逐日进度 Progress by day", columns=columns, rows=rows, frozen_columns=1,
                 key="days")


def teams_table(content: ReportContent) -> Table:
    columns = [Column("team", "小分队", "Team"), Column("cells", "网格数", "Cells", "int"),
               *[c for c in FIGURES if c.key in ("to_visit", "attempted", "reached", "excluded", "coverage",
                                                 "visits", "flagged_visits")],
               Column("workers", "网格员人数", "Workers", "int"),
               Column("active_days", "出勤天数", "Active days", "int"),
               Column("visits_per_day", "日均走访", "Visits a day", "dec"),
               Column("reached_per_day", "日均见面", "Reached a day", "dec")]
    rows = [[t["team"] or t.get("team_en", "")] + [t.get(c.key) for c in columns[1:]] for t in content.teams]
    return Table(sheet="小分队", title="各小分队 Teams", columns=columns, rows=rows, frozen_columns=1, key="teams")


def workers_table(content: ReportContent) -> Table:
    columns = [Column("name", "网格员", "Worker"), Column("username", "账号", "Account"),
               Column("visits", "走访次数", "Visits", "int"),
               Column("households_attempted", "走访户数", "Households visited", "int", "Tried"),
               Column("households_reached", "见面户数", "Households reached", "int", "Reached"),
               Column("app_installs", "安装反诈APP", "App installs", "int", "App"),
               Column("flagged_visits", "GPS异常走访", "GPS-flagged visits", "int", "GPS flag"),
               Column("active_days", "出勤天数", "Active days", "int", "Days"),
               Column("first_day", "首次走访", "First day", "date"), Column("last_day", "最近走访", "Last day", "date"),
               Column("visits_per_day", "日均走访", "Visits a day", "dec", "Visits/day"),
               Column("reached_per_day", "日均见面", "Reached a day", "dec", "Reached/day")]
    dates = {"first_day", "last_day"}
    rows = [[_day(w[c.key]) if c.key in dates else w[c.key] for c in columns] for w in content.workers]
    return Table(sheet="网格员", title="各网格员（按走访次数）Workers, most visits first", columns=columns, rows=rows,
                 frozen_columns=1, key="workers", pdf_rows=30)


def key_groups_table(content: ReportContent) -> Table:
    """Key-group coverage of the area itself and of each area one level below it."""
    columns = [Column("code", "代码", "Code", pdf=False), Column("area", "区域", "Area"),
               Column("group", "重点人群", "Key group"), Column("group_en", "英文名", "Key group (English)", pdf=False),
               Column("residents", "应访人数", "Residents to reach", "int", "Residents"),
               Column("reached", "已见面人数", "Residents reached", "int", "Reached"),
               Column("coverage", "覆盖率", "Coverage", "pct")]
    rows = []
    for table in content.levels[:2]:
        for row in table.rows:
            for group in row.get("key_groups", {}).values():
                rows.append([row["code"], row["name"], group["name"], group["name_en"], group["residents"],
                             group["reached"], group["coverage"]])
    return Table(sheet="重点人群", title="重点人群覆盖 Key groups", columns=columns, rows=rows, frozen_columns=3,
                 key="key_groups")


def content_tables(content: ReportContent) -> list[Table]:
    """Every table of the report in order: levels, rounds, days, key groups, teams, workers."""
    tables = [level_table(t, own=i == 0) for i, t in enumerate(content.levels)]
    tables += [rounds_table(content), days_table(content), key_groups_table(content), teams_table(content),
               workers_table(content)]
    return tables
