"""The distribution and recall register (文件发放回收记录) as a PDF, in the reader's language."""

from io import BytesIO
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from docmgmt.clock import to_local, utcnow
from docmgmt.printing.fonts import cjk_font, table_cell
from docmgmt.printing.pdf import numbered_canvas
from docmgmt.templating import copy_state_label, medium_label


def _d(dt) -> str:
    local = to_local(dt)
    return local.strftime("%Y-%m-%d") if local else ""


def register_pdf(copies, company: str, printed_by: str) -> bytes:
    font = cjk_font()
    cell = ParagraphStyle("c", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    title = ParagraphStyle("t", fontName=font, fontSize=14, leading=20, alignment=1)
    head = [
        _("Document number"),
        _("Document title"),
        _("Version"),
        _("Copy number"),
        _("Holder"),
        _("Department"),
        _("Medium"),
        _("Issued on"),
        _("Issued by"),
        _("Status"),
        _("Returned or lost on"),
        _("Handled by"),
        _("Note"),
    ]
    rows = [[table_cell(h, cell) for h in head]]
    name = _("Distribution and recall register")
    for c in copies:
        rev = c.revision
        values = [
            rev.document.number,
            rev.title,
            rev.version,
            f"{c.copy_no:03d}",
            c.holder_name,
            c.department.name if c.department else "",
            medium_label(c.medium.value),
            _d(c.issued_dt),
            c.issued_by.full_name,
            copy_state_label(c.state.value)
            + (
                _(" (due for recall)")
                if c.state.value == "issued" and rev.state.value in ("superseded", "obsolete")
                else ""
            ),
            _d(c.closed_dt),
            c.closed_by.full_name if c.closed_by else "",
            c.note,
        ]
        rows.append([table_cell(v, cell) for v in values])
    widths = [22, 38, 13, 15, 18, 20, 15, 21, 16, 22, 21, 16, 30]
    printed_at = to_local(utcnow()).strftime("%Y-%m-%d %H:%M")
    out = BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=12 * mm,
        bottomMargin=15 * mm,
        title=name,
        author=company,
    )

    def footer(canvas, _doc):
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.drawString(10 * mm, 8 * mm, f"{company} · {printed_by} · {printed_at}")
        # "第 X 页 共 Y 页" (the setting, as on every PDF), drawn once the total is known
        canvas._number_slots.append((landscape(A4)[0] - 10 * mm, 8 * mm, font, 7.5, "right"))
        canvas.restoreState()

    table = LongTable(rows, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDE6F0")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story = [Paragraph(escape(f"{company} {name}"), title), Spacer(1, 3 * mm), table]
    doc.build(story, onFirstPage=footer, onLaterPages=footer, canvasmaker=numbered_canvas())
    return out.getvalue()
