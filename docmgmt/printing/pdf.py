"""Revisions as PDF (ReportLab): controlled copies, uncontrolled prints, obsolete prints.

Every page carries the header block of a controlled document (文件名称, 文件编号, 生效版本,
生效日期, 页数 X / Y) and the company name; the body is rendered from the revision's blocks;
the signature manifestation (制订 / 审核 / 核准: printed name, date and time, meaning) and the
revision record table (文件制修订记录) follow.  A controlled copy carries its copy number,
holder, department and issue date, a 受控文件 watermark with the copy number and a QR code that
opens the copy's verification page; an uncontrolled print says 非受控 (for reference only) with
who printed it and when; a print of a superseded or obsolete revision is stamped 作废.

The document's labels are the Chinese ones of the QMS format: the paper copy is a Chinese
controlled document whatever language the screen is in.  Text is set in the embedded CJK
TrueType font from :mod:`docmgmt.printing.fonts`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from io import BytesIO
from xml.sax.saxutils import escape

from markdown_it import MarkdownIt
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Image,
    KeepTogether,
    LongTable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from docmgmt.printing.fonts import cjk_font
from docmgmt.versioning.content import MAX_LIST_DEPTH, list_levels, list_markers, table_merges

_md = MarkdownIt("commonmark", {"html": False}).disable(["image", "html_inline"])
_TAGS = {"strong": "b", "em": "i", "u": "u"}
_TAG_RE = re.compile(r"</?([a-z]+)[^>]*>")
_UNDERLINE = re.compile(r"\+\+(?=\S)(.+?)(?<=\S)\+\+")

MODE_CONTROLLED = "controlled"
MODE_UNCONTROLLED = "uncontrolled"
MODE_OBSOLETE = "obsolete"


@dataclass
class PrintJob:
    """Everything one print needs, gathered by the caller (no database access here)."""

    company: str
    number: str
    title: str
    version: str
    effective_date: str
    blocks: list
    signatures: list  # [(meaning label, name, "YYYY-MM-DD HH:MM"), ...]
    record: list  # [[NO, date, change number, what, version, pages, prep, rev, appr], ...]
    mode: str = MODE_UNCONTROLLED
    printed_by: str = ""
    printed_at: str = ""
    copy_label: str = ""  # e.g. XX-SP-04-A1-003
    holder: str = ""
    department: str = ""
    issued_on: str = ""
    verify_url: str = ""
    image_loader: object = None  # sha256 -> bytes, for image blocks


def inline(text: str) -> str:
    """Inline Markdown (bold, italic, ++underline++) as ReportLab paragraph markup."""
    html = _UNDERLINE.sub(r"<u>\1</u>", _md.renderInline(text or ""))

    def tag(m):
        name = m[1]
        if name not in _TAGS:
            return ""
        return f"</{_TAGS[name]}>" if m[0].startswith("</") else f"<{_TAGS[name]}>"

    return _TAG_RE.sub(tag, html)


class _Styles:
    def __init__(self, font: str):
        self.body = ParagraphStyle(
            "body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK", spaceAfter=4
        )
        self.cell = ParagraphStyle("cell", parent=self.body, fontSize=9, leading=12, spaceAfter=0)
        self.small = ParagraphStyle("small", parent=self.cell, fontSize=8, leading=10)
        self.title = ParagraphStyle(
            "title", parent=self.body, fontSize=16, leading=22, alignment=TA_CENTER, spaceAfter=8
        )
        self.headings = [
            ParagraphStyle(
                f"h{n}",
                parent=self.body,
                fontSize=size,
                leading=size + 6,
                spaceBefore=8,
                spaceAfter=4,
            )
            for n, size in enumerate((14, 12.5, 11.5, 11, 10.5, 10.5), start=1)
        ]
        # one style per list depth: each level sits 6 mm further in, its marker with it
        self.list_items = [
            ParagraphStyle(
                f"li{d}", parent=self.body, leftIndent=(8 + 6 * d) * mm, bulletIndent=6 * d * mm
            )
            for d in range(MAX_LIST_DEPTH)
        ]


def _table_flowable(b: dict, st: _Styles, width: float):
    grid = [list(b.get("header") or [])] + [list(r) for r in b.get("rows") or []]
    if not b.get("header"):
        grid = grid[1:]
    ncols = max((len(r) for r in grid), default=1) or 1
    data = [[Paragraph(inline(c), st.cell) for c in r] + [""] * (ncols - len(r)) for r in grid]
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    offset = 0 if b.get("header") else -1
    if b.get("header"):
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")))
    for row, col, rs, cs in table_merges(b):
        r0 = row + offset
        if r0 < 0:
            continue
        style.append(("SPAN", (col, r0), (col + max(1, cs) - 1, r0 + max(1, rs) - 1)))
    table = LongTable(
        data, colWidths=[width / ncols] * ncols, repeatRows=1 if b.get("header") else 0
    )
    table.setStyle(TableStyle(style))
    return table


def body_flowables(job: PrintJob, st: _Styles, width: float) -> list:
    out: list = []
    for b in job.blocks:
        kind = b.get("type")
        if kind == "heading":
            level = min(6, max(1, int(b.get("level", 1))))
            out.append(CondPageBreak(20 * mm))
            out.append(Paragraph(inline(b["text"]), st.headings[level - 1]))
        elif kind == "paragraph":
            out.append(Paragraph(inline(b["text"]), st.body))
        elif kind == "list":
            levels, _numbered = list_levels(b)
            for item, lvl, marker in zip(b["items"], levels, list_markers(b), strict=False):
                style = st.list_items[min(lvl, MAX_LIST_DEPTH - 1)]
                out.append(Paragraph(inline(item), style, bulletText=marker))
        elif kind == "table":
            out.append(_table_flowable(b, st, width))
            out.append(Spacer(1, 3 * mm))
        elif kind == "page_break":
            out.append(PageBreak())
        elif kind == "image" and job.image_loader is not None:
            try:
                data = job.image_loader(b["sha256"])
                img = Image(BytesIO(data))
                scale = min(1.0, width / img.imageWidth, (120 * mm) / img.imageHeight)
                img.drawWidth, img.drawHeight = img.imageWidth * scale, img.imageHeight * scale
                out.append(img)
            except Exception:  # an unreadable image must not stop the print; say so instead
                out.append(Paragraph(escape(f"[{b.get('name') or 'image'}]"), st.small))
    return out


def _signature_block(job: PrintJob, st: _Styles, width: float):
    head = ["", "姓名", "日期时间", "签署含义"]
    rows = [[Paragraph(h, st.cell) for h in head]]
    for label, name, when, meaning in job.signatures:
        rows.append(
            [
                Paragraph(escape(label), st.cell),
                Paragraph(escape(name), st.cell),
                Paragraph(escape(when), st.cell),
                Paragraph(escape(meaning), st.cell),
            ]
        )
    t = Table(rows, colWidths=[width * 0.15, width * 0.25, width * 0.3, width * 0.3])
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
            ]
        )
    )
    return t


def _record_table(job: PrintJob, st: _Styles, width: float):
    head = ["NO", "制/修订日期", "修订编号", "制/修订内容", "版本", "页次", "制订", "审核", "核准"]
    rows = [[Paragraph(h, st.small) for h in head]]
    for r in job.record:
        rows.append([Paragraph(escape(str(c)), st.small) for c in r])
    fractions = (0.05, 0.12, 0.12, 0.29, 0.07, 0.07, 0.1, 0.09, 0.09)
    t = LongTable(rows, colWidths=[width * f for f in fractions], repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return t


DEFAULT_PAGE_NUMBERS = "第 {page} 页 共 {pages} 页"


def page_numbers_format() -> str:
    """The page label of every PDF (setting DOCMGMT_PDF_PAGE_NUMBERS, checked at start-up)."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.config.get("PDF_PAGE_NUMBERS") or DEFAULT_PAGE_NUMBERS
    return DEFAULT_PAGE_NUMBERS


def numbered_canvas(page_format: str | None = None):
    """A canvasmaker for ``doc.build`` whose pages are labelled with ``page_format``."""
    fmt = page_format or page_numbers_format()

    def make(*args, **kwargs):
        return NumberedCanvas(*args, page_format=fmt, **kwargs)

    return make


class NumberedCanvas(Canvas):
    """Holds each page back until the end so every page can say "第 X 页 共 Y 页" (the
    setting DOCMGMT_PDF_PAGE_NUMBERS) in one pass.

    The page template records where page numbers go (``_number_slots``); ``save`` draws them
    once the total is known."""

    def __init__(self, *args, page_format: str = DEFAULT_PAGE_NUMBERS, **kwargs):
        super().__init__(*args, **kwargs)
        self._page_format = page_format
        self._saved_pages: list[dict] = []
        self._number_slots: list = []

    def showPage(self):  # noqa: N802 (ReportLab's name)
        self._saved_pages.append(dict(self.__dict__))
        self._startPage()
        self._number_slots = []

    def save(self):
        total = len(self._saved_pages)
        for number, state in enumerate(self._saved_pages, start=1):
            self.__dict__.update(state)
            for x, y, font, size, align in self._number_slots:
                self.setFont(font, size)
                text = self._page_format.format(page=number, pages=total)
                if align == "right":
                    self.drawRightString(x, y, text)
                else:
                    self.drawString(x, y, text)
            Canvas.showPage(self)
        Canvas.save(self)


def fit_text(canvas, text, font, x, y, width, height, size=12, smallest=6):
    """Draw ``text`` centred in the box (x, y, width, height), wrapped (between any two
    Chinese characters, between words in Latin text) at the largest size from ``size`` down
    to ``smallest`` at which it fits; at the smallest size what does not fit is cut with "…".
    Returns the size used."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from docmgmt.templating import text_lang

    text = text or ""
    # Chinese breaks between any two characters; Latin text only between words.
    wrap = None if text_lang(text) == "en" else "CJK"
    for pts in [s / 2 for s in range(int(size * 2), int(smallest * 2) - 1, -1)]:
        style = ParagraphStyle(
            "fit",
            fontName=font,
            fontSize=pts,
            leading=pts * 1.2,
            alignment=TA_CENTER,
            wordWrap=wrap,
        )
        para = Paragraph(escape(text), style)
        _w, h = para.wrap(width, height)
        # a Latin word wider than the box would stick out of it
        longest = (
            max((stringWidth(w, font, pts) for w in text.split()), default=0) if wrap is None else 0
        )
        if h <= height and longest <= width:
            para.drawOn(canvas, x, y + (height - h) / 2)
            return pts
    # Still too long at the smallest size: as many lines as fit, the last one cut.
    style = ParagraphStyle(
        "fit",
        fontName=font,
        fontSize=smallest,
        leading=smallest * 1.2,
        alignment=TA_CENTER,
        wordWrap="CJK",
    )
    lines = max(1, int(height // style.leading))
    cut = text
    while cut:
        para = Paragraph(escape(cut + "…"), style)
        _w, h = para.wrap(width, height)
        if h <= lines * style.leading:
            break
        cut = cut[: max(0, len(cut) - max(1, len(cut) // 20))]
    para.drawOn(canvas, x, y + (height - h) / 2)
    return smallest


class _Page:
    """Draws what is on every page: header block, footer, watermark or stamp."""

    def __init__(self, job: PrintJob, font: str):
        self.job, self.font = job, font

    def __call__(self, canvas, doc):
        job, font = self.job, self.font
        page_w, page_h = A4
        left, right = doc.leftMargin, page_w - doc.rightMargin
        top = page_h - 12 * mm
        canvas.saveState()
        # Header block: company | title | number / version / date / page.
        height = 20 * mm
        y = top - height
        canvas.setLineWidth(0.6)
        canvas.rect(left, y, right - left, height)
        col1, col3 = left + 45 * mm, right - 62 * mm
        canvas.line(col1, y, col1, top)
        canvas.line(col3, y, col3, top)
        pad = 1.5 * mm
        fit_text(
            canvas,
            job.company,
            font,
            left + pad,
            y + pad,
            col1 - left - 2 * pad,
            height - 2 * pad,
            size=10,
            smallest=6,
        )
        canvas.setFont(font, 8)
        canvas.drawString(col1 + 2 * mm, top - 5 * mm, "文件名称")
        # The title fills the cell under its label: wrapped, and smaller when it is long.
        fit_text(
            canvas,
            job.title,
            font,
            col1 + pad,
            y + pad,
            col3 - col1 - 2 * pad,
            height - 5.5 * mm - pad,
            size=12,
            smallest=6,
        )
        rows = [
            ("文件编号", job.number),
            ("生效版本", job.version),
            ("生效日期", job.effective_date or "—"),
            ("页数", ""),
        ]
        step = height / 4
        canvas.setFont(font, 8)
        for n, (label, value) in enumerate(rows):
            ry = top - (n + 1) * step
            if n:
                canvas.line(col3, ry + step, right, ry + step)
            canvas.drawString(col3 + 2 * mm, ry + 1.6 * mm, label)
            canvas.drawString(col3 + 20 * mm, ry + 1.6 * mm, value)
            if label == "页数":
                canvas._number_slots.append((col3 + 20 * mm, ry + 1.6 * mm, font, 8, "left"))
        # Status line under the header.
        canvas.setFont(font, 8)
        status_y = y - 4.5 * mm
        if job.mode == MODE_CONTROLLED:
            canvas.setFillColor(colors.HexColor("#B00020"))
            canvas.drawString(
                left,
                status_y,
                f"受控文件  副本号 {job.copy_label}  持有人 {job.holder}  部门 "
                f"{job.department or '—'}  发放日期 {job.issued_on}",
            )
        elif job.mode == MODE_UNCONTROLLED:
            canvas.drawString(
                left,
                status_y,
                f"非受控 · 仅供参考  打印人 {job.printed_by}  打印时间 {job.printed_at}",
            )
        else:
            canvas.setFillColor(colors.HexColor("#B00020"))
            canvas.drawString(
                left,
                status_y,
                f"作废 · 仅供参考  打印人 {job.printed_by}  打印时间 {job.printed_at}",
            )
        canvas.setFillColor(colors.black)
        # Footer.
        canvas.setFont(font, 7.5)
        canvas.drawString(left, 9 * mm, f"{job.company} · {job.number} {job.version}")
        canvas._number_slots.append((right, 9 * mm, font, 7.5, "right"))
        # Watermark or stamp, drawn last and translucent so the text stays readable.
        canvas.translate(page_w / 2, page_h / 2)
        canvas.rotate(35)
        if job.mode == MODE_CONTROLLED:
            canvas.setFillColor(colors.Color(0.75, 0, 0.1, alpha=0.16))
            canvas.setFont(font, 54)
            canvas.drawCentredString(0, 10 * mm, "受控文件")
            canvas.setFont(font, 26)
            canvas.drawCentredString(0, -14 * mm, f"No. {job.copy_label}")
        elif job.mode == MODE_UNCONTROLLED:
            canvas.setFillColor(colors.Color(0.3, 0.3, 0.3, alpha=0.12))
            canvas.setFont(font, 54)
            canvas.drawCentredString(0, 0, "非受控")
        else:
            canvas.setStrokeColor(colors.Color(0.75, 0, 0.1, alpha=0.55))
            canvas.setFillColor(colors.Color(0.75, 0, 0.1, alpha=0.55))
            canvas.setLineWidth(4)
            canvas.rect(-50 * mm, -18 * mm, 100 * mm, 36 * mm)
            canvas.setFont(font, 64)
            canvas.drawCentredString(0, -10 * mm, "作废")
        canvas.restoreState()


def _qr(url: str, size: float) -> Drawing:
    widget = QrCodeWidget(url)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _story(job: PrintJob, font: str, width: float) -> list:
    st = _Styles(font)
    story: list = [Paragraph(escape(job.title), st.title)]
    if job.mode == MODE_CONTROLLED and job.verify_url:
        info = Paragraph(
            escape(
                f"受控副本 {job.copy_label} · 持有人 {job.holder} · 部门 {job.department or '—'}"
                f" · 发放日期 {job.issued_on}。扫描二维码核对此副本是否现行有效、是否已回收。"
            ),
            st.small,
        )
        qr_table = Table(
            [[_qr(job.verify_url, 24 * mm), info]], colWidths=[28 * mm, width - 28 * mm]
        )
        qr_table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        story += [qr_table, Spacer(1, 3 * mm)]
    story += body_flowables(job, st, width)
    story.append(Spacer(1, 6 * mm))
    story.append(
        KeepTogether(
            [
                Paragraph("签署", st.headings[2]),
                _signature_block(job, st, width),
            ]
        )
    )
    story.append(Spacer(1, 4 * mm))
    story.append(Paragraph("文件制修订记录", st.headings[2]))
    story.append(_record_table(job, st, width))
    return story


def render(job: PrintJob) -> bytes:
    """The PDF of one print, in one pass: pages are numbered "X / Y" when the document ends."""
    font = cjk_font()
    out = BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=40 * mm,
        bottomMargin=18 * mm,
        title=f"{job.number} {job.version} {job.title}",
        author=job.company,
        subject={
            MODE_CONTROLLED: f"受控文件 {job.copy_label}",
            MODE_UNCONTROLLED: "非受控",
            MODE_OBSOLETE: "作废",
        }[job.mode],
    )
    page = _Page(job, font)
    doc.build(
        _story(job, font, doc.width),
        onFirstPage=page,
        onLaterPages=page,
        canvasmaker=numbered_canvas(),
    )
    return out.getvalue()
