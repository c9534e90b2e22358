"""A scheduled revision (published for a later date, 待生效): invisible to the revision record
until its day, shown to quality managers as scheduled, and revocable until then."""

import io
from datetime import timedelta

import docx
from pypdf import PdfReader
from sqlalchemy import func, select

from docmgmt.audit.models import AuditEvent
from docmgmt.extensions import db
from docmgmt.versioning.models import Revision, RevisionState
from tests.conftest import page_text


def _move_clock(monkeypatch, days):
    from docmgmt import clock
    from docmgmt.versioning import documents, drafting, publishing, signing, withdrawing

    later = clock.utcnow() + timedelta(days=days)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    for verbs in (documents, drafting, signing, publishing, withdrawing):
        monkeypatch.setattr(verbs, "utcnow", lambda: later)


def _scheduled(people, effective_doc, draft_of, approve, today, days=3):
    """A0 in force since today; A1 approved and published for ``days`` later."""
    from docmgmt.versioning import publishing

    doc, a0 = effective_doc()
    a1 = approve(draft_of(doc, change_summary="增加回访要求", change_number="CR-7"))
    publishing.publish_revision(people["qm"], a1, today + timedelta(days=days))
    db.session.commit()
    return doc, a0, a1


def _pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def _docx_record(data: bytes) -> list[list[str]]:
    """The rows of the Word export's revision record table (the one headed NO)."""
    d = docx.Document(io.BytesIO(data))
    for table in d.tables:
        rows = [[c.text for c in row.cells] for row in table.rows]
        if rows and rows[0][0] == "NO":
            return rows[1:]
    raise AssertionError("no revision record table in the export")


# ---------------------------------------------------------------- 2. invisible until its day


def test_a_scheduled_revision_is_not_in_the_revision_record_before_its_date(
    client, auth, people, effective_doc, draft_of, approve, today, token_for, monkeypatch
):
    doc, a0, a1 = _scheduled(people, effective_doc, draft_of, approve, today)
    for who in ("staff", "qm"):
        rows = client.get(
            f"/api/v1/documents/{doc.id}/revision-record", headers=token_for(people[who])
        ).get_json()
        assert [r["version"] for r in rows] == ["A0"], who

    # The print and the Word export of A0, the revision in force, list A0 only.
    auth.login("staff")
    r = client.get(f"/revisions/{a0.id}/print.pdf")
    assert r.status_code == 200
    text = _pdf_text(r.data)
    assert "文件制修订记录" in text and "增加回访要求" not in text and "CR-7" not in text
    r = client.get(f"/revisions/{a0.id}/export.docx")
    assert [row[4] for row in _docx_record(r.data)] == ["A0"]
    auth.logout()

    # The quality manager's document page: the record has A0 only; A1 is shown as scheduled.
    auth.login("qm")
    html = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    record = html.split('class="revision-record"', 1)[1].split("</table>", 1)[0]
    assert "增加回访要求" not in record and "CR-7" not in record
    assert record.count("<tr>") == 2  # header + A0
    page = page_text(client.get(f"/documents/{doc.id}"))
    in_three_days = (today + timedelta(days=3)).isoformat()
    assert f"Scheduled A1 · takes effect on {in_three_days}" in page
    register = page_text(client.get("/documents/"))
    assert f"A1 Scheduled → {in_three_days}" in register
    auth.logout()

    # From its day on, A1 is in the record everywhere.
    _move_clock(monkeypatch, 3)
    rows = client.get(
        f"/api/v1/documents/{doc.id}/revision-record", headers=token_for(people["staff"])
    ).get_json()
    assert [r["version"] for r in rows] == ["A0", "A1"]
    assert rows[1]["date"] == in_three_days and rows[1]["change_number"] == "CR-7"
    auth.login("staff")
    assert "增加回访要求" in _pdf_text(client.get(f"/revisions/{a1.id}/print.pdf").data)
    docx_rows = _docx_record(client.get(f"/revisions/{a1.id}/export.docx").data)
    assert [row[4] for row in docx_rows] == ["A0", "A1"]


def test_the_print_of_an_older_revision_lists_the_record_only_up_to_that_revision(
    client, auth, people, effective_doc, draft_of, approve, today, monkeypatch
):
    doc, a0, a1 = _scheduled(people, effective_doc, draft_of, approve, today, days=1)
    _move_clock(monkeypatch, 1)
    auth.login("qm")
    assert client.get(f"/documents/{doc.id}").status_code == 200  # A1 takes effect
    db.session.expire_all()
    assert db.session.get(Revision, a1.id).state == RevisionState.EFFECTIVE
    r = client.get(f"/revisions/{a0.id}/print.pdf?mode=obsolete")
    assert r.status_code == 200
    text = _pdf_text(r.data)
    assert "作废" in text and "增加回访要求" not in text
    r = client.get(f"/revisions/{a0.id}/export.docx")
    assert [row[4] for row in _docx_record(r.data)] == ["A0"]
    # The print of A1 has both rows.
    assert "增加回访要求" in _pdf_text(client.get(f"/revisions/{a1.id}/print.pdf").data)


def test_a_quality_manager_printing_the_scheduled_revision_sees_its_own_row(
    client, auth, people, effective_doc, draft_of, approve, today
):
    doc, a0, a1 = _scheduled(people, effective_doc, draft_of, approve, today)
    auth.login("qm")
    rows = _docx_record(client.get(f"/revisions/{a1.id}/export.docx").data)
    assert [row[4] for row in rows] == ["A0", "A1"]


def _count(action, obj_id):
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == action, AuditEvent.object_id == obj_id)
    )


# ---------------------------------------------------------------- 3. taken back before its day


def test_a_quality_manager_cancels_a_scheduled_revision_and_a_new_draft_can_start(
    client, auth, people, effective_doc, draft_of, approve, today, monkeypatch
):
    from docmgmt.training.models import TrainingTask
    from docmgmt.versioning import queries

    doc, a0, a1 = _scheduled(people, effective_doc, draft_of, approve, today)
    auth.login("qm")
    page = page_text(client.get(f"/documents/{doc.id}/revisions/{a1.id}"))
    assert "Cancel this revision" in page and "Unschedule: back to approved" in page

    url = f"/documents/{doc.id}/revisions/{a1.id}/cancel"
    r = client.post(url, data={"reason": ""})
    assert r.status_code == 422
    db.session.expire_all()
    assert db.session.get(Revision, a1.id).is_scheduled

    r = client.post(url, data={"reason": "客户要求推迟，重新评审"})
    assert r.status_code == 303, page_text(r)
    db.session.expire_all()
    a1 = db.session.get(Revision, a1.id)
    assert a1.state == RevisionState.CANCELLED and a1.effective_date is None
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "revision.cancel", AuditEvent.object_id == a1.id
        )
    )
    assert event.actor_id == people["qm"].id and "客户要求推迟" in event.summary
    assert event.before["effective_date"] == (today + timedelta(days=3)).isoformat()
    assert "Scheduled" not in page_text(client.get(f"/documents/{doc.id}"))

    # The version code is given back: the next draft is A1 again.
    r = client.post(f"/documents/{doc.id}/drafts", data={"kind": "revision", "change_summary": "x"})
    assert r.status_code == 303, page_text(r)
    assert queries.open_revision(db.session.get(type(doc), doc.id)).version == "A1"

    # Its date passes: A0 stays in force, nothing was activated, nobody must train on it.
    _move_clock(monkeypatch, 4)
    assert client.get(f"/documents/{doc.id}").status_code == 200
    db.session.expire_all()
    assert db.session.get(Revision, a0.id).state == RevisionState.EFFECTIVE
    assert _count("revision.activate", a1.id) == 0
    tasks = select(func.count()).select_from(TrainingTask).where(TrainingTask.revision_id == a1.id)
    assert db.session.scalar(tasks) == 0


def test_an_approved_unpublished_revision_is_cancelled_through_the_api_and_unblocks_drafts(
    client, people, effective_doc, draft_of, approve, token_for
):
    doc, a0 = effective_doc()
    a1 = approve(draft_of(doc, change_summary="调整"))
    qm = token_for(people["qm"])
    r = client.post(f"/api/v1/documents/{doc.id}/revisions", json={}, headers=qm)
    assert r.status_code == 409 and "A1" in r.get_json()["message"]

    r = client.post(f"/api/v1/revisions/{a1.id}/cancel", json={"reason": ""}, headers=qm)
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/revisions/{a1.id}/cancel", json={"reason": "并入下一次修订"}, headers=qm
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "cancelled"
    r = client.post(f"/api/v1/documents/{doc.id}/revisions", json={}, headers=qm)
    assert r.status_code == 201 and r.get_json()["version"] == "A1"


def test_unscheduling_takes_a_scheduled_revision_back_to_approved(
    client, people, effective_doc, draft_of, approve, today, token_for
):
    doc, a0, a1 = _scheduled(people, effective_doc, draft_of, approve, today)
    qm = token_for(people["qm"])
    url = f"/api/v1/revisions/{a1.id}/unschedule"
    assert client.post(url, json={"reason": ""}, headers=qm).status_code == 422
    r = client.post(url, json={"reason": "培训未完成，推迟生效"}, headers=qm)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "approved" and r.get_json()["effective_date"] is None
    assert _count("revision.unschedule", a1.id) == 1
    # Back to approved and unpublished: it is the open revision again …
    r = client.post(f"/api/v1/documents/{doc.id}/revisions", json={}, headers=qm)
    assert r.status_code == 409
    # … and can be published for another date, or unscheduled only while scheduled.
    assert client.post(url, json={"reason": "again"}, headers=qm).status_code == 409
    later = (today + timedelta(days=10)).isoformat()
    r = client.post(
        f"/api/v1/revisions/{a1.id}/publish", json={"effective_date": later}, headers=qm
    )
    assert r.status_code == 200 and r.get_json()["effective_date"] == later


def test_unscheduling_is_refused_while_another_revision_is_in_progress(
    client, people, effective_doc, draft_of, approve, today, token_for
):
    doc, a0, a1 = _scheduled(people, effective_doc, draft_of, approve, today)
    a2 = draft_of(doc, change_summary="下一次")
    qm = token_for(people["qm"])
    r = client.post(f"/api/v1/revisions/{a1.id}/unschedule", json={"reason": "推迟"}, headers=qm)
    assert r.status_code == 409
    assert "one open revision per document" in r.get_json()["message"]
    assert a2.version in r.get_json()["message"]
    db.session.expire_all()
    assert db.session.get(Revision, a1.id).is_scheduled


def test_a_revision_cannot_be_taken_back_once_its_date_has_come(
    client, people, effective_doc, draft_of, approve, today, token_for, monkeypatch
):
    import pytest

    from docmgmt import clock
    from docmgmt.errors import InvalidState
    from docmgmt.versioning import withdrawing

    doc, a0, a1 = _scheduled(people, effective_doc, draft_of, approve, today, days=1)
    # Due but not yet activated (no request has come in yet today): refused all the same.
    tomorrow = clock.utcnow() + timedelta(days=1)
    with pytest.raises(InvalidState, match="took effect on"):
        withdrawing.cancel_revision(people["qm"], a1, "太晚了", now=tomorrow)
    db.session.rollback()
    with pytest.raises(InvalidState, match="took effect on"):
        withdrawing.unschedule_revision(people["qm"], a1, "太晚了", now=tomorrow)
    db.session.rollback()
    _move_clock(monkeypatch, 1)
    qm = token_for(people["qm"])
    r = client.post(f"/api/v1/revisions/{a1.id}/cancel", json={"reason": "太晚了"}, headers=qm)
    assert r.status_code == 409
    db.session.expire_all()
    assert db.session.get(Revision, a1.id).state == RevisionState.EFFECTIVE


def test_only_the_quality_manager_takes_a_revision_back(
    client, auth, people, effective_doc, draft_of, approve, today, token_for
):
    doc, a0, a1 = _scheduled(people, effective_doc, draft_of, approve, today)
    for who in ("approver", "staff", "auditor"):
        for action in ("cancel", "unschedule"):
            r = client.post(
                f"/api/v1/revisions/{a1.id}/{action}",
                json={"reason": "x"},
                headers=token_for(people[who]),
            )
            assert r.status_code in (403, 404), (who, action, r.status_code)
    auth.login("approver")
    r = client.post(f"/documents/{doc.id}/revisions/{a1.id}/unschedule", data={"reason": "x"})
    assert r.status_code == 403
    db.session.expire_all()
    assert db.session.get(Revision, a1.id).is_scheduled


def test_a_cancelled_revision_leaves_the_search_index_and_gets_no_copies(
    client, people, effective_doc, draft_of, approve, today, token_for
):
    from docmgmt.versioning import publishing

    doc, a0 = effective_doc()
    a1 = approve(draft_of(doc, body="# 1 目的\n新增夜间应急抢修安排。", change_summary="夜间"))
    publishing.publish_revision(people["qm"], a1, today + timedelta(days=2))
    db.session.commit()
    qm = token_for(people["qm"])

    def versions_found():
        r = client.get(
            "/api/v1/search", query_string={"q": "应急抢修", "history": "true"}, headers=qm
        )
        assert r.status_code == 200, r.get_json()
        return [h.get("version") or h.get("meta", {}).get("version") for h in r.get_json()["hits"]]

    assert "A1" in versions_found()
    r = client.post(f"/api/v1/revisions/{a1.id}/cancel", json={"reason": "取消"}, headers=qm)
    assert r.status_code == 200
    assert "A1" not in versions_found()
    r = client.post(
        f"/api/v1/revisions/{a1.id}/copies", json={"holder_name": "售后服务部"}, headers=qm
    )
    assert r.status_code == 409
