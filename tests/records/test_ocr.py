"""Scanned service records through the app: an attachment's text is read as a job once it is
filed, shown on the record page and by the API, found by search (page and API, highlighted,
the attachment named), sampled and packed as evidence, and removed with the attachment on
disposal. A reading that fails says why and can be asked for again.

Few scans on purpose (each costs seconds): one clean 150 dpi work order; the failure and the
retry use a PDF with a text layer."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from docmgmt.extensions import db
from tests import scans
from tests.conftest import PASSWORD, page_text

MARKER = "蒸发器冰堵"  # written only on the scanned work order
LAYER_MARKER = "回访单号HF7Q"  # only on the second page of a PDF with text


@pytest.fixture
def wo(client, people, token_for):
    r = client.post(
        "/api/v1/record-types",
        json={
            "code": "WO",
            "name": "派工单",
            "retention_months": 36,
            "trigger": "filing",
            "disposal_method": "destroy",
            "fields": [{"name": "customer", "label": "客户", "kind": "text", "required": True}],
        },
        headers=token_for(people["qm"]),
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _file(client, headers, filename, data, title="陈女士 空调漏水"):
    r = client.post(
        "/api/v1/record-types/WO/records/with-files",
        data={
            "data": json.dumps({"title": title, "values": {"customer": "陈女士"}}),
            "files": [(io.BytesIO(data), filename)],
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _text_pdf(pages: list[str]) -> bytes:
    from reportlab.pdfgen import canvas

    from docmgmt.printing.fonts import cjk_font

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for line in pages:
        c.setFont(cjk_font(), 12)
        c.drawString(72, 760, line)
        c.drawString(72, 740, "售后服务客户回访记录，服务态度与维修质量")
        c.showPage()
    c.save()
    return buf.getvalue()


def _search_api(client, headers, q):
    r = client.get("/api/v1/search", query_string={"q": q}, headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_a_word_written_only_on_a_scan_finds_the_record_and_goes_with_it(
    app, client, auth, people, token_for, wo, today
):
    from docmgmt import storage
    from docmgmt.extract.models import AttachmentText
    from docmgmt.jobs.models import Job

    staff, qm = token_for(people["staff"]), token_for(people["qm"])
    s = scans.scan(dpi=150, seed=11, marker=MARKER)
    rec = _file(client, staff, s.filename, s.data)
    att = rec["attachments"][0]
    assert att["sha256"] == hashlib.sha256(s.data).hexdigest()
    # The job ran after the filing committed (immediate mode in tests): one job, done.
    job = db.session.scalar(select(Job).where(Job.key == f"ocr:record_attachment:{att['id']}:1"))
    assert job is not None and job.state == "done", job and job.message

    url = f"/api/v1/records/{rec['id']}/attachments/{att['id']}/text"
    got = client.get(url, headers=staff).get_json()
    assert got["state"] == "done" and got["method"] == "ocr" and got["engine"] == "rapidocr"
    assert MARKER in got["text"] and got["filename"] == s.filename
    # The searchable copy beside the original: the scan with its text, never in its place.
    pdf = client.get(got["searchable_pdf_url"], headers=staff)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert MARKER in "".join(PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text().split())
    pdf.close()
    again = client.get(f"/api/v1/records/{rec['id']}", headers=staff).get_json()
    assert again["content_hash"] == rec["content_hash"]  # covers only what was filed
    assert again["attachments"] == rec["attachments"]

    # Search, API: the record, highlighted, the attachment named.
    found = _search_api(client, staff, MARKER)
    assert [h["key"] for h in found["hits"]] == [f"rec:{rec['id']}"]
    hit = found["hits"][0]
    assert f"<mark>{MARKER}</mark>" in hit["fragment_html"]
    assert hit["attachment"] == s.filename
    # ... and the page.
    auth.login("staff")
    page = client.get("/search/", query_string={"q": MARKER})
    assert f"<mark>{MARKER}</mark>" in page.get_data(as_text=True)
    text = page_text(page)
    assert rec["number"] in text and f"In the attachment {s.filename}:" in text
    # The record page shows the text, its state and the searchable PDF.
    detail = client.get(f"/records/{rec['id']}")
    text = page_text(detail)
    assert "Recognised" in text and MARKER in text and "Searchable PDF" in text
    assert "Try recognition again" not in text
    auth.logout()

    # Sampled: the auditor sees the text with the record; the evidence pack carries it.
    auditor = token_for(people["auditor"])
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
    r = client.get(
        "/api/v1/certification/sample",
        query_string={"type": "WO", "size": 5, "seed": 1} | period,
        headers=auditor,
    )
    assert r.status_code == 200, r.get_json()
    [sampled] = r.get_json()["records"]
    assert MARKER in sampled["attachments"][0]["text"]
    auth.login("auditor")
    page = client.get(
        "/certification/sample",
        query_string={"type": wo["id"], "size": 5, "seed": 1} | period,
    )
    assert MARKER in page_text(page)
    auth.logout()
    r = client.post(
        "/api/v1/certification/packs",
        json=period | {"sample_type": "WO", "sample_size": 1},
        headers=auditor,
    )
    assert r.status_code == 201, r.get_json()
    z = client.get(
        f"/api/v1/certification/packs/{r.get_json()['id']}/evidence.zip", headers=auditor
    )
    archive = zipfile.ZipFile(io.BytesIO(z.data))
    z.close()
    names = archive.namelist()
    base = f"06-sample/{rec['number']}/"
    assert MARKER in archive.read(f"{base}{s.filename}.txt").decode()
    assert any(n.startswith(base) and n.endswith("(searchable).pdf") for n in names), names
    sample = json.loads(archive.read("06-sample/sample.json"))
    assert sample["records"][0]["attachments"][0]["text_state"] == "done"

    # Disposal takes the text and the searchable copy with the attachment.
    searchable = db.session.scalar(
        select(AttachmentText.searchable_sha256).where(AttachmentText.attachment_id == att["id"])
    )
    assert storage.exists(searchable)
    from docmgmt.records.models import Record

    db.session.get(Record, rec["id"]).dispose_after = today - timedelta(days=1)
    db.session.commit()
    r = client.post(
        "/api/v1/disposals",
        json={"record_ids": [rec["id"]], "reason": "期满", "approver_id": people["approver"].id},
        headers=qm,
    )
    assert r.status_code == 201, r.get_json()
    r = client.post(
        f"/api/v1/disposals/{r.get_json()['id']}/approve",
        json={"password": PASSWORD},
        headers=token_for(people["approver"]),
    )
    assert r.status_code == 200, r.get_json()
    assert not storage.exists(searchable) and not storage.exists(att["sha256"])
    assert db.session.scalar(select(func.count()).select_from(AttachmentText)) == 0
    assert client.get(url, headers=qm).status_code == 404
    assert _search_api(client, qm, MARKER)["total"] == 0


def test_a_failed_reading_says_why_and_the_filer_asks_again(
    app, client, auth, people, token_for, create_user, wo
):
    from docmgmt.jobs import operations as jobs
    from docmgmt.jobs.models import Job

    staff = token_for(people["staff"])
    app.config["OCR_MAX_PAGES"] = 1
    rec = _file(client, staff, "回访记录.pdf", _text_pdf(["客户回访记录", LAYER_MARKER]))
    att = rec["attachments"][0]
    url = f"/api/v1/records/{rec['id']}/attachments/{att['id']}/text"
    got = client.get(url, headers=staff).get_json()
    assert got["state"] == "failed" and got["text"] == ""
    assert got["reason"] == "The file has 2 pages; text is read from files of at most 1 pages."
    assert _search_api(client, staff, LAYER_MARKER)["total"] == 0
    auth.login("staff")
    text = page_text(client.get(f"/records/{rec['id']}"))
    assert "Recognition failed" in text and "at most 1 pages" in text
    assert "Try recognition again" in text
    auth.logout()

    # Somebody else of the staff may read the record but not ask again; nothing changes.
    other = create_user("staff2", ["staff"])
    r = client.post(f"{url}/retry", headers=token_for(other))
    assert r.status_code == 403 and "whoever filed the record" in r.get_json()["message"]
    assert db.session.scalar(select(func.count()).select_from(Job).where(Job.kind == "ocr")) == 1

    # The filer asks again on the page, once the limit allows it: read, and found.
    app.config["OCR_MAX_PAGES"] = 50
    auth.login("staff")
    r = client.post(
        f"/records/{rec['id']}/attachments/{att['id']}/retry-text", follow_redirects=True
    )
    text = page_text(r)
    assert "will be read again" in text and "Recognised" in text and LAYER_MARKER in text
    auth.logout()
    got = client.get(url, headers=staff).get_json()
    assert got["state"] == "done" and got["method"] == "layer" and got["tries"] == 2
    assert got["searchable_pdf_url"] is None  # a PDF with text keeps its own
    found = _search_api(client, staff, LAYER_MARKER)
    assert [h["attachment"] for h in found["hits"]] == ["回访记录.pdf"]
    # A reading that worked is not asked for again.
    r = client.post(f"{url}/retry", headers=staff)
    assert r.status_code == 409, r.get_json()

    # One job per try; running one again (a second message, a worker restarted) stores
    # nothing twice.
    keys = db.session.scalars(select(Job.key).where(Job.kind == "ocr").order_by(Job.id)).all()
    assert keys == [f"ocr:record_attachment:{att['id']}:{n}" for n in (1, 2)]
    second = db.session.scalar(select(Job).where(Job.key == keys[1]))
    assert jobs.execute(second.id) == "skipped"
    second.state = "queued"  # as if its message came again before its state was seen
    db.session.commit()
    assert jobs.execute(second.id) == "done"
    db.session.expire_all()
    assert client.get(url, headers=staff).get_json() == got


def _tiff(pages=2, size=(120, 80), **kw) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    frames = [Image.new("L", size, 255) for _ in range(pages)]
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], **kw)
    return buf.getvalue()


def _heic() -> bytes:
    from PIL import Image
    from pillow_heif import register_heif_opener

    register_heif_opener()
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(buf, "HEIF")
    return buf.getvalue()


def test_tiff_scans_and_heic_photos_are_accepted_when_they_are_what_they_say(
    app, client, people, token_for, wo
):
    from PIL import Image

    from docmgmt.records.models import Record
    from tests import files

    staff = token_for(people["staff"])
    for name, data, kind in (
        ("两页扫描.tiff", _tiff(), "image/tiff"),
        ("铭牌.heic", _heic(), "image/heic"),
    ):
        rec = _file(client, staff, name, data)
        att = rec["attachments"][0]
        r = client.get(f"/api/v1/records/{rec['id']}/attachments/{att['id']}", headers=staff)
        assert r.status_code == 200 and r.mimetype == kind and r.data == data
        r.close()
        got = client.get(
            f"/api/v1/records/{rec['id']}/attachments/{att['id']}/text", headers=staff
        ).get_json()
        assert got["state"] == "done" and got["method"] == "ocr", got
    assert got["pages"] == 1
    filed = db.session.scalar(select(func.count()).select_from(Record))

    big = io.BytesIO()
    Image.new("1", (10_000, 6_000), 1).save(big, "TIFF", compression="group4")  # 60 MP, 4 KB
    truncated = _tiff()[:-60]
    for name, data, words in (
        ("bomb.tif", big.getvalue(), "larger than 50 megapixels"),
        ("scan.tif", truncated, "cannot be decoded"),
        ("scan.tiff", files.png(), "is not a TIFF image: its content is a PNG image"),
        ("photo.heic", _tiff(1), "is not a HEIC photo: its content is a TIFF image"),
        ("photo.heic", _heic()[:200], "cannot be decoded"),
    ):
        r = client.post(
            "/api/v1/record-types/WO/records/with-files",
            data={
                "data": json.dumps({"title": "x", "values": {"customer": "x"}}),
                "files": [(io.BytesIO(data), name)],
            },
            headers=staff,
            content_type="multipart/form-data",
        )
        assert r.status_code == 422, (name, r.get_json())
        assert name in r.get_json()["message"] and words in r.get_json()["message"], (
            name,
            r.get_json(),
        )
    assert db.session.scalar(select(func.count()).select_from(Record)) == filed


def test_change_request_and_training_attachments_are_read_too(
    client, people, token_for, effective_doc, today
):
    from docmgmt.extract.models import AttachmentText

    doc, _rev = effective_doc()
    staff, qm = token_for(people["staff"]), token_for(people["qm"])
    r = client.post(
        f"/api/v1/documents/{doc.id}/change-requests",
        json={"reason": "表格改版", "proposed_change": "增加签字栏"},
        headers=staff,
    )
    cr_id = r.get_json()["id"]
    r = client.post(
        f"/api/v1/change-requests/{cr_id}/attachments",
        data={"file": (io.BytesIO(_text_pdf(["客户来信：派工单缺少到达时间"])), "来信.pdf")},
        headers=staff,
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
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
        headers=qm,
    )
    session_id = r.get_json()["id"]
    r = client.post(
        f"/api/v1/training/sessions/{session_id}/attachments",
        data={"file": (io.BytesIO(_text_pdf(["培训签到表：报修流程"])), "签到表.pdf")},
        headers=qm,
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    rows = db.session.scalars(select(AttachmentText).order_by(AttachmentText.id)).all()
    assert [(t.attachment_table, t.owner_id, t.state) for t in rows] == [
        ("change_request_attachment", cr_id, "done"),
        ("training_attachment", session_id, "done"),
    ]
    assert "派工单缺少到达时间" in rows[0].text and "报修流程" in rows[1].text


def test_attachments_filed_before_recognition_are_read_once_by_the_command(
    runner, people, token_for, wo, client
):
    from docmgmt.extract.models import AttachmentText
    from docmgmt.jobs.models import Job

    staff = token_for(people["staff"])
    rec = _file(client, staff, "旧记录.pdf", _text_pdf(["旧派工单：压缩机异响"]))
    # as if filed before this version: no text, no job
    db.session.execute(AttachmentText.__table__.delete())
    db.session.execute(Job.__table__.delete())
    db.session.commit()
    out = runner.invoke(args=["jobs", "read-attachments"])
    assert out.exit_code == 0 and "1 attachment(s) to read" in out.output, out.output
    got = client.get(
        f"/api/v1/records/{rec['id']}/attachments/{rec['attachments'][0]['id']}/text",
        headers=staff,
    ).get_json()
    assert got["state"] == "done" and "压缩机异响" in got["text"]
    out = runner.invoke(args=["jobs", "read-attachments"])
    assert "0 attachment(s) to read" in out.output
