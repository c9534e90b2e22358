"""The master list (文件清单) for printing and spreadsheets: one row per document."""

from io import BytesIO

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import select

from docmgmt.auth.permissions import can_read_history
from docmgmt.control import operations as ops
from docmgmt.extensions import db
from docmgmt.templating import type_label
from docmgmt.versioning import operations as vops
from docmgmt.versioning.models import Document, DocumentType


def master_list_rows(user) -> list[dict]:
    docs = db.session.scalars(
        select(Document).where(Document.is_obsolete.is_(False)).order_by(Document.number)
    ).all()
    in_force = vops.in_force_map([d.id for d in docs])
    rows = []
    for doc in docs:
        current = in_force.get(doc.id)
        external = doc.doc_type == DocumentType.EXTERNAL
        if current is None and not external and not can_read_history(user):
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
    ws.append(master_list_headers())
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
        cell.alignment = Alignment(vertical="center")
    for r in rows:
        ws.append(
            [
                r["number"],
                r["title"],
                r["type"],
                r["version"],
                r["effective_date"],
                r["owner"],
                r["next_review"],
            ]
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
