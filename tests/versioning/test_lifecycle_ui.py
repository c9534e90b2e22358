"""The spine through the pages: draft → review → approval → effective → superseded."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from docmgmt.extensions import db
from docmgmt.versioning.models import Document, Revision, RevisionState, Signature
from tests.conftest import PASSWORD, page_text


def _revision_id(doc_id, version):
    return db.session.scalar(
        select(Revision.id).where(Revision.document_id == doc_id, Revision.version == version)
    )


def test_quality_manager_takes_a_document_from_draft_to_effective_and_supersedes_it(
    client, auth, people, today
):
    auth.login("qm")
    r = client.post(
        "/documents/new",
        data={
            "doc_type": "procedure",
            "title": "客户投诉管理控制程序",
            "department_id": 0,
            "review_interval_months": 12,
        },
    )
    assert r.status_code == 302
    doc = db.session.scalar(select(Document))
    assert doc.number == "XX-SP-01"

    r = client.post(f"/documents/{doc.id}/drafts", data={"kind": "revision", "change_summary": ""})
    assert r.status_code == 303
    rev_id = _revision_id(doc.id, "A0")
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev_id}/edit",
        data={
            "title": "客户投诉管理控制程序",
            "body": "# 1 目的\n规范客户投诉的受理。\n\n- 24小时受理",
            "change_summary": "新制订",
            "change_number": "-",
            "pages_affected": "1-3",
        },
    )
    assert r.status_code == 303
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev_id}/submit",
        data={
            "reviewer_id": people["reviewer"].id,
            "approver_id": people["approver"].id,
            "password": PASSWORD,
        },
    )
    assert r.status_code == 303, page_text(r)
    auth.logout()

    auth.login("reviewer")
    assert "XX-SP-01" in page_text(client.get("/"))  # in the reviewer's inbox
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev_id}/sign/reviewed",
        data={"password": PASSWORD, "comment": "同意"},
    )
    assert r.status_code == 303, page_text(r)
    auth.logout()
    auth.login("approver")
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev_id}/sign/approved", data={"password": PASSWORD}
    )
    assert r.status_code == 303
    auth.logout()

    auth.login("qm")
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev_id}/publish",
        data={"effective_date": today.isoformat()},
    )
    assert r.status_code == 303
    a0 = db.session.get(Revision, rev_id)
    assert a0.state == RevisionState.EFFECTIVE
    signers = {s.meaning.value: s.signer_name for s in a0.signatures}
    assert signers == {"prepared": "李明", "reviewed": "刘洋", "approved": "陈静"}
    assert len({s.content_hash for s in a0.signatures}) == 1

    # A1: a revision of the procedure, same route, published today supersedes A0.
    r = client.post(
        f"/documents/{doc.id}/drafts",
        data={"kind": "revision", "change_summary": "增加回访要求", "change_number": "CR-2026-001"},
    )
    a1_id = _revision_id(doc.id, "A1")
    client.post(
        f"/documents/{doc.id}/revisions/{a1_id}/edit",
        data={
            "title": "客户投诉管理控制程序",
            "body": "# 1 目的\n规范客户投诉的受理与回访。",
            "change_summary": "增加回访要求",
            "change_number": "CR-2026-001",
            "pages_affected": "2",
        },
    )
    client.post(
        f"/documents/{doc.id}/revisions/{a1_id}/submit",
        data={
            "reviewer_id": people["reviewer"].id,
            "approver_id": people["approver"].id,
            "password": PASSWORD,
        },
    )
    auth.logout()
    auth.login("reviewer")
    client.post(f"/documents/{doc.id}/revisions/{a1_id}/sign/reviewed", data={"password": PASSWORD})
    auth.logout()
    auth.login("approver")
    client.post(f"/documents/{doc.id}/revisions/{a1_id}/sign/approved", data={"password": PASSWORD})
    auth.logout()
    auth.login("qm")
    # A0 took effect today, so A1 must start later: tomorrow.
    r = client.post(
        f"/documents/{doc.id}/revisions/{a1_id}/publish", data={"effective_date": today.isoformat()}
    )
    assert r.status_code == 422
    assert "after that of revision A0" in page_text(r)
    r = client.post(
        f"/documents/{doc.id}/revisions/{a1_id}/publish",
        data={"effective_date": (today + timedelta(days=1)).isoformat()},
    )
    assert r.status_code == 303
    assert db.session.get(Revision, a1_id).is_scheduled

    # Scheduled for tomorrow: listed among the revisions and as scheduled, but not yet in the
    # revision record (文件制修订记录), which starts on the effective date.
    page = page_text(client.get(f"/documents/{doc.id}"))
    assert "新制订" in page and "增加回访要求" in page and "CR-2026-001" not in page
    assert "Scheduled A1" in page


def test_publishing_today_supersedes_the_previous_revision_and_the_record_has_both_rows(
    client, auth, people, effective_doc, draft_of, approve, today, monkeypatch
):
    from docmgmt import clock
    from docmgmt.versioning import publishing

    doc, a0 = effective_doc()
    a1 = approve(
        draft_of(doc, change_summary="缩短响应时间", change_number="CR-1", pages_affected="3")
    )
    # A0 took effect today; pretend it is tomorrow so A1 can start then.
    tomorrow_now = clock.utcnow() + timedelta(days=1)
    monkeypatch.setattr(clock, "utcnow", lambda: tomorrow_now)
    monkeypatch.setattr(publishing, "utcnow", lambda: tomorrow_now)
    auth.login("qm")
    r = client.post(
        f"/documents/{doc.id}/revisions/{a1.id}/publish",
        data={"effective_date": (today + timedelta(days=1)).isoformat()},
    )
    assert r.status_code == 303, page_text(r)
    db.session.expire_all()
    assert db.session.get(Revision, a0.id).state == RevisionState.SUPERSEDED
    assert db.session.get(Revision, a0.id).superseded_date == today + timedelta(days=1)
    assert db.session.get(Revision, a1.id).state == RevisionState.EFFECTIVE
    rows = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    table = rows.split("revision-record", 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 3  # header + A0 + A1
    assert "新制订" in table and "缩短响应时间" in table and "CR-1" in table


def test_a_revision_with_a_future_date_takes_effect_that_day_without_anyone_acting(
    client, auth, people, effective_doc, draft_of, approve, today, monkeypatch
):
    from docmgmt import clock
    from docmgmt.versioning import publishing

    doc, a0 = effective_doc()
    a1 = approve(draft_of(doc, change_summary="调整"))
    publishing.publish_revision(people["qm"], a1, today + timedelta(days=3))
    db.session.commit()
    auth.login("staff")
    assert "A0" in page_text(client.get("/documents/"))
    assert client.get(f"/documents/{doc.id}/revisions/{a1.id}").status_code == 403

    later = clock.utcnow() + timedelta(days=3)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    monkeypatch.setattr(publishing, "utcnow", lambda: later)
    r = client.get(f"/documents/{doc.id}/revisions/{a1.id}")
    assert r.status_code == 200
    db.session.expire_all()
    assert db.session.get(Revision, a1.id).state == RevisionState.EFFECTIVE
    assert db.session.get(Revision, a0.id).state == RevisionState.SUPERSEDED
    assert client.get(f"/documents/{doc.id}/revisions/{a0.id}").status_code == 403


def test_cli_activates_due_revisions(
    runner, people, effective_doc, draft_of, approve, today, monkeypatch
):
    from docmgmt import clock
    from docmgmt.versioning import publishing

    doc, a0 = effective_doc()
    a1 = approve(draft_of(doc, change_summary="调整"))
    publishing.publish_revision(people["qm"], a1, today + timedelta(days=1))
    db.session.commit()
    result = runner.invoke(args=["revisions", "activate"])
    assert "0 revision(s) activated" in result.output
    later = clock.utcnow() + timedelta(days=1)
    monkeypatch.setattr(publishing, "utcnow", lambda: later)
    result = runner.invoke(args=["revisions", "activate"])
    assert "1 revision(s) activated" in result.output
    db.session.expire_all()
    assert db.session.get(Revision, a1.id).state == RevisionState.EFFECTIVE


def test_rejection_needs_a_comment_and_returns_the_revision_to_draft(
    client, auth, people, create_document, draft_of
):
    from docmgmt.versioning import drafting, signing

    doc = create_document()
    rev = draft_of(doc)
    signing.submit_for_review(
        people["qm"],
        rev,
        reviewer=people["reviewer"],
        approver=people["approver"],
        password=PASSWORD,
    )
    db.session.commit()
    auth.login("reviewer")
    r = client.post(f"/documents/{doc.id}/revisions/{rev.id}/reject", data={"comment": ""})
    assert r.status_code == 422
    assert db.session.get(Revision, rev.id).state == RevisionState.IN_REVIEW
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev.id}/reject", data={"comment": "第4章缺少派工时限"}
    )
    assert r.status_code == 303
    db.session.expire_all()
    rev = db.session.get(Revision, rev.id)
    assert rev.state == RevisionState.DRAFT
    assert rev.events[-1].comment == "第4章缺少派工时限"
    # The draft can be edited again and resubmitted; the new round needs new signatures.
    drafting.update_draft(people["qm"], rev, body="# 1 目的\n补充派工时限：10分钟内联系客户。")
    signing.submit_for_review(
        people["qm"],
        rev,
        reviewer=people["reviewer"],
        approver=people["approver"],
        password=PASSWORD,
    )
    db.session.commit()
    assert rev.submission_round == 2
    assert set(rev.current_signatures()) == {"prepared"}
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 2


def test_compare_shows_what_changed_side_by_side(client, auth, people, effective_doc, draft_of):
    doc, a0 = effective_doc()
    new_body = (
        "# 1 目的\n规范报修、派工和上门维修，确保 30 分钟内响应。\n\n"
        "# 2 范围\n适用于本公司售后服务部。"
    )
    a1 = draft_of(doc, body=new_body)
    auth.login("auditor")
    r = client.get(f"/documents/{doc.id}/compare?a={a0.id}&b={a1.id}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    # rendered blocks, the change marked inside the line (the redline: tests/versioning/
    # test_compare.py)
    assert "确保 <del>1 小时</del>" in html and "确保 <ins>30 分钟</ins>内响应。" in html
    assert "<p>适用于本公司售后服务部。</p>" in html
    removed = r'<tr class="removed" id="c\d+">.*?<del>客服接听报修电话并填写电话派工记录。</del>'
    assert re.search(removed, html, re.S)
