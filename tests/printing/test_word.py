"""Word in and out: real files from LibreOffice and from Word's own template, the import
report, refusals that store nothing, and the export that imports back to the same blocks."""

import hashlib
import io
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from sqlalchemy import func, select

from docmgmt.extensions import db
from docmgmt.printing.models import RevisionSource
from docmgmt.versioning.models import Revision, RevisionState
from tests.conftest import page_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "docx"
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def word_authored_file() -> bytes:
    """A file built on python-docx's default template, which Microsoft Word wrote: Word's own
    styles, numbering and settings; the parts python-docx cannot write are added as Word
    writes them (text box, tracked changes, comment, footnote reference)."""
    d = docx.Document()
    zh_heading = d.styles.add_style("标题 1", docx.enum.style.WD_STYLE_TYPE.PARAGRAPH)
    zh_heading.base_style = d.styles["Normal"]
    d.add_paragraph("顾客投诉处理控制程序", style="Title")
    d.add_paragraph("1 目的", style="标题 1")
    p = d.add_paragraph("处理顾客投诉，")
    p.add_run("24 小时内").bold = True
    p.add_run("回复顾客。")
    outline = d.add_paragraph("2 范围")
    outline._p.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl {W} w:val="0"/>'))
    d.add_paragraph("适用于所有投诉。", style="Normal")
    d.add_paragraph("客服记录投诉", style="List Number")
    d.add_paragraph("主管分派处理", style="List Number")
    d.add_paragraph("注意礼貌", style="List Bullet")
    t = d.add_table(rows=3, cols=3)
    for r in range(3):
        for c in range(3):
            t.cell(r, c).text = f"格{r}{c}"
    t.cell(1, 0).merge(t.cell(2, 0))
    t.cell(0, 1).merge(t.cell(0, 2))
    d.add_page_break()
    body = d.add_paragraph("修订说明：")
    body._p.append(
        parse_xml(
            f'<w:ins {W} w:id="1" w:author="王" w:date="2026-01-01T00:00:00Z">'
            "<w:r><w:t>新增条款</w:t></w:r></w:ins>"
        )
    )
    body._p.append(
        parse_xml(
            f'<w:del {W} w:id="2" w:author="王" w:date="2026-01-01T00:00:00Z">'
            "<w:r><w:delText>删除条款</w:delText></w:r></w:del>"
        )
    )
    box = d.add_paragraph("见文本框")
    box._p.append(
        parse_xml(
            f'<w:r {W} xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
            ' xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
            "<mc:AlternateContent><mc:Fallback><w:pict><w:txbxContent><w:p><w:r>"
            "<w:t>文本框里的备注</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback>"
            "</mc:AlternateContent></w:r>"
        )
    )
    cmt = d.add_paragraph("有批注的段落")
    cmt._p.append(parse_xml(f'<w:r {W}><w:commentReference w:id="0"/></w:r>'))
    fn = d.add_paragraph("有脚注的段落")
    fn._p.append(parse_xml(f'<w:r {W}><w:footnoteReference w:id="1"/></w:r>'))
    d.sections[0].header.paragraphs[0].text = "页眉：受控文件"
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def _storage_files(app):
    root = Path(app.config["STORAGE_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_a_libreoffice_file_imports_with_a_report_and_is_kept_as_the_source(
    app, client, auth, people, create_document
):
    doc = create_document()
    data = (FIXTURES / "libreoffice-procedure.docx").read_bytes()
    auth.login("qm")
    r = client.post(
        f"/documents/{doc.id}/import",
        data={"file": (io.BytesIO(data), "报修程序.docx")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200
    text = page_text(r)
    # The report before saving: kept, converted, left out; headers not in the body.
    assert "merged cell" in text and "Header and footer text" in text and "页眉" not in text
    assert db.session.scalar(select(func.count()).select_from(Revision)) == 0
    token = r.get_data(as_text=True).split(f"/documents/{doc.id}/import/")[1].split('"')[0]
    r = client.post(f"/documents/{doc.id}/import/{token}", data={"change_summary": "新制订"})
    assert r.status_code == 303
    rev = db.session.scalar(select(Revision))
    kinds = [b["type"] for b in rev.body_blocks]
    assert kinds[:4] == ["heading", "paragraph", "heading", "paragraph"]
    assert {"list", "table", "page_break", "image"} <= set(kinds)
    assert rev.body_blocks[0] == {"type": "heading", "level": 1, "text": "1 目的"}
    assert "**报修**" in rev.body_blocks[1]["text"] and "++上门维修++" in rev.body_blocks[1]["text"]
    table = next(b for b in rev.body_blocks if b["type"] == "table")
    assert table["merges"] == [[1, 0, 2, 1], [2, 1, 1, 2]]
    lst = next(b for b in rev.body_blocks if b["type"] == "list")
    assert lst["items"] == ["客服接听报修电话并填写电话派工记录。", "调度员开具派工单。"]
    src = db.session.scalar(select(RevisionSource))
    assert src.sha256 == hashlib.sha256(data).hexdigest() and src.filename == "报修程序.docx"
    with client.get(f"/revisions/{rev.id}/source/{src.id}") as got:
        assert got.data == data  # kept unchanged
    image = next(b for b in rev.body_blocks if b["type"] == "image")
    page = client.get(f"/documents/{doc.id}/revisions/{rev.id}")
    assert f"/revisions/{rev.id}/images/{image['sha256']}" in page.get_data(as_text=True)


def test_a_word_authored_file_reports_what_it_leaves_out(
    client, people, create_document, token_for
):
    doc = create_document(title="顾客投诉处理控制程序")
    qm = token_for(people["qm"])
    r = client.post(
        f"/api/v1/documents/{doc.id}/import",
        headers=qm,
        data={"file": (io.BytesIO(word_authored_file()), "complaints.docx")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    blocks, report = body["blocks"], body["report"]
    assert report["title"] == "顾客投诉处理控制程序"
    assert blocks[0] == {"type": "heading", "level": 1, "text": "1 目的"}  # style 标题 1
    assert blocks[2] == {"type": "heading", "level": 1, "text": "2 范围"}  # outline level
    assert "**24 小时内**" in blocks[1]["text"]
    lists = [b for b in blocks if b["type"] == "list"]
    assert [(x["ordered"], x["items"]) for x in lists] == [
        (True, ["客服记录投诉", "主管分派处理"]),
        (False, ["注意礼貌"]),
    ]
    table = next(b for b in blocks if b["type"] == "table")
    assert sorted(table["merges"]) == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert any(b["type"] == "page_break" for b in blocks)
    revision_note = next(b for b in blocks if b.get("text", "").startswith("修订说明"))
    assert "新增条款" in revision_note["text"] and "删除条款" not in revision_note["text"]
    joined = " ".join(report["left_out"] + report["converted"])
    assert "文本框里的备注" in joined  # a text box is named, not silently dropped
    assert "comment" in joined and "footnote" in joined and "Tracked changes" in joined
    assert "页眉" not in " ".join(b.get("text", "") for b in blocks)
    r = client.post(f"/api/v1/documents/{doc.id}/import/{body['token']}", headers=qm, json={})
    assert r.status_code == 201 and r.get_json()["state"] == "draft"


def _zip(files: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content)
    return out.getvalue()


GOOD = (FIXTURES / "libreoffice-procedure.docx").read_bytes()


def _docm() -> bytes:
    src = zipfile.ZipFile(io.BytesIO(GOOD))
    files = {n: src.read(n) for n in src.namelist()}
    files["[Content_Types].xml"] = files["[Content_Types].xml"].replace(
        b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml"
    )
    files["word/vbaProject.bin"] = b"\x00" * 100
    return _zip(files)


BAD = [
    ("notes.txt", b"hello", "not accepted"),
    ("macro.docm", GOOD, "macro-enabled"),
    ("renamed.docx", _docm(), "macro-enabled"),
    ("secret.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "password-protected"),
    ("broken.docx", GOOD[: len(GOOD) // 2], "damaged"),
    ("empty.docx", b"", "empty"),
    ("plain.docx", b"just text pretending", "not a Word"),
    (
        "bomb.docx",
        _zip({"[Content_Types].xml": "x", "word/document.xml": b"\x00" * (80 * 1024 * 1024)}),
        "zip bomb",
    ),
    ("../../etc/passwd.docx", GOOD, "plain file name"),
    ("C:\\temp\\x.docx", GOOD, "plain file name"),
    ("odd.docx", _zip({"[Content_Types].xml": "x", "word/document.xml": "<x/>"}), "not a Word"),
]


@pytest.mark.parametrize("name,data,message", BAD, ids=[b[0] for b in BAD])
def test_bad_files_are_refused_with_the_reason_and_nothing_is_stored(
    app, client, people, create_document, token_for, name, data, message
):
    doc = create_document()
    before = _storage_files(app)
    r = client.post(
        f"/api/v1/documents/{doc.id}/import",
        headers=token_for(people["qm"]),
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert r.status_code == 422, r.get_json()
    assert message in r.get_json()["message"]
    assert _storage_files(app) == before
    assert db.session.scalar(select(func.count()).select_from(Revision)) == 0


def test_an_oversized_upload_is_refused(app, client, auth, people, create_document):
    doc = create_document()
    app.config["UPLOAD_MAX_MB"] = 1
    auth.login("qm")
    big = GOOD + b"\x00" * (1024 * 1024 + 10)
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    # Encoded in memory: the test client would spool a body this size to a temporary file
    # that nothing closes.
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(big), filename="big.docx")})
    r = client.post(
        f"/documents/{doc.id}/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert r.status_code in (413, 422) and ("larger" in page_text(r) or "too large" in page_text(r))


def test_export_has_live_page_fields_and_imports_back_to_the_same_blocks(
    client, auth, people, effective_doc
):
    doc, rev = effective_doc()
    auth.login("staff")
    r = client.get(f"/revisions/{rev.id}/export.docx")
    assert r.status_code == 200
    d = docx.Document(io.BytesIO(r.data))
    header_xml = d.sections[0].header._element.xml
    assert 'w:instr="PAGE"' in header_xml and 'w:instr="NUMPAGES"' in header_xml
    assert doc.number in header_xml and rev.version in header_xml
    all_text = "\n".join(c.text for t in d.tables for row in t.rows for c in row.cells)
    assert "李明" in all_text and "陈静" in all_text and "新制订" in all_text or "A0" in all_text
    from docmgmt.printing.docx_in import read_docx

    again = read_docx(r.data)
    assert again.blocks == rev.body_blocks
    assert again.title == rev.title


def test_export_and_print_of_a_draft_are_refused_to_staff(
    client, auth, people, create_document, draft_of
):
    doc = create_document()
    draft = draft_of(doc)
    auth.login("staff")
    assert client.get(f"/revisions/{draft.id}/export.docx").status_code in (403, 404)
    assert client.get(f"/revisions/{draft.id}/print.pdf").status_code in (403, 404)
    auth.logout()
    auth.login("qm")
    assert client.get(f"/revisions/{draft.id}/export.docx").status_code == 200
    assert draft.state == RevisionState.DRAFT
