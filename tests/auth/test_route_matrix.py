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
