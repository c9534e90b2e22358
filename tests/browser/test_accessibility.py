"""WCAG 2.1 AA in a real browser: axe-core over the main pages in both languages and at a
desk and a phone width, and a revision signed and a record filed with the keyboard alone.

axe-core is vendored (tests/browser/vendor/axe-core, MPL-2.0, unmodified with its licence):
CI needs no npm and no network, and the pinned file is checked by its SHA-256 below.
Skipped only on a developer machine without Chromium; in CI (CI=true) a missing browser fails.
"""

import hashlib
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser.test_journey import browser, live_server  # noqa: F401

AXE_DIR = Path(__file__).parent / "vendor" / "axe-core"
AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
WIDTHS = (1366, 390)
LOCALES = ("zh_CN", "en")
BLOCKING = ("critical", "serious")

pytestmark = pytest.mark.browser


def test_axe_core_is_the_pinned_release_with_its_licence():
    source = (AXE_DIR / "axe.min.js").read_bytes()
    assert hashlib.sha256(source).hexdigest() == AXE_SHA256
    assert source.startswith(f"/*! axe v{AXE_VERSION}".encode())
    assert "Mozilla Public License" in (AXE_DIR / "LICENSE").read_text()


def _demo():
    """The demo company (every page has content) and the ids the pages need."""
    from docmgmt import demo
    from docmgmt.auth.models import User
    from docmgmt.certification.models import EvidencePack
    from docmgmt.control.models import ChangeRequest
    from docmgmt.extensions import db
    from docmgmt.printing.models import ControlledCopy
    from docmgmt.records.models import Record, RecordType
    from docmgmt.training.models import TaskState, TrainingSession, TrainingTask
    from docmgmt.versioning.models import Document, Revision, RevisionState

    demo.load()
    db.session.commit()
    first = lambda stmt: db.session.scalars(stmt.limit(1)).first()  # noqa: E731
    pending = first(select(Revision).where(Revision.state == RevisionState.IN_REVIEW))
    if pending is None:
        pending = first(select(Revision).where(Revision.state != RevisionState.EFFECTIVE))
    effective = first(select(Revision).where(Revision.state == RevisionState.EFFECTIVE))
    manual = first(select(Document).where(Document.doc_type == "manual"))
    ids = {
        "pending": (pending.document_id, pending.id),
        "effective": (effective.document_id, effective.id),
        "manual": manual.id,
        "request": first(select(ChangeRequest)).id,
        "copy": first(select(ControlledCopy)).id,
        "record": first(select(Record)).id,
        "record_type": first(select(RecordType)).id,
        "task": first(
            select(TrainingTask)
            .join(User, User.id == TrainingTask.user_id)
            .where(User.username == "tech", TrainingTask.state == TaskState.OPEN)
        ).id,
        "session": first(select(TrainingSession)).id,
        "pack": getattr(first(select(EvidencePack)), "id", None),
    }
    return ids


def _pages(ids):
    doc, rev = ids["pending"]
    edoc, erev = ids["effective"]
    qm = [
        "/",
        "/documents/",
        f"/documents/{ids['manual']}",
        f"/documents/{edoc}/revisions/{erev}",
        f"/documents/{doc}/compare",
        "/desk",
        "/change-requests/",
        f"/change-requests/{ids['request']}",
        "/copies/",
        f"/copies/{ids['copy']}",
        "/search/?q=投诉",
        "/records/",
        f"/records/new/{ids['record_type']}",
        "/records/types",
        "/records/holds",
        "/records/disposition",
        f"/records/{ids['record']}",
        "/training/",
        "/training/overview",
        "/training/sessions",
        "/training/matrix",
        "/training/sessions/new",
        "/training/evaluations",
        f"/training/sessions/{ids['session']}",
        "/certification/",
        "/certification/clauses",
        "/certification/sample",
        "/audit/",
        "/profile",
    ]
    if ids["pack"]:
        qm.append(f"/certification/packs/{ids['pack']}")
    return {
        "qm": qm,
        # The approver of the pending revision sees its approve and reject forms.
        "mr": [f"/documents/{doc}/revisions/{rev}", "/"],
        "admin": ["/admin/users", "/admin/users/new"],
        "tech": [f"/training/tasks/{ids['task']}", "/training/"],
    }


def _context(browser, base, locale, username=None):  # noqa: F811
    ctx = browser.new_context(
        locale="zh-CN" if locale == "zh_CN" else "en-GB",
        viewport={"width": WIDTHS[0], "height": 900},
    )
    ctx.add_init_script(path=str(AXE_DIR / "axe.min.js"))
    page = ctx.new_page()
    page.goto(f"{base}/login")
    if locale != "zh_CN":
        page.click("header form button[type=submit]")  # the top bar's language button
        page.wait_for_selector("html[lang=en]")
    if username:
        from docmgmt.demo import DEMO_PASSWORD

        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(f"{base}/")
    return ctx, page


AXE_RUN = """async (blocking) => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => blocking.includes(v.impact))
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3)
                  .map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
}"""


def _scan(page, label, found):
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for v in page.evaluate(AXE_RUN, list(BLOCKING)):
            found.append(f"{label} @{width}px: [{v['impact']}] {v['id']} {v['help']}")
            found.extend(f"      {n}" for n in v["nodes"])


def test_main_pages_have_no_serious_accessibility_violations(app, live_server, browser):  # noqa: F811
    ids = _demo()
    base = live_server
    started = time.monotonic()
    found: list[str] = []
    count = 0
    for locale in LOCALES:
        ctx, page = _context(browser, base, locale)
        _scan(page, f"/login {locale}", found)
        ctx.close()
        for username, paths in _pages(ids).items():
            ctx, page = _context(browser, base, locale, username)
            for path in paths:
                response = page.goto(f"{base}{path}")
                assert response.status == 200, f"{path} as {username}: {response.status}"
                _scan(page, f"{path} {locale} ({username})", found)
                count += 1
            ctx.close()
    elapsed = time.monotonic() - started
    print(f"axe: {count * len(WIDTHS)} page views in {elapsed:.0f} s")
    assert not found, "axe found critical/serious violations:\n" + "\n".join(found)
