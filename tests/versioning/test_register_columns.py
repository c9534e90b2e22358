"""The register as staff use it: the next periodic review, the revision waiting for its
effective date (待生效) with that date, the edition of an external document; and the reading
page's outline (目录) jumps to the procedure's headings."""

from datetime import timedelta

from docmgmt.extensions import db
from tests.conftest import page_text


def test_the_register_shows_review_scheduled_revision_and_edition(
    client, auth, people, effective_doc, create_document, draft_of, approve, today
):
    from docmgmt.control.operations import review_due_date
    from docmgmt.versioning import publishing

    doc, _a0 = effective_doc(title="客户投诉管理控制程序")
    a1 = approve(draft_of(doc, change_summary="增加回访要求"))
    publishing.publish_revision(people["qm"], a1, today + timedelta(days=5))
    law = create_document(
        title="中华人民共和国消费者权益保护法",
        doc_type="external",
        external_edition="2013年修正",
        external_source="全国人民代表大会常务委员会",
    )
    db.session.commit()
    due = review_due_date(doc)
    assert due is not None

    auth.login("staff")
    html = client.get("/documents/").get_data(as_text=True)
    text = page_text(client.get("/documents/"))
    assert "Next review" in text and str(due) in text
    # Staff see the coming revision and its date (not only quality managers).
    assert f"A1 Scheduled → {today + timedelta(days=5)}" in text
    # The external document's edition in the version column, not "—".
    row = html[html.index(law.number) :]
    row = row[: row.index("</tr>")]
    assert "2013年修正" in row
    # Each cell names its column for the phone's card layout.
    assert 'data-label="Next review"' in html and 'data-label="Edition"' in html


def test_the_reading_page_has_an_outline_of_the_headings(client, auth, effective_doc):
    doc, rev = effective_doc()
    auth.login("staff")
    html = client.get(f"/documents/{doc.id}/revisions/{rev.id}").get_data(as_text=True)
    outline = html[html.index('<nav class="outline"') :]
    outline = outline[: outline.index("</nav>")]
    for n, heading in enumerate(("1 目的", "2 范围", "4 工作程序"), start=1):
        assert f'<a href="#sec-{n}" lang="zh-CN">{heading}</a>' in outline
        assert f'<h1 id="sec-{n}">{heading}</h1>' in html


def test_the_register_picks_the_revision_in_force_by_the_rule_of_the_database_query(
    client, auth, people, effective_doc, create_document, draft_of, approve, today, token_for
):
    """The register and the documents API take the revision in force from the revisions they
    loaded with the documents (queries.in_force_among): on every day it is the one the
    database query (queries.in_force_map) finds — before, on and after a scheduled revision's
    date, with a draft open, for a document still in its first draft."""
    from docmgmt.versioning import publishing, queries

    doc, a0 = effective_doc(title="客户投诉管理控制程序")
    a1 = approve(draft_of(doc, change_summary="增加回访要求"))
    publishing.publish_revision(people["qm"], a1, today + timedelta(days=5))
    draft_of(doc, change_summary="再次修订")
    other, b0 = effective_doc(title="文件控制程序")
    first_draft = create_document(title="服务规范")
    draft_of(first_draft)
    db.session.commit()
    docs = db.session.scalars(queries.register_query()).all()
    ids = [d.id for d in docs]
    for day in (today - timedelta(days=1), today, today + timedelta(days=5), today + timedelta(9)):
        want = {k: r.id for k, r in queries.in_force_map(ids, day).items()}
        assert {k: r.id for k, r in queries.in_force_among(docs, day).items()} == want
    assert queries.in_force_among(docs)[doc.id].id == a0.id
    assert queries.in_force_among(docs, today + timedelta(days=5))[doc.id].id == a1.id
    assert first_draft.id not in queries.in_force_among(docs)

    # The page shows it: A0 in force with A1 scheduled; the API says the same.
    auth.login("qm")
    html = client.get("/documents/").get_data(as_text=True)
    row = html[html.index(doc.number) :]
    row = row[: row.index("</tr>")]
    assert '<span class="version">A0</span>' in row and "A1 Scheduled" in row
    api = client.get("/api/v1/documents", headers=token_for(people["qm"])).get_json()
    listed = {d["number"]: d for d in api}
    assert listed[doc.number]["in_force"]["version"] == "A0"
    assert listed[other.number]["in_force"]["revision_id"] == b0.id
    assert listed[first_draft.number]["in_force"] is None
