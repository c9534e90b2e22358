"""Compare like a redline: rendered blocks, changes marked inside the line, numbered changes
with previous/next links, tables row by row; who may compare; the signing page's decision at
the top with the comparison one click away; the PDF change report."""

import re
from io import BytesIO

import pytest
from pypdf import PdfReader

from docmgmt.extensions import db
from docmgmt.versioning import publishing, signing
from tests.conftest import BODY, PASSWORD, page_text

NEW_BODY = """# 1 目的
规范报修、派工和上门维修，确保 30 分钟内响应。

# 2 范围
适用于本公司售后服务部。

# 4 工作程序
1. 调度员开具派车单。
2. 客服接听报修电话并填写电话派工记录。
3. Engineers test the unit on site <script>alert(1)</script>.

| 记录编号 | 记录名称 | 保存期限 |
|---|---|---|
| XX-SR-05 | 回访记录 | 1年 |
| XX-SR-04 | 派工单 | 5年 |
"""
OLD_BODY = BODY.replace(
    "2. 调度员开具派工单。", "2. 调度员开具派工单。\n3. Engineers check the unit on site."
).replace(
    "| XX-SR-04 | 派工单 | 3年 |", "| XX-SR-04 | 派工单 | 3年 |\n| XX-SR-05 | 回访记录 | 1年 |"
)


@pytest.fixture
def routed(effective_doc, draft_of, people, create_document, approve):
    """A0 in force (OLD_BODY), A1 in review routed to the reviewer and the approver."""
    from docmgmt.clock import local_today

    doc = create_document()
    a0 = approve(draft_of(doc, body=OLD_BODY))
    publishing.publish_revision(people["qm"], a0, local_today())
    db.session.commit()
    a1 = draft_of(doc, body=NEW_BODY, change_summary="响应时限缩短为 30 分钟")
    signing.submit_for_review(
        people["qm"],
        a1,
        reviewer=people["reviewer"],
        approver=people["approver"],
        password=PASSWORD,
    )
    db.session.commit()
    return doc, a0, a1


def _html(client, doc, a0, a1, view=""):
    r = client.get(f"/documents/{doc.id}/compare?a={a0.id}&b={a1.id}{view}")
    assert r.status_code == 200, r.status_code
    return r.get_data(as_text=True)


def test_compare_renders_blocks_and_marks_changes_inside_the_line(client, auth, people, routed):
    doc, a0, a1 = routed
    auth.login("auditor")
    html = _html(client, doc, a0, a1)
    # rendered, not Markdown source
    assert "<h1>1 目的</h1>" in html and "# 1 目的" not in html
    assert '<ol class="lvl0"' in html and "<table" in html
    # Chinese: the characters that changed; Latin: whole words
    assert "确保 <del>1 小时</del>" in html and "确保 <ins>30 分钟</ins>内响应。" in html
    assert "派<ins>车</ins>单" in html  # moved up and changed: marked where it arrived
    assert "Engineers <del>check</del>" in html and "Engineers <ins>test</ins>" in html
    # a table row moved and one of its cells changed; the old place links to the new one
    assert re.search(r'<tr class="moved" id="c\d+">.*?<td>XX-SR-04</td>', html)
    assert '<td class="changed"><del>3</del><ins>5</ins>年</td>' in html
    assert re.search(r'class="moved-to">moved to change \d+</a>', html)
    # user text is escaped everywhere
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_changes_are_counted_and_linked_to_each_other_without_javascript(
    client, auth, people, routed
):
    doc, a0, a1 = routed
    auth.login("qm")
    html = _html(client, doc, a0, a1)
    count = int(re.search(r"Changes: (\d+)", html)[1])
    assert count == 4  # 1 小时, the item moved and changed, check → test, the table row
    ids = [int(n) for n in re.findall(r'id="c(\d+)"', html)]
    assert sorted(ids) == list(range(1, count + 1))
    # every change links to the next one and the one before; the bar starts at the first
    for n in range(1, count):
        assert f'<a class="next" href="#c{n + 1}"' in html
        assert f'<a class="prev" href="#c{n}"' in html
    assert 'class="next-change" rel="next"' in html and 'href="#c1"' in html
    # the script is the app's own, no CDN
    assert '<script src="/static/compare.js"' in html
    js = client.get("/static/compare.js")
    assert js.status_code == 200 and b"next-change" in js.data
    js.close()
    inline = _html(client, doc, a0, a1, "&view=inline")
    assert "确保 <del>1 小时</del><ins>30 分钟</ins>内响应。" in inline
    assert "派<del>工</del><ins>车</ins>单" in inline


def test_the_named_reviewer_and_approver_may_compare_others_may_not(
    client, auth, people, routed, create_user
):
    doc, a0, a1 = routed
    for who in ("reviewer", "approver"):
        auth.login(who)
        assert client.get(f"/documents/{doc.id}/compare?a={a0.id}&b={a1.id}").status_code == 200
        # nothing asked: their own revision against the one in force
        r = client.get(f"/documents/{doc.id}/compare")
        assert r.status_code == 200 and "A0 ↔ A1" in page_text(r)
        pdf = client.get(f"/documents/{doc.id}/compare.pdf?a={a0.id}&b={a1.id}")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        auth.logout()
    create_user("other", ["approver"], "王强")
    for who in ("staff", "other"):
        auth.login(who)
        r = client.get(f"/documents/{doc.id}/compare?a={a0.id}&b={a1.id}")
        assert r.status_code == 403
        assert client.get(f"/documents/{doc.id}/compare").status_code == 403
        assert client.get(f"/documents/{doc.id}/compare.pdf?a={a0.id}&b={a1.id}").status_code == 403
        auth.logout()


def test_the_signing_page_puts_the_decision_first_and_links_the_comparison(
    client, auth, people, routed
):
    doc, a0, a1 = routed
    auth.login("reviewer")
    html = client.get(f"/documents/{doc.id}/revisions/{a1.id}").get_data(as_text=True)
    decision = html.index('id="decision"')
    assert decision < html.index('class="doc-body"')
    assert html.index(f'action="/documents/{doc.id}/revisions/{a1.id}/sign/reviewed"') < (
        html.index('class="doc-body"')
    )
    link = f'href="/documents/{doc.id}/compare?a={a0.id}&amp;b={a1.id}"'
    assert link in html[decision:] and html.index(link) < html.index('class="doc-body"')
    assert "See what changed from A0 in force" in page_text(
        client.get(f"/documents/{doc.id}/revisions/{a1.id}")
    )


def test_the_reviewers_comment_is_shown_with_the_signature(client, auth, people, routed):
    doc, a0, a1 = routed
    auth.login("reviewer")
    r = client.post(
        f"/documents/{doc.id}/revisions/{a1.id}/sign/reviewed",
        data={"password": PASSWORD, "comment": "时限已与客服部确认"},
    )
    assert r.status_code in (302, 303)
    auth.logout()
    auth.login("qm")
    html = client.get(f"/documents/{doc.id}/revisions/{a1.id}").get_data(as_text=True)
    row = re.search(r"<tr><td>[^<]*Reviewed.*?</tr>", html, re.S) or re.search(
        r"<tr>(?:(?!</tr>).)*刘洋(?:(?!</tr>).)*</tr>", html, re.S
    )
    cells = re.findall(r"<td>(.*?)</td>", row[0], re.S)
    signer = next(c for c in cells if "刘洋" in c)
    assert "时限已与客服部确认" in signer  # with the name, not under the hash
    assert not any("时限已与客服部确认" in c for c in cells if "hash" in c)


def test_staff_reading_page_has_no_hash_column_quality_managers_keep_it(
    client, auth, people, effective_doc
):
    doc, a0 = effective_doc()
    auth.login("staff")
    text = page_text(client.get(f"/documents/{doc.id}/revisions/{a0.id}"))
    assert "李明" in text and "SHA-256" not in text
    for who in ("qm", "auditor"):
        auth.logout()
        auth.login(who)
        assert "SHA-256" in page_text(client.get(f"/documents/{doc.id}/revisions/{a0.id}"))


def test_the_change_report_pdf_lists_the_numbered_changes(client, auth, people, routed):
    doc, a0, a1 = routed
    auth.login("approver")
    html = _html(client, doc, a0, a1)
    count = int(re.search(r"Changes: (\d+)", html)[1])
    assert f'href="/documents/{doc.id}/compare.pdf?a={a0.id}&amp;b={a1.id}"' in html
    r = client.get(f"/documents/{doc.id}/compare.pdf?a={a0.id}&b={a1.id}")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    reader = PdfReader(BytesIO(r.data))
    text = "\n".join(p.extract_text() for p in reader.pages)
    flat = re.sub(r"\s+", "", text)
    assert "文件变更报告" in text and doc.number in text and "A0" in text and "A1" in text
    assert f"变更数{count}（" in flat
    assert "30分钟" in flat and "1小时" in flat and "派车单" in flat
    assert "<script>alert(1)</script>" in text  # as text, escaped into the PDF
    assert "响应时限缩短为30分钟" in flat  # the change text, under 文件信息的变更
    total = len(reader.pages)
    for n, page in enumerate(reader.pages, start=1):
        assert f"第 {n} 页 共 {total} 页" in page.extract_text()
    assert "陈静" in text  # who made it


def test_the_api_gives_the_same_numbered_changes_and_the_same_rule(
    client, auth, people, routed, token_for, effective_doc
):
    doc, a0, a1 = routed
    auth.login("qm")
    count = int(re.search(r"Changes: (\d+)", _html(client, doc, a0, a1))[1])
    for who in ("reviewer", "approver", "auditor"):
        r = client.get(f"/api/v1/revisions/{a1.id}/compare", headers=token_for(people[who]))
        assert r.status_code == 200, (who, r.status_code)
        data = r.get_json()
        assert data["base"]["version"] == "A0" and data["revision"]["version"] == "A1"
        assert data["count"] == count == len(data["changes"])
        first = data["changes"][0]
        assert first["kind"] == "changed" and first["where"] == "1 目的"
        assert {"op": "-", "text": "1 小时"} in first["old"]
        assert {"op": "+", "text": "30 分钟"} in first["new"]
        pdf = client.get(
            f"/api/v1/revisions/{a1.id}/compare.pdf?base={a0.id}", headers=token_for(people[who])
        )
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    r = client.get(f"/api/v1/revisions/{a1.id}/compare", headers=token_for(people["staff"]))
    assert r.status_code == 403
    # a base of another document is refused, naming the field
    _other, b0 = effective_doc(title="另一份程序")
    r = client.get(
        f"/api/v1/revisions/{a1.id}/compare?base={b0.id}", headers=token_for(people["qm"])
    )
    assert r.status_code == 422 and "same document" in r.get_json()["message"]
    # the revision in force has no other revision in force to be compared with by default
    r = client.get(f"/api/v1/revisions/{a0.id}/compare", headers=token_for(people["qm"]))
    assert r.status_code == 422 and "(base)" in r.get_json()["message"]


def test_a_table_row_moved_unchanged_is_marked_moved_at_both_places(
    client, auth, people, create_document, draft_of, approve
):
    from docmgmt.clock import local_today

    rows = "# 1 目的\n目的。\n\n| 记录编号 | 记录名称 | 保存期限 |\n|---|---|---|\n"
    old = rows + "| A | 派工单 | 3年 |\n| B | 回访记录 | 1年 |\n| C | 报价单 | 2年 |\n"
    new = rows + "| C | 报价单 | 2年 |\n| A | 派工单 | 3年 |\n| B | 回访记录 | 1年 |\n"
    doc = create_document()
    a0 = approve(draft_of(doc, body=old))
    publishing.publish_revision(people["qm"], a0, local_today())
    db.session.commit()
    a1 = draft_of(doc, body=new)
    auth.login("qm")
    html = _html(client, doc, a0, a1)
    assert re.search(r'<tr class="moved" id="c1"><td class="cn">.*?</td><td>C</td>', html)
    assert '<a href="#c1" class="moved-to">moved to change 1</a>' in html
    assert "Changes: 1" in html


def test_downloading_the_change_report_is_in_the_audit_trail(
    client, auth, people, routed, token_for
):
    """Like a print, a change report that leaves the system is logged: who, which revisions,
    from the page and from the API; a refused download logs nothing. The trail names it in
    words, in Chinese too."""
    from sqlalchemy import select

    from docmgmt.audit.models import AuditEvent

    doc, a0, a1 = routed

    def logged():
        db.session.expire_all()
        return db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "revision.print_change_report")
            .order_by(AuditEvent.seq)
        ).all()

    auth.login("approver")
    r = client.get(f"/documents/{doc.id}/compare.pdf?a={a0.id}&b={a1.id}")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    client.get(f"/documents/{doc.id}/compare?a={a0.id}&b={a1.id}")  # the page: not a download
    events = logged()
    assert len(events) == 1
    ev = events[0]
    assert (ev.actor_id, ev.object_type, ev.object_id) == (people["approver"].id, "revision", a1.id)
    assert ev.summary == f"{doc.number} A0 → A1"
    assert ev.after == {"base": "A0", "version": "A1"}
    auth.logout()
    r = client.get(
        f"/api/v1/revisions/{a1.id}/compare.pdf?base={a0.id}", headers=token_for(people["auditor"])
    )
    assert r.status_code == 200
    assert [(e.actor_id, e.object_id) for e in logged()][1:] == [(people["auditor"].id, a1.id)]
    r = client.get(
        f"/api/v1/revisions/{a1.id}/compare.pdf?base={a0.id}", headers=token_for(people["staff"])
    )
    assert r.status_code == 403 and len(logged()) == 2
    auth.login("auditor")
    trail = page_text(client.get("/audit/?action=revision.print_change_report"))
    assert "Change report printed" in trail and f"{doc.number} A0 → A1" in trail
    client.post("/lang/zh_CN")
    trail = page_text(client.get("/audit/?action=revision.print_change_report"))
    assert "打印变更报告" in trail and "print_change_report" not in trail.replace(
        "action=revision.print_change_report", ""
    )


def _p(text):
    return {"type": "paragraph", "text": text}


def test_a_changed_unit_keeps_its_bold_italic_and_underline_on_both_sides(app):
    """The redline marks changes inside the line without dropping the line's own formatting:
    the old side in the old formatting, the new side and the inline view in the new one."""
    from docmgmt.versioning import compare as cmp

    old = [
        _p("响应时限为 **1 小时**，*必须*记录"),
        {"type": "heading", "level": 1, "text": "1 **目的**"},
        {"type": "list", "ordered": True, "items": ["开具 ++派工单++", "回访"]},
    ]
    new = [
        _p("响应时限为 **30 分钟**，*必须*记录"),
        {"type": "heading", "level": 1, "text": "1 **目的和**范围"},
        {"type": "list", "ordered": True, "items": ["开具 ++派车单++", "回访"]},
    ]
    result = cmp.compare(old, new)
    assert result.count == 3
    para, heading, item = (r for r in result.rows if r.number)
    assert (
        str(para.old) == "<p>响应时限为 <del><strong>1 小时</strong></del>，<em>必须</em>记录</p>"
    )
    assert (
        str(para.new) == "<p>响应时限为 <ins><strong>30 分钟</strong></ins>，<em>必须</em>记录</p>"
    )
    assert str(para.inline) == (
        "<p>响应时限为 <del><strong>1 小时</strong></del><ins><strong>30 分钟</strong></ins>，"
        "<em>必须</em>记录</p>"
    )
    # what stays keeps the new formatting, what comes its own
    assert str(heading.new) == "<h1>1 <strong>目的</strong><ins><strong>和</strong>范围</ins></h1>"
    assert str(heading.old) == "<h1>1 <strong>目的</strong></h1>"
    assert "开具 <u>派</u><del><u>工</u></del><u>单</u>" in str(item.old)
    assert "开具 <u>派</u><ins><u>车</u></ins><u>单</u>" in str(item.new)
    # user text is still escaped; a removed or added line keeps its formatting too
    gone = cmp.compare([_p("**<b>粗</b>** 旧")], [_p("全新的一段")])
    assert "<del><strong>&lt;b&gt;粗&lt;/b&gt;</strong> 旧</del>" in str(gone.rows[0].old) + str(
        gone.rows[1].old if len(gone.rows) > 1 else ""
    )
    # the change report keeps the plain text
    assert result.changes[0].new == [("=", "响应时限为 "), ("+", "30 分钟"), ("=", "，必须记录")]


def _table(header, rows, merges=None):
    b = {"type": "table", "header": header, "rows": rows}
    if merges:
        b["merges"] = merges
    return b


def test_a_changed_table_keeps_its_merged_cells_and_cell_formatting(app):
    """A table with merged cells (from Word) that changes still shows them merged: the cell
    spans rows or columns in the redline as in the document; its cells keep their bold."""
    from docmgmt.versioning import compare as cmp

    header = ["记录编号", "记录名称", "保存期限"]
    old = _table(
        header,
        [["XX-SR-04", "派工单", "3年"], ["", "派车单", "**1年**"], ["XX-SR-05", "回访记录", ""]],
        merges=[[1, 0, 2, 1], [3, 1, 1, 2]],  # SR-04 over two rows; 回访记录 over two columns
    )
    new = _table(
        header,
        [["XX-SR-04", "派工单", "5年"], ["", "派车单", "**2年**"], ["XX-SR-05", "回访记录", ""]],
        merges=[[1, 0, 2, 1], [3, 1, 1, 2]],
    )
    result = cmp.compare([old], [new])
    assert result.count == 2  # two rows changed
    html = str(result.rows[0].new)
    assert '<td rowspan="2">XX-SR-04</td>' in html, html
    assert '<td colspan="2">回访记录</td>' in html, html
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html)
    # the covered cells are not drawn: row 2 has its number cell and two cells, row 3 two
    assert [len(re.findall(r"<t[dh][ >]", r)) for r in rows] == [4, 4, 3, 3]
    assert "<del><strong>1</strong></del><ins><strong>2</strong></ins>" in rows[2], rows[2]
    # A row added inside the merged range: the merge cannot hold, the cells are shown apart.
    new2 = _table(
        header,
        [
            ["XX-SR-04", "派工单", "5年"],
            ["XX-SR-06", "新增记录", "1年"],
            ["", "派车单", "2年"],
            ["XX-SR-05", "回访记录", ""],
        ],
        merges=[[1, 0, 1, 1], [4, 1, 1, 2]],
    )
    html = str(cmp.compare([old], [new2]).rows[0].new)
    assert "rowspan" not in html and '<td colspan="2">回访记录</td>' in html, html


def test_a_word_made_bold_is_a_change_the_approver_sees(
    client, auth, people, token_for, create_document, draft_of, approve
):
    """The same words in other formats (an emphasis made bold) count as a change: numbered on
    the page with "仅格式", in the API as formatting_only, in the PDF change report; a
    paragraph whose formats stay is still equal, and a word changed is not "formatting only"."""
    from docmgmt.clock import local_today
    from docmgmt.versioning import compare as cmp

    doc = create_document()
    a0 = approve(
        draft_of(doc, body="# 1 目的\n调度员*必须*在 5 分钟内派工。\n\n不变的一段 **粗体**。")
    )
    publishing.publish_revision(people["qm"], a0, local_today())
    db.session.commit()
    a1 = draft_of(doc, body="# 1 目的\n调度员**必须**在 5 分钟内派工。\n\n不变的一段 **粗体**。")
    db.session.commit()

    auth.login("qm")
    html = _html(client, doc, a0, a1)
    assert "Changes: 1" in html and "Formatting only" in html
    assert "<em>必须</em>" in html and "<strong>必须</strong>" in html
    client.post("/lang/zh_CN")
    assert "仅格式" in _html(client, doc, a0, a1)
    data = client.get(
        f"/api/v1/revisions/{a1.id}/compare?base={a0.id}", headers=token_for(people["qm"])
    ).get_json()
    assert data["count"] == 1
    change = data["changes"][0]
    assert change["formatting_only"] is True and change["old"] == change["new"]
    pdf = client.get(f"/documents/{doc.id}/compare.pdf?a={a0.id}&b={a1.id}")
    flat = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(BytesIO(pdf.data)).pages))
    assert "变更数1（" in flat and "（仅格式）" in flat

    same = [dict(b) for b in a0.body_blocks]
    assert cmp.compare(a0.body_blocks, same).count == 0
    worded = cmp.compare(
        a0.body_blocks, [{"type": "paragraph", "text": "调度员*必须*在 3 分钟内派工。"}]
    )
    assert not any(c.formatting for c in worded.changes)
