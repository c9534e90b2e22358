"""A real browser: the quality manager publishes a revision, then a staff member reads it.

Drives Debian's Chromium through Playwright against the app served on loopback.  Skipped
only on a developer machine without Chromium; in CI (CI=true) a missing browser fails."""

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from docmgmt import create_app
from docmgmt.extensions import db
from tests.conftest import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def assert_not_blank(path):
    """A screenshot with content has dark and light pixels and more than a few shades."""
    from PIL import Image

    with Image.open(path) as img:
        grey = img.convert("L")
    lo, hi = grey.getextrema()
    shades = len(grey.getcolors(maxcolors=1 << 16) or [])
    assert hi - lo > 100 and shades > 20, f"{path} looks blank"


pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(database_url, tmp_path):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed; .ci/run must install it")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    app = create_app(
        {
            "ENV_NAME": "development",  # werkzeug's server on loopback, the development key
            "SQLALCHEMY_DATABASE_URI": database_url,
            "STORAGE_DIR": str(tmp_path / "storage"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def _login(page, base, username):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")  # not the top bar's language button
    page.wait_for_url(f"{base}/")


def test_quality_manager_publishes_and_staff_reads_in_the_browser(
    live_server, browser, people, create_document, draft_of, approve, today
):
    doc = create_document(title="客户投诉管理控制程序")
    body = (
        "# 1 目的\n规范客户投诉的受理、调查和回复，投诉当日回访。\n\n# 2 范围\n适用于全部客户投诉。"
    )
    rev = approve(draft_of(doc, body=body))
    doc_id, rev_id, doc_number = doc.id, rev.id, doc.number
    base = live_server

    qm = browser.new_context(locale="zh-CN").new_page()
    _login(qm, base, "qm")
    # The start page lists the approved revision among the quality manager's work.
    assert doc_number in qm.inner_text("main")
    qm.goto(f"{base}/documents/{doc_id}/revisions/{rev_id}")
    qm.fill("input[name=effective_date]", today.isoformat())
    qm.click("form[action$='/publish'] button[type=submit]")
    qm.wait_for_url(f"{base}/documents/{doc_id}/revisions/{rev_id}")
    assert "A0" in qm.inner_text(".control-block")
    assert qm.locator(".badge.state-effective").count() == 1

    staff = browser.new_context(locale="zh-CN").new_page()
    _login(staff, base, "staff")
    staff.goto(f"{base}/documents/")
    staff.click('table.register a:has-text("客户投诉管理控制程序")')
    staff.wait_for_selector(".doc-body")
    assert "投诉当日回访" in staff.inner_text(".doc-body")
    assert "A0" in staff.inner_text(".control-block")

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "staff-reads-procedure.png"
    staff.screenshot(path=str(shot), full_page=True)
    assert_not_blank(shot)
