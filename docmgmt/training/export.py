"""A person's training record (人员培训档案) as a PDF for auditors and as an .xlsx workbook, in
the reader's language."""

from io import BytesIO
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from docmgmt.clock import to_local, utcnow
from docmgmt.printing.fonts import cjk_font, table_cell
from docmgmt.printing.pdf import numbered_canvas
from docmgmt.templating import (
    attendee_result_label,
    evaluation_result_label,
    session_kind_label,
    task_state_label,
)


def _via(value) -> str:
    return {
        "acknowledged": _("Read and acknowledged (electronic signature)"),
        "session": _("Training session and assessment"),
    }.get(value or "", value or "")


def _d(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "hour"):
        return to_local(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def rows(record: dict) -> dict[str, list[list[str]]]:
    """The three tables of the record, as text, shared by the PDF and the workbook."""
    tasks = [
        [
            _("Document number"),
            _("Document title"),
            _("Version"),
            _("Assigned"),
            _("Due"),
            _("State"),
            _("Completed"),
            _("How"),
        ]
    ]
    for t in record["tasks"]:
        tasks.append(
            [
                t.document.number,
                t.revision.title,
                t.revision.version,
                _d(t.assigned_dt)[:10],
                _d(t.due_date),
                task_state_label(t.state.value),
                _d(t.completed_dt),
                _via(t.completed_via),
            ]
        )
    sessions = [
        [
            _("Date"),
            _("Topic"),
            _("Kind"),
            _("Trainer"),
            _("Duration (minutes)"),
            _("Result"),
            _("Score"),
        ]
    ]
    for a in record["sessions"]:
        s = a.session
        sessions.append(
            [
                _d(s.held_on),
                s.topic,
                session_kind_label(s.kind.value),
                s.trainer_name,
                str(s.duration_minutes),
                attendee_result_label(a.result.value),
                "" if a.score is None else str(a.score),
            ]
        )
    evals = [[_("Evaluated on"), _("Evaluator"), _("Criteria"), _("Result"), _("Next evaluation")]]
    for e in record["evaluations"]:
        evals.append(
            [
                _d(e.evaluated_on),
                e.evaluator.full_name,
                e.criteria,
                evaluation_result_label(e.result.value),
                _d(e.next_due),
            ]
        )
    return {
        _("Read and understood"): tasks,
        _("Training sessions"): sessions,
        _("Competence evaluations"): evals,
    }


def record_pdf(record: dict, company: str, printed_by: str) -> bytes:
    font = cjk_font()
    cell = ParagraphStyle("c", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    h1 = ParagraphStyle("t", fontName=font, fontSize=15, leading=22, alignment=1)
    h2 = ParagraphStyle("h", fontName=font, fontSize=11, leading=16, spaceBefore=6)
    small = ParagraphStyle("s", fontName=font, fontSize=9, leading=13)
    user = record["user"]
    story = [
        Paragraph(escape(company), small),
        Paragraph(escape(_("Personnel training record")), h1),
        Paragraph(
            escape(
                _(
                    "Name: %(name)s · Department: %(dep)s · Job title: %(job)s · "
                    "User name: %(user)s",
                    name=user.full_name,
                    dep=user.department.name if user.department else "—",
                    job=user.job_title or "—",
                    user=user.username,
                )
                + ("" if user.is_active_flag else _(" (deactivated)"))
            ),
            small,
        ),
        Spacer(1, 4 * mm),
    ]
    widths = [
        [22, 42, 13, 20, 20, 20, 26, 24],
        [20, 60, 18, 22, 16, 14, 12],
        [20, 22, 80, 18, 22],
    ]
    for (title, table), width in zip(rows(record).items(), widths, strict=True):
        story.append(Paragraph(escape(title), h2))
        if len(table) == 1:
            story.append(Paragraph(escape(_("(none)")), small))
            continue
        t = LongTable(
            [[table_cell(v, cell) for v in r] for r in table],
            colWidths=[w * mm for w in width],
            repeatRows=1,
        )
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story.append(t)
    printed_at = to_local(utcnow()).strftime("%Y-%m-%d %H:%M")

    def footer(canvas, doc):
        canvas.setFont(font, 7.5)
        canvas.drawString(
            15 * mm, 8 * mm, _("Printed by %(who)s at %(when)s", who=printed_by, when=printed_at)
        )
        # "第 X 页 共 Y 页" (the setting, as on every PDF), drawn once the total is known
        canvas._number_slots.append((195 * mm, 8 * mm, font, 7.5, "right"))

    out = BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=15 * mm,
        title=f"{_('Personnel training record')} {user.full_name}",
        author=company,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer, canvasmaker=numbered_canvas())
    return out.getvalue()


def record_xlsx(record: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from docmgmt.formtools import xlsx_append

    wb = Workbook()
    wb.remove(wb.active)
    for title, table in rows(record).items():
        ws = wb.create_sheet(title)
        for r in table:
            xlsx_append(ws, r)
        for c in ws[1]:
            c.font = Font(bold=True)
        for col in ws.columns:
            ws.column_dimensions[col[0].column_letter].width = min(
                60, max(10, *(len(str(c.value or "")) * 2 for c in col))
            )
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
