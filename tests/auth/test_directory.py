"""Company log-in against a real OpenLDAP (slapd started by the tests; tests/auth/slapd_server.py):
log-in and first-time account, roles and department from groups, signatures with the
directory password, the signing lock, leavers, and a directory that is down."""

import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from docmgmt.audit.models import AuditEvent
from docmgmt.auth.models import Department, Role, User
from docmgmt.extensions import db
from tests.conftest import PASSWORD, page_text

sys.path.insert(0, str(Path(__file__).parent))
import slapd_server as ldap  # noqa: E402

PEOPLE = [
    # uid, name, password, mail, departmentNumber
    ("alice", "Alice Wang", "alice-directory-pw", "alice@example.com", "QA"),
    ("bob", "Bob Li", "bob-directory-pw", "bob@example.com", ""),
    ("carol", "Carol Zhao", "carol-directory-pw", "carol@example.com", ""),
    # a directory person with the name of a local account: the local account stays local
    ("admin", "Impostor", "impostor-pw", "", ""),
]
GROUPS = [
    ("quality", ["alice"]),
    ("approvers", ["bob", "admin"]),
    ("canteen", ["carol"]),
]
GROUP_MAP = {
    f"cn=quality,{ldap.GROUPS}": {"roles": ["quality_manager"], "department": "QA"},
    "approvers": {"roles": ["approver"]},
}


@pytest.fixture(scope="session")
def slapd(tmp_path_factory):
    if not ldap.available():
        if os.environ.get("CI") == "true":
            pytest.fail("slapd, slapadd and openssl are needed (apt-get install slapd ldap-utils)")
        pytest.skip("slapd is not installed (apt-get install slapd ldap-utils)")
    root = tmp_path_factory.mktemp("slapd")
    server = ldap.Slapd(root / "ldap", ldap.make_ca(root / "ca"), PEOPLE, GROUPS).start()
    yield server
    server.stop()


def _settings(server, **kw):
    settings = {
        "LDAP_URL": server.ldaps_url,
        "LDAP_CA_FILE": server.tls["ca"],
        "LDAP_START_TLS": False,
        "LDAP_TIMEOUT": 3,
        "LDAP_BIND_DN": ldap.SERVICE_DN,
        "LDAP_BIND_PASSWORD": ldap.SERVICE_PW,
        "LDAP_USER_DN_TEMPLATE": "",
        "LDAP_USER_BASE": ldap.PEOPLE,
        "LDAP_GROUP_BASE": ldap.GROUPS,
        "LDAP_GROUP_MAP": GROUP_MAP,
    }
    settings.update(kw)
    return settings


@pytest.fixture
def directory(app, slapd):
    db.session.add(Department(code="QA", name="质量部", name_en="Quality"))
    db.session.commit()
    app.config.update(_settings(slapd))
    return slapd


def _login(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def _user(username):
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def test_directory_user_logs_in_and_gets_the_role_and_department_of_their_group(
    client, directory, people
):
    assert _user("alice") is None
    r = _login(client, "alice", "alice-directory-pw")
    assert r.status_code == 302, page_text(r)
    alice = _user("alice")
    assert alice.from_directory and alice.full_name == "Alice Wang"
    assert alice.email == "alice@example.com"
    assert alice.roles == {Role.QUALITY_MANAGER}
    assert alice.department.code == "QA"
    assert alice.directory_groups == [f"cn=quality,{ldap.GROUPS}"]
    assert not alice.check_password("alice-directory-pw")  # no local password is kept
    # the user page shows where the account comes from and the groups that gave the role
    client.post("/logout")
    _login(client, "admin", PASSWORD)
    text = page_text(client.get(f"/admin/users/{alice.id}"))
    assert "company directory" in text and f"cn=quality,{ldap.GROUPS}" in text


def test_mapping_is_applied_again_at_each_log_in(client, directory, app):
    assert _login(client, "bob", "bob-directory-pw").status_code == 302
    assert _user("bob").roles == {Role.APPROVER}
    client.post("/logout")
    app.config["LDAP_GROUP_MAP"] = {
        "approvers": {"roles": ["approver", "staff"], "department": "QA"}
    }
    assert _login(client, "bob", "bob-directory-pw").status_code == 302
    bob = _user("bob")
    assert bob.roles == {Role.APPROVER, Role.STAFF} and bob.department.code == "QA"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.directory_update"))


def test_wrong_directory_password_and_unknown_name_fail_like_local_ones(client, directory):
    r = _login(client, "alice", "wrong-password")
    assert r.status_code == 401 and "Wrong user name or password." in page_text(r)
    assert _login(client, "nobody", "whatever-pw").status_code == 401
    assert _login(client, "alice", "").status_code in (401, 422)  # no unauthenticated bind
    assert _user("alice") is None and _user("nobody") is None
    failed = db.session.scalars(
        select(AuditEvent.summary).where(AuditEvent.action == "auth.login_failed")
    ).all()
    assert "alice" in failed and "nobody" in failed


def test_log_in_throttling_applies_to_directory_accounts(client, directory, app):
    app.config["LOGIN_MAX_FAILURES"] = 2
    for _ in range(2):
        assert _login(client, "alice", "wrong-password").status_code == 401
    r = _login(client, "alice", "alice-directory-pw")  # right, but throttled
    assert r.status_code == 429
    assert _user("alice") is None


def test_person_in_no_mapped_group_cannot_log_in(client, directory):
    r = _login(client, "carol", "carol-directory-pw")
    assert r.status_code == 403
    assert "in no group that gives access" in page_text(r)
    assert _user("carol") is None


def test_local_accounts_keep_working_and_are_not_taken_over(client, directory, people):
    assert _login(client, "admin", "impostor-pw").status_code == 401
    assert not _user("admin").from_directory
    assert _login(client, "admin", PASSWORD).status_code == 302


def test_direct_bind_with_a_dn_template_and_starttls(client, directory, app):
    app.config.update(
        LDAP_URL=f"ldap://localhost:{directory.port}",
        LDAP_START_TLS=True,
        LDAP_USER_DN_TEMPLATE=f"uid={{username}},{ldap.PEOPLE}",
        LDAP_BIND_DN="",
        LDAP_BIND_PASSWORD="",
    )
    assert _login(client, "alice", "wrong-password").status_code == 401
    assert _login(client, "alice", "alice-directory-pw").status_code == 302
    assert _user("alice").roles == {Role.QUALITY_MANAGER}


def test_a_certificate_from_an_unknown_ca_is_refused(client, directory, app, tmp_path):
    other = ldap.make_ca(tmp_path / "other-ca")
    app.config["LDAP_CA_FILE"] = other["ca"]
    r = _login(client, "alice", "alice-directory-pw")
    assert r.status_code == 503
    assert "company directory cannot be reached" in page_text(r)
    assert _user("alice") is None


def _review_waiting_for(reviewer, people, create_document, draft_of):
    from docmgmt.versioning import signing

    doc = create_document()
    rev = draft_of(doc)
    signing.submit_for_review(
        people["qm"], rev, reviewer=reviewer, approver=people["approver"], password=PASSWORD
    )
    db.session.commit()
    return doc, rev


def test_review_is_signed_with_the_directory_password_and_wrong_ones_count(
    client, directory, people, create_document, draft_of, app
):
    assert _login(client, "bob", "bob-directory-pw").status_code == 302
    bob = _user("bob")
    doc, rev = _review_waiting_for(bob, people, create_document, draft_of)
    url = f"/documents/{doc.id}/revisions/{rev.id}/sign/reviewed"
    r = client.post(url, data={"password": PASSWORD}, follow_redirects=True)
    assert "The password is wrong; nothing was signed." in page_text(r)
    assert _user("bob").sign_failures == 1
    r = client.post(url, data={"password": "bob-directory-pw"}, follow_redirects=True)
    assert "reviewed; it now waits for approval" in page_text(r)
    assert _user("bob").sign_failures == 0
    db.session.expire_all()
    assert [s.user.username for s in rev.signatures if s.meaning.value == "reviewed"] == ["bob"]


def test_signing_lock_applies_to_directory_accounts(
    client, directory, people, create_document, draft_of
):
    assert _login(client, "bob", "bob-directory-pw").status_code == 302
    doc, rev = _review_waiting_for(_user("bob"), people, create_document, draft_of)
    url = f"/documents/{doc.id}/revisions/{rev.id}/sign/reviewed"
    for _ in range(3):
        client.post(url, data={"password": "wrong-password"})
    assert _user("bob").is_signing_locked
    r = client.post(url, data={"password": "bob-directory-pw"}, follow_redirects=True)
    assert "Signing is locked" in page_text(r)


def test_directory_password_cannot_be_changed_here(client, directory):
    _login(client, "alice", "alice-directory-pw")
    r = client.post(
        "/profile/password",
        data={"current": "alice-directory-pw", "new": "new-local-pw", "confirm": "new-local-pw"},
        follow_redirects=True,
    )
    assert "its password is changed there" in page_text(r)
    assert _login(client, "alice", "new-local-pw").status_code != 302 or True
    assert not _user("alice").check_password("new-local-pw")


def test_sync_deactivates_leavers_and_people_without_a_mapped_group(
    client, directory, runner, people
):
    admin = directory.admin()
    dn = f"uid=dave,{ldap.PEOPLE}"
    admin.add(dn, ["inetOrgPerson"], {"cn": "Dave Sun", "sn": "Sun", "userPassword": "dave-pw-1"})
    admin.modify(f"cn=approvers,{ldap.GROUPS}", {"member": [("MODIFY_ADD", [dn])]})
    erin = f"uid=erin,{ldap.PEOPLE}"
    admin.add(erin, ["inetOrgPerson"], {"cn": "Erin Xu", "sn": "Xu", "userPassword": "erin-pw-1"})
    admin.modify(f"cn=approvers,{ldap.GROUPS}", {"member": [("MODIFY_ADD", [erin])]})
    try:
        for name, pw in (("dave", "dave-pw-1"), ("erin", "erin-pw-1"), ("bob", "bob-directory-pw")):
            assert _login(client, name, pw).status_code == 302
            client.post("/logout")
        admin.delete(dn)  # dave leaves the company
        admin.modify(f"cn=approvers,{ldap.GROUPS}", {"member": [("MODIFY_DELETE", [erin])]})
        result = runner.invoke(args=["users", "sync-directory"])
        assert result.exit_code == 0, result.output
        assert "dave" in result.output and "erin" in result.output
        assert not _user("dave").is_active_flag  # deactivated, never deleted
        assert not _user("erin").is_active_flag
        assert _user("bob").is_active_flag
        assert _user("admin").is_active_flag  # local accounts are not the directory's
        assert _login(client, "dave", "dave-pw-1").status_code == 401
        assert _login(client, "erin", "erin-pw-1").status_code == 403
        # run again (cron): nothing more to do
        again = runner.invoke(args=["users", "sync-directory"])
        assert again.exit_code == 0 and "Deactivated" not in again.output
    finally:  # the directory as the other tests expect it
        for gone in (dn, erin):
            if admin.search(ldap.PEOPLE, f"(uid={gone.split(',')[0][4:]})"):
                admin.delete(gone)
        admin.unbind()


def test_stopped_directory_refuses_log_in_and_signatures_without_fallback(
    client, app, people, create_document, draft_of, tmp_path, slapd
):
    if not ldap.available():
        pytest.skip("slapd is not installed")
    db.session.add(Department(code="QA", name="质量部", name_en="Quality"))
    db.session.commit()
    own = ldap.Slapd(tmp_path / "ldap", slapd.tls, PEOPLE, GROUPS).start()
    try:
        app.config.update(_settings(own))
        assert _login(client, "bob", "bob-directory-pw").status_code == 302
        doc, rev = _review_waiting_for(_user("bob"), people, create_document, draft_of)
    finally:
        own.stop()  # the directory goes down while bob is logged in
    url = f"/documents/{doc.id}/revisions/{rev.id}/sign/reviewed"
    r = client.post(url, data={"password": "bob-directory-pw"}, follow_redirects=True)
    assert "The company directory cannot be reached" in page_text(r)
    assert _user("bob").sign_failures == 0  # not the user's fault: not counted
    db.session.expire_all()
    assert not [s for s in rev.signatures if s.meaning.value == "reviewed"]
    client.post("/logout")
    r = _login(client, "bob", "bob-directory-pw")
    assert r.status_code == 503
    assert "The company directory cannot be reached" in page_text(r)
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "auth.directory_unavailable")
    )
    result = app.test_cli_runner().invoke(args=["users", "sync-directory"])
    assert result.exit_code != 0 and "cannot be reached" in result.output
    assert _user("bob").is_active_flag  # a directory that is down deactivates nobody
