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
    from docmgmt.auth.models import User
    from docmgmt.certification.models import EvidencePack
    from docmgmt.control.models import ChangeRequest
    from docmgmt.demo import loader as demo
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
        "/jobs/",
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
        from docmgmt.demo.loader import DEMO_PASSWORD

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


# ---------------------------------------------------------------- the keyboard alone

ACTIVE = "() => { const e = document.activeElement; return {tag: e.tagName, name: e.name || '',\
 href: e.getAttribute('href') || '', text: (e.innerText || '').trim(), id: e.id || '',\
 outline: getComputedStyle(e).outlineStyle, invalid: e.getAttribute('aria-invalid')}; }"


def _tab_to(page, accept, limit=120, key="Tab"):
    """Press Tab until the focused element is the one wanted; each stop shows a focus ring."""
    for _ in range(limit):
        page.keyboard.press(key)
        active = page.evaluate(ACTIVE)
        if active["tag"] != "BODY":
            assert active["outline"] != "none", f"no visible focus on {active}"
        if accept(active):
            return active
    raise AssertionError("never reached by Tab")


def _type(page, text):
    page.keyboard.type(text)


def test_sign_a_revision_and_file_a_record_with_the_keyboard_alone(  # noqa: F811
    live_server,  # noqa: F811
    browser,  # noqa: F811
    people,
    create_document,
    draft_of,
):
    from docmgmt.records import operations as rops
    from docmgmt.records.models import Record
    from docmgmt.versioning import signing
    from docmgmt.versioning.models import Signature
    from tests.conftest import PASSWORD

    doc = create_document(title="客户投诉管理控制程序")
    rev = draft_of(doc)
    signing.submit_for_review(
        people["qm"],
        rev,
        reviewer=people["reviewer"],
        approver=people["approver"],
        password=PASSWORD,
    )
    rt = rops.create_type(
        people["qm"],
        code="WO",
        name="派工单",
        retention_months=36,
        fields=[{"name": "customer", "label": "客户", "kind": "text", "required": True}],
    )
    from docmgmt.extensions import db

    db.session.commit()
    base, rev_url = live_server, f"/documents/{doc.id}/revisions/{rev.id}"

    page = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 800}).new_page()
    page.goto(f"{base}/login")
    # The user name has the focus: type, Tab to the password, Enter submits.
    assert page.evaluate(ACTIVE)["name"] == "username"
    _type(page, "reviewer")
    page.keyboard.press("Tab")
    _type(page, PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")

    # The skip link is the first stop and leads into the page, past the menu.
    first = _tab_to(page, lambda a: True)
    assert first["href"] == "#main"
    page.keyboard.press("Enter")
    _tab_to(page, lambda a: a["href"] == rev_url)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}{rev_url}")

    # A wrong password: back at the form, the field marked and focused, the page's own address.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the skip link
    _tab_to(page, lambda a: a["name"] == "password")
    _type(page, "not-my-password")
    page.keyboard.press("Enter")
    page.wait_for_selector("input[name=password][aria-invalid=true]")
    active = page.evaluate(ACTIVE)
    assert active["name"] == "password" and active["invalid"] == "true"
    # The address bar shows the page's own address (page-url.js, a deferred script, replaces
    # the POST's; on a loaded machine it may run just after the field is marked).
    page.wait_for_url(f"{base}{rev_url}", timeout=5000)
    described = page.get_attribute("input[name=password]", "aria-describedby")
    assert page.inner_text(f"#{described}").strip()
    assert page.locator(".flash-info").count() == 0

    # The right password, a comment, Tab to the button, Enter.
    _type(page, PASSWORD)
    page.keyboard.press("Tab")
    _type(page, "同意")
    _tab_to(page, lambda a: a["tag"] == "BUTTON" and a["text"] == "以审核人身份签署")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash-success")
    db.session.expire_all()
    assert db.session.query(Signature).filter_by(revision_id=rev.id).count() == 2

    # File a record: the menu, the records page, the type's button, the form, the button.
    page.keyboard.press("Tab")  # the skip link is first again
    # On a phone the menu is folded behind its button: Enter opens it.
    _tab_to(page, lambda a: a["tag"] == "BUTTON" and a["text"] == "菜单")
    page.keyboard.press("Enter")
    _tab_to(page, lambda a: a["href"] == "/records/")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/records/")
    _tab_to(page, lambda a: a["href"] == f"/records/new/{rt.id}")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/records/new/{rt.id}")
    _tab_to(page, lambda a: a["name"] == "title")
    _type(page, "上门维修")
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE)["name"] == "f_customer"
    _type(page, "王先生")
    _tab_to(page, lambda a: a["tag"] == "BUTTON" and a["text"] == "归档")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/records/*")
    db.session.expire_all()
    record = db.session.query(Record).one()
    assert record.title == "上门维修" and record.values["customer"] == "王先生"
