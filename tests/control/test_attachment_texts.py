"""The text read from change-request and training-session attachments, shown and served as for
records: the page (state, engine by name, text, searchable PDF, retry for who may ask), the
API routes (…/attachments/<id>/text, …/searchable.pdf, …/text/retry) under the attachment's own
access rules, and a failure reason said in the reader's language, whatever the worker spoke.

One small scan per owner (each costs a second or two); failures use a two-page PDF with text
and a page limit of one."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from docmgmt.extensions import db
from tests import scans
from tests.conftest import page_text
from tests.records.test_ocr import _text_pdf

CR_MARKER = "冷凝器结霜"  # written only on the photo attached to the change request
TR_MARKER = "冷媒回收规范"  # only on the training sign-in sheet


def _upload(client, url, headers, name, data):
    r = client.post(
        url,
        data={"file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _request(client, headers, doc):
    r = client.post(
        f"/api/v1/documents/{doc.id}/change-requests",
        json={"reason": "派工单缺少到达时间", "proposed_change": "增加到达时间栏"},
        headers=headers,
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_change_request_shows_and_serves_its_attachments_text(
    app, client, auth, people, token_for, create_user, effective_doc
):
    doc, _rev = effective_doc()
    staff, qm = token_for(people["staff"]), token_for(people["qm"])
    cr = _request(client, staff, doc)
    base = f"/api/v1/change-requests/{cr['id']}/attachments"
    photo = _upload(client, base, staff, "现场照片.png", scans.note(f"现场：{CR_MARKER}"))
    app.config["OCR_MAX_PAGES"] = 1
    letter = _upload(client, base, staff, "客户来信.pdf", _text_pdf(["客户来信", "第二页"]))
    app.config["OCR_MAX_PAGES"] = 50

    # API: the text, the engine by code and by name, the searchable copy of the scan.
    assert photo["text_url"] == f"{base}/{photo['id']}/text"
    got = client.get(photo["text_url"], headers=staff).get_json()
    assert got["state"] == "done" and CR_MARKER in got["text"]
    assert (got["engine"], got["engine_name"], got["method"]) == ("rapidocr", "RapidOCR", "ocr")
    pdf = client.get(got["searchable_pdf_url"], headers=staff)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert CR_MARKER in "".join(PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text().split())
    pdf.close()
    failed = client.get(f"{base}/{letter['id']}/text", headers=staff).get_json()
    assert failed["state"] == "failed" and failed["reason_code"] == "too_many_pages"
    assert failed["reason"].startswith("The file has 2 pages")
    assert failed["searchable_pdf_url"] is None
    assert client.get(f"{base}/{letter['id']}/searchable.pdf", headers=staff).status_code == 404

    # Same access as the attachment: the auditor reads it, another member of staff does not
    # see the request at all, nor its text.
    auditor = token_for(people["auditor"])
    assert client.get(photo["text_url"], headers=auditor).get_json()["text"] == got["text"]
    other = token_for(create_user("staff2", ["staff"]))
    for url in (photo["text_url"], got["searchable_pdf_url"]):
        assert client.get(url, headers=other).status_code == 404, url
    r = client.post(f"{base}/{letter['id']}/text/retry", headers=other)
    assert r.status_code == 404
    # The auditor reads but changes nothing (the policy table).
    assert client.post(f"{base}/{letter['id']}/text/retry", headers=auditor).status_code == 403

    # The page: state, engine by name, the text, the searchable PDF, the failure and retry.
    auth.login("staff")
    page = client.get(f"/change-requests/{cr['id']}")
    text = page_text(page)
    assert "Recognised" in text and "read by RapidOCR" in text and CR_MARKER in text
    assert "rapidocr" not in text
    assert "Searchable PDF" in text and "Recognition failed" in text
    assert "at most 1 pages" in text and "Try recognition again" in text
    html = page.get_data(as_text=True)
    web_pdf = f"/change-requests/{cr['id']}/attachments/{photo['id']}/searchable.pdf"
    assert web_pdf in html
    r = client.get(web_pdf)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    r.close()
    # The requester asks again on the page, while the request is open: read this time.
    r = client.post(
        f"/change-requests/{cr['id']}/attachments/{letter['id']}/retry-text",
        follow_redirects=True,
    )
    text = page_text(r)
    assert "will be read again" in text and "第二页" in text
    auth.logout()
    again = client.get(f"{base}/{letter['id']}/text", headers=staff).get_json()
    assert again["state"] == "done" and again["tries"] == 2 and again["reason"] == ""

    # Once the request is decided, only a quality manager may ask again.
    from docmgmt.extract.models import FAILED, AttachmentText

    row = db.session.scalar(
        select(AttachmentText).where(AttachmentText.attachment_id == letter["id"])
    )
    row.state, row.reason_code, row.reason_params = FAILED, "stopped", None
    db.session.commit()
    r = client.post(
        f"/api/v1/change-requests/{cr['id']}/reject", json={"comment": "不改"}, headers=qm
    )
    assert r.status_code == 200, r.get_json()
    r = client.post(f"{base}/{letter['id']}/text/retry", headers=staff)
    assert r.status_code == 403 and "already decided" in r.get_json()["message"]
    auth.login("staff")
    assert "Try recognition again" not in page_text(client.get(f"/change-requests/{cr['id']}"))
    auth.logout()
    r = client.post(f"{base}/{letter['id']}/text/retry", headers=qm)
    assert r.status_code == 202 and r.get_json()["tries"] == 3, r.get_json()
    assert client.get(f"{base}/{letter['id']}/text", headers=qm).get_json()["state"] == "done"


def test_a_training_session_shows_and_serves_its_attachments_text(
    app, client, auth, people, token_for, today
):
    qm, auditor = token_for(people["qm"]), token_for(people["auditor"])
    r = client.post(
        "/api/v1/training/sessions",
        json={
            "held_on": today.isoformat(),
            "kind": "classroom",
            "topic": "冷媒回收培训",
            "trainer_name": "陈立华",
            "duration_minutes": 60,
            "attendees": [{"user_id": people["staff"].id, "result": "attended"}],
        },
        headers=qm,
    )
    sid = r.get_json()["id"]
    base = f"/api/v1/training/sessions/{sid}/attachments"
    _upload(client, base, qm, "签到表.png", scans.note(f"签到：{TR_MARKER}"))
    app.config["OCR_MAX_PAGES"] = 1
    session = _upload(client, base, qm, "讲义.pdf", _text_pdf(["讲义", "第二页"]))
    app.config["OCR_MAX_PAGES"] = 50
    sheet, handout = session["attachments"]
    assert sheet["text_url"] == f"{base}/{sheet['id']}/text"

    got = client.get(sheet["text_url"], headers=auditor).get_json()
    assert got["state"] == "done" and TR_MARKER in got["text"] and got["engine_name"] == "RapidOCR"
    pdf = client.get(got["searchable_pdf_url"], headers=auditor)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    pdf.close()
    # Training is read by quality managers and auditors only, like the session itself.
    staff = token_for(people["staff"])
    assert client.get(sheet["text_url"], headers=staff).status_code == 403
    # An attachment of another session is not found under this one.
    assert (
        client.get(
            f"/api/v1/training/sessions/{sid + 1}/attachments/{sheet['id']}/text", headers=qm
        ).status_code
        == 404
    )

    # The auditor sees the text and the failure, without the retry button.
    auth.login("auditor")
    text = page_text(client.get(f"/training/sessions/{sid}"))
    assert TR_MARKER in text and "read by RapidOCR" in text and "Searchable PDF" in text
    assert "Recognition failed" in text and "Try recognition again" not in text
    r = client.post(f"/training/attachments/{handout['id']}/retry-text")
    assert r.status_code == 403
    auth.logout()
    # The quality manager asks again (page), once the limit allows it.
    auth.login("qm")
    assert "Try recognition again" in page_text(client.get(f"/training/sessions/{sid}"))
    r = client.post(f"/training/attachments/{handout['id']}/retry-text", follow_redirects=True)
    assert "will be read again" in page_text(r) and "第二页" in page_text(r)
    auth.logout()
    assert client.get(f"{base}/{handout['id']}/text", headers=qm).get_json()["tries"] == 2


def test_why_no_text_was_read_is_said_in_the_readers_language(
    app, client, auth, people, token_for, effective_doc
):
    """The worker spoke English (the test default); the Chinese reader reads Chinese. A row
    from before codes keeps its stored words."""
    from docmgmt.extract.models import AttachmentText

    doc, _rev = effective_doc()
    staff = token_for(people["staff"])
    cr = _request(client, staff, doc)
    base = f"/api/v1/change-requests/{cr['id']}/attachments"
    app.config["OCR_MAX_PAGES"] = 1
    a = _upload(client, base, staff, "来信.pdf", _text_pdf(["来信", "第二页"]))
    b = _upload(client, base, staff, "旧扫描.pdf", _text_pdf(["旧", "第二页"]))
    rows = {
        t.attachment_id: t
        for t in db.session.scalars(select(AttachmentText).order_by(AttachmentText.id))
    }
    assert rows[a["id"]].reason_code == "too_many_pages"
    assert rows[a["id"]].reason_params == {"pages": 2, "max": 1}
    assert rows[a["id"]].reason.startswith("The file has 2 pages")  # the worker's words too
    old = rows[b["id"]]
    old.reason_code, old.reason_params, old.reason = "", None, "旧版本记下的原因"
    db.session.commit()

    auth.login("staff")
    client.post("/lang/zh_CN")
    text = page_text(client.get(f"/change-requests/{cr['id']}"))
    assert "文件共 2 页；只读取不超过 1 页的文件中的文字。" in text
    assert "The file has" not in text and "旧版本记下的原因" in text
    client.post("/lang/en")
    text = page_text(client.get(f"/change-requests/{cr['id']}"))
    assert "The file has 2 pages; text is read from files of at most 1 pages." in text
    auth.logout()
