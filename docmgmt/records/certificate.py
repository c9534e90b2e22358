"""The disposal certificate (记录销毁证明): what was disposed of, when, why, by whose approval."""

from datetime import datetime
from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from docmgmt.clock import as_utc, to_local
from docmgmt.printing.fonts import cjk_font
from docmgmt.printing.pdf import numbered_canvas

CHUNK = 150  # rows per table (about eight pages)
METHOD = {"destroy": "销毁", "archive": "移交档案", "review": "复审后处置"}


def _local_day(iso: str | None) -> str:
    """A tombstone's timestamp (ISO, UTC; older ones without an offset) as the company's date."""
    if not iso:
        return ""
    try:
        return to_local(as_utc(datetime.fromisoformat(iso))).date().isoformat()
    except ValueError:
        return iso[:10]


def _hash_lines(h: str) -> str:
    # 64 hex digits in two fixed halves: a hash is cut where the reader expects, never
    # wherever the column happens to end.
    return "\n".join(h[i : i + 32] for i in range(0, len(h), 32))


def certificate_pdf(disposal, company: str, now) -> bytes:
    font = cjk_font()
    size = 7.5
    cell = ParagraphStyle("c", fontName=font, fontSize=size, leading=9.5, wordWrap="CJK")
    # Numbers, dates and hashes are never broken inside: they are plain table strings (which
    # never wrap, and lay out far faster than paragraphs: a certificate may list thousands of
    # records) in columns as wide as their longest value.
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
        Paragraph(escape("日期为公司所在时区的日期。"), p),
        Spacer(1, 4 * mm),
    ]
    header = [
        "记录编号",
        "记录类型",
        "归档日期",
        "保存期满",
        "处置方式",
        "内容 SHA-256",
        "附件（SHA-256）",
    ]
    items = []
    for it in disposal.items:
        items.append(
            (
                it["number"],
                it.get("type_name", it.get("type", "")),
                _local_day(it.get("filed")),
                it.get("dispose_after") or "",
                METHOD.get(it.get("method", ""), it.get("method", "")),
                it.get("content_hash", ""),
                "; ".join(f"{a['filename']} {a['sha256']}" for a in it.get("attachments", [])),
            )
        )

    pad = 6  # LongTable's default cell padding, left and right

    def fit(col: int, *extra: str, cut: int = 0) -> float:
        texts = [*extra, *(str(row[col]) for row in items)]
        if cut:
            texts = [t[i : i + cut] for t in texts for i in range(0, len(t), cut)]
        return max(stringWidth(t, font, size) for t in texts) + 2 * pad + 1

    widths = [
        fit(0),
        22 * mm,
        fit(2, "0000-00-00"),
        fit(3, "0000-00-00"),
        15 * mm,
        fit(5, "0" * 32, cut=32),
    ]
    frame = A4[0] - 20 * mm - 12  # the page less its margins and the frame's padding
    widths.append(max(20 * mm, frame - sum(widths)))
    rows = [[Paragraph(escape(h), cell) for h in header]]
    for number, type_name, filed, until, method, content, attachments in items:
        rows.append(
            [
                number,
                Paragraph(escape(type_name), cell),
                filed,
                until,
                Paragraph(escape(method), cell),
                _hash_lines(content),
                Paragraph(escape(attachments), cell) if attachments else "",
            ]
        )
    style = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), size),
            ("LEADING", (0, 0), (-1, -1), 9.5),
        ]
    )
    # One long table costs ReportLab time quadratic in its rows (each page split measures the
    # rest again): thousands of records are set as consecutive tables of CHUNK rows, each
    # with the header, which repeats on every page as before.
    tables = []
    for i in range(1, len(rows), CHUNK):
        t = LongTable([rows[0], *rows[i : i + CHUNK]], colWidths=widths, repeatRows=1)
        t.setStyle(style)
        tables.append(t)
    if not tables:
        tables = [LongTable(rows, colWidths=widths, repeatRows=1)]
        tables[0].setStyle(style)
    story += [
        *tables,
        Spacer(1, 5 * mm),
        Paragraph(
            escape(
                f"共 {len(items)} 份记录。记录内容及附件已从系统中删除；"
                "编号、类型、日期和内容哈希保留为销毁凭证。"
            ),
            p,
        ),
    ]

    def footer(canvas, _doc):
        # A certificate runs to many pages: each names the certificate and "第 X 页 共 Y 页"
        # (the setting, as on every PDF), drawn once the total is known.
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.drawString(10 * mm, 6 * mm, f"{company} · 记录销毁证明 {disposal.number}")
        canvas._number_slots.append((A4[0] - 10 * mm, 6 * mm, font, 7, "right"))
        canvas.restoreState()

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
    ).build(story, onFirstPage=footer, onLaterPages=footer, canvasmaker=numbered_canvas())
    return out.getvalue()
