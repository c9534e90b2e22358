"""The disposal certificate (记录销毁证明): what was disposed of, when, why, by whose approval."""

from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from docmgmt.clock import to_local
from docmgmt.printing.fonts import cjk_font

METHOD = {"destroy": "销毁", "archive": "移交档案", "review": "复审后处置"}


def certificate_pdf(disposal, company: str, now) -> bytes:
    font = cjk_font()
    cell = ParagraphStyle("c", fontName=font, fontSize=7.5, leading=9.5, wordWrap="CJK")
    h1 = ParagraphStyle("t", fontName=font, fontSize=16, leading=24, alignment=1)
    p = ParagraphStyle("p", fontName=font, fontSize=9.5, leading=14)
    when = to_local(now).strftime("%Y-%m-%d %H:%M")
    proposed = to_local(disposal.proposed_dt).strftime("%Y-%m-%d %H:%M")
    story = [
        Paragraph(escape(company), p),
        Paragraph("记录销毁证明", h1),
        Paragraph(escape(f"编号：{disposal.number}"), p),
        Paragraph(escape(f"处置理由：{disposal.reason}"), p),
        Paragraph(escape(f"提出人：{disposal.proposed_by.full_name}　提出时间：{proposed}"), p),
        Paragraph(
            escape(f"批准人：{disposal.approver.full_name}（电子签名）　批准并执行时间：{when}"), p
        ),
        Paragraph(escape(f"批准意见：{disposal.comment or '同意'}"), p),
        Spacer(1, 4 * mm),
    ]
    rows = [
        [
            "记录编号",
            "记录类型",
            "归档日期",
            "保存期满",
            "处置方式",
            "内容 SHA-256",
            "附件（SHA-256）",
        ]
    ]
    for it in disposal.items:
        rows.append(
            [
                it["number"],
                it.get("type_name", it.get("type", "")),
                (it.get("filed") or "")[:10],
                it.get("dispose_after") or "",
                METHOD.get(it.get("method", ""), it.get("method", "")),
                it.get("content_hash", ""),
                "; ".join(f"{a['filename']} {a['sha256']}" for a in it.get("attachments", [])),
            ]
        )
    t = LongTable(
        [[Paragraph(escape(str(v)), cell) for v in r] for r in rows],
        colWidths=[w * mm for w in (24, 22, 17, 17, 15, 40, 51)],
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
    story += [
        t,
        Spacer(1, 5 * mm),
        Paragraph(
            escape(
                f"共 {len(disposal.items)} 份记录。记录内容及附件已从系统中删除；"
                "编号、类型、日期和内容哈希保留为销毁凭证。"
            ),
            p,
        ),
    ]
    out = BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"记录销毁证明 {disposal.number}",
        author=company,
    ).build(story)
    return out.getvalue()
