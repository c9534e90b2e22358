"""The master list prints as a PDF that a machine without Chinese fonts can read."""

from io import BytesIO

import pytest
from pypdf import PdfReader


def _fonts_embedded(reader: PdfReader) -> bool:
    """Every TrueType font is embedded (ReportLab also lists Helvetica, the canvas's initial
    font, which no text here uses), and there is at least one."""
    seen = 0
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            if font.get("/Subtype") == "/Type1":
                continue
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            if descriptor is None or "/FontFile2" not in descriptor.get_object():
                return False
            seen += 1
    return seen > 0


@pytest.mark.parametrize("via", ["ui", "api"])
def test_master_list_pdf_lists_the_documents_in_force(
    via, client, auth, people, effective_doc, create_document, token_for
):
    doc, a0 = effective_doc(title="顾客投诉处理控制程序")
    draft_only = create_document(title="尚未发布的程序")
    if via == "ui":
        auth.login("staff")
        r = client.get("/register/master-list.pdf")
    else:
        r = client.get("/api/v1/register/master-list.pdf", headers=token_for(people["staff"]))
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    reader = PdfReader(BytesIO(r.data))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert doc.number in text and "顾客投诉处理控制程序" in text and "A0" in text
    # Staff see only what is in force: a document with no issued revision is not listed.
    assert draft_only.number not in text
    assert "第 1 页 共 1 页" in text  # the page label of every PDF (DOCMGMT_PDF_PAGE_NUMBERS)
    assert _fonts_embedded(reader)


def test_master_list_pdf_pages_are_numbered_of_the_total(client, auth, people, effective_doc):
    for i in range(45):
        effective_doc(title=f"程序文件第{i}号")
    auth.login("qm")
    reader = PdfReader(BytesIO(client.get("/register/master-list.pdf").data))
    total = len(reader.pages)
    assert total >= 2
    for n, page in enumerate(reader.pages, start=1):
        assert f"第 {n} 页 共 {total} 页" in page.extract_text()
