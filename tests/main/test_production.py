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


# ---------------------------------------------------------------- which key, which environment

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 32


def _make(database_url, tmp_path, **config):
    """create_app as a server would call it: no TESTING, settings as named."""
    from docmgmt.extensions import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "STORAGE_DIR": str(tmp_path), **config}
    )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return app


@pytest.mark.parametrize("env", ["", "production", "Production", " PRODUCTION "])
@pytest.mark.parametrize("key", ["", DEFAULT_SECRET_KEY, "x", "k" * 31])
def test_a_served_app_refuses_the_default_or_a_short_key(database_url, tmp_path, env, key):
    # Unset (""), any spelling of production: the app is production and refuses to start.
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        _make(database_url, tmp_path, ENV_NAME=env, SECRET_KEY=key)


@pytest.mark.parametrize("env", ["", "production", "Production"])
def test_production_is_the_default_and_any_spelling_of_it(database_url, tmp_path, env):
    app = _make(database_url, tmp_path, ENV_NAME=env, SECRET_KEY=GOOD_KEY)
    assert app.config["PRODUCTION"] and app.config["SESSION_COOKIE_SECURE"]
    assert app.config["REMEMBER_COOKIE_SECURE"]


def test_an_unknown_environment_is_refused(database_url, tmp_path):
    with pytest.raises(RuntimeError, match="DOCMGMT_ENV"):
        _make(database_url, tmp_path, ENV_NAME="prod", SECRET_KEY=GOOD_KEY)


def test_development_must_be_asked_for_and_then_takes_the_default_key(database_url, tmp_path):
    app = _make(database_url, tmp_path, ENV_NAME="Development", SECRET_KEY=DEFAULT_SECRET_KEY)
    assert not app.config["PRODUCTION"] and not app.config["SESSION_COOKIE_SECURE"]


def test_a_cookie_signed_with_the_development_key_opens_nothing(database_url, tmp_path, people):
    """The attack: sign a session for the administrator with the published default key."""
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    forger = Flask("forger")
    forger.secret_key = DEFAULT_SECRET_KEY
    cookie = (
        SecureCookieSessionInterface()
        .get_signing_serializer(forger)
        .dumps({"_user_id": str(people["admin"].id), "_fresh": True})
    )
    try:
        app = _make(database_url, tmp_path)  # as gunicorn gets it: nothing set
    except RuntimeError:
        return  # refused to start: the forged cookie opens nothing
    c = app.test_client()
    c.set_cookie("session", cookie)
    with app.app_context():
        assert c.get("/admin/users").status_code != 200


def _clean_env(**extra):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCMGMT_", "SECRET_KEY"))}
    env.update(extra)
    return env


def test_wsgi_with_nothing_set_refuses_to_start(tmp_path):
    import subprocess
    import sys

    env = _clean_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", DOCMGMT_STORAGE_DIR=str(tmp_path)
    )
    run = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode != 0 and "SECRET_KEY" in run.stderr


def _serve_command() -> str:
    """The gunicorn line `make serve` runs (make -n prints it without running anything)."""
    import shutil
    import subprocess
    import sys

    if not shutil.which("make"):
        pytest.skip("make is not installed")
    run = subprocess.run(
        ["make", "-n", "serve", f"VENV={sys.prefix}"], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if "gunicorn" in line and "wsgi:app" in line]
    assert len(lines) == 1, run.stdout
    upgrade = [line for line in run.stdout.splitlines() if "db upgrade" in line]
    assert upgrade and all("DOCMGMT_ENV=production" in line for line in upgrade), upgrade
    return lines[0]


@pytest.mark.parametrize(
    "key, refused", [(None, True), (DEFAULT_SECRET_KEY, True), ("short", True), (GOOD_KEY, False)]
)
def test_make_serve_is_always_production(tmp_path, key, refused):
    import subprocess

    command = _serve_command()
    # Even with development asked for in the shell, `make serve` serves production.
    env = _clean_env(
        DOCMGMT_ENV="development",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DOCMGMT_STORAGE_DIR=str(tmp_path),
        **({"SECRET_KEY": key} if key is not None else {}),
    )
    run = subprocess.run(
        command + " --check-config", shell=True, cwd=ROOT, env=env, capture_output=True, text=True
    )
    if refused:
        assert run.returncode != 0 and "SECRET_KEY" in run.stderr, run.stderr[-2000:]
    else:
        assert run.returncode == 0, run.stderr[-2000:]


def test_gunicorn_refuses_the_default_key_even_in_development(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    gunicorn = Path(sys.prefix) / "bin" / "gunicorn"
    env = _clean_env(
        DOCMGMT_ENV="development",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DOCMGMT_STORAGE_DIR=str(tmp_path),
    )
    run = subprocess.run(
        [str(gunicorn), "--check-config", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0 and "SECRET_KEY" in run.stderr, run.stderr[-2000:]
