"""A real browser logs in with a company-directory account (a real slapd, see
tests/auth/slapd_server.py): the account is made on the spot with the role of its group."""

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from docmgmt import create_app
from docmgmt.auth.models import Department, Role, User
from docmgmt.extensions import db
from tests.auth.test_directory import _settings, slapd  # noqa: F401
from tests.browser.test_journey import (  # noqa: F401
    ARTIFACTS,
    CHROMIUM,
    assert_not_blank,
    browser,
)


@pytest.fixture
def directory_server(app, database_url, tmp_path, slapd):  # noqa: F811
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed; .ci/run must install it")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    db.session.add(Department(code="QA", name="质量部", name_en="Quality"))
    db.session.commit()
    served = create_app(
        {
            "ENV_NAME": "development",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "STORAGE_DIR": str(tmp_path / "storage"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            **_settings(slapd),
        }
    )
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with served.app_context():
        db.engine.dispose()


def test_a_directory_account_logs_in_through_the_browser(
    directory_server,
    browser,  # noqa: F811
):
    base = directory_server
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "wrong-password")
    page.click("main form button[type=submit]")
    assert page.url.startswith(f"{base}/login")  # refused, still on the log-in page
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-directory-pw")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert "Alice Wang" in page.inner_text("header")
    r = page.goto(f"{base}/desk")  # the quality manager's desk: the role came from the group
    assert r.status == 200 and "403" not in page.inner_text("main")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "directory-login.png"
    page.screenshot(path=str(shot), full_page=True)
    assert_not_blank(shot)
    db.session.expire_all()
    alice = db.session.scalar(select(User).where(User.username == "alice"))
    assert alice.from_directory and alice.roles == {Role.QUALITY_MANAGER}
    assert alice.department.code == "QA"
