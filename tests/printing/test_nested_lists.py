"""Nested lists keep their levels from Markdown and from Word, in the page, the PDF, the Word
export and the Markdown shown for editing."""

import io
import re

import docx
from pypdf import PdfReader

from docmgmt.extensions import db

NESTED = """# 工作程序

1. 受理报修
   - 电话报修
   - 网站报修
     1. 登记客户信息
2. 派工
   1. 确认地址
   2. 通知技术员
"""

ITEMS = ["受理报修", "电话报修", "网站报修", "登记客户信息", "派工", "确认地址", "通知技术员"]
LEVELS = [0, 1, 1, 2, 0, 1, 1]
ORDERED = [True, False, False, True, True, True, True]


def _published(create_document, draft_of, approve, people, body=NESTED):
    from docmgmt.clock import local_today
    from docmgmt.versioning import publishing

    doc = create_document(title="报修、送修和上门维修服务控制程序")
    rev = approve(draft_of(doc, body=body))
    publishing.publish_revision(people["qm"], rev, local_today())
    db.session.commit()
    return doc, rev


def test_a_nested_markdown_list_keeps_its_levels_in_the_page_and_the_api(
    client, auth, people, token_for, create_document, draft_of, approve
):
    doc, rev = _published(create_document, draft_of, approve, people)
    block = next(b for b in rev.body_blocks if b["type"] == "list")
    assert block["items"] == ITEMS
    assert block["levels"] == LEVELS and block["ordered_items"] == ORDERED

    api = client.get(f"/api/v1/revisions/{rev.id}", headers=token_for(people["staff"])).get_json()
    assert next(b for b in api["blocks"] if b["type"] == "list")["levels"] == LEVELS

    auth.login("staff")
    html = client.get(f"/documents/{doc.id}", follow_redirects=True).get_data(as_text=True)
    compact = re.sub(r"\s+", "", html)
    # 电话报修 sits in a <ul> inside the first <li>; 登记客户信息 in an <ol> inside 网站报修
    assert (
        "<ol><li>受理报修<ul><li>电话报修</li><li>网站报修<ol><li>登记客户信息</li></ol>" in compact
    )
    assert "<li>派工<ol><li>确认地址</li><li>通知技术员</li></ol></li></ol>" in compact


def test_blocks_with_impossible_levels_are_refused(client, people, token_for, create_document):
    doc = create_document()
    qm = token_for(people["qm"])
    for levels in ([1, 0], [0, 2], [0, -1], [0, "1"]):
        blocks = [{"type": "list", "ordered": True, "items": ["a", "b"], "levels": levels}]
        r = client.post(
            f"/api/v1/documents/{doc.id}/revisions", json={"blocks": blocks}, headers=qm
        )
        assert r.status_code == 422, (levels, r.get_json())
    good = [{"type": "list", "ordered": True, "items": ["a", "b"], "levels": [0, 1]}]
    r = client.post(f"/api/v1/documents/{doc.id}/revisions", json={"blocks": good}, headers=qm)
    assert r.status_code == 201, r.get_json()


def _pdf_lines(data: bytes) -> dict[str, float]:
    """The x position where each text run starts on page 1, by text."""
    found: dict[str, float] = {}

    def visit(text, cm, tm, font_dict, font_size):
        text = text.strip()
        if text and text not in found:
            found[text] = tm[4] * cm[0] + cm[4]

    PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    return found


def test_the_controlled_copy_pdf_indents_each_level_and_numbers_it(
    client, auth, people, create_document, draft_of, approve
):
    doc, rev = _published(create_document, draft_of, approve, people)
    auth.login("staff")
    r = client.get(f"/revisions/{rev.id}/print.pdf")
    assert r.status_code == 200
    text = PdfReader(io.BytesIO(r.data)).pages[0].extract_text()
    for marker in ("1.", "2.", "(1)", "(2)", "a)"):
        assert marker in text, marker
    x = _pdf_lines(r.data)
    first = next(v for k, v in x.items() if "受理报修" in k)
    second = next(v for k, v in x.items() if "电话报修" in k)
    third = next(v for k, v in x.items() if "登记客户信息" in k)
    assert first < second < third  # each level further in
    r.close()


def test_word_export_uses_the_deeper_list_styles_and_imports_back_the_same(
    client, auth, people, create_document, draft_of, approve
):
    doc, rev = _published(create_document, draft_of, approve, people)
    auth.login("staff")
    r = client.get(f"/revisions/{rev.id}/export.docx")
    assert r.status_code == 200
    d = docx.Document(io.BytesIO(r.data))
    styles = {p.text: p.style.name for p in d.paragraphs if p.text in ITEMS}
    assert styles["受理报修"] == "List Number"
    assert styles["电话报修"] == "List Bullet 2"
    assert styles["登记客户信息"] == "List Number 3"
    assert styles["确认地址"] == "List Number 2"
    from docmgmt.printing.docx_in import read_docx

    again = read_docx(r.data)
    assert again.blocks == rev.body_blocks
    r.close()


def _word_file_with_numbering_levels() -> bytes:
    """List paragraphs that carry w:numPr with w:ilvl, the way Word writes a multilevel list."""
    d = docx.Document()
    d.add_paragraph("程序", style="Heading 1")
    numbered = d.add_paragraph("受理报修", style="List Number")
    num_pr = numbered.style.element.pPr.numPr
    num_id = num_pr.numId.val if num_pr is not None else 1

    def item(text: str, ilvl: int):
        from docx.oxml import parse_xml

        p = d.add_paragraph(text)
        ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
        p._p.get_or_add_pPr().append(
            parse_xml(
                f'<w:numPr {ns}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>'
            )
        )

    item("电话报修", 1)
    item("登记客户信息", 2)
    item("派工", 0)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_word_numbering_levels_import_as_nested_items(client, people, token_for, create_document):
    doc = create_document()
    qm = token_for(people["qm"])
    r = client.post(
        f"/api/v1/documents/{doc.id}/import",
        headers=qm,
        data={"file": (io.BytesIO(_word_file_with_numbering_levels()), "levels.docx")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    block = next(b for b in body["blocks"] if b["type"] == "list")
    assert block["items"] == ["受理报修", "电话报修", "登记客户信息", "派工"]
    assert block["levels"] == [0, 1, 2, 0]
    assert "first level" not in " ".join(body["report"]["converted"])
    r = client.post(f"/api/v1/documents/{doc.id}/import/{body['token']}", headers=qm, json={})
    assert r.status_code == 201
    saved = client.get(f"/api/v1/revisions/{r.get_json()['revision_id']}", headers=qm)
    saved = saved.get_json()
    # the Markdown shown for editing nests the items, and reads back to the same blocks
    from docmgmt.versioning.content import markdown_to_blocks

    assert "\n   " in saved["body_markdown"] or "\n  - " in saved["body_markdown"]
    assert [b for b in markdown_to_blocks(saved["body_markdown"]) if b["type"] == "list"] == [block]
