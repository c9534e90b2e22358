"""Staff pages on a phone and on a desk: the demo company in Chromium at 1366 and 390 px.

Every staff page (start page, register, reading page, training tasks, search, record form)
fits the screen: no horizontal scrolling and no table cell squeezed narrower than four
characters of its font (the register used to wrap 名/称 one character a line). A technician on
a 390 px phone finds an overdue read-and-understood task on the start page, reads the
procedure (its outline jumps to a heading) and signs it on the reading page. Screenshots go to
test-artifacts/phone-*.png for a person to look at."""

import pytest

from tests.browser.test_accessibility import _demo
from tests.browser.test_journey import ARTIFACTS, assert_not_blank, browser, live_server  # noqa: F401

WIDTHS = (1366, 390)

pytestmark = pytest.mark.browser

# What overflows the page or squeezes a table cell, as a list of readable lines.
LAYOUT = """() => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1) {
    problems.push(`page ${doc.scrollWidth}px wide in a ${doc.clientWidth}px window`);
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      const fixed = getComputedStyle(el).position === 'absolute';
      if (r.right > doc.clientWidth + 1 && r.width > 0 && !fixed) {
        const tag = el.tagName.toLowerCase();
        problems.push(`  sticks out: <${tag} class="${el.className}"> to ${Math.round(r.right)}px`);
        if (problems.length > 6) break;
      }
    }
  }
  for (const cell of document.querySelectorAll('main td, main th')) {
    if (!cell.offsetParent) continue;
    const text = cell.innerText.trim();
    if (!text) continue;
    const style = getComputedStyle(cell);
    const em = parseFloat(style.fontSize);
    const width = cell.getBoundingClientRect().width;
    if (width < 4 * em) {
      problems.push(`cell "${text.slice(0, 20)}" is ${Math.round(width)}px, under 4 × ${em}px`);
    }
  }
  return problems;
}"""


def _login(browser, base, username, width):  # noqa: F811
    from docmgmt.demo.loader import DEMO_PASSWORD

    ctx = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 844})
    page = ctx.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")
    return ctx, page


def _staff_pages(ids):
    from docmgmt.extensions import db
    from docmgmt.training.models import TrainingTask

    task = db.session.get(TrainingTask, ids["task"])
    return {
        "start": "/",
        "register": "/documents/",
        "reading": f"/documents/{task.document_id}/revisions/{task.revision_id}",
        "tasks": "/training/",
        "task": f"/training/tasks/{ids['task']}",
        "search": "/search/?q=投诉",
        "records": "/records/",
        "record-form": f"/records/new/{ids['record_type']}",
    }


def test_staff_pages_fit_a_phone_and_a_desk(app, live_server, browser):  # noqa: F811
    ids = _demo()
    base = live_server
    ARTIFACTS.mkdir(exist_ok=True)
    found = []
    for width in WIDTHS:
        ctx, page = _login(browser, base, "tech", width)
        for name, path in _staff_pages(ids).items():
            response = page.goto(f"{base}{path}")
            assert response.status == 200, f"{path}: {response.status}"
            shot = ARTIFACTS / f"phone-{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert_not_blank(shot)
            found.extend(f"{name} @{width}px: {p}" for p in page.evaluate(LAYOUT))
        ctx.close()
    assert not found, "\n".join(found)


def test_quality_manager_pages_fit_too(app, live_server, browser):  # noqa: F811
    """The audit trail (before/after as a difference) and the register with its 待生效 and
    review columns, as the quality manager sees them."""
    from docmgmt.clock import utcnow
    from docmgmt.extensions import db
    from docmgmt.jobs.models import Job
    from docmgmt.versioning.models import Document
    from docmgmt.versioning.queries import in_force_revision

    ids = _demo()
    manual = in_force_revision(db.session.get(Document, ids["manual"]))
    now = utcnow()
    db.session.add_all(
        [
            Job(
                kind="import",
                key="import:901",
                state="running",
                attempt=1,
                phase="filing",
                done=12000,
                total=20000,
                started_dt=now,
            ),
            Job(
                kind="digest",
                key="digest:2026-11-30",
                state="failed",
                attempt=3,
                message="邮件服务器无应答：" + "连接超时，" * 40,
                started_dt=now,
                finished_dt=now,
            ),
            Job(
                kind="activate",
                key="activate:2026-12-01",
                state="done",
                attempt=1,
                message="1 个版本已生效",
                started_dt=now,
                finished_dt=now,
            ),
        ]
    )
    db.session.commit()
    pages = (
        ("audit", "/audit/"),
        ("jobs", "/jobs/"),
        ("qm-register", "/documents/"),
        ("qm-start", "/"),
        ("manual", f"/documents/{manual.document_id}/revisions/{manual.id}"),
    )
    found = []
    for width in WIDTHS:
        ctx, page = _login(browser, live_server, "qm", width)
        for name, path in pages:
            assert page.goto(f"{live_server}{path}").status == 200
            shot = ARTIFACTS / f"phone-{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            found.extend(f"{name} @{width}px: {p}" for p in page.evaluate(LAYOUT))
        ctx.close()
    assert not found, "\n".join(found)


def test_top_bar_collapses_on_a_phone_and_opens_with_its_button(app, live_server, browser):  # noqa: F811
    _demo()
    ctx, page = _login(browser, live_server, "tech", 390)
    menu = page.locator("header.topbar nav")
    assert not menu.is_visible()
    page.click("header.topbar button.menu-toggle")
    assert menu.is_visible()
    assert page.get_attribute("header.topbar button.menu-toggle", "aria-expanded") == "true"
    page.screenshot(path=str(ARTIFACTS / "phone-menu-open-390.png"), full_page=False)
    ctx.close()
    # Without JavaScript the menu stays open (it wraps) and no dead button shows.
    from docmgmt.demo.loader import DEMO_PASSWORD

    ctx = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    page = ctx.new_page()
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "tech")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    assert page.locator("header.topbar nav").is_visible()
    assert not page.locator("header.topbar button.menu-toggle").is_visible()
    assert page.evaluate(LAYOUT) == []
    page.screenshot(path=str(ARTIFACTS / "phone-nojs-start-390.png"), full_page=True)
    ctx.close()
    # On a desk the menu shows without the button.
    ctx, page = _login(browser, live_server, "tech", 1366)
    assert page.locator("header.topbar nav").is_visible()
    assert not page.locator("header.topbar button.menu-toggle").is_visible()
    ctx.close()


def test_technician_finds_and_signs_an_overdue_task_on_a_phone(app, live_server, browser):  # noqa: F811
    from docmgmt.demo.loader import DEMO_PASSWORD
    from docmgmt.extensions import db
    from docmgmt.training.models import TaskState, TrainingTask

    ids = _demo()
    task = db.session.get(TrainingTask, ids["task"])
    assert task.due_date < _today()  # the demo's tasks are three weeks old: overdue
    ctx, page = _login(browser, live_server, "tech", 390)
    reading = page.locator("section.reading-tasks")
    assert "逾期" in reading.inner_text()
    # Overdue first: the first task listed is overdue.
    assert "逾期" in reading.locator("li").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "phone-sign-1-start-390.png"), full_page=True)
    reading.locator("li a").first.click()
    page.wait_for_selector("article.doc-body")
    # The outline jumps to a heading of the procedure.
    outline = page.locator("nav.outline")
    outline.locator("summary").click()
    target = outline.locator("a").nth(1)
    anchor = target.get_attribute("href")
    target.click()
    assert page.evaluate("location.hash") == anchor
    top = page.evaluate(f"document.getElementById({anchor[1:]!r}).getBoundingClientRect().top")
    assert 0 <= top < 200
    form = page.locator("section.acknowledge")
    form.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "phone-sign-2-reading-390.png"), full_page=True)
    assert page.evaluate(LAYOUT) == []
    # Signing without the tick is refused, with the message on the reading page.
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-error")
    assert page.locator("section.acknowledge").count() == 1
    form = page.locator("section.acknowledge")
    form.locator("input[name=confirm]").check()
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success")
    page.screenshot(path=str(ARTIFACTS / "phone-sign-3-signed-390.png"), full_page=True)
    assert page.locator("section.acknowledge").count() == 0
    db.session.expire_all()
    task = db.session.get(TrainingTask, ids["task"])
    assert task.state == TaskState.DONE and task.completed_via == "acknowledged"
    ctx.close()


def _today():
    from docmgmt.training.operations import local_today

    return local_today()


def test_search_on_a_phone_shows_the_hits_before_the_filters(app, live_server, browser):  # noqa: F811
    """On a phone the counts per kind, type, department and state fold behind one "筛选" line
    so that the first hit is on the first screen; a filter that is on keeps them open; on a desk
    they stand beside the hits with no fold line."""
    _demo()
    ctx, page = _login(browser, live_server, "qm", 390)
    page.goto(f"{live_server}/search/?q=派工")
    fold = page.locator("details.facets-fold")
    assert fold.get_attribute("open") is None and fold.locator("summary").inner_text() == "筛选"
    first = page.locator("li.hit").first.bounding_box()
    assert first["y"] < 844, first  # on the first screen
    page.screenshot(path=str(ARTIFACTS / "phone-search-390.png"), full_page=False)
    fold.locator("summary").click()
    page.locator("ul.facet a").first.click()
    page.wait_for_url("**kind=**")
    assert page.locator("details.facets-fold").get_attribute("open") is not None
    assert page.evaluate(LAYOUT) == []
    ctx.close()
    ctx, page = _login(browser, live_server, "qm", 1366)
    page.goto(f"{live_server}/search/?q=派工")
    assert page.locator("details.facets-fold summary").is_visible() is False
    assert page.locator("ul.facet").first.is_visible()
    ctx.close()
