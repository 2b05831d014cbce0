"""The printed walk sheet (A4 landscape) for volunteers without a phone: tick boxes per household, filled by pen.

Set in an embedded CJK TrueType font (see fonts.py) so it prints the same on any printer and any PDF viewer.
"""

from __future__ import annotations

from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from server.campaigns.walksheets.content import MATERIALS, Sheet
from server.campaigns.walksheets.fonts import cjk_font

PAGE = landscape(A4)
MARGIN_X = 10 * mm
MARGIN_TOP = 10 * mm
MARGIN_BOTTOM = 20 * mm  # room for the signature line
ROW_MIN = 9 * mm  # room to write by hand
GREY = colors.HexColor("#666666")
PDF_HEADINGS = {"安装反诈APP": "安装<br/>反诈APP"}  # break where a reader expects it, not inside "APP"
HEAD_BG = colors.HexColor("#e8edf3")


class CheckBox(Flowable):
    """An empty square to tick by pen (drawn, so it needs no glyph from the font)."""

    def __init__(self, size: float = 3.6 * mm):
        super().__init__()
        self.size = size

    def wrap(self, available_width, available_height):
        self.width = self.height = self.size
        return self.size, self.size

    def draw(self):
        self.canv.setLineWidth(0.8)
        self.canv.rect(0, 0, self.size, self.size)


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=8.5, leading=10.5, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=15, leading=19, spaceAfter=2),
        "info": ParagraphStyle("info", parent=base, fontSize=9.5, leading=13),
        "note": ParagraphStyle("note", parent=base, fontSize=8, leading=10, textColor=GREY),
        "head": ParagraphStyle("head", parent=base, fontSize=8, leading=9.5, alignment=1),
        "cell": base,
        "num": ParagraphStyle("num", parent=base, alignment=1),
    }


def _widths(n_outcomes: int) -> list[float]:
    """Column widths filling the page: number, address, residents, elderly, outcomes, materials, met, note."""
    usable = PAGE[0] - 2 * MARGIN_X
    outcome = max(9 * mm, min(14 * mm, 90 * mm / max(n_outcomes, 1)))
    fixed = [9 * mm, 0, 9 * mm, 9 * mm] + [outcome] * n_outcomes + [17 * mm] * len(MATERIALS) + [13 * mm]
    note = 40 * mm
    address = usable - sum(fixed) - note
    if address < 50 * mm:  # many outcome codes: the note gives way first
        note = max(22 * mm, note - (50 * mm - address))
        address = usable - sum(fixed) - note
    fixed[1] = address
    return [*fixed, note]


def _esc(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(sheet: Sheet, st: dict[str, ParagraphStyle]) -> Table:
    k, m = len(sheet.outcomes), len(MATERIALS)
    first_outcome, first_material = 4, 4 + k
    met_col, note_col = 4 + k + m, 5 + k + m
    head1 = [Paragraph(t, st["head"]) for t in ("序号", "地址 / 登记编号", "人数", "其中<br/>老人")]
    head1 += [Paragraph("走访结果（每户只勾一项）", st["head"])] + [""] * (k - 1)
    head1 += [Paragraph("宣传内容（可多勾）", st["head"])] + [""] * (m - 1)
    head1 += [Paragraph("见面<br/>人数", st["head"]), Paragraph("备注", st["head"])]
    head2 = [""] * 4 + [Paragraph(_esc(o.label), st["head"]) for o in sheet.outcomes]
    head2 += [Paragraph(PDF_HEADINGS.get(label, label), st["head"]) for _, label in MATERIALS] + ["", ""]
    data = [head1, head2]
    for row in sheet.rows:
        extra = f"<br/><font size='6.5' color='#666666'>{_esc(row.register_id)}</font>"
        if row.state:
            extra += f"<font size='6.5' color='#666666'>　本轮已记：{_esc(row.state)}</font>"
        data.append(
            [Paragraph(str(row.number), st["num"]), Paragraph(_esc(row.address) + extra, st["cell"]),
             Paragraph(str(row.residents), st["num"]), Paragraph(str(row.elderly or ""), st["num"])]
            + [CheckBox() for _ in range(k + m)] + ["", ""]
        )
    widths = _widths(k)
    heights = [None, None] + [
        max(ROW_MIN, data[i][1].wrap(widths[1] - 6, 1000)[1] + 6) for i in range(2, len(data))
    ]
    table = Table(data, colWidths=widths, rowHeights=heights, repeatRows=2)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 1), HEAD_BG),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("ALIGN", (1, 2), (1, -1), "LEFT"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, 1), 1.5),
        ("RIGHTPADDING", (0, 0), (-1, 1), 1.5),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        *[("SPAN", (c, 0), (c, 1)) for c in (0, 1, 2, 3, met_col, note_col)],
        ("SPAN", (first_outcome, 0), (first_outcome + k - 1, 0)),
        ("SPAN", (first_material, 0), (first_material + m - 1, 0)),
        # a heavier line between outcome and material boxes, so a pen does not stray into the wrong group
        ("LINEBEFORE", (first_material, 0), (first_material, -1), 1.2, colors.black),
        ("LINEBEFORE", (first_outcome, 0), (first_outcome, -1), 1.2, colors.black),
        ("ROWBACKGROUNDS", (0, 2), (-1, -1), [colors.white, colors.HexColor("#f6f6f6")]),
    ]))
    return table


def _numbered_canvas(sheet: Sheet, font: str):
    """A canvas that draws the footer once the page count is known ('第 2 / 5 页')."""

    class FooterCanvas(pdfcanvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._footer(number, total)
                super().showPage()
            super().save()

        def _footer(self, number: int, total: int) -> None:
            y = 12 * mm
            self.setFont(font, 9.5)
            self.drawString(MARGIN_X, y, "走访人签名：________________　　走访日期：______年____月____日")
            self.drawRightString(PAGE[0] - MARGIN_X, y, f"第 {number} / {total} 页")
            self.setFont(font, 7)
            self.setFillColor(GREY)
            self.drawString(
                MARGIN_X, y - 5 * mm,
                f"{sheet.campaign} · 第{sheet.round_number}轮 · {sheet.cell_text} · 打印于 "
                f"{sheet.generated_at:%Y-%m-%d %H:%M} · 本表含住户地址，用后交回，勿遗留、勿拍照外传",
            )
            self.setFillColor(colors.black)

    return FooterCanvas


def sheet_pdf(sheet: Sheet) -> bytes:
    """Render a built sheet as PDF bytes."""
    font = cjk_font()
    st = _styles(font)
    buf = BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=PAGE, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM, title=sheet.title, author="敲门 Qiaomen",
        subject=f"{sheet.round_text} {sheet.cell_text}",
    )
    info = f"轮次：{sheet.round_text}　　网格：{_esc(sheet.cell_text)}"
    info += f"　　负责：{_esc(sheet.holder)}" if sheet.holder else "　　负责：（未分配）"
    info += f"　　共 {len(sheet.rows)} 户"
    story = [
        Paragraph(_esc(sheet.title), st["title"]),
        Paragraph(info, st["info"]),
        Paragraph(
            "填写说明：每户在“走访结果”中只勾一项；宣传内容可多勾；“见面人数”填实际见到的居民人数。"
            "请勿在表上写居民姓名、电话、身份证号。未走访的住户整行留空。", st["note"],
        ),
        Spacer(1, 2 * mm),
    ]
    if sheet.rows:
        story.append(_table(sheet, st))
    else:
        story.append(Paragraph("本轮该网格没有需要走访的住户。", st["info"]))
    doc.build(story, canvasmaker=_numbered_canvas(sheet, font))
    return buf.getvalue()
