"""Log-in, roles, user administration, deactivation, auditors' limited access, CSRF."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from docmgmt.auth.models import User
from docmgmt.clock import utcnow
from docmgmt.extensions import db
from tests.conftest import PASSWORD, page_text


def test_login_with_the_right_password_only(client, auth, people):
    r = auth.login("staff", "wrong")
    assert (
        r.status_code == 401
        and "Wrong user name or password" in page_text(r)
        or "错误" in page_text(r)
    )
    assert client.get("/documents/").status_code == 302  # still anonymous
    assert auth.login("staff").status_code == 302
    assert client.get("/documents/").status_code == 200


def test_passwords_are_stored_hashed(people):
    user = db.session.scalar(select(User).where(User.username == "staff"))
    assert PASSWORD not in user.password_hash and user.check_password(PASSWORD)


def test_deactivated_users_cannot_log_in_but_their_signatures_keep_their_name(
    client, auth, people, effective_doc
):
    doc, a0 = effective_doc()
    auth.login("admin")
    r = client.post(f"/admin/users/{people['reviewer'].id}/active", data={"active": "0"})
    assert r.status_code == 303
    auth.logout()
    r = auth.login("reviewer")
    assert r.status_code == 403
    auth.login("auditor")
    page = page_text(client.get(f"/documents/{doc.id}/revisions/{a0.id}"))
    assert "刘洋" in page


def test_an_auditor_cannot_log_in_after_the_access_end(client, auth, create_user):
    create_user("old_auditor", ["auditor"], access_expires_dt=utcnow() - timedelta(minutes=1))
    r = auth.login("old_auditor")
    assert r.status_code == 403
    assert client.get("/documents/").status_code == 302


def test_an_auditor_whose_access_ends_is_logged_out_on_the_next_request(client, auth, create_user):
    user = create_user("aud2", ["auditor"], access_expires_dt=utcnow() + timedelta(hours=1))
    auth.login("aud2")
    assert client.get("/documents/").status_code == 200
    user.access_expires_dt = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/documents/").status_code == 302


def test_admin_creates_a_user_in_the_browser_form(client, auth, people):
    auth.login("admin")
    r = client.post(
        "/admin/users/new",
        data={
            "username": "tech2",
            "full_name": "孙强",
            "roles": ["staff"],
            "password": "longenough1",
            "department_id": 0,
            "job_title": "维修人员",
        },
    )
    assert r.status_code == 303
    r = client.post(
        "/admin/users/new",
        data={
            "username": "tech2",
            "full_name": "别人",
            "roles": ["staff"],
            "password": "longenough1",
            "department_id": 0,
        },
    )
    assert r.status_code == 422 and "taken" in page_text(r)
    r = client.post(
        "/admin/users/new",
        data={
            "username": "tech3",
            "full_name": "短密码",
            "roles": ["staff"],
            "password": "short",
            "department_id": 0,
        },
    )
    assert r.status_code == 422
    assert db.session.scalar(select(User).where(User.username == "tech3")) is None


@pytest.mark.parametrize("path", ["/admin/users", "/admin/users/new"])
def test_only_admins_manage_users(client, auth, people, path):
    auth.login("qm")
    assert client.get(path).status_code == 403


def test_cli_creates_a_user_and_a_token(runner, client, people):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "newqm",
            "--name",
            "王芳",
            "--role",
            "quality_manager",
            "--password",
            "longenough1",
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "users",
            "create",
            "newqm",
            "--name",
            "王芳",
            "--role",
            "staff",
            "--password",
            "longenough1",
        ]
    )
    assert result.exit_code != 0 and "taken" in result.output
    result = runner.invoke(args=["tokens", "create", "newqm", "--name", "script"])
    secret = result.output.strip()
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert r.get_json()["roles"] == ["quality_manager"]


def test_tokens_are_created_on_the_profile_page_and_shown_once(client, auth, people):
    auth.login("staff")
    html = client.post("/profile/tokens", data={"name": "我的脚本"}).get_data(as_text=True)
    secret = html.split('id="new-token">', 1)[1].split("<", 1)[0]
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )
    assert secret not in client.get("/profile").get_data(as_text=True)


def test_forms_are_protected_by_csrf(database_url, tmp_path, people):
    from docmgmt import create_app

    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "STORAGE_DIR": str(tmp_path)}
    )
    with app.app_context():
        c = app.test_client()
        r = c.post("/login", data={"username": "staff", "password": PASSWORD})
        assert r.status_code == 400
        html = c.get("/login").get_data(as_text=True)
        token = html.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        r = c.post("/login", data={"username": "staff", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 302
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/documents/new", "/admin/users"])
def test_auditors_change_nothing(client, auth, people, path):
    auth.login("auditor")
    assert client.get(path).status_code == 403
