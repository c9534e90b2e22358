"""Search of training sessions and change requests with their attachments' text, on the
engine of the database (Whoosh on SQLite, PostgreSQL's own with TEST_DATABASE_URL): the hit
names the attachment whose text matched; a change request is found by those who may open it
(quality managers, auditors, administrators and the requester, within an auditor's
departments) and by nobody else, and never twice.

The attachments are PDFs with a text layer (read at once, no recognition needed)."""

from __future__ import annotations

from docmgmt.extensions import db
from tests.conftest import page_text
from tests.records.test_ocr import _text_pdf

SHEET = "真空泵抽气时间"  # only in the training sign-in sheet
LETTER = "室外机噪音扰民"  # only in the letter attached to the change request
REASON = "到达时间栏缺失"  # only in the request's reason


def _search(client, headers, q, **params):
    r = client.get(
        "/api/v1/search", query_string={"q": q, "per_page": 50, **params}, headers=headers
    )
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_a_training_sessions_attachments_text_finds_it_naming_the_file(
    app, client, auth, people, token_for, today
):
    from docmgmt import search
    from docmgmt.training import operations as tops

    session = tops.record_session(
        people["qm"],
        held_on=today,
        kind="classroom",
        topic="空调安装培训",
        trainer_name="陈立华",
        duration_minutes=60,
        attendees=[(people["staff"], "attended", None)],
    )
    tops.attach_to_session(people["qm"], session, "签到表.pdf", _text_pdf([f"签到：{SHEET}"]))
    db.session.commit()
    found = _search(client, token_for(people["qm"]), SHEET)
    assert [(h["kind"], h["title"], h["attachment"]) for h in found["hits"]] == [
        ("training", "空调安装培训", "签到表.pdf")
    ]
    assert f"<mark>{SHEET}</mark>" in found["hits"][0]["fragment_html"]
    assert found["hits"][0]["url"] == f"/training/sessions/{session.id}"
    # A word of the session itself names no file.
    [hit] = _search(client, token_for(people["auditor"]), "空调安装培训")["hits"]
    assert hit["attachment"] == ""
    assert _search(client, token_for(people["staff"]), SHEET)["total"] == 0
    auth.login("qm")
    text = page_text(client.get("/search/", query_string={"q": SHEET}))
    assert "In the attachment 签到表.pdf:" in text and "空调安装培训" in text
    auth.logout()
    assert search.check().ok


def test_a_change_request_is_found_by_who_may_open_it_and_nobody_else(
    app, client, auth, people, token_for, create_user, effective_doc
):
    from docmgmt import search
    from docmgmt.auth.models import Department
    from docmgmt.control import operations as cops

    dep, other_dep = Department(code="AS", name="售后服务部"), Department(code="ADM", name="行政部")
    db.session.add_all([dep, other_dep])
    db.session.commit()
    doc, _rev = effective_doc(title="派工单", department=dep)
    requester = people["staff"]
    cr = cops.create_request(
        requester, doc, reason=f"现场反映{REASON}", proposed_change="增加栏目", urgency="normal"
    )
    cops.attach_to_request(requester, cr, "客户来信.pdf", _text_pdf([f"来信：{LETTER}"]))
    db.session.commit()

    # Who finds it: the requester, quality managers, auditors (of its department), admins.
    limited = create_user("asaudit", ["auditor"], audit_departments=["AS"])
    for who in (requester, people["qm"], people["auditor"], people["admin"], limited):
        found = _search(client, token_for(who), LETTER)
        assert [(h["kind"], h["number"], h["attachment"]) for h in found["hits"]] == [
            ("change_request", cr.number, "客户来信.pdf")
        ], who.username
        assert found["hits"][0]["url"] == f"/change-requests/{cr.id}"
        assert found["total"] == 1 and found["facets"]["kind"] == {"change_request": 1}
        assert _search(client, token_for(who), REASON)["hits"][0]["attachment"] == ""
    # Who does not: other staff, approvers, an auditor limited to another department.
    outsider = create_user("adaudit", ["auditor"], audit_departments=["ADM"])
    for who in (create_user("staff2", ["staff"]), people["approver"], outsider):
        for q in (LETTER, REASON, cr.number):
            assert _search(client, token_for(who), q)["total"] == 0, (who.username, q)

    # A quality manager who asked for a change finds it once too.
    own = cops.create_request(
        people["qm"], doc, reason=f"自己提出{REASON}", proposed_change="改", urgency="low"
    )
    db.session.commit()
    found = _search(client, token_for(people["qm"]), REASON)
    assert sorted(h["number"] for h in found["hits"]) == sorted([cr.number, own.number])
    assert _search(client, token_for(requester), REASON)["total"] == 1  # not the QM's own

    # The decision changes its state in the index at once; the page shows it labelled.
    cops.reject_request(people["qm"], cr, "不改")
    db.session.commit()
    found = _search(client, token_for(requester), LETTER, state="rejected")
    assert [h["state"] for h in found["hits"]] == ["rejected"]
    auth.login("staff")
    client.post("/lang/zh_CN")
    text = page_text(client.get("/search/", query_string={"q": LETTER}))
    assert cr.number in text and "附件" in text and "更改申请" in text
    assert "change_request" not in text and "rejected" not in text
    auth.logout()
    assert search.check().ok


def test_a_document_moved_to_another_department_takes_its_requests_and_sessions_along(
    app, client, people, token_for, create_user, effective_doc
):
    """A change request and a training session are found within the department of their
    document: when the document moves (or is retitled) their entries follow at once, on either
    engine, so an auditor limited to the old department no longer finds them."""
    from docmgmt import search
    from docmgmt.auth.models import Department
    from docmgmt.control import operations as cops
    from docmgmt.training import operations as tops
    from docmgmt.versioning import documents

    dep, other_dep = Department(code="AS", name="售后服务部"), Department(code="ADM", name="行政部")
    db.session.add_all([dep, other_dep])
    db.session.commit()
    doc, rev = effective_doc(title="派工单", department=dep)
    cr = cops.create_request(
        people["staff"], doc, reason=f"现场反映{REASON}", proposed_change="改", urgency="normal"
    )
    worker = create_user("wang", ["staff"], department=dep)
    tops.record_session(
        people["qm"],
        held_on=rev.effective_date,
        kind="classroom",
        topic=f"{SHEET}讲解",
        trainer_name="李工",
        duration_minutes=60,
        revisions=[rev],
        attendees=[(worker, "attended", None)],
    )
    db.session.commit()
    as_auditor = create_user("asaudit", ["auditor"], audit_departments=["AS"])
    adm_auditor = create_user("adaudit", ["auditor"], audit_departments=["ADM"])
    assert _search(client, token_for(as_auditor), REASON)["total"] == 1
    assert _search(client, token_for(as_auditor), SHEET)["total"] == 1
    assert _search(client, token_for(adm_auditor), REASON)["total"] == 0

    documents.update_document(
        people["qm"], doc, title="服务派工单", department=other_dep, review_interval_months=12
    )
    db.session.commit()
    assert _search(client, token_for(as_auditor), REASON)["total"] == 0
    assert _search(client, token_for(as_auditor), SHEET)["total"] == 0
    [hit] = _search(client, token_for(adm_auditor), REASON)["hits"]
    assert hit["number"] == cr.number and "服务派工单" in hit["title"]
    # The session now touches two departments (the document's and its attendee's): found by
    # unlimited readers only.
    assert _search(client, token_for(adm_auditor), SHEET)["total"] == 0
    assert _search(client, token_for(people["auditor"]), SHEET)["total"] == 1
    assert search.check().ok
