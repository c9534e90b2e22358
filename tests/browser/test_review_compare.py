"""A real browser: the approver opens the change-marked comparison from the signing page,
steps through the changes and signs; both pages at 1366 and 390 px, without sideways
scrolling, screenshots kept in test-artifacts/."""

from tests.browser.test_journey import (  # noqa: F401
    ARTIFACTS,
    _login,
    assert_not_blank,
    browser,
    live_server,
)
from tests.conftest import PASSWORD
from tests.versioning.test_compare import NEW_BODY, OLD_BODY

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}


def _no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    client = page.evaluate("document.documentElement.clientWidth")
    assert width <= client + 1, f"{page.url} scrolls sideways: {width} > {client}"


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert_not_blank(path)


def test_the_approver_opens_the_redline_from_the_signing_page_and_signs(
    live_server,  # noqa: F811
    browser,  # noqa: F811
    people,
    create_document,
    draft_of,
    approve,
):
    from docmgmt.clock import local_today
    from docmgmt.extensions import db
    from docmgmt.versioning import publishing, signing

    doc = create_document(title="报修送修和上门维修服务控制程序及客户满意度调查与投诉处理规定")
    a0 = approve(draft_of(doc, body=OLD_BODY))
    publishing.publish_revision(people["qm"], a0, local_today())
    a1 = draft_of(doc, body=NEW_BODY, change_summary="响应时限缩短为 30 分钟")
    signing.submit_for_review(
        people["qm"],
        a1,
        reviewer=people["reviewer"],
        approver=people["approver"],
        password=PASSWORD,
    )
    signing.sign_revision(people["reviewer"], a1, "reviewed", PASSWORD, "时限已与客服部确认")
    db.session.commit()
    base, doc_id, rev_id = live_server, doc.id, a1.id
    signing = f"{base}/documents/{doc_id}/revisions/{rev_id}"

    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    _login(page, base, "approver")
    for name, (w, h) in WIDTHS.items():
        page.set_viewport_size({"width": w, "height": h})
        page.goto(signing)
        # the decision and the way to the comparison are on the first screen
        box = page.locator("#decision a.signing-compare").bounding_box()
        assert box and box["y"] + box["height"] <= h, (name, box)
        assert "时限已与客服部确认" in page.inner_text(".signatures")
        assert "SHA-256" not in page.inner_text(".signatures")  # staff view, no hash column
        _no_sideways_scroll(page)
        _shot(page, f"signing-{name}")

    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(signing)
    page.click("#decision a.signing-compare")
    page.wait_for_selector("table.redline-compare")
    assert page.locator("table.redline-compare ins").count() >= 3
    assert page.locator("table.redline-compare del").count() >= 3
    assert "30 分钟" in page.inner_text("table.redline-compare ins >> nth=0")
    assert "变更：4 处" in page.inner_text(".compare-summary")
    # the bar steps through the changes
    page.click(".change-nav .next-change")
    page.wait_for_function("location.hash === '#c1'")
    page.click(".change-nav .next-change")
    page.wait_for_function("location.hash === '#c2'")
    assert "2 / 4" in page.inner_text(".change-nav .where")
    page.click(".change-nav .prev-change")
    page.wait_for_function("location.hash === '#c1'")
    page.evaluate("window.scrollTo(0, 0)")
    _no_sideways_scroll(page)
    _shot(page, "compare-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate("window.scrollTo(0, 0)")
    _no_sideways_scroll(page)
    _shot(page, "compare-phone")
    page.click("a:has-text('行内标记')")
    page.wait_for_selector("table.redline-compare.inline")
    _no_sideways_scroll(page)
    _shot(page, "compare-inline-phone")

    # back to the signing page, sign
    page.set_viewport_size({"width": 1366, "height": 900})
    page.click("a:has-text('返回签署 A1')")
    page.wait_for_selector("#decision")
    page.fill("#decision input[name=password]", PASSWORD)
    page.fill("#decision textarea[name=comment]", "同意发布")
    page.click("#decision button.primary")
    page.wait_for_selector(".badge.state-approved")
    text = page.inner_text(".signatures")
    assert "陈静" in text and "同意发布" in text
    _shot(page, "signed-desktop")
    context.close()
