"""Findings of the security review: redirects, sessions that end, token secrets, user-name
enumeration, password guessing on the profile, the language switch, log-in throttling."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from docmgmt.extensions import db
from tests.conftest import PASSWORD, page_text

# Targets a browser would follow to another site (it drops tabs and newlines from a URL and
# reads "\" as "/"), or that cannot be put in a header at all.
HOSTILE_TARGETS = [
    "/%09/evil.example",
    "/%0a/evil.example",
    "/%0d%0aSet-Cookie:%20x=1",
    "/%2509/evil.example",  # encoded twice
    "/%5C/evil.example",
    "%5C%5Cevil.example",
    "//evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/ /evil.example",
    "evil.example",
]


def _stays_here(location: str) -> bool:
    # What a browser does with the Location header: drop tabs/newlines, "\" means "/".
    cleaned = "".join(c for c in location if c not in "\t\r\n").replace("\\", "/")
    parts = urlsplit(cleaned)
    return not parts.scheme and not parts.netloc and cleaned.startswith("/")


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_log_in_never_redirects_to_another_site(client, people, target):
    r = client.post(f"/login?next={target}", data={"username": "staff", "password": PASSWORD})
    assert r.status_code == 302, r.status_code
    assert _stays_here(r.headers["Location"]) and "evil" not in r.headers["Location"]
    assert r.headers["Location"] == "/"


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_the_language_switch_never_redirects_to_another_site(client, people, target):
    r = client.post(f"/lang/en?next={target}")
    assert r.status_code in (302, 303), r.status_code
    assert r.headers["Location"] == "/"


def test_a_redirect_to_a_page_of_this_site_is_kept(client, people):
    r = client.post(
        "/login?next=/documents/%3Fq%3D%E6%96%87%E4%BB%B6",
        data={"username": "staff", "password": PASSWORD},
    )
    assert r.headers["Location"].startswith("/documents/?q=")
    r = client.post("/lang/en?next=/records/")
    assert r.headers["Location"] == "/records/"


@pytest.fixture
def copy_of(effective_doc, people):
    from docmgmt.printing import operations as pops

    _doc, rev = effective_doc()

    def _copy():
        copy = pops.issue_copy(people["qm"], rev, holder_name="售后服务部资料柜")
        db.session.commit()
        return copy

    return _copy


@pytest.mark.parametrize("target", ["https://evil.example/", "/%09/evil.example"])
def test_recording_a_returned_copy_never_redirects_to_another_site(client, auth, copy_of, target):
    copy = copy_of()
    auth.login("qm")
    r = client.post(f"/copies/{copy.id}/recall", data={"note": "", "next": target})
    assert r.status_code == 303
    assert r.headers["Location"] == f"/copies/{copy.id}"
    # A page of this site is still where the register sends you back.
    copy2 = copy_of()
    r = client.post(f"/copies/{copy2.id}/recall", data={"note": "", "next": "/copies/?q=x"})
    assert r.headers["Location"] == "/copies/?q=x"


# ---------------------------------------------------------------- sessions end


def _session_cookie(client):
    return client.get_cookie("session").value


def _with_cookie(app, name, value):
    other = app.test_client()
    other.set_cookie(name, value)
    return other


def _signed_in(c) -> bool:
    # Its own app context, as on a server: the test's outer context would otherwise carry the
    # user Flask-Login loaded for an earlier request (g._login_user) into this one.
    with c.application.app_context():
        return c.get("/profile").status_code == 200


def test_a_captured_session_cookie_stops_working_after_log_out(app, client, auth, people):
    auth.login("staff")
    stolen = _session_cookie(client)
    assert _signed_in(_with_cookie(app, "session", stolen))
    auth.logout()
    assert not _signed_in(_with_cookie(app, "session", stolen))
    # Logging in again works as usual.
    auth.login("staff")
    assert _signed_in(client)


def test_a_password_change_ends_every_other_session(app, client, auth, people):
    auth.login("staff")
    stolen = _session_cookie(client)
    r = client.post("/profile/password", data={"current": PASSWORD, "new": "another-pass-2"})
    assert r.status_code == 303
    assert not _signed_in(_with_cookie(app, "session", stolen))
    assert _signed_in(client)  # the one who changed it stays signed in


def test_an_administrator_resetting_a_password_or_deactivating_ends_sessions(
    app, client, auth, people
):
    staff = app.test_client()
    with app.app_context():  # the staff member's own requests, as on a server
        staff.post("/login", data={"username": "staff", "password": PASSWORD})
    stolen = _session_cookie(staff)
    auth.login("admin")
    sid = people["staff"].id
    r = client.post(
        f"/admin/users/{sid}",
        data={
            "full_name": "赵敏",
            "roles": ["staff"],
            "password": "reset-by-admin-1",
            "department_id": 0,
        },
    )
    assert r.status_code == 303
    assert not _signed_in(_with_cookie(app, "session", stolen))
    with app.app_context():
        staff.post("/login", data={"username": "staff", "password": "reset-by-admin-1"})
    stolen = _session_cookie(staff)
    assert client.post(f"/admin/users/{sid}/active", data={"active": "0"}).status_code == 303
    assert client.post(f"/admin/users/{sid}/active", data={"active": "1"}).status_code == 303
    assert not _signed_in(_with_cookie(app, "session", stolen))


def test_a_remember_me_cookie_stops_working_after_log_out(app, client, people):
    client.post("/login", data={"username": "staff", "password": PASSWORD, "remember": "y"})
    remember = client.get_cookie("remember_token").value
    assert _signed_in(_with_cookie(app, "remember_token", remember))
    client.post("/logout")
    assert not _signed_in(_with_cookie(app, "remember_token", remember))


# ---------------------------------------------------------------- token secrets


def test_a_new_token_is_shown_in_the_answer_and_never_put_in_the_session(app, client, auth, people):
    auth.login("staff")
    r = client.post("/profile/tokens", data={"name": "我的脚本"})
    assert r.status_code == 200
    secret = r.get_data(as_text=True).split('id="new-token">', 1)[1].split("<", 1)[0]
    assert secret.startswith("dm_")
    serializer = app.session_interface.get_signing_serializer(app)
    cookie = client.get_cookie("session")
    assert secret not in repr(serializer.loads(cookie.value))
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )
    assert secret not in client.get("/profile").get_data(as_text=True)


# ---------------------------------------------------------------- user-name enumeration


def test_an_unknown_user_name_costs_a_password_check_like_a_known_one(
    app, client, people, monkeypatch
):
    from docmgmt.auth import models

    checked = []
    real = models.check_password_hash

    def spy(pwhash, password):
        checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(models, "check_password_hash", spy)
    method = app.config["PASSWORD_HASH_METHOD"]
    for name in ("staff", "nobody-here"):
        checked.clear()
        r = client.post("/login", data={"username": name, "password": "wrong-password"})
        assert r.status_code == 401
        assert len(checked) == 1 and checked[0].startswith(method + "$"), (name, checked)
    people["staff"].is_active_flag = False
    db.session.commit()
    checked.clear()
    client.post("/login", data={"username": "staff", "password": "wrong-password"})
    assert len(checked) == 1


# ---------------------------------------------------------------- current password guesses


def test_wrong_current_passwords_are_counted_and_lock_like_signing(app, client, auth, people):
    from docmgmt.audit.models import AuditEvent

    auth.login("staff")
    limit = app.config["SIGNING_MAX_FAILURES"]
    for _ in range(limit):
        r = client.post(
            "/profile/password",
            data={"current": "a-wrong-guess", "new": "another-pass-2"},
            follow_redirects=True,
        )
        assert "The current password is wrong" in page_text(r)
    staff = db.session.get(type(people["staff"]), people["staff"].id)
    db.session.refresh(staff)
    assert staff.is_signing_locked and staff.sign_failures == limit
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "signature.wrong_password")
        )
        == limit
    )
    # Locked: even the right password changes nothing until an administrator unlocks.
    r = client.post(
        "/profile/password",
        data={"current": PASSWORD, "new": "another-pass-2"},
        follow_redirects=True,
    )
    assert "locked" in page_text(r)
    db.session.refresh(staff)
    assert staff.check_password(PASSWORD)


def test_a_right_current_password_resets_the_count(app, client, auth, people):
    auth.login("staff")
    client.post("/profile/password", data={"current": "a-wrong-guess", "new": "another-pass-2"})
    client.post("/profile/password", data={"current": PASSWORD, "new": "another-pass-2"})
    staff = people["staff"]
    db.session.refresh(staff)
    assert staff.sign_failures == 0 and staff.check_password("another-pass-2")


# ---------------------------------------------------------------- language switch


def test_a_get_changes_no_stored_preference(client, auth, people):
    auth.login("staff")
    client.get("/lang/en?next=/documents/")
    db.session.refresh(people["staff"])
    assert people["staff"].locale is None
    r = client.post("/lang/en?next=/documents/")
    assert r.headers["Location"] == "/documents/"
    db.session.refresh(people["staff"])
    assert people["staff"].locale == "en"


def test_the_top_bar_switches_language_with_a_form_that_carries_the_csrf_token(
    client, auth, people
):
    auth.login("auditor")  # auditors may choose their language too
    html = client.get("/documents/").get_data(as_text=True)
    form = html.split('action="/lang/', 1)[1].split("</form>", 1)[0]
    assert 'name="csrf_token"' in form
    assert 'method="post"' in html.split('action="/lang/', 1)[0].rsplit("<form", 1)[1]
    r = client.post("/lang/zh_CN?next=/documents/")
    assert r.status_code == 303
    db.session.refresh(people["auditor"])
    assert people["auditor"].locale == "zh_CN"


def test_the_language_switch_needs_the_csrf_token(database_url, tmp_path, people):
    from docmgmt import create_app

    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "STORAGE_DIR": str(tmp_path)}
    )
    with app.app_context():
        c = app.test_client()
        assert c.post("/lang/en").status_code == 400
        html = c.get("/login").get_data(as_text=True)
        token = html.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        assert c.post("/lang/en", data={"csrf_token": token}).status_code == 303
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------- log-in throttling


def _attempt(client, address, username, password):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_an_attacker_cannot_lock_the_owner_out(app, client, people):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert _attempt(client, "203.0.113.66", "staff", "wrong-password").status_code == 401
    # The attacker's address is blocked for this name, even with the right password ...
    assert _attempt(client, "203.0.113.66", "staff", PASSWORD).status_code == 429
    # ... the owner, at their own machine, still logs in.
    owner = app.test_client()
    assert _attempt(owner, "198.51.100.7", "staff", PASSWORD).status_code == 302


def test_guesses_from_many_addresses_hit_a_ceiling_per_name(app, client, people):
    app.config["LOGIN_MAX_FAILURES_PER_NAME"] = 12
    for i in range(12):
        # Two guesses from each address: under the per-address limit every time.
        assert _attempt(client, f"203.0.113.{i // 2}", "staff", "wrong").status_code == 401
    r = _attempt(app.test_client(), "198.51.100.7", "staff", PASSWORD)
    assert r.status_code == 429 and "Too many wrong passwords" in page_text(r)
    # Other names are not affected.
    assert _attempt(app.test_client(), "198.51.100.7", "qm", PASSWORD).status_code == 302


def test_old_failures_age_out_of_the_window(app, client, people):
    from docmgmt.audit.models import AuditEvent

    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        _attempt(client, "203.0.113.66", "staff", "wrong-password")
    assert _attempt(client, "203.0.113.66", "staff", PASSWORD).status_code == 429
    window = timedelta(minutes=app.config["LOGIN_WINDOW_MINUTES"])
    from docmgmt.auth import operations as ops
    from docmgmt.clock import utcnow

    later = utcnow() + window + timedelta(seconds=1)
    assert not ops.login_throttled("staff", "203.0.113.66", now=later)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) > 0
