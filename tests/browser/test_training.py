"""A real browser: a staff member reads a new revision and signs for it; completion moves."""

from tests.browser.test_journey import (  # noqa: F401
    ARTIFACTS,
    _login,
    assert_not_blank,
    browser,
    live_server,
)
from tests.conftest import PASSWORD


def test_staff_acknowledges_a_new_revision_in_the_browser(
    live_server,  # noqa: F811
    browser,  # noqa: F811
    people,
    create_document,
    draft_of,
    approve,
    today,
):
    from docmgmt.extensions import db
    from docmgmt.training import operations as tops
    from docmgmt.versioning import publishing

    doc = create_document(title="报修、送修和上门维修服务控制程序")
    tops.set_requirement(people["qm"], doc, "role", "staff", 14)
    rev = approve(draft_of(doc))
    publishing.publish_revision(people["qm"], rev, today)  # the matrix gives 赵敏 a task
    db.session.commit()
    number, rev_id, base = doc.number, rev.id, live_server

    page = browser.new_context(locale="zh-CN").new_page()
    _login(page, base, "staff")
    page.goto(f"{base}/training/")
    assert number in page.inner_text("main")
    page.click("a.button.primary")
    page.wait_for_selector("article.document-body")
    assert "派工单" in page.inner_text("article.document-body")
    page.check("input[name=confirm]")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_selector(".flash-success")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "training-acknowledged.png"
    page.screenshot(path=str(shot), full_page=True)
    assert_not_blank(shot)

    qm = browser.new_context(locale="zh-CN").new_page()
    _login(qm, base, "qm")
    qm.goto(f"{base}/training/revisions/{rev_id}")
    text = qm.inner_text("main")
    assert "已完成 1 / 1" in text and "赵敏" in text
