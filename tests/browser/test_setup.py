"""A real browser: on an empty instance the administrator follows the start page's link to
the set-up, fills in the company's facts and gets the drafts, the record forms and the
checklist of what is left to write. Screenshots at 1366 and 390 px into test-artifacts/."""

import pytest
from sqlalchemy import func, select

from docmgmt.extensions import db
from docmgmt.versioning.models import Document
from tests.browser.test_accessibility import AXE_DIR, AXE_RUN, BLOCKING
from tests.browser.test_journey import (  # noqa: F401  (browser, live_server: fixtures)
    ARTIFACTS,
    _login,
    assert_not_blank,
    browser,
    live_server,
)

pytestmark = pytest.mark.browser


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert_not_blank(path)
    # Each step of the set-up is checked by axe-core as the main pages are.
    found = [
        f"{name}: [{v['impact']}] {v['id']} {v['help']} {v['nodes']}"
        for v in page.evaluate(AXE_RUN, list(BLOCKING))
    ]
    assert not found, "axe found critical/serious violations:\n" + "\n".join(found)


@pytest.mark.parametrize("width", [1366, 390])
def test_the_administrator_sets_up_the_company_in_the_browser(
    live_server,  # noqa: F811
    browser,  # noqa: F811
    create_user,
    width,
):
    create_user("admin", ["admin"], "管理员")
    db.session.commit()
    base = live_server
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
    context.add_init_script(path=str(AXE_DIR / "axe.min.js"))
    page = context.new_page()
    _login(page, base, "admin")
    # The empty instance's start page leads to the set-up.
    assert page.locator("#not-set-up").count() == 1
    _shot(page, f"setup-start-{width}.png")
    page.click("#not-set-up a.button")
    page.wait_for_url(f"{base}/setup/company")
    page.fill("#f-company", "恒远办公设备服务有限公司")
    page.fill("#f-address", "南京市江宁区科建路 18 号")
    page.fill("#f-products", "复印机、打印机、投影仪")
    page.fill("#f-certificate_body", "中国质量认证中心")
    page.fill("#f-sm_name", "王芳")
    page.fill("#f-sm_title", "客户服务部经理")
    page.fill("#f-sm_username", "wang")
    page.fill("#f-gm_name", "张伟")
    page.fill("#f-gm_username", "zhang")
    page.fill("#f-mr_name", "李娜")
    page.fill("#f-mr_title", "副总经理")
    page.fill("input[name=dept_AS_name]", "客户服务部")
    page.select_option("select[name=dept_ENG_by]", "AS")
    page.select_option("select[name=dept_FIN_by]", "ADM")
    page.select_option("select[name=dept_PUR_by]", "ADM")
    page.fill("#f-fact_response_time", "2 小时")
    _shot(page, f"setup-form-{width}.png")
    page.click("#setup-form button[type=submit]")
    page.wait_for_selector("#drafts")

    assert page.locator("#drafts li").count() == 23
    assert page.locator("#forms li").count() == 48
    assert "XX-SR-48" in page.inner_text("#forms")
    assert page.locator("#passwords tr").count() == 2  # wang and zhang
    _shot(page, f"setup-done-{width}.png")
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Document)) == 71

    page.click("a.button[href$='/setup/checklist']")
    page.wait_for_selector("#checklist")
    listed = page.inner_text("#checklist")
    assert "XX-SM-01" in listed and "上门费和维修收费标准" in listed and "服务理念" in listed
    assert "XX-SP-20" not in listed
    _shot(page, f"setup-checklist-{width}.png")
    context.close()
