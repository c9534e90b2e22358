"""Every route against people who must not get in: anonymous visitors and an auditor whose
access has ended. Nothing but the public pages answers them with content."""

from datetime import timedelta

from tests.audit.test_auditor import _url_for_rule

PUBLIC = {
    "static",
    "auth.login",
    "auth.set_language",
    "main.healthz",
    "printing.verify",  # the QR check of a paper copy: says only in force or not
    "api-docs.openapi_json",
}


def _rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC or rule.endpoint.startswith("api-docs."):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_anonymous_visitors_get_nothing_but_the_log_in(app, client, people):
    checked = 0
    for rule, method in _rules(app):
        url = _url_for_rule(rule)
        r = client.open(url, method=method)
        if url.startswith("/api/"):
            assert r.status_code == 401, (method, url, r.status_code)
        else:
            assert r.status_code in (302, 400, 401, 403), (method, url, r.status_code)
            if r.status_code == 302:
                assert "/login" in r.headers["Location"], (method, url)
        checked += 1
    assert checked > 150


def test_an_expired_auditor_gets_in_nowhere(app, client, create_user, token_for):
    from docmgmt.clock import utcnow
    from docmgmt.extensions import db

    auditor = create_user("gone", ["auditor"], access_expires_dt=utcnow() + timedelta(hours=1))
    headers = token_for(auditor)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    auditor.access_expires_dt = utcnow() - timedelta(seconds=1)
    db.session.commit()
    r = client.post("/login", data={"username": "gone", "password": "correct-horse-1"})
    assert r.status_code == 403
    for rule, method in _rules(app):
        url = _url_for_rule(rule)
        if not url.startswith("/api/"):
            continue
        r = client.open(url, method=method, headers=headers)
        assert r.status_code == 401, (method, url, r.status_code)


# ------------------------------------------------------------------ every route, every role

# Which rules of docmgmt/auth/policy.py admit each role of the `people` fixture.
ADMITTED = {
    "qm": {
        "quality manager",
        "reader of the history",
        "anyone but an auditor",
        "quality manager or administrator",
    },
    "admin": {
        "administrator",
        "reader of the history",
        "anyone but an auditor",
        "quality manager or administrator",
    },
    "approver": {"anyone but an auditor"},
    "staff": {"anyone but an auditor"},
    "auditor": {"reader of the history"},
}
# Routes whose operation refuses an admitted person when the object is not theirs (the
# matrix uses id 1 for every object, here somebody else's token).
NOT_THEIRS = {"auth.revoke_token"}


def _write_routes(app):
    from docmgmt.auth.policy import OPEN, WRITE_METHODS

    for rule in app.url_map.iter_rules():
        if rule.endpoint in OPEN:
            continue
        for method in sorted((rule.methods or set()) & WRITE_METHODS):
            yield rule, method


def _changes():
    from sqlalchemy import func, select

    from docmgmt.audit.models import AuditEvent
    from docmgmt.extensions import db

    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action != "auditor.view")
    )


def test_every_write_route_names_who_may_call_it(app):
    from docmgmt.auth.policy import WRITE_POLICY

    undeclared = {rule.endpoint for rule, _m in _write_routes(app)} - set(WRITE_POLICY)
    assert not undeclared, f"write routes without a policy entry: {sorted(undeclared)}"
    stale = set(WRITE_POLICY) - {rule.endpoint for rule, _m in _write_routes(app)}
    assert not stale, f"policy entries for routes that do not exist: {sorted(stale)}"


def test_every_write_route_against_every_role(app, client, auth, people, token_for, effective_doc):
    """Whoever the table does not admit is refused with 403 before the form or body is read,
    and nothing reaches the audit trail; whoever it admits gets past the gate (to validation,
    a missing object, or their own permission check)."""
    from docmgmt.auth.policy import WRITE_POLICY

    effective_doc()
    tokens = {role: token_for(people[role]) for role in ADMITTED}
    refused = admitted = 0
    for role, rules in ADMITTED.items():
        auth.login(role)
        before = _changes()
        for rule, method in _write_routes(app):
            url = _url_for_rule(rule)
            if WRITE_POLICY[rule.endpoint].name in rules:
                continue
            if url.startswith("/api/"):
                r = client.open(url, method=method, json={"x": 1}, headers=tokens[role])
            else:
                r = client.open(url, method=method, data={"x": "1"})
            assert r.status_code == 403, (role, method, url, r.status_code)
            refused += 1
        assert _changes() == before, role  # not one refused call changed anything
        for rule, method in _write_routes(app):
            url = _url_for_rule(rule)
            if WRITE_POLICY[rule.endpoint].name not in rules or rule.endpoint in NOT_THEIRS:
                continue
            if url.startswith("/api/"):
                r = client.open(url, method=method, json={}, headers=tokens[role])
            else:
                r = client.open(url, method=method, data={})
            assert r.status_code != 403, (role, method, url, r.get_data(as_text=True)[:300])
            admitted += 1
        auth.logout()
    assert refused > 200 and admitted > 150


def test_every_read_route_against_every_role_answers_without_a_server_error(
    app, client, auth, people, token_for, effective_doc
):
    effective_doc()
    checked = 0
    for role in ADMITTED:
        headers = token_for(people[role])
        auth.login(role)
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or set()) or rule.endpoint in ("auth.logout", "static"):
                continue
            url = _url_for_rule(rule)
            r = client.get(url, headers=headers if url.startswith("/api/") else None)
            assert r.status_code < 500, (role, url, r.status_code)
            r.close()
            checked += 1
        auth.logout()
    assert checked > 5 * 100


def test_what_staff_and_approvers_may_post_is_exactly_this(app):
    """Written out again on purpose: widening what a non-manager may change must be a
    deliberate edit here as well as in the policy table."""
    from docmgmt.auth.policy import WRITE_POLICY

    member = {e for e, rule in WRITE_POLICY.items() if rule.name == "anyone but an auditor"}
    assert member == {
        "auth.change_password",
        "auth.create_token",
        "auth.revoke_token",
        "auth.save_notifications",
        "api.put_notifications",
        "versioning.sign",
        "versioning.reject",
        "versioning.decide_withdrawal",
        "api.sign_revision",
        "api.reject_revision",
        "control_api.decide_withdrawal",
        "records.decide",
        "records_api.decide",
        "control.new_request",
        "control.upload_attachment",
        "control_api.create_request",
        "control_api.upload_attachment",
        "records.new",
        "records.correct",
        "records.set_trigger",
        "records.import_upload",
        "records.import_detail",
        "records.import_run",
        "records_api.file_record",
        "records_api.file_record_with_files",
        "records_api.correct",
        "records_api.trigger",
        "records_api.upload_import",
        "records_api.run_import",
        "records.retry_text",
        "records_api.retry_text",
        "control.retry_text",
        "control_api.retry_text",
        "training.acknowledge",
        "training_api.acknowledge",
    }
