"""The distribution and recall register (文件发放回收记录) as a PDF."""

from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from docmgmt.clock import to_local, utcnow
from docmgmt.printing.fonts import cjk_font

STATE = {"issued": "在用", "recalled": "已回收", "lost": "遗失"}
MEDIUM = {"paper": "纸质", "electronic": "电子"}


def _d(dt) -> str:
    local = to_local(dt)
    return local.strftime("%Y-%m-%d") if local else ""


def register_pdf(copies, company: str, printed_by: str) -> bytes:
    font = cjk_font()
    cell = ParagraphStyle("c", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    title = ParagraphStyle("t", fontName=font, fontSize=14, leading=20, alignment=1)
    head = [
        "文件编号",
        "文件名称",
        "版本",
        "副本号",
        "持有人",
        "部门",
        "介质",
        "发放日期",
        "发放人",
        "状态",
        "回收/遗失日期",
        "经办人",
        "说明",
    ]
    rows = [[Paragraph(h, cell) for h in head]]
    for c in copies:
        rev = c.revision
        values = [
            rev.document.number,
            rev.title,
            rev.version,
            f"{c.copy_no:03d}",
            c.holder_name,
            c.department.name if c.department else "",
            MEDIUM.get(c.medium.value, c.medium.value),
            _d(c.issued_dt),
            c.issued_by.full_name,
            STATE.get(c.state.value, c.state.value)
            + (
                "（待回收）"
                if c.state.value == "issued" and rev.state.value in ("superseded", "obsolete")
                else ""
            ),
            _d(c.closed_dt),
            c.closed_by.full_name if c.closed_by else "",
            c.note,
        ]
        rows.append([Paragraph(escape(str(v)), cell) for v in values])
    widths = [22, 46, 11, 12, 18, 20, 11, 19, 16, 22, 21, 16, 33]
    printed_at = to_local(utcnow()).strftime("%Y-%m-%d %H:%M")
    total = None
    data = b""
    for _pass in range(2):
        out = BytesIO()
        doc = SimpleDocTemplate(
            out,
            pagesize=landscape(A4),
            leftMargin=10 * mm,
            rightMargin=10 * mm,
            topMargin=12 * mm,
            bottomMargin=15 * mm,
            title="文件发放回收记录",
            author=company,
        )

        def footer(canvas, d, total=total):
            canvas.saveState()
            canvas.setFont(font, 7.5)
            canvas.drawString(10 * mm, 8 * mm, f"{company} · {printed_by} · {printed_at}")
            canvas.drawRightString(landscape(A4)[0] - 10 * mm, 8 * mm, f"{d.page} / {total or '?'}")
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
        story = [Paragraph(escape(f"{company} 文件发放回收记录"), title), Spacer(1, 3 * mm), table]
        doc.build(story, onFirstPage=footer, onLaterPages=footer)
        data = out.getvalue()
        if total == doc.page:
            break
        total = doc.page
    return data
