"""The audit trail as people read it: names, actions in words, before/after as a difference;
never the stored codes (auth.login, "user 7", in_review)."""

from docmgmt.extensions import db
from tests.conftest import PASSWORD, page_text


def test_the_trail_shows_names_actions_and_a_readable_difference(
    client, auth, people, create_document, draft_of
):
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
    auth.login("auditor")
    client.post("/lang/zh_CN")
    html = client.get("/audit/").get_data(as_text=True)
    text = page_text(client.get("/audit/"))
    # Actions in words, not codes.
    for code in ("auth.login", "revision.submit", "user.create", "document.create"):
        assert code not in text, code
    assert "登录" in text and "提交审核" in text and "新建账号" in text and "新建文件" in text
    # The object by name: the person created, the document by number and title.
    assert f"{doc.number} 客户投诉管理控制程序" in text
    assert "赵敏" in text
    assert "user " not in text and "revision " not in text
    # The state change as a difference: 草稿 struck out, 审批中 inserted.
    draft, review = "草稿", "审批中"
    assert f"<del>{draft}</del> → <ins>{review}</ins>" in html
    # The filters offer the actions by name.
    assert '<option value="auth.login"' in html and ">登录</option>" in html
    # Filtering by an action still works.
    assert "提交审核" in page_text(client.get("/audit/?action=revision.submit"))
