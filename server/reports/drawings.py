"""The PDF's pictures, drawn as vectors with reportlab (no image files, no web tiles): the coverage map of the
area's cells and the charts of coverage by day and by round."""

from __future__ import annotations

import datetime as dt
import math

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors

from server.coverage import geo
from server.reports.content import MapCell

# Coverage classes of the map, worst first: (lower bound, colour, label), the legend of the coverage map page and
# tiles too (server/coverage/geo.py). Cells with nothing to visit are grey.
CLASSES = [(lower, colour, label) for lower, _, colour, label in geo.CLASSES]
NO_HOUSEHOLDS = geo.NO_FIGURES[1:]
LINE_BLUE = colors.HexColor("#2f6ea5")


def coverage_colour(cell: MapCell) -> str:
    if not cell.has_households or cell.coverage is None:
        return NO_HOUSEHOLDS[0]
    colour = CLASSES[0][1]
    for lower, c, _ in CLASSES:
        if cell.coverage >= lower:
            colour = c
    return colour


def _projection(cells: list[MapCell], outlines, width: float, height: float):
    """lon/lat → drawing points: equirectangular around the middle latitude (fine at a city's size), fit and
    centred in the box, north up."""
    xs = [x for c in cells for ring in c.rings for x, _ in ring] + [x for o in outlines for x, _ in o]
    ys = [y for c in cells for ring in c.rings for _, y in ring] + [y for o in outlines for _, y in o]
    if not xs:
        return None
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    k = math.cos(math.radians((y0 + y1) / 2))
    span_x, span_y = max((x1 - x0) * k, 1e-9), max(y1 - y0, 1e-9)
    scale = min(width / span_x, height / span_y)
    off_x = (width - span_x * scale) / 2
    off_y = (height - span_y * scale) / 2
    return lambda x, y: (off_x + (x - x0) * k * scale, off_y + (y - y0) * scale)


def coverage_map(cells: list[MapCell], outlines, *, width: float, height: float, font: str,
                 outline_label: str = "社区村界 community") -> Drawing:
    """The area's cells coloured by coverage class, the outlines of the areas below on top, the legend on the
    right."""
    legend_w = 105
    d = Drawing(width, height)
    map_w = width - legend_w - 6
    project = _projection(cells, outlines, map_w, height)
    if project is None:
        d.add(String(map_w / 2, height / 2, "没有网格边界 / no cell boundaries", fontName=font, fontSize=10,
                     textAnchor="middle"))
    else:
        thin = 0.25 if len(cells) > 400 else 0.5
        for cell in cells:
            fill = colors.HexColor(coverage_colour(cell))
            for ring in cell.rings[:1]:  # holes are too small to see at this size
                points = [v for x, y in ring for v in project(x, y)]
                d.add(Polygon(points, fillColor=fill, strokeColor=colors.white, strokeWidth=thin))
        for outline in outlines:
            d.add(PolyLine([v for x, y in outline for v in project(x, y)], strokeColor=colors.HexColor("#333333"),
                           strokeWidth=0.8))
    y = height - 12
    d.add(String(width - legend_w, y, "覆盖率 Coverage", fontName=font, fontSize=8.5))
    for colour, label in [(c, lab) for _, c, lab in reversed(CLASSES)] + [NO_HOUSEHOLDS]:
        y -= 15
        d.add(Rect(width - legend_w, y - 2, 11, 10, fillColor=colors.HexColor(colour), strokeColor=colors.grey,
                   strokeWidth=0.4))
        d.add(String(width - legend_w + 15, y, label, fontName=font, fontSize=7.5))
    y -= 17
    d.add(Line(width - legend_w, y + 3, width - legend_w + 11, y + 3, strokeColor=colors.HexColor("#333333"),
               strokeWidth=0.8))
    d.add(String(width - legend_w + 15, y, outline_label, fontName=font, fontSize=7.5))
    return d


def _title(d: Drawing, text: str, font: str) -> None:
    d.add(String(0, d.height - 11, text, fontName=font, fontSize=9.5))


def coverage_by_round_chart(rounds: list[tuple[int, float | None]], *, width: float, height: float,
                            font: str) -> Drawing:
    """Bars: the area's coverage (%) in each round."""
    d = Drawing(width, height)
    _title(d, "各轮覆盖率 Coverage by round (%)", font)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 32, 22, width - 45, height - 45
    chart.data = [[round((c or 0) * 100, 1) for _, c in rounds] or [0]]
    chart.categoryAxis.categoryNames = [f"第{n}轮" for n, _ in rounds] or ["—"]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7.5
    chart.bars[0].fillColor = LINE_BLUE
    chart.barLabelFormat = "%.1f"
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = 7.5
    chart.barLabels.nudge = 6
    d.add(chart)
    return d


def coverage_by_day_chart(days: list[tuple[dt.date, float | None]], *, width: float, height: float,
                          font: str) -> Drawing:
    """A line: the area's cumulative coverage (%) at the end of each day."""
    d = Drawing(width, height)
    _title(d, "逐日累计覆盖率 Coverage by day (%)", font)
    if not days:
        d.add(String(width / 2, height / 2, "尚无走访 / no visits yet", fontName=font, fontSize=9,
                     textAnchor="middle"))
        return d
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 32, 22, width - 45, height - 45
    first = days[0][0]
    plot.data = [[((day - first).days, round((c or 0) * 100, 1)) for day, c in days]]
    plot.lines[0].strokeColor = LINE_BLUE
    plot.lines[0].strokeWidth = 1.5
    span = max((days[-1][0] - first).days, 1)
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, span
    plot.xValueAxis.valueStep = max(1, math.ceil(span / 8))
    plot.xValueAxis.labelTextFormat = lambda v: f"{first + dt.timedelta(days=int(v)):%m-%d}"
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = 0, 100, 20
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName = font
        axis.labels.fontSize = 7.5
    d.add(plot)
    return d
