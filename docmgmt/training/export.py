"""A person's training record (人员培训档案) as a PDF for auditors and as an .xlsx workbook."""

from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from docmgmt.clock import to_local, utcnow
from docmgmt.printing.fonts import cjk_font

TASK_STATE = {
    "open": "待完成",
    "done": "已完成",
    "replaced": "已被新版本取代",
    "cancelled": "已取消",
}
VIA = {"acknowledged": "阅读确认（电子签名）", "session": "培训考核", "": ""}
KIND = {"classroom": "课堂培训", "on_the_job": "在岗培训"}
RESULT = {"passed": "合格", "failed": "不合格", "attended": "参加"}
EVAL = {"competent": "胜任", "needs_training": "需培训", "not_competent": "不胜任"}


def _d(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "hour"):
        return to_local(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def rows(record: dict) -> dict[str, list[list[str]]]:
    """The three tables of the record, as text, shared by the PDF and the workbook."""
    tasks = [
        ["文件编号", "文件名称", "版本", "下达日期", "应完成日期", "状态", "完成时间", "完成方式"]
    ]
    for t in record["tasks"]:
        tasks.append(
            [
                t.document.number,
                t.revision.title,
                t.revision.version,
                _d(t.assigned_dt)[:10],
                _d(t.due_date),
                TASK_STATE.get(t.state.value, t.state.value),
                _d(t.completed_dt),
                VIA.get(t.completed_via, t.completed_via),
            ]
        )
    sessions = [["日期", "培训内容", "形式", "培训师", "时长(分钟)", "结果", "成绩"]]
    for a in record["sessions"]:
        s = a.session
        sessions.append(
            [
                _d(s.held_on),
                s.topic,
                KIND.get(s.kind.value, s.kind.value),
                s.trainer_name,
                str(s.duration_minutes),
                RESULT.get(a.result.value, a.result.value),
                "" if a.score is None else str(a.score),
            ]
        )
    evals = [["评价日期", "评价人", "评价准则", "结论", "下次评价"]]
    for e in record["evaluations"]:
        evals.append(
            [
                _d(e.evaluated_on),
                e.evaluator.full_name,
                e.criteria,
                EVAL.get(e.result.value, e.result.value),
                _d(e.next_due),
            ]
        )
    return {"阅读确认": tasks, "培训记录": sessions, "能力评价": evals}


def record_pdf(record: dict, company: str, printed_by: str) -> bytes:
    font = cjk_font()
    cell = ParagraphStyle("c", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    h1 = ParagraphStyle("t", fontName=font, fontSize=15, leading=22, alignment=1)
    h2 = ParagraphStyle("h", fontName=font, fontSize=11, leading=16, spaceBefore=6)
    small = ParagraphStyle("s", fontName=font, fontSize=9, leading=13)
    user = record["user"]
    story = [
        Paragraph(escape(company), small),
        Paragraph("人员培训档案", h1),
        Paragraph(
            escape(
                f"姓名：{user.full_name}　部门：{user.department.name if user.department else '—'}"
                f"　岗位：{user.job_title or '—'}　用户名：{user.username}"
                + ("" if user.is_active_flag else "　（已停用）")
            ),
            small,
        ),
        Spacer(1, 4 * mm),
    ]
    widths = {
        "阅读确认": [22, 44, 11, 20, 20, 20, 26, 24],
        "培训记录": [20, 60, 18, 22, 16, 14, 12],
        "能力评价": [20, 22, 80, 18, 22],
    }
    for title, table in rows(record).items():
        story.append(Paragraph(title, h2))
        if len(table) == 1:
            story.append(Paragraph("（无）", small))
            continue
        t = LongTable(
            [[Paragraph(escape(v), cell) for v in r] for r in table],
            colWidths=[w * mm for w in widths[title]],
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
        canvas.drawString(15 * mm, 8 * mm, f"{printed_by} 打印于 {printed_at}")
        canvas.drawRightString(195 * mm, 8 * mm, f"第 {doc.page} 页")

    out = BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=15 * mm,
        title=f"人员培训档案 {user.full_name}",
        author=company,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
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
