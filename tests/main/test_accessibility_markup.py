"""WCAG 2.1 AA in the served HTML, checked on every database without a browser: ids unique on a
page, every control named by a label (not by a placeholder alone), errors tied to their fields
and focused, the skip link and named navigation, and the language of parts.

tests/browser/test_accessibility.py runs axe-core over the pages in Chromium; these tests pin
the rules axe does not check (duplicate ids, language of parts) and the failed-form flows."""

from collections import Counter

import lxml.html
import pytest

from docmgmt.extensions import db
from tests.conftest import PASSWORD


def _doc(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def _unnamed_controls(tree):
    """Visible form controls with no label, no aria-label and no aria-labelledby."""
    labelled = {lab.get("for") for lab in tree.iter("label") if lab.get("for")}
    bad = []
    for el in tree.xpath("//input | //select | //textarea"):
        if el.get("type") in ("hidden", "submit", "button"):
            continue
        if el.get("aria-label") or el.get("aria-labelledby"):
            continue
        if el.get("id") and el.get("id") in labelled:
            continue
        if any(a.tag == "label" for a in el.iterancestors()):
            continue
        bad.append(lxml.html.tostring(el, encoding="unicode")[:120])
    return bad


def _duplicate_ids(tree):
    ids = Counter(el.get("id") for el in tree.xpath("//*[@id]"))
    return [i for i, n in ids.items() if n > 1]


@pytest.fixture
def submitted(people, create_document, draft_of):
    from docmgmt.versioning import signing

    doc = create_document(title="客户投诉管理控制程序")
    rev = draft_of(doc)
    signing.submit_for_review(
        people["qm"],
        rev,
        reviewer=people["reviewer"],
        approver=people["approver"],
        password=PASSWORD,
    )
    db.session.commit()
    return doc, rev


def test_the_signing_page_has_unique_ids_and_every_control_named(client, auth, submitted):
    doc, rev = submitted
    auth.login("reviewer")
    tree = _doc(client.get(f"/documents/{doc.id}/revisions/{rev.id}"))
    # The approve comment and the reject reason both used to be id="comment".
    assert tree.xpath("//form[contains(@action, '/sign/')]//textarea")
    assert tree.xpath("//form[contains(@action, '/reject')]//textarea")
    assert _duplicate_ids(tree) == []
    assert _unnamed_controls(tree) == []
    reject = tree.xpath("//form[contains(@action, '/reject')]//textarea")[0]
    label = tree.xpath(f"//label[@for='{reject.get('id')}']")
    assert len(label) == 1 and "rejected" in label[0].text_content()


def test_filters_are_labelled_not_placeholder_only(client, auth, people, effective_doc):
    doc, _rev = effective_doc()
    auth.login("qm")
    for path in (
        "/documents/",
        f"/documents/{doc.id}/compare",
        "/change-requests/",
        "/records/",
        "/search/?q=x",
        "/audit/",
        "/certification/clauses",
        "/certification/sample",
        "/records/holds",
    ):
        tree = _doc(client.get(path))
        assert _unnamed_controls(tree) == [], path
        assert _duplicate_ids(tree) == [], path
        # No empty header cells: a column of buttons is named for screen readers.
        empty = [th for th in tree.iter("th") if not th.text_content().strip()]
        assert empty == [], path


def test_skip_link_named_navigation_and_search_facet_headings(client, auth, people, effective_doc):
    effective_doc(title="客户投诉管理控制程序")
    auth.login("qm")
    tree = _doc(client.get("/records/"))
    skip = tree.xpath("//body/*[1]")[0]
    assert skip.tag == "a" and skip.get("href") == "#main"
    assert tree.xpath("//main[@id='main']")
    navs = tree.xpath("//nav")
    assert len(navs) == 2 and all(n.get("aria-label") for n in navs)
    assert len({n.get("aria-label") for n in navs}) == 2
    tree = _doc(client.get("/search/?q=投诉"))
    levels = [int(h.tag[1]) for h in tree.xpath("//h1|//h2|//h3|//h4|//h5|//h6")]
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), levels


def test_a_wrong_signing_password_returns_to_the_marked_focused_field(client, auth, submitted):
    doc, rev = submitted
    auth.login("reviewer")
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev.id}/sign/reviewed",
        data={"password": "wrong", "comment": "同意"},
    )
    assert r.status_code == 403
    tree = _doc(r)
    (pw,) = tree.xpath("//input[@name='password']")
    assert pw.get("aria-invalid") == "true"
    assert pw.get("autofocus") is not None
    error = tree.xpath(f"//*[@id='{pw.get('aria-describedby')}']")[0]
    assert "password is wrong" in error.text_content()
    # Only the relevant message: not the "not in force yet" notice, not the error twice.
    text = tree.text_content()
    assert "not in force yet" not in text
    assert text.count("password is wrong") == 1
    # What was typed besides the password is kept.
    assert tree.xpath("//textarea[@id='comment']")[0].text_content().strip() == "同意"
    # … and not copied into the reject form next to it.
    assert tree.xpath("//textarea[@id='reject-comment']")[0].text_content().strip() == ""
    # The address bar shows the page, not the POST address (reloading does not post again).
    script = tree.xpath("//script[@data-page-url]")[0]
    assert script.get("data-page-url") == f"/documents/{doc.id}/revisions/{rev.id}"
    assert len(tree.xpath("//*[@autofocus]")) == 1


def test_a_missing_reject_reason_is_marked_at_its_field(client, auth, submitted):
    doc, rev = submitted
    auth.login("reviewer")
    r = client.post(f"/documents/{doc.id}/revisions/{rev.id}/reject", data={"comment": ""})
    assert r.status_code == 422
    tree = _doc(r)
    area = tree.xpath("//form[contains(@action, '/reject')]//textarea")[0]
    assert area.get("aria-invalid") == "true" and area.get("autofocus") is not None
    assert tree.xpath(f"//*[@id='{area.get('aria-describedby')}']")
    # The signing form next to it is not marked.
    (sign_pw,) = tree.xpath("//input[@name='password']")
    assert sign_pw.get("aria-invalid") is None


def test_a_record_field_error_is_marked_at_that_field(client, auth, people):
    from docmgmt.records import operations as rops

    rt = rops.create_type(
        people["qm"],
        code="WO",
        name="派工单",
        retention_months=36,
        fields=[
            {"name": "customer", "label": "客户", "kind": "text", "required": True},
            {"name": "hours", "label": "响应小时", "kind": "number"},
        ],
    )
    db.session.commit()
    auth.login("qm")
    r = client.post(f"/records/new/{rt.id}", data={"title": "上门维修", "f_customer": ""})
    assert r.status_code == 422
    tree = _doc(r)
    customer = tree.xpath("//input[@name='f_customer']")[0]
    assert customer.get("aria-invalid") == "true" and customer.get("autofocus") is not None
    error = tree.xpath(f"//*[@id='{customer.get('aria-describedby')}']")[0]
    assert error.text_content().strip()
    assert tree.xpath("//input[@name='f_hours']")[0].get("aria-invalid") is None
    assert _unnamed_controls(tree) == []


def test_parts_in_the_other_language_carry_their_lang(client, auth, people, effective_doc):
    doc, rev = effective_doc(title="客户投诉管理控制程序")
    auth.login("staff")
    client.post("/lang/en")
    tree = _doc(client.get(f"/documents/{doc.id}/revisions/{rev.id}"))
    assert tree.get("lang") == "en"
    assert tree.xpath("//article[contains(@class, 'doc-body')]")[0].get("lang") == "zh-CN"
    # The Chinese terms beside the English labels, and the language button.
    terms = tree.xpath("//*[contains(@class, 'zh-term')]")
    assert terms and all(t.get("lang") == "zh-CN" for t in terms)
    assert tree.xpath("//header//button[text()='中文']")[0].get("lang") == "zh-CN"
    # "Reviewed (审核)": the Chinese part of an English label is marked.
    assert tree.xpath("//td/span[@lang='zh-CN' and text()='审核']")

    client.post("/lang/zh_CN")
    tree = _doc(client.get(f"/documents/{doc.id}/revisions/{rev.id}"))
    assert tree.get("lang") == "zh-CN"
    assert tree.xpath("//article[contains(@class, 'doc-body')]")[0].get("lang") is None
    assert tree.xpath("//header//button[text()='English']")[0].get("lang") == "en"
    assert not tree.xpath("//*[@lang='zh-CN' and not(self::html)]")
