"""The master list (文件清单) for printing and spreadsheets: one row per document."""

from io import BytesIO

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import select

from docmgmt.auth.scope import scope_documents
from docmgmt.control import operations as ops
from docmgmt.extensions import db
from docmgmt.formtools import xlsx_append
from docmgmt.templating import type_label
from docmgmt.versioning import queries
from docmgmt.versioning.models import Document, DocumentType


def master_list_rows(user) -> list[dict]:
    docs = db.session.scalars(
        scope_documents(
            select(Document).where(Document.is_obsolete.is_(False)).order_by(Document.number), user
        )
    ).all()
    in_force = queries.in_force_map([d.id for d in docs])
    rows = []
    for doc in docs:
        current = in_force.get(doc.id)
        external = doc.doc_type == DocumentType.EXTERNAL
        if current is None and not external:
            # The master list is what is in force: a document still in its first draft has
            # nothing controlled to list yet (the register shows it with its draft).
            continue
        rows.append(
            {
                "number": doc.number,
                "title": current.title if current else doc.title,
                "type": type_label(doc.doc_type),
                "version": doc.external_edition
                if external
                else (current.version if current else ""),
                "effective_date": current.effective_date if current else None,
                "owner": doc.department.name if doc.department else "",
                "next_review": ops.review_due_date(doc),
            }
        )
    return rows


def master_list_headers() -> list[str]:
    return [
        _("Number"),
        _("Title"),
        _("Type"),
        _("Version in force"),
        _("Effective since"),
        _("Owning department"),
        _("Next review"),
    ]


def master_list_xlsx(rows: list[dict]) -> BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.title = _("Master list")
    xlsx_append(ws, master_list_headers())
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
        cell.alignment = Alignment(vertical="center")
    for r in rows:
        xlsx_append(
            ws,
            (
                r["number"],
                r["title"],
                r["type"],
                r["version"],
                r["effective_date"],
                r["owner"],
                r["next_review"],
            ),
        )
    for col, width in zip("ABCDEFG", (14, 40, 14, 16, 14, 16, 14), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2, min_col=5, max_col=7):
        for cell in row:
            if cell.value is not None and hasattr(cell.value, "year"):
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    out = BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def master_list_pdf(rows: list[dict], company: str, printed_by: str, printed_at: str) -> bytes:
    """The master list as a landscape A4 PDF in the embedded Chinese font, its pages labelled
    like every PDF (the setting DOCMGMT_PDF_PAGE_NUMBERS, 第 X 页 共 Y 页)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    from docmgmt.printing.fonts import cjk_font
    from docmgmt.printing.pdf import numbered_canvas

    font = cjk_font()
    cell = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")
    head = ParagraphStyle("head", parent=cell, fontSize=9)
    title = ParagraphStyle("title", fontName=font, fontSize=15, leading=20, alignment=1)
    page_w, page_h = landscape(A4)

    def _footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawString(15 * mm, 10 * mm, f"{company} · {printed_by} · {printed_at}")
        # "第 X 页 共 Y 页" (the setting, as on every PDF), drawn once the total is known
        canvas._number_slots.append((page_w - 15 * mm, 10 * mm, font, 8, "right"))
        canvas.restoreState()

    def _story():
        data = [[Paragraph(h, head) for h in master_list_headers()]]
        for r in rows:
            data.append(
                [
                    Paragraph(_esc(r["number"]), cell),
                    Paragraph(_esc(r["title"]), cell),
                    Paragraph(_esc(r["type"]), cell),
                    Paragraph(_esc(r["version"] or "—"), cell),
                    Paragraph(
                        r["effective_date"].isoformat() if r["effective_date"] else "—", cell
                    ),
                    Paragraph(_esc(r["owner"]), cell),
                    Paragraph(r["next_review"].isoformat() if r["next_review"] else "—", cell),
                ]
            )
        widths = [32 * mm, 88 * mm, 26 * mm, 36 * mm, 26 * mm, 34 * mm, 24 * mm]
        table = LongTable(data, colWidths=widths, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDE6F0")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        return [
            Paragraph(_esc(f"{company} {_('Master list')}"), title),
            Spacer(1, 4 * mm),
            table,
        ]

    out = BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=_("Master list"),
        author=company,
    )
    doc.build(_story(), onFirstPage=_footer, onLaterPages=_footer, canvasmaker=numbered_canvas())
    return out.getvalue()


def _esc(text) -> str:
    from xml.sax.saxutils import escape

    return escape(str(text or ""))
