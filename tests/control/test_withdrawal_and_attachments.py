"""Withdrawal needs an approver's signature; change requests keep their attachments."""

import hashlib
from io import BytesIO

from sqlalchemy import func, select

from docmgmt.control.models import ChangeRequestAttachment, Withdrawal, WithdrawalState
from docmgmt.extensions import db
from docmgmt.versioning.models import Document, RevisionState
from tests import files
from tests.conftest import PASSWORD, page_text


def _doc(doc_id):
    db.session.expire_all()
    return db.session.get(Document, doc_id)


def test_withdrawal_waits_for_the_named_approver_and_needs_their_password(
    client, auth, people, effective_doc
):
    doc, a0 = effective_doc()
    auth.login("qm")
    r = client.post(
        f"/documents/{doc.id}/withdraw",
        data={"reason": "业务合并，不再适用", "approver_id": people["approver"].id},
        follow_redirects=True,
    )
    assert "陈静" in page_text(r)
    wd = db.session.scalar(select(Withdrawal))
    assert wd.state == WithdrawalState.PENDING and not _doc(doc.id).is_obsolete
    # A second proposal while one waits is refused.
    r = client.post(
        f"/documents/{doc.id}/withdraw",
        data={"reason": "again", "approver_id": people["reviewer"].id},
        follow_redirects=True,
    )
    assert "already waits" in page_text(r)
    assert db.session.scalar(select(func.count()).select_from(Withdrawal)) == 1
    auth.logout()

    # Another approver may not decide it; the named one with a wrong password signs nothing.
    auth.login("reviewer")
    client.post(f"/documents/withdrawals/{wd.id}/approve", data={"password": PASSWORD})
    assert not _doc(doc.id).is_obsolete
    auth.logout()
    auth.login("approver")
    assert "业务合并" in page_text(client.get("/"))  # in their inbox
    r = client.post(
        f"/documents/withdrawals/{wd.id}/approve",
        data={"password": "wrong-password"},
        follow_redirects=True,
    )
    assert "password is wrong" in page_text(r) and not _doc(doc.id).is_obsolete
    client.post(f"/documents/withdrawals/{wd.id}/approve", data={"password": PASSWORD})
    doc = _doc(doc.id)
    assert doc.is_obsolete and doc.obsolete_reason == "业务合并，不再适用"
    assert db.session.get(type(a0), a0.id).state == RevisionState.OBSOLETE


def test_withdrawal_through_the_api_and_rejection_needs_a_reason(
    client, people, effective_doc, token_for
):
    doc, _a0 = effective_doc()
    qm, approver = token_for(people["qm"]), token_for(people["approver"])
    r = client.post(
        f"/api/v1/documents/{doc.id}/withdraw",
        headers=qm,
        json={"reason": "停用", "approver_id": people["qm"].id},
    )
    assert r.status_code == 422 and r.get_json()["field"] == "approver_id"
    r = client.post(
        f"/api/v1/documents/{doc.id}/withdraw",
        headers=qm,
        json={"reason": "停用", "approver_id": people["approver"].id},
    )
    assert r.status_code == 201 and r.get_json()["state"] == "pending"
    wd_id = r.get_json()["id"]
    mine = client.get("/api/v1/withdrawals?state=pending", headers=approver).get_json()
    assert [w["id"] for w in mine] == [wd_id]
    r = client.post(
        f"/api/v1/withdrawals/{wd_id}/reject", headers=approver, json={"password": PASSWORD}
    )
    assert r.status_code == 422 and r.get_json()["field"] == "comment"
    r = client.post(
        f"/api/v1/withdrawals/{wd_id}/reject",
        headers=approver,
        json={"password": PASSWORD, "comment": "仍在使用"},
    )
    assert r.status_code == 200 and r.get_json()["state"] == "rejected"
    assert not _doc(doc.id).is_obsolete
    # The quality manager cannot approve it themselves.
    r = client.post(f"/api/v1/withdrawals/{wd_id}/approve", headers=qm, json={"password": PASSWORD})
    assert r.status_code in (403, 409)


def test_a_change_request_keeps_its_attachments_byte_for_byte(
    app, client, auth, people, effective_doc
):
    doc, _ = effective_doc()
    auth.login("staff")
    pdf = files.pdf("现场照片")
    r = client.post(
        f"/documents/{doc.id}/change-requests/new",
        data={
            "reason": "派工单缺少到达时间",
            "proposed_change": "增加到达时间栏",
            "urgency": "normal",
            "attachments": [(BytesIO(pdf), "现场照片.pdf"), (BytesIO(b"note"), "说明.txt")],
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 303
    atts = db.session.scalars(select(ChangeRequestAttachment)).all()
    assert [a.filename for a in atts] == ["现场照片.pdf", "说明.txt"]
    assert atts[0].sha256 == hashlib.sha256(pdf).hexdigest()
    page = client.get(f"/change-requests/{atts[0].change_request_id}")
    assert "现场照片.pdf" in page_text(page)
    with client.get(
        f"/change-requests/{atts[0].change_request_id}/attachments/{atts[0].id}"
    ) as got:
        assert got.data == pdf


def test_a_refused_attachment_leaves_no_request_and_no_file(
    app, client, auth, people, effective_doc
):
    from pathlib import Path

    from docmgmt.control.models import ChangeRequest

    doc, _ = effective_doc()
    auth.login("staff")
    storage = Path(app.config["STORAGE_DIR"])
    before = sorted(storage.rglob("*"))
    r = client.post(
        f"/documents/{doc.id}/change-requests/new",
        data={
            "reason": "r",
            "proposed_change": "p",
            "urgency": "normal",
            "attachments": [(BytesIO(b"good"), "ok.txt"), (BytesIO(b"MZ..."), "tool.exe")],
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and ".exe" in page_text(r)
    assert db.session.scalar(select(func.count()).select_from(ChangeRequest)) == 0
    assert [p for p in sorted(storage.rglob("*")) if p.is_file()] == [
        p for p in before if p.is_file()
    ]


def test_attachments_through_the_api(client, people, effective_doc, token_for):
    doc, _ = effective_doc()
    staff = token_for(people["staff"])
    cr = client.post(
        f"/api/v1/documents/{doc.id}/change-requests",
        headers=staff,
        json={"reason": "r", "proposed_change": "p"},
    ).get_json()
    r = client.post(
        f"/api/v1/change-requests/{cr['id']}/attachments",
        headers=staff,
        data={"file": (BytesIO(b"x" * 10), "../../etc/passwd.txt")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and "plain file name" in r.get_json()["message"]
    r = client.post(
        f"/api/v1/change-requests/{cr['id']}/attachments",
        headers=staff,
        data={"file": (BytesIO(b"hello"), "note.txt")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201
    body = r.get_json()
    assert body["sha256"] == hashlib.sha256(b"hello").hexdigest()
    with client.get(body["download_url"], headers=staff) as got:
        assert got.data == b"hello"
    listed = client.get(f"/api/v1/change-requests/{cr['id']}/attachments", headers=staff)
    assert [a["filename"] for a in listed.get_json()] == ["note.txt"]
