"""The audit trail: every change, signature, publication and log-in, append-only."""

import pytest
from sqlalchemy import select

from docmgmt.audit.models import AuditEvent, AuditTrailIsAppendOnly
from docmgmt.extensions import db
from tests.conftest import page_text


def _actions():
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_lifecycle_logins_and_signatures_are_in_the_trail(client, auth, people, effective_doc):
    auth.login("qm")
    doc, a0 = effective_doc()
    actions = _actions()
    for expected in (
        "auth.login",
        "document.create",
        "revision.create",
        "signature.sign",
        "revision.submit",
        "revision.approve",
        "revision.publish",
        "revision.activate",
    ):
        assert expected in actions
    publish = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "revision.activate"))
    assert publish.before == {"state": "approved"} and publish.after == {"state": "effective"}
    sign = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "signature.sign"))
    assert len(sign.after["content_hash"]) == 64


def test_the_trail_cannot_be_changed_or_deleted_through_the_app(people):
    event = db.session.scalar(select(AuditEvent))
    event.summary = "changed"
    with pytest.raises(AuditTrailIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    event = db.session.scalar(select(AuditEvent))
    db.session.delete(event)
    with pytest.raises(AuditTrailIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_auditors_and_quality_managers_read_the_trail_staff_do_not(client, auth, people):
    auth.login("auditor")
    r = client.get("/audit/?action=user.create")
    assert r.status_code == 200 and "Account created" in page_text(r)
    auth.logout()
    auth.login("staff")
    assert client.get("/audit/").status_code == 403
