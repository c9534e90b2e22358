"""Texts the system writes into controlled records are in the company's document language
(DOCMGMT_DOCUMENT_LOCALE, Chinese by default), whoever acts and in whatever language; prints
for people follow the reader (tests/training, tests/printing)."""

from sqlalchemy import select

from docmgmt.audit.models import AuditEvent
from docmgmt.extensions import db
from docmgmt.versioning.models import Revision


def _first_draft(client, doc):
    r = client.post(f"/documents/{doc.id}/drafts", data={"kind": "revision"})
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    db.session.expire_all()
    return db.session.scalars(select(Revision).where(Revision.document_id == doc.id)).one()


def test_a_first_issue_is_described_in_the_document_language(app, client, auth, create_document):
    doc = create_document()
    auth.login("qm")  # the English UI (the tests' default)
    assert _first_draft(client, doc).change_summary == "新制订"


def test_the_document_language_is_a_setting(app, client, auth, create_document):
    app.config["DOCUMENT_LOCALE"] = "en"
    doc = create_document()
    auth.login("qm")
    assert _first_draft(client, doc).change_summary == "First issue"


def test_a_correction_is_logged_in_the_document_language(app, client, auth, people):
    from docmgmt.records import operations as rops

    rt = rops.create_type(
        people["qm"],
        code="WO",
        name="派工单",
        retention_months=36,
        fields=[{"name": "customer", "label": "客户", "kind": "text", "required": True}],
    )
    db.session.commit()
    auth.login("qm")
    client.post(f"/records/new/{rt.id}", data={"title": "上门维修", "f_customer": "王"})
    from docmgmt.records.models import Record

    first = db.session.scalars(select(Record)).one()
    r = client.post(
        f"/records/{first.id}/correct", data={"title": "上门维修", "f_customer": "王先生"}
    )
    assert r.status_code == 303
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "record.correct")
    ).one()
    assert f"（更正 {first.number}）" in event.summary
    assert "corrects" not in event.summary
