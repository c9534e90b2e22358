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
    from docmgmt.versioning import operations as ops

    later = clock.utcnow() + timedelta(days=days)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    monkeypatch.setattr(ops, "utcnow", lambda: later)


def _scheduled(people, effective_doc, draft_of, approve, today, days=3):
    """A0 in force since today; A1 approved and published for ``days`` later."""
    from docmgmt.versioning import operations as ops

    doc, a0 = effective_doc()
    a1 = approve(draft_of(doc, change_summary="增加回访要求", change_number="CR-7"))
    ops.publish_revision(people["qm"], a1, today + timedelta(days=days))
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
