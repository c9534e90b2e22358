"""Hostile input: markup in every text a user types is shown as text (pages, search, PDF,
Word); file names with path parts are refused; oversized bodies are refused."""

import io

from sqlalchemy import select

from docmgmt.extensions import db
from tests import files
from tests.records.test_records import wo  # noqa: F401

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_markup_in_titles_and_records_is_escaped_everywhere(
    app, client, auth, people, token_for, create_document, draft_of, approve, today
):
    from docmgmt.versioning import publishing

    doc = create_document(title=f"投诉程序 {EVIL}")
    rev = approve(draft_of(doc, body=f"# 1 目的\n派工说明 {EVIL}"))
    publishing.publish_revision(people["qm"], rev, today)
    db.session.commit()
    headers = token_for(people["qm"])
    r = client.post(
        "/api/v1/record-types",
        json={
            "code": "WO",
            "name": f"派工单{EVIL}"[:100],
            "retention_months": 12,
            "fields": [{"name": "customer", "label": "客户", "required": True}],
        },
        headers=headers,
    )
    assert r.status_code == 201
    client.post(
        "/api/v1/record-types/WO/records",
        json={"title": f"客户 {EVIL}", "values": {"customer": EVIL}},
        headers=headers,
    )
    auth.login("qm")
    for url in (
        "/documents/",
        f"/documents/{doc.id}",
        f"/documents/{doc.id}/revisions/{rev.id}",
        "/records/",
        "/records/types",
        "/search/?q=派工说明",
        "/search/?q=" + EVIL,
        "/audit/",
    ):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, url
    # PDF and Word show the characters, not markup that does anything.
    from pypdf import PdfReader

    pdf = client.get(f"/revisions/{rev.id}/print.pdf?mode=uncontrolled")
    assert pdf.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "<script>" in text.replace(" ", "")
    docx = client.get(f"/revisions/{rev.id}/export.docx")
    from docx import Document as Docx

    body = "\n".join(p.text for p in Docx(io.BytesIO(docx.data)).paragraphs)
    assert "<script>" in body


def test_file_names_with_path_parts_and_oversized_bodies_are_refused(
    app, client, people, token_for
):
    headers = token_for(people["qm"])
    client.post(
        "/api/v1/record-types",
        json={
            "code": "WO",
            "name": "派工单",
            "retention_months": 12,
            "fields": [{"name": "customer", "label": "客户", "required": True}],
        },
        headers=headers,
    )
    for name in ("../../etc/passwd.pdf", "..\\..\\boot.pdf", "/abs/path.pdf", "a\x00b.pdf"):
        r = client.post(
            "/api/v1/record-types/WO/records/with-files",
            data={
                "data": '{"title": "x", "values": {"customer": "x"}}',
                "files": [(io.BytesIO(files.pdf()), name)],
            },
            headers=headers,
            content_type="multipart/form-data",
        )
        if r.status_code == 201:  # the server's form parser already cut it to a base name
            stored = r.get_json()["attachments"][0]["filename"]
            assert "/" not in stored and "\\" not in stored, stored  # a plain name
        else:
            assert r.status_code == 422, (name, r.status_code)
    from docmgmt.records.models import RecordAttachment

    names = db.session.scalars(select(RecordAttachment.filename)).all()
    assert not [n for n in names if "/" in n or "\\" in n or n.startswith("../")]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    r = client.post(
        "/api/v1/record-types/WO/records/with-files",
        data={
            "data": '{"title": "x", "values": {"customer": "x"}}',
            "files": [(io.BytesIO(b"0" * 4096), "big.pdf")],
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert r.status_code == 413


def test_numbers_too_large_for_the_database_are_not_server_errors(client, people, token_for):
    headers = token_for(people["qm"])
    assert client.get(f"/api/v1/records/{2**80}", headers=headers).status_code == 404
    # beyond a 32-bit id column: not found on SQLite and on PostgreSQL alike
    for path in (f"/api/v1/documents/{2**63 - 2}", f"/api/v1/revisions/{2**31}/signatures"):
        r = client.get(path, headers=headers)
        assert r.status_code == 404, (path, r.status_code)
    r = client.post(
        "/api/v1/documents/1/links", json={"kind": "uses_form", "target_id": 2**80}, headers=headers
    )
    assert r.status_code in (404, 422)


def test_nul_characters_get_the_same_clear_refusal_on_every_database(
    client,
    auth,
    people,
    token_for,
    wo,  # noqa: F811
):
    """PostgreSQL cannot store U+0000 in text, SQLite can: the app refuses it everywhere so the
    same input gets the same answer on both, and nothing is stored."""
    from sqlalchemy import func

    from docmgmt.records.models import Record

    def records():
        return db.session.scalar(select(func.count()).select_from(Record))

    staff = token_for(people["staff"])
    before = records()
    body = {"title": "张先生\x00", "values": {"customer": "张\x00", "product": "空调"}}
    body["values"]["visit_date"] = "2026-03-05"
    r = client.post("/api/v1/record-types/WO/records", json=body, headers=staff)
    assert r.status_code == 422 and "NUL" in r.get_json()["message"]
    # the same inside the JSON part of a multipart filing (escaped as \u0000 in the JSON text)
    r = client.post(
        "/api/v1/record-types/WO/records/with-files",
        data={
            "data": '{"title": "a\\u0000b", "values": {"customer": "x", "product": "空调",'
            ' "visit_date": "2026-03-05"}}',
            "files": [(io.BytesIO(files.pdf()), "a.pdf")],
        },
        headers=staff,
        content_type="multipart/form-data",
    )
    assert r.status_code == 422, r.get_data(as_text=True)
    assert "NUL" in r.get_json()["message"]
    # an unpaired surrogate, which JSON can spell and no database can encode
    r = client.post(
        "/api/v1/record-types/WO/records",
        data='{"title": "a\\ud800b", "values": {"customer": "x", "product": "空调",'
        ' "visit_date": "2026-03-05"}}',
        content_type="application/json",
        headers=staff,
    )
    assert r.status_code == 422, r.get_data(as_text=True)
    assert "Unicode" in r.get_json()["message"]
    # a query string and a path part
    r = client.get("/api/v1/search", query_string={"q": "派工\x00"}, headers=staff)
    assert r.status_code == 422
    assert client.get("/api/v1/record-types/W%00O", headers=staff).status_code in (404, 422)
    # a web form
    auth.login("staff")
    r = client.post("/profile/tokens", data={"name": "my\x00token"})
    assert r.status_code == 422
    # a CSV import with a NUL byte in a cell: refused with the reason, nothing imported
    data = "工单号,客户,产品,上门日期\nT-1,张\x00先生,空调,2026-03-05\n".encode()
    r = client.post(
        "/api/v1/record-types/WO/imports",
        data={"file": (io.BytesIO(data), "export.csv")},
        headers=staff,
        content_type="multipart/form-data",
    )
    assert r.status_code == 422, r.get_data(as_text=True)
    assert records() == before


def test_control_characters_in_a_revision_do_not_break_its_word_and_pdf_exports(
    client, people, token_for, create_document
):
    """Found by fuzzing: a title or body holding a control character (which JSON may carry as
    \\u0001) made the Word export fail. Exports drop what Word files cannot hold."""
    import docx

    doc = create_document()
    qm = token_for(people["qm"])
    r = client.post(
        f"/api/v1/documents/{doc.id}/revisions",
        json={"title": "投诉\x01处理", "body_markdown": "# 目的\x07\n\n- 回访\x1b记录\n"},
        headers=qm,
    )
    assert r.status_code == 201, r.get_json()
    rev_id = r.get_json()["id"]
    r = client.get(f"/api/v1/revisions/{rev_id}/export.docx", headers=qm)
    assert r.status_code == 200
    d = docx.Document(io.BytesIO(r.data))
    text = "\n".join(p.text for p in d.paragraphs)
    assert "投诉处理" in text and "回访记录" in text and "目的" in text
    r.close()
    r = client.get(f"/api/v1/revisions/{rev_id}/print.pdf", headers=qm)
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    r.close()
