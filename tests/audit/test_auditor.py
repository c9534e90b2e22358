"""The auditor's access: read-only on every route, logged, time-limited, department-limited;
and the audit trail's hash chain, including tampering caught at the right event."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from docmgmt.extensions import db
from tests.conftest import PASSWORD, page_text

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _url_for_rule(rule) -> str:
    url = rule.rule
    for arg in rule.arguments:
        from werkzeug.routing import IntegerConverter

        conv = rule._converters.get(arg)
        name = type(conv).__name__ if conv else ""
        if isinstance(conv, IntegerConverter):
            value = "1"
        elif name == "AnyConverter":
            value = sorted(conv.items)[0] if hasattr(conv, "items") else "x"
        else:
            value = "x"
        url = re.sub(rf"<(?:[^:<>]+:)?{arg}(?:\([^)]*\))?>", value, url)
    return url


def _write_rules(app):
    from docmgmt.certification import AUDITOR_MAY_POST

    # Building an evidence pack is the one thing an auditor may POST (tested in
    # tests/certification); it changes nothing controlled. Nor does choosing a language
    # (tests/auth/test_security.py).
    skip = {"auth.login", "auth.logout", "auth.set_language", "static", *AUDITOR_MAY_POST}
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) & WRITE_METHODS
        if methods and rule.endpoint not in skip:
            yield rule, sorted(methods)


def test_an_auditor_can_change_nothing_on_any_route(
    app, client, auth, people, token_for, effective_doc
):
    effective_doc()
    from docmgmt.audit.models import AuditEvent
    from docmgmt.versioning.models import Document, Revision

    def counts():
        return (
            db.session.scalar(select(func.count()).select_from(Document)),
            db.session.scalar(select(func.count()).select_from(Revision)),
        )

    def changes():
        return db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action != "auditor.view")
        )

    auth.login("auditor")
    headers = token_for(people["auditor"])
    before, logged_before = counts(), changes()
    checked = 0
    for rule, methods in _write_rules(app):
        url = _url_for_rule(rule)
        for method in methods:
            if url.startswith("/api/"):
                r = client.open(url, method=method, json={}, headers=headers)
            else:
                r = client.open(url, method=method, data={})
            assert r.status_code == 403, (method, url, r.status_code)
            checked += 1
    assert checked > 60  # every write route of the app was tried
    assert counts() == before
    assert changes() == logged_before  # not one change reached the trail


def test_every_page_an_auditor_opens_is_logged(client, auth, people, effective_doc):
    doc, _rev = effective_doc()
    from docmgmt.audit.models import AuditEvent

    auth.login("auditor")
    assert client.get(f"/documents/{doc.id}").status_code == 200
    client.get("/records/")
    paths = db.session.scalars(
        select(AuditEvent.summary).where(AuditEvent.action == "auditor.view")
    ).all()
    assert any(p.startswith(f"/documents/{doc.id}") for p in paths)
    assert any(p.startswith("/records/") for p in paths)


def test_auditor_access_has_a_start_and_an_end(client, create_user):
    from docmgmt.clock import utcnow

    create_user("early", ["auditor"], access_starts_dt=utcnow() + timedelta(days=3))
    create_user("late", ["auditor"], access_expires_dt=utcnow() - timedelta(minutes=1))
    r = client.post("/login", data={"username": "early", "password": PASSWORD})
    assert r.status_code == 403 and "Your access starts on" in page_text(r)
    r = client.post("/login", data={"username": "late", "password": PASSWORD})
    assert r.status_code == 403 and "Your access ended on" in page_text(r)


def test_an_auditor_limited_to_a_department_sees_only_its_documents(
    client, create_user, effective_doc, people
):
    from docmgmt.auth.models import Department

    deps = {c: Department(code=c, name=n) for c, n in (("AS", "售后服务部"), ("ADM", "行政部"))}
    db.session.add_all(deps.values())
    db.session.commit()
    mine, _r1 = effective_doc(title="报修控制程序", department=deps["AS"])
    other, _r2 = effective_doc(title="培训控制程序", department=deps["ADM"])
    create_user("asaudit", ["auditor"], audit_departments=["AS"])
    client.post("/login", data={"username": "asaudit", "password": PASSWORD})
    assert client.get(f"/documents/{mine.id}").status_code == 200
    assert client.get(f"/documents/{other.id}").status_code == 404
    register = page_text(client.get("/documents/"))
    assert mine.number in register and other.number not in register


def test_the_hash_chain_verifies_and_tampering_is_found_at_that_event(
    app, runner, auth, client, effective_doc
):
    effective_doc()
    from docmgmt.audit.models import AuditEvent

    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact" in result.output
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert len(events) > 6 and events[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    victim_id, victim_seq, original = events[3].id, events[3].seq, events[3].summary
    later_id, next_seq = events[5].id, events[6].seq
    db.session.execute(
        text("UPDATE audit_event SET summary = 'nothing happened' WHERE id = :id"),
        {"id": victim_id},
    )
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at event {victim_id} (#{victim_seq})" in result.output
    auth.login("auditor")
    assert f"Broken at event #{victim_seq}" in page_text(client.get("/audit/verify"))
    db.session.execute(
        text("UPDATE audit_event SET summary = :s WHERE id = :id"),
        {"s": original, "id": victim_id},
    )
    db.session.commit()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # restored: intact again
    # Deleting an event is found too, at the event after the gap.
    db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": later_id})
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"(#{next_seq})" in result.output


@pytest.mark.parametrize("path", ["/search/?q=派工", "/training/overview", "/records/disposition"])
def test_auditors_read_the_evidence_pages(client, auth, people, path):
    auth.login("auditor")
    assert client.get(path).status_code == 200
