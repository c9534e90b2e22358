"""Document control in detail (issue 23): what staff are shown, what is never cut, the desk,
the refusals, the surveillance schedule and the register."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from docmgmt.control.models import ChangeRequest, PeriodicReview
from docmgmt.extensions import db
from docmgmt.versioning.models import Revision, RevisionState
from tests.conftest import PASSWORD, page_text


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_staff_see_related_documents_on_the_reading_page_with_the_version_in_force(
    client, auth, people, effective_doc, create_document
):
    from docmgmt.control import operations as ops

    proc, a0 = effective_doc(title="报修控制程序")
    form, form_a0 = effective_doc(title="派工单", doc_type="record_form")
    draft_only = create_document(title="尚未发布的标准", doc_type="procedure")
    ops.add_link(people["qm"], proc, form, "uses_form")
    ops.add_link(people["qm"], proc, draft_only, "refers_to")
    db.session.commit()
    auth.login("staff")
    r = client.get(f"/documents/{proc.id}/revisions/{a0.id}")
    html = r.get_data(as_text=True)
    text = page_text(r)
    assert "Related documents" in text
    assert form.number in text and "in force: A0" in text
    # The link opens the version in force directly: staff cannot open the document page.
    assert f'href="/documents/{form.id}/revisions/{form_a0.id}"' in html
    assert client.get(f"/documents/{form.id}/revisions/{form_a0.id}").status_code == 200
    # A document with nothing in force is not offered to staff (they could not open it).
    assert draft_only.number not in text
    auth.logout()
    auth.login("qm")
    text = page_text(client.get(f"/documents/{proc.id}/revisions/{a0.id}"))
    assert draft_only.number in text and "no version in force" in text


def test_every_accepted_request_stays_in_the_revision_record_uncut(
    client, auth, people, token_for, effective_doc, approve, today
):
    import io
    import re

    import docx
    from pypdf import PdfReader

    from docmgmt.control import operations as ops
    from docmgmt.versioning import publishing

    doc, a0 = effective_doc()
    a0.effective_date = today - timedelta(days=30)  # so the next one can take effect today
    db.session.commit()
    requests = [
        ops.create_request(people["staff"], doc, reason=f"原因{n}", proposed_change=f"修改{n}")
        for n in range(4)
    ]
    db.session.commit()
    auth.login("qm")
    for cr in requests:
        assert client.post(f"/change-requests/{cr.id}/accept", data={}).status_code == 303
    auth.logout()
    numbers = [cr.number for cr in requests]
    assert len(", ".join(numbers)) > 40  # the old joined string was cut here
    db.session.expire_all()
    draft = db.session.scalar(select(Revision).where(Revision.state == RevisionState.DRAFT))
    assert [cr.number for cr in draft.change_requests] == numbers
    approve(draft)
    publishing.publish_revision(people["qm"], draft, today)
    db.session.commit()

    def squeezed(text):
        return re.sub(r"\s+", "", text)

    auth.login("qm")
    for page in (f"/documents/{doc.id}", f"/documents/{doc.id}/revisions/{draft.id}"):
        text = page_text(client.get(page))
        assert all(n in text for n in numbers), page
    pdf = client.get(f"/revisions/{draft.id}/print.pdf")
    pdf_text = squeezed("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages))
    assert all(n in pdf_text for n in numbers)
    word = docx.Document(io.BytesIO(client.get(f"/revisions/{draft.id}/export.docx").data))
    cells = squeezed(" ".join(c.text for t in word.tables for row in t.rows for c in row.cells))
    assert all(n in cells for n in numbers)
    headers = token_for(people["qm"])
    rows = client.get(f"/api/v1/documents/{doc.id}/revision-record", headers=headers).get_json()
    assert rows[-1]["change_requests"] == numbers
    assert all(n in rows[-1]["change_number"] for n in numbers)
    rev = client.get(f"/api/v1/revisions/{draft.id}", headers=headers)
    assert rev.get_json()["change_requests"] == numbers


def test_an_over_long_change_number_is_refused_not_cut(client, people, token_for, effective_doc):
    from docmgmt.errors import ValidationFailed
    from docmgmt.versioning import drafting

    doc, _a0 = effective_doc()
    draft = drafting.create_draft(people["qm"], doc)
    db.session.commit()
    with pytest.raises(ValidationFailed, match="Change number is too long: at most 40"):
        drafting.update_draft(people["qm"], draft, change_number="变更" * 21)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Revision, draft.id).change_number == "-"
    # The same rule for every bounded column, on every database: a title of 201 characters.
    with pytest.raises(ValidationFailed, match="at most 200 characters"):
        drafting.update_draft(people["qm"], draft, title="题" * 201)
    db.session.rollback()


def test_the_desk_puts_urgent_requests_first_and_shows_the_urgency(
    client, auth, people, token_for, effective_doc
):
    from docmgmt.control import operations as ops

    doc, _a0 = effective_doc()
    made = {
        u: ops.create_request(people["staff"], doc, reason=u, proposed_change=u, urgency=u)
        for u in ("normal", "low", "high")
    }
    db.session.commit()
    auth.login("qm")
    html = client.get("/desk").get_data(as_text=True)
    positions = [html.index(made[u].number) for u in ("high", "normal", "low")]
    assert positions == sorted(positions)
    section = page_text(client.get("/desk")).split("waiting for a decision")[1]
    assert "Urgent" in section and "Normal" in section and "Low" in section
    api = client.get("/api/v1/desk", headers=token_for(people["qm"])).get_json()
    assert [r["urgency"] for r in api["change_requests"]] == ["high", "normal", "low"]


def test_a_change_request_on_a_document_with_nothing_in_force_is_refused_for_everyone(
    client, people, token_for, create_document, draft_of
):
    doc = create_document()
    draft_of(doc)
    for who in ("qm", "staff"):
        r = client.post(
            f"/api/v1/documents/{doc.id}/change-requests",
            headers=token_for(people[who]),
            json={"reason": "r", "proposed_change": "p", "urgency": "high"},
        )
        assert r.status_code in (403, 409), who
        assert "no revision in force" in r.get_json()["message"]
    assert _count(ChangeRequest) == 0


def test_the_requester_sees_the_rejection_reason_in_their_inbox(
    client, auth, people, effective_doc
):
    from docmgmt.control import operations as ops

    doc, _a0 = effective_doc()
    cr = ops.create_request(people["staff"], doc, reason="r", proposed_change="p")
    ops.reject_request(people["qm"], cr, "现行第4章已覆盖此情况")
    db.session.commit()
    auth.login("staff")
    page = page_text(client.get("/"))
    assert cr.number in page and "现行第4章已覆盖此情况" in page


def test_a_review_dated_before_the_document_existed_is_refused(
    client, auth, people, token_for, effective_doc, today
):
    doc, _a0 = effective_doc()
    auth.login("qm")
    r = client.post(
        f"/documents/{doc.id}/reviews",
        data={"review_date": "1999-01-01", "finding": "仍然适用"},
        follow_redirects=True,
    )
    assert "before the document was registered" in page_text(r)
    assert _count(PeriodicReview) == 0
    client.post(
        f"/documents/{doc.id}/reviews",
        data={"review_date": today.isoformat(), "finding": "仍然适用"},
    )
    assert _count(PeriodicReview) == 1


def test_an_extension_past_the_expiry_warns_and_the_next_audit_is_the_recertification(
    client, auth, people, token_for, today
):
    from html import unescape

    from docmgmt.certification import operations as cops

    cert = cops.create_certificate(
        people["qm"],
        number="C-9",
        body="认证中心",
        issued_on=today - timedelta(days=1000),
        expires_on=today + timedelta(days=60),
    )
    cops.record_audit(people["qm"], cert, held_on=today - timedelta(days=330), kind="surveillance")
    db.session.commit()
    auth.login("qm")
    r = client.post(
        "/certification/certificate",
        data={"certificate_id": cert.id, "what": "extension", "months": "3", "reason": "疫情"},
        follow_redirects=True,
    )
    assert "past the certificate's expiry" in unescape(page_text(r))
    s = client.get("/api/v1/certification/schedule", headers=token_for(people["qm"])).get_json()
    assert s["next_audit_kind"] == "recertification"
    assert s["next_due"] == (today + timedelta(days=60)).isoformat()
    assert "past the certificate's expiry" in s["warning"]
    text = page_text(client.get("/certification/"))
    assert "Recertification audit due" in text
    # Audit kinds are words in the page's language, not codes.
    client.post("/lang/zh_CN")
    text = page_text(client.get("/certification/"))
    assert "监督审核" in text and "再认证" in text
    assert "surveillance" not in text.replace("/", " ").split()


def test_the_register_shows_withdrawn_documents_to_quality_managers_by_default(
    client, auth, people, effective_doc, create_document
):
    from io import BytesIO

    from openpyxl import load_workbook

    from docmgmt.control import operations as ops

    gone, _a0 = effective_doc(title="已作废的程序")
    kept, _k0 = effective_doc(title="现行程序")
    unissued = create_document(title="起草中的程序")
    wd = ops.propose_withdrawal(people["qm"], gone, "合并", people["approver"])
    ops.decide_withdrawal(people["approver"], wd, approve=True, password=PASSWORD)
    db.session.commit()
    for who in ("qm", "auditor"):
        auth.login(who)
        text = page_text(client.get("/documents/"))
        assert gone.number in text and "作废" in text, who
        # Unticking the box (the form sends obsolete=0 only) hides them.
        assert gone.number not in page_text(client.get("/documents/?obsolete=0"))
        assert gone.number in page_text(client.get("/documents/?obsolete=0&obsolete=1"))
        auth.logout()
    auth.login("staff")
    assert gone.number not in page_text(client.get("/documents/"))
    auth.logout()
    # The master list is what is in force: no withdrawn and no unissued document, for anyone.
    auth.login("qm")
    ws = load_workbook(BytesIO(client.get("/register/master-list.xlsx").data)).active
    numbers = [row[0] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert numbers == [kept.number] and unissued.number not in numbers
