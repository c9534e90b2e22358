"""Staff read the revision in force and nothing else; auditors and quality managers read all."""

import pytest

from tests.conftest import page_text


@pytest.fixture
def history(effective_doc, draft_of):
    doc, a0 = effective_doc()
    a1 = draft_of(doc, body="# 1 目的\n新的草稿内容：派工单电子化。", change_summary="派工单电子化")
    return doc, a0, a1


def test_staff_see_only_the_revision_in_force(client, auth, people, history):
    doc, a0, a1 = history
    auth.login("staff")
    r = client.get(f"/documents/{doc.id}", follow_redirects=True)
    assert r.status_code == 200 and "1 小时内响应" in page_text(r)
    r = client.get(f"/documents/{doc.id}/revisions/{a1.id}")
    assert r.status_code == 403
    assert "派工单电子化" not in page_text(r)
    assert client.get(f"/documents/{doc.id}/compare?a={a0.id}&b={a1.id}").status_code == 403
    assert client.get(f"/documents/{doc.id}/revisions/{a1.id}/edit").status_code == 403


def test_drafts_are_refused_as_json_when_asked_for_json(client, auth, people, history):
    doc, a0, a1 = history
    auth.login("staff")
    r = client.get(f"/documents/{doc.id}/revisions/{a1.id}", headers={"Accept": "application/json"})
    assert r.status_code == 403 and "not in force" in r.get_json()["message"]


@pytest.mark.parametrize("who", ["auditor", "qm"])
def test_auditors_and_quality_managers_read_every_revision(client, auth, people, history, who):
    doc, a0, a1 = history
    auth.login(who)
    assert "派工单电子化" in page_text(client.get(f"/documents/{doc.id}/revisions/{a1.id}"))
    page = page_text(client.get(f"/documents/{doc.id}"))
    assert "A0" in page and "A1" in page


def test_the_routed_reviewer_reads_the_revision_they_must_sign(client, auth, people, history):
    from docmgmt.extensions import db
    from docmgmt.versioning import signing
    from tests.conftest import PASSWORD

    doc, a0, a1 = history
    signing.submit_for_review(
        people["qm"],
        a1,
        reviewer=people["reviewer"],
        approver=people["approver"],
        password=PASSWORD,
    )
    db.session.commit()
    auth.login("reviewer")
    assert client.get(f"/documents/{doc.id}/revisions/{a1.id}").status_code == 200


def test_content_html_is_sanitised(client, auth, people, create_document, draft_of, approve, today):
    from docmgmt.extensions import db
    from docmgmt.versioning import publishing

    doc = create_document()
    rev = approve(
        draft_of(
            doc,
            body="# 标题 <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
            "**粗体** [link](javascript:alert(1))",
        )
    )
    publishing.publish_revision(people["qm"], rev, today)
    db.session.commit()
    auth.login("staff")
    html = client.get(f"/documents/{doc.id}/revisions/{rev.id}").get_data(as_text=True)
    body = html.split('class="doc-body">', 1)[1].split("</article>", 1)[0]
    # Markup arrives as visible text, never as live tags or links.
    assert "<script" not in body and "<img" not in body and "href=" not in body
    assert "&lt;script&gt;" in body
    assert "<strong>粗体</strong>" in body
