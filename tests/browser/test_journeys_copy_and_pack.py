"""Real-browser journeys: a controlled copy issued and printed; an evidence pack downloaded.
Each saves a screenshot that must not be blank."""

import io
import zipfile

from tests.browser.test_journey import (  # noqa: F401
    ARTIFACTS,
    _login,
    assert_not_blank,
    browser,
    live_server,
)


def test_quality_manager_issues_a_controlled_copy_in_the_browser(
    live_server,  # noqa: F811
    browser,  # noqa: F811
    people,
    effective_doc,
):
    doc, rev = effective_doc()
    base = f"{live_server}"
    page = browser.new_context(locale="zh-CN").new_page()
    _login(page, base, "qm")
    page.goto(f"{base}/documents/{doc.id}/revisions/{rev.id}")
    page.fill("input[name=holder_name]", "售后服务部 维修班")
    page.click("form[action$='/copies'] button[type=submit]")
    page.wait_for_selector(".flash-success")
    label = f"{doc.number}-A0-001"
    assert label in page.inner_text("main")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "controlled-copy.png"
    page.screenshot(path=str(shot), full_page=True)
    assert_not_blank(shot)
    link = page.locator("a[href$='copy.pdf']").first.get_attribute("href")
    body = page.request.get(f"{base}{link}").body()
    assert body.startswith(b"%PDF")


def test_auditor_downloads_an_evidence_pack_in_the_browser(
    live_server,  # noqa: F811
    browser,  # noqa: F811
    people,
    effective_doc,
):
    effective_doc()
    base = live_server
    page = browser.new_context(locale="zh-CN", accept_downloads=True).new_page()
    _login(page, base, "auditor")
    page.goto(f"{base}/certification/")
    page.click("form[action$='/certification/packs'] button[type=submit]")
    page.wait_for_selector("#pack-result")
    with page.expect_download() as info:
        page.click("a[href$='evidence.zip']")
    from pathlib import Path

    data = Path(info.value.path()).read_bytes()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "manifest.json" in names
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "evidence-pack.png"
    page.screenshot(path=str(shot), full_page=True)
    assert_not_blank(shot)
