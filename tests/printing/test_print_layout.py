"""Prints that look printed: a long title stays inside the 文件名称 cell of every page, pages
are numbered 第 X 页 共 Y 页 (a setting), the signature block is Chinese only, and the Word
export has Chinese styles, sized record table columns and its body below the header."""

from io import BytesIO

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Mm
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from docmgmt.config import ConfigurationError, check_page_numbers

TITLE_30 = "报修送修和上门维修服务控制程序及客户满意度调查与投诉处理规定"
assert len(TITLE_30) == 30

# The header block of every page (docmgmt/printing/pdf.py): 18 mm margins, the company cell
# 45 mm wide, the number/version/date/page cells 62 mm, 20 mm high from 12 mm below the top.
LEFT, RIGHT = 18 * mm, A4[0] - 18 * mm
TITLE_X0, TITLE_X1 = LEFT + 45 * mm, RIGHT - 62 * mm
TOP = A4[1] - 12 * mm
BOTTOM = TOP - 20 * mm


def _chunks(page):
    """Every piece of text on the page with its position and size (pypdf's visitor)."""
    out = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            out.append((text.strip(), x, y, size * tm[0] * cm[0]))

    page.extract_text(visitor_text=visit)
    return out


def _title_lines(page):
    return [
        c
        for c in _chunks(page)
        if TITLE_X0 - 1 < c[1] < TITLE_X1 and BOTTOM < c[2] < TOP and c[0] != "文件名称"
    ]


def _print(client, auth, effective_doc, title):
    doc, a0 = effective_doc(title=title)
    auth.login("qm")
    r = client.get(f"/revisions/{a0.id}/print.pdf")
    assert r.status_code == 200
    reader = PdfReader(BytesIO(r.data))
    reader.revision_id = a0.id
    return reader


@pytest.mark.parametrize(
    "title",
    [
        TITLE_30,
        (TITLE_30 * 7)[:200],
        "Repair and on-site service " * 4 + "procedure",
        "<b>报修&amp;</b> 程序 <font size=40>",  # markup is text
    ],
)
def test_a_long_title_lies_inside_the_title_cell_of_every_page(
    client, auth, people, effective_doc, title
):
    from docmgmt.printing.fonts import cjk_font

    reader = _print(client, auth, effective_doc, title)
    font = cjk_font()
    assert len(reader.pages) >= 1
    for page in reader.pages:
        lines = _title_lines(page)
        assert lines, "no title in the header"
        for text, x, y, size in lines:
            assert x >= TITLE_X0, (text, x)
            assert x + stringWidth(text, font, size) <= TITLE_X1 + 0.5, (text, x, size)
            assert y > BOTTOM and y + size <= TOP - 5 * mm + size  # under the 文件名称 label
        printed = "".join(t for t, *_ in sorted(lines, key=lambda c: (-c[2], c[1])))
        printed, whole = printed.replace(" ", ""), title.replace(" ", "")
        # whole, wrapped (the longest titles smaller), or at the smallest size cut with "…"
        assert printed == whole or (printed.endswith("…") and whole.startswith(printed[:-1]))
        if len(title) <= 30:  # a title of 30 characters: whole and still readable
            assert printed == whole and min(size for *_, size in lines) >= 9


def test_pages_are_numbered_in_chinese_and_the_format_is_a_setting(
    app, client, auth, people, effective_doc
):
    reader = _print(client, auth, effective_doc, "报修服务控制程序")
    total = len(reader.pages)
    for n, page in enumerate(reader.pages, start=1):
        assert page.extract_text().count(f"第 {n} 页 共 {total} 页") == 2  # header and footer
    app.config["PDF_PAGE_NUMBERS"] = "Page {page} of {pages}"
    again = client.get(f"/revisions/{reader.revision_id}/print.pdf")
    doc_reader = PdfReader(BytesIO(again.data))
    assert "Page 1 of" in doc_reader.pages[0].extract_text()


@pytest.mark.parametrize("bad", ["{page}", "第 {page} 页 {total}", "{page} / {pages", ""])
def test_a_page_number_setting_without_both_numbers_stops_the_start(bad):
    with pytest.raises(ConfigurationError, match="DOCMGMT_PDF_PAGE_NUMBERS"):
        check_page_numbers({"PDF_PAGE_NUMBERS": bad})
    check_page_numbers({"PDF_PAGE_NUMBERS": "{page}/{pages}"})


def test_the_signature_block_is_chinese_only(client, auth, people, effective_doc):
    reader = _print(client, auth, effective_doc, "报修服务控制程序")
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "签署含义" in text and "编制本文件" in text and "批准发布" in text
    for english in ("prepared", "reviewed", "approved"):
        assert english not in text


def test_the_word_export_has_chinese_styles_sized_tables_and_room_for_the_header(
    client, auth, people, effective_doc
):
    from docmgmt.printing import docx_out

    doc, a0 = effective_doc(title=TITLE_30)
    auth.login("qm")
    r = client.get(f"/revisions/{a0.id}/export.docx")
    assert r.status_code == 200
    d = docx.Document(BytesIO(r.data))

    def fonts(style):
        return style.element.rPr.find(qn("w:rFonts"))

    assert fonts(d.styles["Normal"]).get(qn("w:eastAsia")) == "宋体"
    for name in ("Title", "Heading 1", "Heading 2"):
        style = d.styles[name]
        assert fonts(style).get(qn("w:eastAsia")) == "黑体"
        assert fonts(style).get(qn("w:eastAsiaTheme")) is None  # a theme font would win
        assert str(style.font.color.rgb) == "000000"
    assert d.styles["Title"].element.pPr.find(qn("w:pBdr")) is None  # no rule under the title
    # the revision record table: its caption keeps with it, its columns have widths
    caption = next(p for p in d.paragraphs if p.text == "文件制修订记录")
    assert caption.paragraph_format.keep_with_next
    record = next(t for t in d.tables if t.cell(0, 3).text == "制/修订内容")
    widths = [round(c.width / Mm(1)) for c in record.rows[0].cells]
    assert widths == list(docx_out.RECORD_COLUMNS_MM)
    assert widths[3] == max(widths) and sum(widths) <= 170
    assert record.rows[1].cells[3].text  # the first issue's change text
    # the body starts below the header block: margin ≥ distance + its rows + a line
    section = d.sections[0]
    header_table = section.header.tables[0]
    rows = sum(row.height for row in header_table.rows)
    assert rows >= Mm(4 * docx_out.HEADER_ROW_MM) - Mm(1)
    assert section.top_margin >= section.header_distance + rows + Mm(8)
    assert TITLE_30 in header_table.cell(0, 1).text
    # the page label of the prints, with live fields: 第 {PAGE} 页 共 {NUMPAGES} 页
    pages_xml = header_table.cell(3, 3)._tc.xml
    assert pages_xml.index("第") < pages_xml.index('w:instr="PAGE"') < pages_xml.index("页 共")
    assert pages_xml.index("页 共") < pages_xml.index('w:instr="NUMPAGES"')
