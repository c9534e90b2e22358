"""A revision's history reads in words, never in state or action codes."""

import re

from tests.conftest import page_text


def test_the_history_of_a_revision_shows_words_not_codes(app, client, auth, effective_doc):
    app.config["BABEL_DEFAULT_LOCALE"] = "zh_CN"
    doc, rev = effective_doc()
    auth.login("qm")
    text = page_text(client.get(f"/documents/{doc.id}/revisions/{rev.id}"))
    history = text[text.index("历史") :]
    assert "草稿 → 审批中" in history and "提交审核" in history and "创建" in history
    for code in ("in_review", "draft", "approved", "effective", "submit", "activate", "create"):
        assert not re.search(rf"\b{code}\b", history), code
