"""Production settings: no default secret key, secure cookies, security headers, throttling."""

import pytest

from docmgmt import create_app
from docmgmt.config import DEFAULT_SECRET_KEY
from tests.conftest import PASSWORD, page_text


def test_production_refuses_the_default_secret_key(database_url, tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(
            {
                "PRODUCTION": True,
                "SECRET_KEY": DEFAULT_SECRET_KEY,
                "SQLALCHEMY_DATABASE_URI": database_url,
                "STORAGE_DIR": str(tmp_path),
            }
        )
    app = create_app(
        {
            "PRODUCTION": True,
            "SECRET_KEY": "x" * 64,
            "SESSION_COOKIE_SECURE": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "STORAGE_DIR": str(tmp_path),
        }
    )
    r = app.test_client().get("/login")
    assert "max-age" in r.headers["Strict-Transport-Security"]
    from docmgmt.extensions import db

    with app.app_context():  # this second app's connections must not outlive the test
        db.session.remove()
        db.engine.dispose()


def test_every_page_sends_security_headers(client):
    r = client.get("/login")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]


def test_wrong_passwords_lock_the_user_name_for_a_while(app, client, people):
    app.config["LOGIN_MAX_FAILURES"] = 3
    for _ in range(3):
        r = client.post("/login", data={"username": "staff", "password": "wrong-password"})
        assert r.status_code == 401
    # Even the right password is refused now, without being checked.
    r = client.post("/login", data={"username": "staff", "password": PASSWORD})
    assert r.status_code == 429 and "Too many wrong passwords" in page_text(r)
    # Another user name is not affected.
    assert client.post("/login", data={"username": "qm", "password": PASSWORD}).status_code == 302
