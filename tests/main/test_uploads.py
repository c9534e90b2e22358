"""Every upload channel checks a file by what it is, not by its name; stored files leave only as
typed downloads; image blocks name only the document's own images; table spans stay inside
their table."""

import hashlib
import io
import json
import time
import zipfile
from io import BytesIO
from pathlib import Path

import docx as python_docx
import pytest
from docx.oxml import parse_xml
from sqlalchemy import func, select

from docmgmt.control.models import ChangeRequest, ChangeRequestAttachment
from docmgmt.extensions import db
from docmgmt.filecheck import DOCX
from docmgmt.printing.models import RevisionSource
from docmgmt.records.models import Record, RecordAttachment, RecordImport
from docmgmt.training.models import SessionAttachment, TrainingSession
from docmgmt.versioning.models import Revision
from tests import files
from tests.conftest import PASSWORD, page_text

WORD_FIXTURE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "docx" / "libreoffice-procedure.docx"
)
MULTIPART = "multipart/form-data"


def _stored(app):
    root = Path(app.config["STORAGE_DIR"]) / "blobs"
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def _count(model) -> int:
    db.session.rollback()  # read what is committed
    return db.session.scalar(select(func.count()).select_from(model))


def _refused(r, name, words):
    """The answer names the file and says what is wrong: a 422 JSON body, or the form's page
    again (some forms answer 200 with the refusal flashed, as for any other refusal)."""
    ok = (422,) if r.is_json else (200, 422)
    assert r.status_code in ok, (name, r.status_code, r.get_data(as_text=True)[:300])
    text = r.get_json()["message"] if r.is_json else page_text(r)
    assert name in text and words in text, (name, words, text[:400])


@pytest.fixture
def rt(people):
    from docmgmt.records import operations as rops

    rt = rops.create_type(
        people["qm"],
        code="WO",
        name="派工单",
        retention_months=12,
        fields=[{"name": "customer", "label": "客户", "required": True}],
    )
    db.session.commit()
    return rt


@pytest.fixture
def cr(client, people, token_for, effective_doc):
    doc, _rev = effective_doc()
    r = client.post(
        f"/api/v1/documents/{doc.id}/change-requests",
        json={"reason": "表格改版", "proposed_change": "增加签字栏"},
        headers=token_for(people["staff"]),
    )
    assert r.status_code == 201, r.get_json()
    return {"id": r.get_json()["id"], "doc": doc}


@pytest.fixture
def training_session(client, people, token_for, today):
    r = client.post(
        "/api/v1/training/sessions",
        json={
            "held_on": today.isoformat(),
            "kind": "classroom",
            "topic": "报修流程培训",
            "trainer_name": "陈立华",
            "duration_minutes": 60,
            "attendees": [{"user_id": people["staff"].id, "result": "attended"}],
        },
        headers=token_for(people["qm"]),
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


# ---------------------------------------------------------------- A: every channel, every file


def test_record_attachments_are_checked_by_content_through_the_api(
    app, client, people, token_for, rt
):
    staff = token_for(people["staff"])
    before = _stored(app)
    for name, data, words in files.HOSTILE:
        r = client.post(
            "/api/v1/record-types/WO/records/with-files",
            data={
                "data": json.dumps({"title": "回访", "values": {"customer": "张先生"}}),
                "files": [(BytesIO(data), name)],
            },
            headers=staff,
            content_type=MULTIPART,
        )
        _refused(r, name, words)
    assert _stored(app) == before
    assert _count(Record) == 0 and _count(RecordAttachment) == 0


def test_record_attachments_are_checked_by_content_through_the_page(app, client, auth, rt):
    auth.login("staff")
    before = _stored(app)
    for name, data, words in files.HOSTILE:
        r = client.post(
            f"/records/new/{rt.id}",
            data={"title": "回访", "f_customer": "张先生", "files": (BytesIO(data), name)},
            content_type=MULTIPART,
        )
        _refused(r, name, words)
    assert _stored(app) == before
    assert _count(Record) == 0 and _count(RecordAttachment) == 0


def test_change_request_attachments_are_checked_by_content(
    app, client, auth, people, token_for, cr
):
    staff = token_for(people["staff"])
    before = _stored(app)
    hostile = [
        *files.HOSTILE,
        ("notes.txt", b"\x00\x01binary", "NUL"),
        ("a.txt", files.pdf(), "PDF"),
    ]
    for name, data, words in hostile:
        r = client.post(
            f"/api/v1/change-requests/{cr['id']}/attachments",
            data={"file": (BytesIO(data), name)},
            headers=staff,
            content_type=MULTIPART,
        )
        _refused(r, name, words)
    auth.login("staff")
    for name, data, words in hostile:
        r = client.post(
            f"/change-requests/{cr['id']}/attachments",
            data={"attachments": [(BytesIO(data), name)]},
            content_type=MULTIPART,
            follow_redirects=True,
        )
        _refused(r, name, words)  # the request's page, with the refusal flashed
        # a new request with the file: refused as a whole
        r = client.post(
            f"/documents/{cr['doc'].id}/change-requests/new",
            data={
                "reason": "派工单缺少到达时间",
                "proposed_change": "增加到达时间栏",
                "urgency": "normal",
                "attachments": [(BytesIO(data), name)],
            },
            content_type=MULTIPART,
        )
        _refused(r, name, words)
    assert _stored(app) == before
    assert _count(ChangeRequestAttachment) == 0 and _count(ChangeRequest) == 1


def test_training_files_are_checked_by_content(
    app, client, auth, people, token_for, training_session, today
):
    qm = token_for(people["qm"])
    before = _stored(app)
    for name, data, words in files.HOSTILE:
        r = client.post(
            f"/api/v1/training/sessions/{training_session['id']}/attachments",
            data={"file": (BytesIO(data), name)},
            headers=qm,
            content_type=MULTIPART,
        )
        _refused(r, name, words)
    auth.login("qm")
    for name, data, words in files.HOSTILE:
        r = client.post(
            "/training/sessions/new",
            data={
                "held_on": today.isoformat(),
                "kind": "on_the_job",
                "topic": "上门服务规范",
                "trainer_name": "刘洋",
                "duration_minutes": 45,
                "attendees": [people["staff"].id],
                "files": (BytesIO(data), name),
            },
            content_type=MULTIPART,
        )
        _refused(r, name, words)
    assert _stored(app) == before
    assert _count(SessionAttachment) == 0 and _count(TrainingSession) == 1


IMPORT_HOSTILE = [
    ("bomb.xlsx", files.zip_bomb("xl/workbook.xml"), "zip bomb"),
    ("macro.xlsx", files.xlsm_renamed(), "macro-enabled"),
    ("secret.xlsx", files.ole(), "password-protected"),
    ("laughs.xlsx", files.entity_xlsx(), "entity declarations"),
    ("entity.xlsx", files.malformed_entity_xlsx(), "not well-formed XML"),
    ("export.xlsx", files.docx(), "not an Excel workbook"),
    ("export.csv", files.png(), "PNG image"),
    ("export.csv", b"title,customer\n\x00,x\n", "NUL"),
]


def test_record_imports_are_checked_by_content(app, client, auth, people, token_for, rt):
    """A malformed entity in an .xlsx answered 500 (openpyxl failed while reading rows)."""
    qm = token_for(people["qm"])
    before = _stored(app)
    for name, data, words in IMPORT_HOSTILE:
        r = client.post(
            "/api/v1/record-types/WO/imports",
            data={"file": (BytesIO(data), name)},
            headers=qm,
            content_type=MULTIPART,
        )
        _refused(r, name, words)
    auth.login("qm")
    for name, data, words in IMPORT_HOSTILE:
        r = client.post(
            f"/records/import/{rt.id}",
            data={"file": (BytesIO(data), name)},
            content_type=MULTIPART,
        )
        _refused(r, name, words)
    assert _stored(app) == before
    assert _count(RecordImport) == 0 and _count(Record) == 0
    # a sound workbook still imports
    r = client.post(
        "/api/v1/record-types/WO/imports",
        data={"file": (BytesIO(files.xlsx()), "export.xlsx")},
        headers=qm,
        content_type=MULTIPART,
    )
    assert r.status_code == 201, r.get_json()


def _word_without_body() -> bytes:
    """A package that passes every check but whose document has no body: python-docx fails."""
    parts = files._parts(files.docx())
    parts["word/document.xml"] = (
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>'
    )
    return files._zip(parts)


WORD_HOSTILE = [
    *[(n, d, w) for n, d, w in files.HOSTILE if n.endswith(".docx")],
    ("body.docx", _word_without_body(), "cannot be read"),
]


def test_the_word_import_refuses_in_words_not_library_internals(
    app, client, auth, people, token_for, create_document
):
    doc = create_document()
    before = _stored(app)
    for name, data, words in WORD_HOSTILE:
        r = client.post(
            f"/api/v1/documents/{doc.id}/import",
            data={"file": (BytesIO(data), name)},
            headers=token_for(people["qm"]),
            content_type=MULTIPART,
        )
        _refused(r, name, words)
        message = r.get_json()["message"]
        assert "xmlCtxt" not in message and "amplification" not in message
        assert "content type" not in message and "Error" not in message
    auth.login("qm")
    for name, data, words in WORD_HOSTILE:
        r = client.post(
            f"/documents/{doc.id}/import",
            data={"file": (BytesIO(data), name)},
            content_type=MULTIPART,
        )
        _refused(r, name, words)
    assert _stored(app) == before
    assert _count(Revision) == 0


def test_refusals_are_in_chinese_for_a_chinese_user(app, client, auth, people, rt):
    auth.login("staff")
    app.config["BABEL_DEFAULT_LOCALE"] = "zh_CN"
    r = client.post(
        f"/records/new/{rt.id}",
        data={
            "title": "回访",
            "f_customer": "张先生",
            "files": (BytesIO(files.HTML), "签字单.pdf"),
        },
        content_type=MULTIPART,
    )
    assert "签字单.pdf 不是PDF 文件：其内容实际是HTML 网页。" in page_text(r)


def test_block_content_refusals_say_which_block_and_the_rule(
    client, people, token_for, create_document
):
    doc = create_document()
    r = client.post(
        f"/api/v1/documents/{doc.id}/revisions",
        json={"blocks": [{"type": "paragraph", "text": "正文"}, {"type": "video"}]},
        headers=token_for(people["qm"]),
    )
    assert r.status_code == 422
    assert "Block 2 of the content is not a valid heading" in r.get_json()["message"]


# ---------------------------------------------------------------- C: typed downloads


def _is_download(r, content_type):
    assert r.status_code == 200
    assert r.mimetype == content_type, r.mimetype
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_downloads_are_typed_from_the_checked_file_never_from_the_client(
    app, client, auth, people, token_for, rt, cr, training_session
):
    staff, qm = token_for(people["staff"]), token_for(people["qm"])
    # a change request note sent as text/html comes back as a text/plain download
    r = client.post(
        f"/api/v1/change-requests/{cr['id']}/attachments",
        data={"file": (BytesIO(b"<script>alert(1)</script>"), "说明.txt", "text/html")},
        headers=staff,
        content_type=MULTIPART,
    )
    assert r.status_code == 201, r.get_json()
    att = client.get(f"/api/v1/change-requests/{cr['id']}/attachments", headers=staff).get_json()
    assert att[0]["content_type"] == "text/plain"
    with client.get(
        f"/api/v1/change-requests/{cr['id']}/attachments/{att[0]['id']}", headers=staff
    ) as got:
        _is_download(got, "text/plain")
        assert "filename*=UTF-8''%E8%AF%B4%E6%98%8E.txt" in got.headers["Content-Disposition"]
    # a record photo sent as image/svg+xml is a PNG download
    r = client.post(
        "/api/v1/record-types/WO/records/with-files",
        data={
            "data": json.dumps({"title": "回访", "values": {"customer": "张先生"}}),
            "files": [(BytesIO(files.png()), "photo.png", "image/svg+xml")],
        },
        headers=staff,
        content_type=MULTIPART,
    )
    assert r.status_code == 201, r.get_json()
    rec = r.get_json()
    att = db.session.get(RecordAttachment, rec["attachments"][0]["id"])
    assert att.content_type == "image/png"
    att.content_type = "text/html"  # a row stored before types were derived
    db.session.commit()
    for url, headers in (
        (f"/api/v1/records/{rec['id']}/attachments/{att.id}", staff),
        (f"/records/{rec['id']}/attachments/{att.id}", {}),
    ):
        if not headers:
            auth.login("staff")
        with client.get(url, headers=headers) as got:
            _is_download(got, "image/png")
    # a training sign-in sheet sent as text/javascript is a PDF download
    r = client.post(
        f"/api/v1/training/sessions/{training_session['id']}/attachments",
        data={"file": (BytesIO(files.pdf()), "签到表.pdf", "text/javascript")},
        headers=qm,
        content_type=MULTIPART,
    )
    assert r.status_code == 201, r.get_json()
    sa = db.session.scalar(select(SessionAttachment))
    assert sa.content_type == "application/pdf"
    auth.logout()
    auth.login("qm")
    with client.get(f"/training/attachments/{sa.id}") as got:
        _is_download(got, "application/pdf")


def _word_with_image(image: bytes) -> bytes:
    d = python_docx.Document()
    d.add_paragraph("图示", style="Heading 1")
    d.add_picture(BytesIO(files.png("green", (16, 16))))
    out = BytesIO()
    d.save(out)
    parts = files._parts(out.getvalue())
    media = next(n for n in parts if n.startswith("word/media/"))
    parts[media] = image
    return files._zip(parts)


def _import(client, qm, doc, data, name="图示.docx"):
    r = client.post(
        f"/api/v1/documents/{doc.id}/import",
        data={"file": (BytesIO(data), name)},
        headers=qm,
        content_type=MULTIPART,
    )
    assert r.status_code == 200, r.get_json()
    r = client.post(
        f"/api/v1/documents/{doc.id}/import/{r.get_json()['token']}", headers=qm, json={}
    )
    assert r.status_code == 201, r.get_json()
    rev_id = r.get_json()["revision_id"]
    return {**client.get(f"/api/v1/revisions/{rev_id}", headers=qm).get_json(), "id": rev_id}


def test_revision_images_are_inline_only_when_they_are_images(
    client, auth, people, token_for, create_document
):
    qm = token_for(people["qm"])
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for image, inline in ((files.png("blue", (12, 12)), True), (svg, False)):
        doc = create_document(title=f"图示 {inline}")
        rev = _import(client, qm, doc, _word_with_image(image))
        sha = hashlib.sha256(image).hexdigest()
        assert any(b.get("sha256") == sha for b in rev["blocks"])
        auth.login("qm")
        with client.get(f"/revisions/{rev['id']}/images/{sha}") as got:
            assert got.status_code == 200 and got.data == image
            assert got.headers["X-Content-Type-Options"] == "nosniff"
            if inline:
                assert got.mimetype == "image/png"
                assert "attachment" not in got.headers.get("Content-Disposition", "")
            else:
                _is_download(got, "application/octet-stream")
        source = db.session.scalar(
            select(RevisionSource).where(RevisionSource.revision_id == rev["id"])
        )
        with client.get(f"/revisions/{rev['id']}/source/{source.id}") as got:
            _is_download(got, DOCX)
            assert "filename*=UTF-8''%E5%9B%BE%E7%A4%BA.docx" in got.headers["Content-Disposition"]


# ---------------------------------------------------------------- D: spans inside the table


def test_table_merges_are_clamped_to_the_table(client, auth, people, token_for, create_document):
    doc = create_document()
    qm = token_for(people["qm"])
    table = {"type": "table", "header": ["a", "b"], "rows": [["c", "d"]]}
    r = client.post(
        f"/api/v1/documents/{doc.id}/revisions",
        json={"blocks": [{**table, "merges": [[0, 0, 2000, 2000], [1, 1, 1, 1]]}]},
        headers=qm,
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["blocks"][0]["merges"] == [[0, 0, 2, 2]]
    # a table beyond the bound is refused with the rule
    r = client.patch(
        f"/api/v1/revisions/{r.get_json()['id']}",
        json={"blocks": [{"type": "table", "header": ["x"] * 65, "rows": []}]},
        headers=qm,
    )
    assert r.status_code == 422
    assert "at most 5000 rows and 64 columns" in r.get_json()["message"]


def test_stored_merges_beyond_the_table_render_within_it(
    client, auth, people, token_for, create_document, draft_of
):
    doc = create_document()
    rev = draft_of(doc)
    rev.body_blocks = [
        {
            "type": "table",
            "header": ["a", "b"],
            "rows": [["c", "d"], ["e", "f"]],
            "merges": [[0, 0, 2000, 2000], [1, 1, 5, 1000000]],
        }
    ]
    db.session.commit()
    auth.login("qm")
    started = time.perf_counter()
    page = client.get(f"/documents/{doc.id}/revisions/{rev.id}").get_data(as_text=True)
    assert 'rowspan="3" colspan="2"' in page and "2000" not in page
    assert client.get(f"/revisions/{rev.id}/print.pdf").status_code == 200
    assert client.get(f"/revisions/{rev.id}/export.docx").status_code == 200
    assert time.perf_counter() - started < 5


def test_word_grid_spans_stop_at_the_table_grid(client, people, token_for, create_document):
    d = python_docx.Document()
    t = d.add_table(rows=2, cols=2)
    for r in range(2):
        for c in range(2):
            t.cell(r, c).text = f"格{r}{c}"
    tcpr = t.cell(0, 0)._tc.get_or_add_tcPr()
    tcpr.append(
        parse_xml(
            '<w:gridSpan xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
            ' w:val="1000000"/>'
        )
    )
    out = BytesIO()
    d.save(out)
    doc = create_document()
    r = client.post(
        f"/api/v1/documents/{doc.id}/import",
        data={"file": (BytesIO(out.getvalue()), "span.docx")},
        headers=token_for(people["qm"]),
        content_type=MULTIPART,
    )
    assert r.status_code == 200, r.get_json()
    assert len(r.data) < 100_000
    table = next(b for b in r.get_json()["blocks"] if b["type"] == "table")
    assert len(table["header"]) <= 3 and table["merges"] == [[0, 0, 1, 2]]


# ---------------------------------------------------------------- E: images of the revision only


def _record_photo(people, rt):
    from docmgmt.records import operations as rops

    photo = files.png("purple", (10, 10))
    record = rops.file_record(
        people["staff"],
        rt,
        title="现场照片",
        values={"customer": "张先生"},
        files=[("photo.png", photo, "image/png")],
    )
    db.session.commit()
    return record, hashlib.sha256(photo).hexdigest()


def test_an_image_block_cannot_name_another_file(client, people, token_for, create_document, rt):
    _record, sha = _record_photo(people, rt)
    doc = create_document()
    qm = token_for(people["qm"])
    r = client.post(
        f"/api/v1/documents/{doc.id}/revisions",
        json={"blocks": [{"type": "image", "sha256": sha, "name": "x.png"}]},
        headers=qm,
    )
    assert r.status_code == 422, r.get_json()
    assert "not one of this document's images" in r.get_json()["message"]
    r = client.post(
        f"/api/v1/documents/{doc.id}/revisions",
        json={"body_markdown": f"正文\n\n<!-- image {sha} x.png -->\n"},
        headers=qm,
    )
    assert r.status_code == 422, r.get_json()
    assert _count(Revision) == 0
    # the document's own Word images are fine, and stay fine when the draft is edited
    rev = _import(client, qm, doc, WORD_FIXTURE.read_bytes())
    r = client.patch(f"/api/v1/revisions/{rev['id']}", json={"blocks": rev["blocks"]}, headers=qm)
    assert r.status_code == 200, r.get_json()
    r = client.patch(
        f"/api/v1/revisions/{rev['id']}",
        json={"blocks": [*rev["blocks"], {"type": "image", "sha256": sha}]},
        headers=qm,
    )
    assert r.status_code == 422


def test_disposal_leaves_no_file_behind_a_revision_image(
    app, client, auth, people, rt, create_document, draft_of
):
    from docmgmt import storage
    from docmgmt.clock import utcnow
    from docmgmt.records import operations as rops

    record, sha = _record_photo(people, rt)
    doc = create_document()
    rev = draft_of(doc)
    rev.body_blocks = [{"type": "image", "sha256": sha, "name": "x.png"}]  # written before checks
    db.session.commit()
    auth.login("qm")
    assert client.get(f"/revisions/{rev.id}/images/{sha}").status_code == 404
    later = utcnow().replace(year=utcnow().year + 3)
    disposal = rops.propose_disposal(
        people["qm"], [record], "保存期满", people["approver"], now=later
    )
    db.session.commit()
    rops.decide_disposal(people["approver"], disposal, True, PASSWORD, now=later)
    db.session.commit()
    assert not storage.exists(sha)
    assert client.get(f"/revisions/{rev.id}/images/{sha}").status_code == 404
    assert sha not in storage.referenced()


def test_upload_helpers_make_real_files():
    """The sound versions of every kind pass the checker (the helpers are what tests upload)."""
    from docmgmt.filecheck import check_content

    for name, data in (
        ("a.pdf", files.pdf()),
        ("a.png", files.png()),
        ("a.jpg", files.jpeg()),
        ("a.docx", files.docx()),
        ("a.xlsx", files.xlsx()),
        ("a.txt", "中文说明".encode("gb18030")),
        ("a.docx", WORD_FIXTURE.read_bytes()),
    ):
        check_content(name, data)
    assert zipfile.is_zipfile(io.BytesIO(files.docx()))
