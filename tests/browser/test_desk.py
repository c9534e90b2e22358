"""A real browser on the quality manager's desk: a pending request is accepted from there."""

from tests.browser.test_journey import (  # noqa: F401
    ARTIFACTS,
    _login,
    assert_not_blank,
    browser,
    live_server,
)
from tests.conftest import page_text  # noqa: F401


def test_quality_manager_accepts_a_change_request_from_the_desk(
    live_server,  # noqa: F811
    browser,  # noqa: F811
    people,
    effective_doc,
):
    from docmgmt.control import operations as ops
    from docmgmt.extensions import db

    doc, _a0 = effective_doc(title="客户投诉管理控制程序")
    cr = ops.create_request(
        people["staff"],
        doc,
        reason="节假日投诉无人受理",
        proposed_change="增加节假日值班受理规定",
        urgency="high",
    )
    db.session.commit()
    number, base = cr.number, live_server

    page = browser.new_context(locale="zh-CN").new_page()
    _login(page, base, "qm")
    page.goto(f"{base}/desk")
    section = page.locator("#desk-requests")
    assert number in section.inner_text()
    section.locator(f"a:has-text('{number}')").click()
    page.wait_for_selector("textarea[name=comment]")
    page.fill("textarea[name=comment]", "同意修订")
    page.click("button[formaction$='/accept']")
    page.wait_for_selector(".control-block")
    assert "A1" in page.inner_text(".control-block")
    assert number in page.inner_text("main")
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{base}/desk")
    shot = ARTIFACTS / "desk.png"
    page.screenshot(path=str(shot), full_page=True)
    assert_not_blank(shot)
    assert number not in page.locator("#desk-requests").inner_text()
