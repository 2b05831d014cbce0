"""The report as an A4 PDF to forward or print: key figures, the coverage map, coverage by day and by round, and
the tables of the areas below. Set in the embedded CJK TrueType font the walk sheets use (see
campaigns/walksheets/fonts.py), so it reads the same in every viewer and on every printer.
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from server.campaigns.walksheets.fonts import cjk_font
from server.reports import drawings
from server.reports.content import LEVEL_LABELS, ReportContent, levels_below
from server.reports.tables import Column, Table, content_tables

PAGE = A4
MARGIN = 14 * mm
WIDTH = PAGE[0] - 2 * MARGIN
GREY = colors.HexColor("#666666")
HEAD_BG = colors.HexColor("#e8edf3")
# The key figures, in the order a reader looks for them.
KEY_FIGURES = ["coverage", "to_visit", "reached", "attempted", "nobody_home", "refused", "excluded", "app_installs",
               "flagged_visits"]


def _esc(text) -> str:
    return str(text if text is not None else "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fmt(value, kind: str) -> str:
    """A value as the PDF prints it (percentages with one decimal, as in the XLSX's number format)."""
    if value is None or value == "":
        return "—"
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "int":
        return f"{value:,}"
    if kind == "dec":
        return f"{value:.1f}"
    if kind == "date":
        return f"{value:%Y-%m-%d}"
    return str(value)


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=22, spaceAfter=3),
        "info": ParagraphStyle("info", parent=base, fontSize=9.5, leading=13, textColor=GREY),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4, keepWithNext=1),
        "note": ParagraphStyle("note", parent=base, fontSize=7.5, leading=10, textColor=GREY),
        "head": ParagraphStyle("head", parent=base, fontSize=7.5, leading=9.5, alignment=1),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "num": ParagraphStyle("num", parent=base, fontSize=8, leading=10, alignment=2),
        "big": ParagraphStyle("big", parent=base, fontSize=15, leading=18, alignment=1),
        "label": ParagraphStyle("label", parent=base, fontSize=7.5, leading=9.5, alignment=1, textColor=GREY),
    }


def _grid_style(header_rows: int = 2) -> TableStyle:
    return TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b0b7c3")),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEAD_BG),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
        ("ROWBACKGROUNDS", (0, header_rows), (-1, -1), [colors.white, colors.HexColor("#f6f7f9")]),
    ])


def _key_figures(content: ReportContent, st) -> PdfTable:
    """The area's own figures as a band of big numbers with their labels."""
    own = content.summary
    columns = {c.key: c for c in content_tables(content)[0].columns}
    cells_big, cells_label = [], []
    for key in KEY_FIGURES:
        column = columns[key]
        cells_big.append(Paragraph(_esc(fmt(own.get(key), column.kind) if own else "—"), st["big"]))
        english = column.en if len(column.en) <= 20 else column.short
        cells_label.append(Paragraph(f"{_esc(column.zh)}<br/>{_esc(english)}", st["label"]))
    table = PdfTable([cells_big, cells_label], colWidths=[WIDTH / len(KEY_FIGURES)] * len(KEY_FIGURES))
    table.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 0.6, colors.HexColor("#b0b7c3")),
        ("LINEBEFORE", (1, 0), (-1, -1), 0.4, colors.HexColor("#d0d5dd")),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef5ee")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    return table


def _widths(columns: list[Column]) -> list[float]:
    weights = {"text": 2.4, "int": 1.0, "dec": 1.1, "pct": 1.15, "date": 1.6}
    w = [weights[c.kind] * (1.5 if c.key == "name" else 1.0) for c in columns]
    return [WIDTH * x / sum(w) for x in w]


def _table(table: Table, st) -> PdfTable:
    keep = [i for i, c in enumerate(table.columns) if c.pdf]
    columns = [table.columns[i] for i in keep]
    head = [[Paragraph(_esc(c.zh), st["head"]) for c in columns],
            [Paragraph(f"<font size='6' color='#555555'>{_esc(c.short or c.en)}</font>", st["head"])
             for c in columns]]
    body = [[Paragraph(_esc(fmt(row[i], c.kind)), st["cell" if c.kind == "text" else "num"])
             for i, c in zip(keep, columns, strict=True)] for row in table.rows[:table.pdf_rows]]
    t = PdfTable(head + body, colWidths=_widths(columns), repeatRows=2)
    t.setStyle(_grid_style())
    return t


def _outline_label(content: ReportContent) -> str:
    below = levels_below(content.area.level)[1]
    zh, en = LEVEL_LABELS[below]
    return f"{zh}界 {en.lower()}"


def pdf_tables(content: ReportContent, tables: list[Table]) -> list[Table]:
    """The tables the PDF prints: the level right below the area (a township's cells too) and the others; the XLSX
    has every level."""
    below = levels_below(content.area.level)[1:]
    shown = below[:2] if content.area.level == "township" else below[:1]
    return [t for t in tables if t.key != "days"
            and (not t.key.startswith("level:") or t.key.removeprefix("level:") in shown)]


def _footer_canvas(content: ReportContent, font: str):
    """A canvas that writes '第 2 / 5 页' once the page count is known."""

    class FooterCanvas(pdfcanvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number, page in enumerate(self._pages, start=1):
                self.__dict__.update(page)
                self.setFont(font, 7.5)
                self.setFillColor(GREY)
                self.drawString(MARGIN, 8 * mm, f"敲门 Qiaomen · {content.title} · 生成于 "
                                f"{timezone.localtime(content.generated_at):%Y-%m-%d %H:%M}")
                self.drawRightString(PAGE[0] - MARGIN, 8 * mm, f"第 {number} / {total} 页")
                super().showPage()
            super().save()

    return FooterCanvas


def report_pdf(content: ReportContent) -> bytes:
    """Render the content as PDF bytes. Raises CJKFontMissing (naming the package) without a CJK TrueType font."""
    font = cjk_font()
    st = _styles(font)
    buf = BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=16 * mm, title=content.title, author="敲门 Qiaomen",
                            subject=f"{content.campaign.name} {content.scope_text}")
    tables = content_tables(content)
    story = [
        Paragraph(_esc(content.title), st["title"]),
        Paragraph(f"{_esc(content.area.name)}（{_esc(content.area.code)}）　{_esc(content.campaign.name)}　"
                  f"{_esc(content.scope_text)}　生成于 {timezone.localtime(content.generated_at):%Y-%m-%d %H:%M}",
                  st["info"]),
        Paragraph("关键指标 Key figures", st["h2"]),
        _key_figures(content, st),
        Paragraph("覆盖率 = 见面户数 ÷（应访户数 − 空置/搬离）。Coverage = reached ÷ (to visit − vacant/moved).",
                  st["note"]),
        Paragraph("覆盖地图 Coverage map", st["h2"]),
        drawings.coverage_map(content.map_cells, content.map_outlines, width=WIDTH, height=95 * mm, font=font,
                              outline_label=_outline_label(content)),
    ]
    rounds = [(r.number, r.figures.get("coverage")) for r in content.rounds]
    days = [(dt.date.fromisoformat(d["day"]), d["coverage_cumulative"]) for d in content.days]
    charts = PdfTable([[drawings.coverage_by_day_chart(days, width=WIDTH / 2 - 4, height=55 * mm, font=font),
                        drawings.coverage_by_round_chart(rounds, width=WIDTH / 2 - 4, height=55 * mm, font=font)]],
                      colWidths=[WIDTH / 2] * 2)
    story += [KeepTogether([Paragraph("覆盖进度 Progress", st["h2"]), charts])]
    for table in pdf_tables(content, tables):
        story += [Paragraph(_esc(table.title), st["h2"])]
        if not table.rows:
            story.append(Paragraph("（无 none）", st["note"]))
            continue
        story += [_table(table, st)]
        if table.pdf_rows is not None and len(table.rows) > table.pdf_rows:
            n, total = table.pdf_rows, len(table.rows)
            story.append(Paragraph(f"仅列前 {n} 名，共 {total} 名，完整名单见 XLSX 报表。"
                                   f"First {n} of {total}; all of them in the XLSX.", st["note"]))
        story.append(Spacer(1, 2 * mm))
    doc.build(story, canvasmaker=_footer_canvas(content, font))
    return buf.getvalue()
