"""What a report holds, gathered once from the coverage selectors; the XLSX and the PDF render the same content.

Every figure comes from `server.coverage.selectors` and `server.coverage.productivity` — the functions behind the
coverage API — so a report shows the same numbers as the API and the map. Nothing is summed or divided here; the
only things this module adds are labels (names, parents) and the cells' geometry for the map.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from server.accounts import scoping
from server.campaigns.models import Campaign, Round
from server.coverage import productivity
from server.coverage import selectors as coverage
from server.territory.models import Area, GridCell

LEVEL_LABELS = {
    "city": ("市", "City"),
    "district": ("区县", "District"),
    "township": ("乡镇街道", "Township"),
    "community": ("社区村", "Community"),
    "cell": ("网格", "Grid cell"),
}
# (key, Chinese heading, English heading, kind, short English heading for the PDF's narrow columns);
# kind "int" or "pct" (a fraction shown as a percentage)
FIGURE_COLUMNS = [
    ("to_visit", "应访户数", "Households to visit", "int", "To visit"),
    ("attempted", "已走访户数", "Attempted", "int", "Tried"),
    ("reached", "见面户数", "Reached face to face", "int", "Reached"),
    ("nobody_home", "无人在家", "Nobody home", "int", "Away"),
    ("refused", "拒访", "Refused", "int", "Refused"),
    ("excluded", "空置/搬离等", "Excluded (vacant, moved, wrong address)", "int", "Excluded"),
    ("coverage", "覆盖率", "Coverage", "pct", "Coverage"),
    ("app_installs", "安装反诈APP", "App installs", "int", "App"),
    ("visits", "走访次数", "Visits", "int", "Visits"),
    ("flagged_visits", "GPS异常走访", "GPS-flagged visits", "int", "GPS flag"),
]
Progress = Callable[[int, str], None]


@dataclass
class LevelTable:
    """The rows of one level inside the report's area (the area itself first, then each level below it)."""

    level: str
    rows: list[dict]  # coverage_by_area rows, plus "parent" (name of the area above)

    @property
    def label(self) -> tuple[str, str]:
        return LEVEL_LABELS[self.level]


@dataclass
class RoundFigures:
    number: int
    starts_on: dt.date
    ends_on: dt.date
    status: str
    figures: dict  # the area's own coverage_by_area row in that round (empty when nothing to visit)


@dataclass
class MapCell:
    code: str
    rings: list[list[tuple[float, float]]]  # exterior first, lon/lat
    coverage: float | None
    has_households: bool


@dataclass
class ReportContent:
    title: str
    area: Area
    campaign: Campaign
    round: Round | None
    generated_at: dt.datetime
    levels: list[LevelTable] = field(default_factory=list)
    rounds: list[RoundFigures] = field(default_factory=list)
    days: list[dict] = field(default_factory=list)  # coverage_daily rows
    teams: list[dict] = field(default_factory=list)  # coverage_teams rows
    workers: list[dict] = field(default_factory=list)  # coverage_workers rows
    map_cells: list[MapCell] = field(default_factory=list)
    map_outlines: list[list[tuple[float, float]]] = field(default_factory=list)

    @property
    def summary(self) -> dict:
        """The area's own figures (first level table, single row)."""
        rows = self.levels[0].rows if self.levels else []
        return rows[0] if rows else {}

    @property
    def scope_text(self) -> str:
        if self.round is not None:
            return f"第{self.round.number}轮（{self.round.starts_on:%Y-%m-%d} 至 {self.round.ends_on:%Y-%m-%d}）"
        return f"整个行动（{self.campaign.starts_on:%Y-%m-%d} 至 {self.campaign.ends_on:%Y-%m-%d}）"


def levels_below(level: str) -> list[str]:
    """The area's own level and every level under it, down to cells."""
    return coverage.LEVELS[coverage.LEVELS.index(level):]


def report_rounds(*, campaign: Campaign, round: Round | None) -> list[Round]:
    """The rounds a report shows: the campaign's up to the report's round (all of them for a campaign report)."""
    qs = campaign.rounds.order_by("number")
    return list(qs.filter(number__lte=round.number) if round is not None else qs)


def _parents(area: Area, level: str) -> dict[str, str]:
    """code → name of the parent, for every area or cell of `level` under `area`."""
    if level == "cell":
        rows = GridCell.objects.filter(path__startswith=area.path).values_list("code", "community__name")
    else:
        rows = Area.objects.filter(path__startswith=area.path, level=level).values_list("code", "parent__name")
    return {code: name or "" for code, name in rows}


def _rings(geom, tolerance: float) -> list[list[list[tuple[float, float]]]]:
    """Each polygon of a (multi)polygon as its rings' lon/lat lists, simplified to `tolerance` degrees."""
    if tolerance:
        geom = geom.simplify(tolerance, preserve_topology=True)
    polygons = [geom] if geom.geom_type == "Polygon" else [g for g in geom if g.geom_type == "Polygon"]
    return [[list(ring.coords) for ring in polygon] for polygon in polygons]


def _map(user, area: Area, cell_rows: list[dict]) -> tuple[list[MapCell], list[list[tuple[float, float]]]]:
    """Cells of the area coloured by their coverage; the outlines of the areas one level below drawn over them."""
    by_code = {r["code"]: r for r in cell_rows}
    cells = scoping.grid_cells_visible(user).filter(path__startswith=area.path).only("code", "geom")
    extent = area.geom.extent if area.geom else None
    # Simplify to about a thousandth of the map's width: invisible on A4, and a city's 5,000 cells stay light.
    tolerance = (extent[2] - extent[0]) / 1500 if extent else 0.0
    out = []
    for cell in cells:
        polygons = _rings(cell.geom, tolerance)
        row = by_code.get(cell.code)
        out.append(MapCell(code=cell.code, rings=polygons[0] if polygons else [],
                           coverage=row["coverage"] if row else None, has_households=bool(row and row["to_visit"])))
    outlines = []
    below = Area.objects.filter(parent=area, geom__isnull=False)
    for sub in below:
        outlines += [polygon[0] for polygon in _rings(sub.geom, tolerance)]
    return out, outlines


def _noop(percent: int, step: str) -> None:
    pass


def content_build(*, user, area: Area, campaign: Campaign, round: Round | None, title: str,
                  progress: Progress = _noop) -> ReportContent:
    """Gather a report's figures for `user` (whose territory holds the area), reporting progress from 5 to 70 %.

    A round report holds that round's figures; a campaign report (round None) the campaign's as a whole, where a
    household counts as reached if any round reached it. Both show every round's own figures side by side."""
    rounds = report_rounds(campaign=campaign, round=round)
    target = {"round": round} if round is not None else {"campaign": campaign}
    content = ReportContent(title=title, area=area, campaign=campaign, round=round, generated_at=timezone.now())
    levels = levels_below(area.level)
    steps = len(levels) + len(rounds) + 3
    done = 0

    def tick(text: str) -> None:
        nonlocal done
        done += 1
        progress(5 + 65 * done // steps, text)

    for level in levels:
        rows = coverage.coverage_by_area(user=user, level=level, area_code=area.code, **target)
        parents = _parents(area, level) if level != area.level else {}
        for row in rows:
            row["parent"] = parents.get(row["code"], "")
        content.levels.append(LevelTable(level=level, rows=rows))
        zh, en = LEVEL_LABELS[level]
        tick(f"统计{zh}覆盖情况 / Coverage by {en.lower()}")
    for r in rounds:
        own = coverage.coverage_summary(user=user, round=r, area_code=area.code)
        content.rounds.append(RoundFigures(number=r.number, starts_on=r.starts_on, ends_on=r.ends_on,
                                           status=r.get_status_display(), figures=own))
        tick(f"统计第{r.number}轮 / Round {r.number}")
    content.days = productivity.coverage_daily(user=user, area_code=area.code, **target)
    tick("统计逐日进度 / Progress by day")
    content.teams = productivity.coverage_teams(user=user, area_code=area.code, **target)
    content.workers = productivity.coverage_workers(user=user, area_code=area.code, **target)
    tick("统计小分队与网格员 / Teams and workers")
    cell_rows = content.levels[-1].rows if content.levels else []
    content.map_cells, content.map_outlines = _map(user, area, cell_rows)
    tick("准备覆盖地图 / Coverage map")
    return content
