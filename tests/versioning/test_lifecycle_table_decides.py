"""The transition table in docmgmt/versioning/lifecycle.py is the one source of truth: editing
a draft (the verb, the edit page, a change request or a Word import joining the open draft)
and a review ask it, so a change to the table changes what the product allows."""

import pytest
from sqlalchemy import func, select

from docmgmt.audit.models import AuditEvent
from docmgmt.errors import InvalidState
from docmgmt.extensions import db
from docmgmt.versioning import drafting, lifecycle, signing
from docmgmt.versioning.models import RevisionState as S
from tests.conftest import PASSWORD, page_text


def _no_edit(monkeypatch):
    monkeypatch.setitem(lifecycle.TRANSITIONS, "edit", (frozenset(), S.DRAFT))


def test_a_draft_is_editable_only_because_the_table_says_so(
    client, auth, people, create_document, draft_of, monkeypatch
):
    doc = create_document()
    rev = draft_of(doc)
    drafting.update_draft(people["qm"], rev, title="可以修改")  # the table allows it
    db.session.commit()

    _no_edit(monkeypatch)
    with pytest.raises(InvalidState) as refused:
        drafting.update_draft(people["qm"], rev, title="不可修改")
    assert str(refused.value) == (
        "Revision A0 is Draft: its content is frozen. A change needs a new draft."
    )
    db.session.rollback()
    auth.login("qm")
    r = client.get(f"/documents/{doc.id}/revisions/{rev.id}/edit", follow_redirects=True)
    assert "Revision A0 is no longer a draft: its content is frozen." in page_text(r)


def test_a_change_request_joins_the_open_draft_only_if_the_table_lets_it_be_edited(
    people, effective_doc, draft_of, monkeypatch
):
    from docmgmt.control import operations as control_ops

    doc, _a0 = effective_doc()
    draft_of(doc, change_summary="调整")
    cr = control_ops.create_request(
        people["staff"], doc, reason="派工时限不清", proposed_change="写明10分钟"
    )
    db.session.commit()
    _no_edit(monkeypatch)
    with pytest.raises(InvalidState, match="is already in review"):
        control_ops.accept_request(people["qm"], cr)


def test_a_review_is_recorded_with_the_state_the_table_gives_and_no_transition_audit(
    people, create_document, draft_of
):
    rev = draft_of(create_document())
    signing.submit_for_review(
        people["qm"],
        rev,
        reviewer=people["reviewer"],
        approver=people["approver"],
        password=PASSWORD,
    )
    signing.sign_revision(people["reviewer"], rev, "reviewed", PASSWORD, comment="同意")
    db.session.commit()
    event = rev.events[-1]
    assert (event.action, event.from_state, event.to_state, event.comment) == (
        "review",
        "in_review",
        "in_review",
        "同意",
    )
    assert event.user_name == people["reviewer"].full_name
    assert rev.state == S.IN_REVIEW
    # The review is audited by its signature, not as a state change.
    audited = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "revision")
    ).all()
    assert "revision.review" not in audited
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "signature.sign")
        )
        == 2
    )


def test_where_a_review_leads_is_the_tables_word(people, create_document, draft_of, monkeypatch):
    rev = draft_of(create_document())
    signing.submit_for_review(
        people["qm"],
        rev,
        reviewer=people["reviewer"],
        approver=people["approver"],
        password=PASSWORD,
    )
    # A company that let the reviewer's signature finish the approval would say so here.
    monkeypatch.setitem(lifecycle.TRANSITIONS, "review", (frozenset({S.IN_REVIEW}), S.APPROVED))
    signing.sign_revision(people["reviewer"], rev, "reviewed", PASSWORD)
    assert rev.state == S.APPROVED
    assert rev.events[-1].to_state == "approved"
