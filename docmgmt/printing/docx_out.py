"""Revisions out as Word (.docx): control block in the header, body, record table, signatures.

The header holds the control block (文件名称, 文件编号, 生效版本, 生效日期 and 页数 "X / Y" as
live PAGE and NUMPAGES fields).  The body uses Word's built-in styles (Heading 1-6, List Bullet,
List Number, Table Grid), so an exported file imports back to the same blocks: the importer
stops at the paragraph styled "Revision Record" that starts the appendix.
"""

from __future__ import annotations

import re
from io import BytesIO

from docx import Document as new_docx
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from markdown_it import MarkdownIt

from docmgmt.printing.docx_in import APPENDIX_STYLE
from docmgmt.versioning.content import list_levels, table_merges

_md = MarkdownIt("commonmark", {"html": False}).disable(["image", "html_inline"])
_UNDERLINE_SPLIT = re.compile(r"(\+\+)")
EAST_ASIA_FONT = "宋体"
HEADING_FONT = "黑体"
# The header block: company | title | label | value, and the space it takes at the top.
HEADER_COLUMNS_MM = (38, 72, 22, 38)
HEADER_ROW_MM = 6
HEADER_DISTANCE_MM = 10
TOP_MARGIN_MM = 45  # header distance + 4 rows + the header's closing paragraph + a gap
# The revision record table (文件制修订记录): NO, date, change number, what changed, version,
# pages, prepared, reviewed, approved; 170 mm across.
RECORD_COLUMNS_MM = (9, 21, 20, 48, 12, 12, 16, 16, 16)
SIGNATURE_COLUMNS_MM = (20, 40, 45, 65)


def _set_east_asia(style_or_run, name=EAST_ASIA_FONT):
    """Chinese text in ``name``: the explicit East-Asian font, with the theme's East-Asian
    font removed (a theme font overrides an explicit one in Word)."""
    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)
    for theme in ("w:eastAsiaTheme",):
        if fonts.get(qn(theme)) is not None:
            del fonts.attrib[qn(theme)]


def _chinese_styles(doc) -> None:
    """Word's template is Western: blue headings in a theme font, a Title with a rule under
    it. A Chinese controlled document wants black headings in 黑体, body text in 宋体, a plain
    centred title."""
    from docx.shared import RGBColor

    for name in (
        ["Normal", "Title"]
        + [f"Heading {n}" for n in range(1, 7)]
        + [
            "List Bullet",
            "List Bullet 2",
            "List Bullet 3",
            "List Number",
            "List Number 2",
            "List Number 3",
        ]
    ):
        try:
            style = doc.styles[name]
        except KeyError:
            continue
        heading = name == "Title" or name.startswith("Heading")
        _set_east_asia(style, HEADING_FONT if heading else EAST_ASIA_FONT)
        if heading:
            style.font.color.rgb = RGBColor(0, 0, 0)
            style.font.italic = False
    title = doc.styles["Title"]
    ppr = title.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)
    title.font.size = Pt(16)
    title.font.bold = True
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(12)
    # the Title's character spacing (condensed) and the headings' sizes suit Latin text
    rpr = title.element.get_or_add_rPr()
    for spacing in rpr.findall(qn("w:spacing")):
        rpr.remove(spacing)
    for n, size in enumerate((14, 12.5, 12, 11, 10.5, 10.5), start=1):
        doc.styles[f"Heading {n}"].font.size = Pt(size)


def _widths(table, widths_mm) -> None:
    """Fixed column widths (Word and LibreOffice honour the cells' widths, not the grid's)."""
    table.autofit = False
    for row in table.rows:
        for cell, w in zip(row.cells, widths_mm, strict=False):
            cell.width = Mm(w)
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths_mm, strict=False):
        col.set(qn("w:w"), str(Mm(w).twips))


def _field(paragraph, instr: str, placeholder: str = "1"):
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instr)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = placeholder
    run.append(text)
    fld.append(run)
    paragraph._p.append(fld)


def add_inline(paragraph, text: str) -> None:
    """Inline Markdown (bold, italic, ++underline++) as formatted runs."""
    bold = italic = underline = False
    tokens = _md.parseInline(text or "")
    children = tokens[0].children if tokens else []
    for tok in children or []:
        if tok.type == "strong_open":
            bold = True
        elif tok.type == "strong_close":
            bold = False
        elif tok.type == "em_open":
            italic = True
        elif tok.type == "em_close":
            italic = False
        elif tok.type in ("text", "code_inline"):
            for piece in _UNDERLINE_SPLIT.split(tok.content):
                if piece == "++":
                    underline = not underline
                    continue
                if piece:
                    run = paragraph.add_run(piece)
                    run.bold, run.italic, run.underline = (
                        bold or None,
                        italic or None,
                        underline or None,
                    )
        elif tok.type in ("softbreak", "hardbreak"):
            paragraph.add_run(" ")


def _table(doc, block: dict):
    rows = ([block["header"]] if block.get("header") else []) + list(block.get("rows") or [])
    ncols = max((len(r) for r in rows), default=1) or 1
    table = doc.add_table(rows=len(rows), cols=ncols)
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c in range(ncols):
            cell = table.cell(r, c)
            cell.paragraphs[0].text = ""
            if c < len(row):
                add_inline(cell.paragraphs[0], row[c])
    offset = 0 if block.get("header") else -1
    for row, col, rs, cs in table_merges(block):
        r0 = row + offset
        if r0 < 0 or r0 + rs - 1 >= len(rows) or col + cs - 1 >= ncols:
            continue
        anchor = table.cell(r0, col)
        keep = [p for p in anchor.paragraphs]
        merged = anchor.merge(table.cell(r0 + rs - 1, col + cs - 1))
        # Merging concatenates the cells' paragraphs; keep only the anchor's text.
        for p in merged.paragraphs:
            if p not in keep and p._p.getparent() is not None:
                p._p.getparent().remove(p._p)
    return table


def _keep_rows_with_next(table) -> None:
    """The rows of a short table stay on one page (each row's paragraphs keep with the next,
    but the last), and the header row repeats if it still breaks."""
    rows = table.rows
    for r, row in enumerate(rows):
        if r < len(rows) - 1:
            for cell in row.cells:
                for p in cell.paragraphs:
                    p.paragraph_format.keep_with_next = True
    if len(rows):
        trpr = rows[0]._tr.get_or_add_trPr()
        trpr.append(OxmlElement("w:tblHeader"))


def _header(doc, company: str, number: str, title: str, version: str, effective: str):
    section = doc.sections[0]
    header = section.header
    header.is_linked_to_previous = False
    table = header.add_table(rows=4, cols=4, width=section.page_width - Mm(40))
    table.style = "Table Grid"
    _widths(table, HEADER_COLUMNS_MM)
    for row in table.rows:
        row.height = Mm(HEADER_ROW_MM)
        row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    company_cell = table.cell(0, 0).merge(table.cell(3, 0))
    company_cell.paragraphs[0].text = company
    title_cell = table.cell(0, 1).merge(table.cell(3, 1))
    title_cell.paragraphs[0].text = f"文件名称：{title}"
    labels = [("文件编号", number), ("生效版本", version), ("生效日期", effective or "—")]
    for r, (label, value) in enumerate(labels):
        table.cell(r, 2).paragraphs[0].text = label
        table.cell(r, 3).paragraphs[0].text = value
    table.cell(3, 2).paragraphs[0].text = "页数"
    pages = table.cell(3, 3).paragraphs[0]
    pages.text = ""
    # the page label of the prints (DOCMGMT_PDF_PAGE_NUMBERS), with live fields
    from docmgmt.printing.pdf import page_numbers_format

    for piece in re.split(r"(\{page\}|\{pages\})", page_numbers_format()):
        if piece == "{page}":
            _field(pages, "PAGE")
        elif piece == "{pages}":
            _field(pages, "NUMPAGES")
        elif piece:
            pages.add_run(piece.replace("{{", "{").replace("}}", "}"))
    # The header's default empty paragraph stays; it only adds a line of space.


# Characters XML 1.0 cannot hold (control characters, unpaired surrogates, U+FFFE/U+FFFF):
# python-docx refuses them, so a title or body that holds one would make the export fail.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value):
    """The value with every string in it stripped of characters Word files cannot hold."""
    if isinstance(value, str):
        return _NOT_XML.sub("", value)
    if isinstance(value, list | tuple):
        return [xml_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: xml_safe(v) for k, v in value.items()}
    return value


def export_revision(rev, *, company: str, signatures: list, record: list, image_loader) -> bytes:
    number, title_text, version = xml_safe([rev.document.number, rev.title, rev.version])
    blocks = xml_safe(rev.body_blocks or [])
    company = xml_safe(company)
    signatures = xml_safe([[str(v) for v in row] for row in signatures])
    record = xml_safe([[str(v) for v in row] for row in record])
    doc = new_docx()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Mm(20))
    # The header block is about 4 rows high: the body starts below it, not under it.
    section.header_distance = Mm(HEADER_DISTANCE_MM)
    section.top_margin = Mm(TOP_MARGIN_MM)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    _chinese_styles(doc)
    if APPENDIX_STYLE not in [s.name for s in doc.styles]:
        appendix = doc.styles.add_style(APPENDIX_STYLE, WD_STYLE_TYPE.PARAGRAPH)
        appendix.base_style = doc.styles["Normal"]
        appendix.font.bold = True
        appendix.font.size = Pt(12)
    _header(
        doc,
        company,
        number,
        title_text,
        version,
        rev.effective_date.isoformat() if rev.effective_date else "",
    )
    title = doc.add_paragraph(title_text, style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for b in blocks:
        kind = b.get("type")
        if kind == "heading":
            level = min(6, max(1, int(b.get("level", 1))))
            add_inline(doc.add_paragraph(style=f"Heading {level}"), b["text"])
        elif kind == "paragraph":
            add_inline(doc.add_paragraph(), b["text"])
        elif kind == "list":
            # Word's built-in list styles go three levels deep ("List Number 2", "… 3")
            levels, numbered = list_levels(b)
            for item, lvl, num in zip(b["items"], levels, numbered, strict=False):
                style = ("List Number" if num else "List Bullet") + (
                    f" {min(lvl, 2) + 1}" if lvl else ""
                )
                add_inline(doc.add_paragraph(style=style), item)
        elif kind == "table":
            _table(doc, b)
        elif kind == "page_break":
            doc.add_page_break()
        elif kind == "image":
            try:
                doc.add_picture(BytesIO(image_loader(b["sha256"])), width=Mm(120))
            except Exception:  # a missing or unreadable image is named, not fatal
                doc.add_paragraph(f"[{b.get('name') or 'image'}]")
    caption = doc.add_paragraph("文件制修订记录", style=APPENDIX_STYLE)
    caption.paragraph_format.keep_with_next = True  # the caption never ends a page alone
    head = ["NO", "制/修订日期", "修订编号", "制/修订内容", "版本", "页次", "制订", "审核", "核准"]
    table = doc.add_table(rows=1 + len(record), cols=len(head))
    table.style = "Table Grid"
    _widths(table, RECORD_COLUMNS_MM)
    _keep_rows_with_next(table)
    for c, h in enumerate(head):
        table.cell(0, c).paragraphs[0].text = h
    for r, row in enumerate(record, start=1):
        for c, value in enumerate(row):
            table.cell(r, c).paragraphs[0].text = str(value)
    caption = doc.add_paragraph("签署", style=APPENDIX_STYLE)
    caption.paragraph_format.keep_with_next = True
    sig = doc.add_table(rows=1 + len(signatures), cols=4)
    sig.style = "Table Grid"
    _widths(sig, SIGNATURE_COLUMNS_MM)
    _keep_rows_with_next(sig)
    for c, h in enumerate(["", "姓名", "日期时间", "签署含义"]):
        sig.cell(0, c).paragraphs[0].text = h
    for r, row in enumerate(signatures, start=1):
        for c, value in enumerate(row):
            sig.cell(r, c).paragraphs[0].text = str(value)
    doc.core_properties.title = f"{number} {version} {title_text}"
    doc.core_properties.author = company
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
