"""Mail people can act on (issue 23): each notice in the recipient's language, with a link to
what it is about, Date and Message-ID headers, per-person choices, and the events that mail.
Every test goes through a real SMTP server on localhost (aiosmtpd)."""

import email
import socket
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import select

from docmgmt.extensions import db
from tests.conftest import PASSWORD

BASE = "https://docs.example.com"


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, msg))
        return "250 OK"

    def to(self, address):
        return [m for rcpt, m in self.messages if address in rcpt]

    def subjects(self, address):
        return [str(m["Subject"]) for m in self.to(address)]

    def clear(self):
        self.messages.clear()


@pytest.fixture
def mailbox(app, people):
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, BASE_URL=BASE)
    for name, person in people.items():
        person.email = f"{name}@example.com"
    db.session.commit()
    yield box
    controller.stop()


def body(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def test_a_mail_is_in_the_recipients_language_links_to_its_page_and_has_date_and_id(
    client, auth, people, effective_doc, mailbox
):
    from docmgmt.control import operations as ops

    people["staff"].locale = "zh_CN"  # the technician reads Chinese
    people["qm"].locale = "en"  # the quality manager works in English
    db.session.commit()
    doc, _a0 = effective_doc()
    mailbox.clear()
    cr = ops.create_request(
        people["staff"],
        doc,
        reason="派工单缺少到场时间",
        proposed_change="增加一栏",
        urgency="high",
    )
    db.session.commit()
    # The QM hears of it in English, with the reason, the urgency and the link.
    [to_qm] = mailbox.to("qm@example.com")
    text = body(to_qm)
    assert "asks for a change" in text and "派工单缺少到场时间" in text
    assert "Urgency: Urgent" in text and "增加一栏" in text
    assert f"{BASE}/change-requests/{cr.id}" in text
    assert to_qm["Date"] and to_qm["Message-ID"]
    mailbox.clear()
    auth.login("qm")
    client.post("/lang/en")
    client.post(f"/change-requests/{cr.id}/reject", data={"comment": "现行规定已覆盖"})
    [to_staff] = mailbox.to("staff@example.com")
    assert "未获接受" in str(to_staff["Subject"])
    text = body(to_staff)
    assert "现行规定已覆盖" in text and "rejected" not in text
    assert f"{BASE}/change-requests/{cr.id}" in text
    assert to_staff["Date"] and to_staff["Message-ID"] != to_qm["Message-ID"]


def test_without_the_base_url_a_mail_names_the_page_and_says_it_has_no_link(
    app, people, effective_doc, mailbox
):
    from docmgmt.control import operations as ops

    app.config["BASE_URL"] = ""
    doc, _a0 = effective_doc()
    mailbox.clear()
    cr = ops.create_request(people["staff"], doc, reason="r", proposed_change="p")
    db.session.commit()
    text = body(mailbox.to("qm@example.com")[0])
    assert f"/change-requests/{cr.id}" in text and "DOCMGMT_BASE_URL" in text
    assert "https://" not in text


def test_the_quality_manager_is_not_mailed_about_their_own_request(
    people, create_user, effective_doc, mailbox
):
    from docmgmt.control import operations as ops

    other = create_user("qm2", ["quality_manager"], "王芳", email="qm2@example.com")
    doc, _a0 = effective_doc()
    mailbox.clear()
    ops.create_request(people["qm"], doc, reason="r", proposed_change="p")
    db.session.commit()
    assert mailbox.to("qm@example.com") == []
    assert len(mailbox.to(other.email)) == 1


def test_rejection_approval_publication_and_training_each_mail_who_must_act(
    client, auth, people, create_user, create_document, draft_of, effective_doc, mailbox, today
):
    from docmgmt.control import operations as ops
    from docmgmt.training import operations as tops
    from docmgmt.versioning import publishing, signing

    requester = create_user("tech", ["staff"], "孙强", email="tech@example.com")
    doc, a0 = effective_doc()
    a0.effective_date = today - timedelta(days=10)
    tops.set_requirement(people["qm"], doc, "role", "staff", 7)
    cr = ops.create_request(requester, doc, reason="r", proposed_change="增加到场时间")
    draft = ops.accept_request(people["qm"], cr)
    db.session.commit()
    mailbox.clear()
    signing.submit_for_review(
        people["qm"],
        draft,
        reviewer=people["reviewer"],
        approver=people["approver"],
        password=PASSWORD,
    )
    db.session.commit()
    assert mailbox.subjects("reviewer@example.com") == [
        f"[示例电器服务有限公司] Please review {doc.number} A1"
    ]
    # The reviewer rejects: the preparer hears why.
    auth.login("reviewer")
    client.post(f"/documents/{doc.id}/revisions/{draft.id}/reject", data={"comment": "第3条不清楚"})
    auth.logout()
    [rejected] = mailbox.to("qm@example.com")
    assert "was rejected" in str(rejected["Subject"]) and "第3条不清楚" in body(rejected)
    assert f"{BASE}/documents/{doc.id}/revisions/{draft.id}" in body(rejected)
    mailbox.clear()
    # Approved: the quality manager is told it is ready to publish.
    signing.submit_for_review(
        people["qm"],
        draft,
        reviewer=people["reviewer"],
        approver=people["approver"],
        password=PASSWORD,
    )
    signing.sign_revision(people["reviewer"], draft, "reviewed", PASSWORD)
    signing.sign_revision(people["approver"], draft, "approved", PASSWORD)
    db.session.commit()
    assert any("is approved" in s for s in mailbox.subjects("qm@example.com"))
    assert "ready to be published" in body(mailbox.to("qm@example.com")[-1])
    mailbox.clear()
    # Published at once: the requester hears of it; the staff the matrix names get their
    # training task (one mail each, not two).
    publishing.publish_revision(people["qm"], draft, today)
    db.session.commit()
    # (the requester is staff too: their own training task comes as well)
    [published] = [m for m in mailbox.to("tech@example.com") if "is published" in m["Subject"]]
    assert "增加到场时间" in body(published)
    assert f"{BASE}/documents/{doc.id}/revisions/{draft.id}" in body(published)
    [training] = mailbox.to("staff@example.com")
    assert "Training: read" in str(training["Subject"])
    assert f"{BASE}/training/tasks/" in body(training)
    assert mailbox.to("qm@example.com") == []  # they published it themselves


def test_a_withdrawal_tells_the_staff_concerned_and_the_proposer_what_was_withdrawn(
    people, effective_doc, mailbox
):
    from docmgmt.control import operations as ops
    from docmgmt.training import operations as tops

    doc, a0 = effective_doc(title="旧的派工程序")
    tops.set_requirement(people["qm"], doc, "role", "staff", 7)
    db.session.commit()
    mailbox.clear()
    wd = ops.propose_withdrawal(people["qm"], doc, "并入新程序", people["approver"])
    db.session.commit()
    assert len(mailbox.to("approver@example.com")) == 1
    ops.decide_withdrawal(people["approver"], wd, approve=True, password=PASSWORD, comment="同意")
    db.session.commit()
    [to_qm] = mailbox.to("qm@example.com")
    text = body(to_qm)
    assert doc.number in text and "旧的派工程序" in text and "A0" in text
    assert "并入新程序" in text and "同意" in text and "obsolete" in text
    [to_staff] = mailbox.to("staff@example.com")
    assert "withdrawn" in str(to_staff["Subject"]) and "do not use it" in body(to_staff)
    assert f"{BASE}/documents/" in body(to_staff)


def test_each_person_chooses_which_mails_they_get_except_signature_requests(
    client, auth, people, token_for, effective_doc, mailbox
):
    from docmgmt.control import operations as ops

    headers = token_for(people["staff"])
    r = client.get("/api/v1/me/notifications", headers=headers)
    choices = {n["event"]: n["delivery"] for n in r.get_json()["notifications"]}
    assert choices["request_decided"] == "now" and choices["signature"] == "now"
    r = client.put(
        "/api/v1/me/notifications", headers=headers, json={"notifications": {"signature": "off"}}
    )
    assert r.status_code == 422 and "always mailed" in r.get_json()["message"]
    r = client.put(
        "/api/v1/me/notifications", headers=headers, json={"notifications": {"nonsense": "off"}}
    )
    assert r.status_code == 422
    # The profile page offers the same choice.
    auth.login("staff")
    assert "Save mail settings" in client.get("/profile").get_data(as_text=True)
    client.post("/profile/notifications", data={"request_decided": "off"})
    auth.logout()
    r = client.get("/api/v1/me/notifications", headers=headers)
    choices = {n["event"]: n["delivery"] for n in r.get_json()["notifications"]}
    assert choices["request_decided"] == "off"
    doc, _a0 = effective_doc()
    cr = ops.create_request(people["staff"], doc, reason="r", proposed_change="p")
    db.session.commit()
    mailbox.clear()
    ops.reject_request(people["qm"], cr, "不需要")
    db.session.commit()
    assert mailbox.to("staff@example.com") == []
    # Turned back on through the API, the next decision is mailed.
    r = client.put(
        "/api/v1/me/notifications",
        headers=headers,
        json={"notifications": {"request_decided": "now"}},
    )
    assert r.status_code == 200
    cr2 = ops.create_request(people["staff"], doc, reason="r2", proposed_change="p2")
    ops.reject_request(people["qm"], cr2, "仍不需要")
    db.session.commit()
    assert len(mailbox.to("staff@example.com")) == 1


def test_the_daily_run_announces_reviews_and_audits_coming_due_once(
    runner, people, effective_doc, mailbox, today
):
    from docmgmt.certification import operations as cops
    from docmgmt.notify import NoticeSent

    people["qm"].locale = "zh_CN"
    doc, a0 = effective_doc()
    # In force for almost a year: the yearly review is due in about two weeks.
    a0.effective_date = today - timedelta(days=350)
    cert = cops.create_certificate(
        people["qm"],
        number="C-7",
        body="认证中心",
        issued_on=today - timedelta(days=700),
        expires_on=today + timedelta(days=400),
    )
    cops.record_audit(people["qm"], cert, held_on=today - timedelta(days=320), kind="surveillance")
    db.session.commit()
    mailbox.clear()
    result = runner.invoke(args=["notify", "daily"])
    assert result.exit_code == 0, result.output
    assert "review notices: 1, audit notices: 1" in result.output
    subjects = mailbox.subjects("qm@example.com")
    assert any(f"{doc.number} 的定期评审" in s for s in subjects)  # in the QM's language
    assert any("监督审核将于" in s for s in subjects)
    texts = [body(m) for m in mailbox.to("qm@example.com")]
    assert any(f"{BASE}/documents/{doc.id}" in t for t in texts)
    assert any(f"{BASE}/certification/" in t for t in texts)
    assert mailbox.to("staff@example.com") == []
    mailbox.clear()
    result = runner.invoke(args=["notify", "daily"])
    assert "review notices: 0, audit notices: 0" in result.output
    assert mailbox.messages == []
    assert len(db.session.scalars(select(NoticeSent)).all()) == 2
