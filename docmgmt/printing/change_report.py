"""The change report (文件变更报告): two revisions compared, as a PDF for the record.

It lists every change the comparison page numbers (:mod:`docmgmt.versioning.compare`), with
where it is, what kind of change it is and the old and new text, what went struck through in
red and what came underlined in green. Like every print of a controlled document its labels
are Chinese and it is set in the embedded CJK font; its pages are numbered like the prints
(DOCMGMT_PDF_PAGE_NUMBERS). Every text is escaped: a revision's text is user input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from docmgmt.printing.fonts import cjk_font
from docmgmt.printing.pdf import fit_text, numbered_canvas

KINDS = {"changed": "修改", "added": "新增", "removed": "删除", "moved": "移动"}
WHAT = {
    "heading": "标题",
    "paragraph": "段落",
    "list item": "列表项",
    "table": "表格",
    "table row": "表格行",
    "page break": "分页",
    "image": "图片",
}
DEL_COLOR, INS_COLOR = "#B00020", "#1A7F37"


def COMPARE_REFUSED() -> str:  # noqa: N802 (one message for page, report and API)
    from flask_babel import gettext as _

    return _(
        "Only quality managers, auditors and the reviewer and approver of a revision can "
        "compare revisions."
    )


@dataclass
class ReportJob:
    company: str
    number: str
    title: str
    old: tuple  # (version, state, effective date)
    new: tuple
    meta: list  # [(label, old text, new text), ...]
    changes: list  # docmgmt.versioning.compare.Change
    made_by: str = ""
    made_at: str = ""
    extra: dict = field(default_factory=dict)


def markup(segs, wrap_empty="—") -> str:
    """ReportLab paragraph markup of diff segments: removed struck through in red, added
    underlined in green, the rest plain; all of it escaped."""
    parts = []
    for op, text in segs:
        t = escape(text).replace("\n", "<br/>")
        if op == "-":
            parts.append(f'<font color="{DEL_COLOR}"><strike>{t}</strike></font>')
        elif op == "+":
            parts.append(f'<font color="{INS_COLOR}"><u>{t}</u></font>')
        else:
            parts.append(t)
    return "".join(parts) or wrap_empty


def _segments(old: str, new: str):
    from docmgmt.versioning.compare import segments

    return segments(old, new)


def render(job: ReportJob) -> bytes:
    font = cjk_font()
    body = ParagraphStyle("b", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
    cell = ParagraphStyle("c", parent=body, fontSize=8.5, leading=12)
    head = ParagraphStyle("h", parent=body, fontSize=11, leading=16, spaceBefore=6, spaceAfter=4)
    title = ParagraphStyle("t", parent=body, fontSize=16, leading=22, alignment=TA_CENTER)
    out = BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=30 * mm,
        bottomMargin=16 * mm,
        title=f"{job.number} {job.old[0]} → {job.new[0]} 文件变更报告",
        author=job.company,
        subject="文件变更报告",
    )
    width = doc.width
    counts = {k: 0 for k in KINDS}
    for c in job.changes:
        counts[c.kind] = counts.get(c.kind, 0) + 1
    story: list = [Paragraph("文件变更报告", title), Spacer(1, 3 * mm)]
    info = [
        ["文件编号", job.number, "文件名称", job.title],
        [
            "原版本",
            " · ".join(x for x in job.old if x),
            "新版本",
            " · ".join(x for x in job.new if x),
        ],
        ["生成人", job.made_by, "生成时间", job.made_at],
        [
            "变更数",
            f"{len(job.changes)}（" + "，".join(f"{KINDS[k]} {counts[k]}" for k in KINDS) + "）",
            "",
            "",
        ],
    ]
    t = Table(
        [[Paragraph(escape(str(v)), cell) for v in row] for row in info],
        colWidths=[width * 0.12, width * 0.38, width * 0.12, width * 0.38],
    )
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#EEEEEE")),
                ("BACKGROUND", (2, 0), (2, 2), colors.HexColor("#EEEEEE")),
                ("SPAN", (1, 3), (3, 3)),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story += [t, Spacer(1, 3 * mm)]
    story.append(
        Paragraph(
            f'说明：<font color="{DEL_COLOR}"><strike>红色删除线</strike></font> 为删除的内容，'
            f'<font color="{INS_COLOR}"><u>绿色下划线</u></font> 为新增的内容；'
            "序号与比较页面上的变更编号一致。",
            cell,
        )
    )
    changed_meta = [(label, x, y) for label, x, y in job.meta if (x or "") != (y or "")]
    if changed_meta:
        story.append(Paragraph("文件信息的变更", head))
        rows = [[Paragraph(h, cell) for h in ("项目", "原内容", "新内容")]]
        for label, x, y in changed_meta:
            segs = _segments(x or "", y or "")
            rows.append(
                [
                    Paragraph(escape(label), cell),
                    Paragraph(markup([s for s in segs if s[0] != "+"]), cell),
                    Paragraph(markup([s for s in segs if s[0] != "-"]), cell),
                ]
            )
        mt = Table(rows, colWidths=[width * 0.16, width * 0.42, width * 0.42], repeatRows=1)
        mt.setStyle(_grid_style())
        story.append(mt)
    story.append(Paragraph("正文的变更", head))
    if not job.changes:
        story.append(Paragraph("两个版本的正文相同。", body))
    else:
        rows = [[Paragraph(h, cell) for h in ("序号", "位置", "类型", "原内容", "新内容")]]
        for c in job.changes:
            where = escape(c.where or "—")
            kind = f"{KINDS.get(c.kind, c.kind)}<br/>{WHAT.get(c.what, c.what)}"
            if c.formatting:
                kind += "<br/>（仅格式）"
            rows.append(
                [
                    Paragraph(str(c.number), cell),
                    Paragraph(where, cell),
                    Paragraph(kind, cell),
                    Paragraph(markup(c.old), cell),
                    Paragraph(markup(c.new), cell),
                ]
            )
        ct = LongTable(
            rows,
            colWidths=[width * f for f in (0.07, 0.17, 0.1, 0.33, 0.33)],
            repeatRows=1,
        )
        ct.setStyle(_grid_style())
        story.append(ct)

    def page(canvas, doc_):
        page_w, page_h = A4
        left, right = doc_.leftMargin, page_w - doc_.rightMargin
        top = page_h - 10 * mm
        canvas.saveState()
        canvas.setLineWidth(0.6)
        height = 12 * mm
        canvas.rect(left, top - height, right - left, height)
        col1, col2 = left + 45 * mm, right - 50 * mm
        canvas.line(col1, top - height, col1, top)
        canvas.line(col2, top - height, col2, top)
        pad = 1.2 * mm
        fit_text(
            canvas,
            job.company,
            font,
            left + pad,
            top - height + pad,
            col1 - left - 2 * pad,
            height - 2 * pad,
            size=9,
            smallest=6,
        )
        fit_text(
            canvas,
            f"{job.number} {job.title}",
            font,
            col1 + pad,
            top - height + pad,
            col2 - col1 - 2 * pad,
            height - 2 * pad,
            size=10,
            smallest=6,
        )
        canvas.setFont(font, 8)
        canvas.drawString(col2 + 2 * mm, top - 5 * mm, f"文件变更报告 {job.old[0]} → {job.new[0]}")
        canvas._number_slots.append((col2 + 2 * mm, top - 10 * mm, font, 8, "left"))
        canvas.setFont(font, 7.5)
        canvas.drawString(left, 9 * mm, f"{job.company} · {job.number} · 文件变更报告")
        canvas._number_slots.append((right, 9 * mm, font, 7.5, "right"))
        canvas.restoreState()

    doc.build(story, onFirstPage=page, onLaterPages=page, canvasmaker=numbered_canvas())
    return out.getvalue()


def _grid_style():
    return TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )


def report_for(user, a, b) -> bytes:
    """The PDF change report of ``a`` → ``b`` for ``user``, who must be allowed to compare
    them (:func:`docmgmt.auth.permissions.can_compare`, the rule of the page and the API).
    Logs ``revision.print_change_report``; the caller commits."""
    from flask import current_app

    from docmgmt.auth.permissions import can_compare, require

    require(can_compare(user, a, b), COMPARE_REFUSED())

    from docmgmt.audit.operations import log_event
    from docmgmt.clock import to_local, utcnow
    from docmgmt.versioning import compare as cmp

    result = cmp.compare(a.body_blocks or [], b.body_blocks or [])
    now = utcnow()
    local = to_local(now)
    data = render(
        ReportJob(
            company=current_app.config["COMPANY_NAME"],
            number=a.document.number,
            title=b.title,
            old=_side(a),
            new=_side(b),
            meta=[
                (label, x, y)
                for label, x, y in (
                    ("文件名称", a.title, b.title),
                    ("制/修订内容", a.change_summary or "", b.change_summary or ""),
                    ("修订编号", a.change_reference, b.change_reference),
                )
            ],
            changes=result.changes,
            made_by=getattr(user, "full_name", ""),
            made_at=local.strftime("%Y-%m-%d %H:%M") if local else "",
        )
    )
    # A report that leaves the system is logged like a print (the caller commits)
    log_event(
        user,
        "revision.print_change_report",
        b,
        summary=f"{b.document.number} {a.version} → {b.version}",
        after={"base": a.version, "version": b.version},
        now=now,
    )
    return data


def _side(rev) -> tuple[str, str, str]:
    """Version, state (in the document language, like every print) and effective date."""
    from flask import current_app
    from flask_babel import force_locale

    from docmgmt.versioning.lifecycle import state_label

    with force_locale(current_app.config["DOCUMENT_LOCALE"]):
        state = state_label(rev.state)
    return rev.version, state, rev.effective_date.isoformat() if rev.effective_date else ""
