"""Separation of duties, signing rules, frozen content, the one-effective invariant, and bad
input answered clearly with nothing changed."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from docmgmt.audit.models import AuditEvent
from docmgmt.extensions import db
from docmgmt.versioning.models import Revision, RevisionState, Signature
from tests.conftest import PASSWORD, page_text


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _snapshot():
    """Everything a failed request must leave alone."""
    db.session.expire_all()
    revs = db.session.scalars(select(Revision).order_by(Revision.id)).all()
    return (
        [
            (
                r.id,
                r.version,
                r.state,
                r.body_source,
                r.effective_date,
                r.submission_round,
                r.content_hash,
            )
            for r in revs
        ],
        _count(Signature),
    )


@pytest.fixture
def submitted(people, create_document, draft_of):
    from docmgmt.versioning import signing

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
    return doc, rev


def test_preparer_reviewer_and_approver_must_be_three_people(
    client, auth, people, create_document, draft_of
):
    doc = create_document()
    rev = draft_of(doc)
    auth.login("qm")
    before = _snapshot()
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev.id}/submit",
        data={
            "reviewer_id": people["reviewer"].id,
            "approver_id": people["reviewer"].id,
            "password": PASSWORD,
        },
    )
    assert r.status_code == 422
    assert "three different people" in page_text(r)
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("who", "field", "message"),
    [
        (
            {"reviewer_id": 99999},
            "reviewer_id",
            "There is no user with the id 99999: choose the reviewer from the list.",
        ),
        (
            {"approver_id": 99999},
            "approver_id",
            "There is no user with the id 99999: choose the approver from the list.",
        ),
        ({"approver_id": None}, "approver_id", "Choose the approver."),
        (
            {"approver_id": "qm"},
            "approver_id",
            "You cannot be the approver of what you submit yourself: choose someone else.",
        ),
        (
            {"reviewer_id": "gone"},
            "reviewer_id",
            "Gone is deactivated or has no access now and cannot sign as reviewer.",
        ),
        (
            {"approver_id": "staff"},
            "approver_id",
            "赵敏 may not sign as approver for this document type.",
        ),
    ],
)
def test_a_wrong_reviewer_or_approver_is_named_with_the_real_reason(
    client, auth, people, create_user, create_document, draft_of, token_for, who, field, message
):
    from docmgmt.auth.models import User

    create_user("gone", ["approver"]).is_active_flag = False
    db.session.commit()

    def user_id(value):
        if isinstance(value, str):
            return db.session.scalar(select(User.id).where(User.username == value))
        return value

    doc = create_document()
    rev = draft_of(doc)
    body = {
        "reviewer_id": people["reviewer"].id,
        "approver_id": people["approver"].id,
        "password": PASSWORD,
    }
    body.update({k: user_id(v) for k, v in who.items()})
    before = _snapshot()
    r = client.post(
        f"/api/v1/revisions/{rev.id}/submit", json=body, headers=token_for(people["qm"])
    )
    assert r.status_code == 422, r.get_json()
    if body[field] is not None:  # a missing id is the schema's to refuse, naming the field
        assert (r.get_json()["field"], r.get_json()["message"]) == (field, message)
    assert _snapshot() == before
    # The page says the same.
    auth.login("qm")
    form = {k: ("" if v is None else v) for k, v in body.items()}
    r = client.post(f"/documents/{doc.id}/revisions/{rev.id}/submit", data=form)
    assert r.status_code == 422
    assert message in page_text(r)
    assert _snapshot() == before


def test_one_person_cannot_sign_two_roles_even_if_routed_twice(
    people, create_user, create_document, draft_of
):
    """The database refuses a second signature by the same person on one round."""
    from docmgmt.versioning.models import SignatureMeaning

    doc = create_document()
    rev = draft_of(doc)
    db.session.add(
        Signature(
            revision=rev,
            submission_round=1,
            user_id=people["reviewer"].id,
            signer_name="x",
            meaning=SignatureMeaning.REVIEWED,
            content_hash="h",
        )
    )
    db.session.add(
        Signature(
            revision=rev,
            submission_round=1,
            user_id=people["reviewer"].id,
            signer_name="x",
            meaning=SignatureMeaning.APPROVED,
            content_hash="h",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_only_the_routed_reviewer_may_review_and_approval_waits_for_review(
    client, auth, people, submitted
):
    doc, rev = submitted
    before = _snapshot()
    auth.login("approver")
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev.id}/sign/reviewed", data={"password": PASSWORD}
    )
    assert r.status_code == 403 and "another reviewer" in page_text(r)
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev.id}/sign/approved", data={"password": PASSWORD}
    )
    assert r.status_code == 409 and "reviewed before it is approved" in page_text(r)
    assert _snapshot() == before


def test_signing_twice_is_refused(client, auth, people, submitted):
    doc, rev = submitted
    auth.login("reviewer")
    client.post(
        f"/documents/{doc.id}/revisions/{rev.id}/sign/reviewed", data={"password": PASSWORD}
    )
    before = _snapshot()
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev.id}/sign/reviewed", data={"password": PASSWORD}
    )
    assert r.status_code == 409
    assert "already carries this signature" in page_text(r)
    assert _snapshot() == before


def test_wrong_password_signs_nothing_is_counted_and_locks_signing(client, auth, people, submitted):
    doc, rev = submitted
    auth.login("reviewer")
    before = _snapshot()
    for _attempt in range(3):
        r = client.post(
            f"/documents/{doc.id}/revisions/{rev.id}/sign/reviewed", data={"password": "wrong"}
        )
        assert r.status_code == 403
        assert "password is wrong" in page_text(r)
    assert _snapshot() == before
    db.session.expire_all()
    assert people["reviewer"].is_signing_locked
    # Even the right password is refused now, until an administrator unlocks signing.
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev.id}/sign/reviewed", data={"password": PASSWORD}
    )
    assert r.status_code == 423 and "locked" in page_text(r)
    assert _snapshot() == before
    assert _count(AuditEvent.__table__) >= 3
    auth.logout()
    auth.login("admin")
    client.post(f"/admin/users/{people['reviewer'].id}/unlock")
    auth.logout()
    auth.login("reviewer")
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev.id}/sign/reviewed", data={"password": PASSWORD}
    )
    assert r.status_code == 303


def test_submitted_content_is_frozen(client, auth, people, submitted):
    doc, rev = submitted
    auth.login("qm")
    before = _snapshot()
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev.id}/edit",
        data={
            "title": "改",
            "body": "# 改了",
            "change_summary": "x",
            "change_number": "",
            "pages_affected": "",
        },
    )
    assert r.status_code == 302
    assert _snapshot() == before
    from docmgmt.errors import InvalidState
    from docmgmt.versioning import drafting

    with pytest.raises(InvalidState):
        drafting.update_draft(people["qm"], rev, body="# 改了")
    db.session.rollback()
    assert _snapshot() == before


def test_publishing_without_all_signatures_is_refused(client, auth, people, submitted, today):
    doc, rev = submitted
    auth.login("qm")
    before = _snapshot()
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev.id}/publish",
        data={"effective_date": today.isoformat()},
    )
    assert r.status_code == 409
    assert _snapshot() == before


def test_effective_date_in_the_past_is_refused(
    client, auth, people, create_document, draft_of, approve, today
):
    doc = create_document()
    rev = approve(draft_of(doc))
    auth.login("qm")
    before = _snapshot()
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev.id}/publish",
        data={"effective_date": (today - timedelta(days=1)).isoformat()},
    )
    assert r.status_code == 422 and "cannot be in the past" in page_text(r)
    assert _snapshot() == before


@pytest.mark.parametrize("code", ["A10", "a1", "I0", "A3", "B1", "Z"])
def test_invalid_version_codes_get_a_clear_message_and_create_nothing(
    client, auth, people, effective_doc, code
):
    doc, _a0 = effective_doc()
    auth.login("qm")
    before = _snapshot()
    r = client.post(f"/documents/{doc.id}/drafts", data={"kind": "revision", "version": code})
    assert r.status_code == 422
    text_ = page_text(r)
    assert ("version" in text_.lower()) or ("A1" in text_ and "B0" in text_)
    assert _snapshot() == before


def test_reedition_jumps_to_the_next_letter(client, auth, people, effective_doc):
    doc, _a0 = effective_doc()
    auth.login("qm")
    r = client.post(
        f"/documents/{doc.id}/drafts", data={"kind": "reedition", "change_summary": "换版"}
    )
    assert r.status_code == 303
    assert (
        db.session.scalar(
            select(Revision.version).where(
                Revision.document_id == doc.id, Revision.state == RevisionState.DRAFT
            )
        )
        == "B0"
    )


def test_a_reedition_with_a_version_other_than_the_next_edition_is_refused(
    client, auth, people, effective_doc, token_for
):
    doc, _a0 = effective_doc()
    qm = token_for(people["qm"])
    before = _snapshot()
    url = f"/api/v1/documents/{doc.id}/revisions"
    r = client.post(url, json={"reedition": True, "version": "A1"}, headers=qm)
    assert r.status_code == 422
    assert r.get_json()["field"] == "version"
    assert r.get_json()["message"] == "After A0 the re-edition is B0, not A1."
    assert _snapshot() == before
    auth.login("qm")
    r = client.post(f"/documents/{doc.id}/drafts", data={"kind": "reedition", "version": "C0"})
    assert r.status_code == 422 and "After A0 the re-edition is B0, not C0." in page_text(r)
    assert _snapshot() == before
    r = client.post(url, json={"reedition": True, "version": "B0"}, headers=qm)
    assert r.status_code == 201 and r.get_json()["version"] == "B0"
    assert db.session.get(Revision, r.get_json()["id"]).is_reedition


def test_after_x9_a_revision_to_the_next_letter_is_not_recorded_as_a_reedition(
    people, create_document, draft_of, approve, today
):
    from docmgmt.versioning import publishing, withdrawing

    doc = create_document()  # brought in at A9: a document's first code is free
    a9 = approve(draft_of(doc, version="A9"))
    publishing.publish_revision(people["qm"], a9, today)
    db.session.commit()
    b0 = draft_of(doc, change_summary="修订")
    assert b0.version == "B0" and not b0.is_reedition
    withdrawing.cancel_revision(people["qm"], b0, "重来")
    db.session.commit()
    b0 = draft_of(doc, change_summary="换版", reedition=True)
    assert b0.version == "B0" and b0.is_reedition


def test_only_one_open_draft_per_document(client, auth, people, effective_doc, draft_of):
    doc, _a0 = effective_doc()
    draft_of(doc)
    auth.login("qm")
    before = _snapshot()
    r = client.post(f"/documents/{doc.id}/drafts", data={"kind": "revision"})
    assert r.status_code == 409 and "still in progress" in page_text(r)
    assert _snapshot() == before


def test_the_database_allows_only_one_effective_revision_per_document(
    people, effective_doc, draft_of
):
    doc, a0 = effective_doc()
    a1 = draft_of(doc)
    a1_id, a0_day = a1.id, a0.effective_date
    with pytest.raises(IntegrityError):
        db.session.execute(
            text("UPDATE revision SET state = 'effective' WHERE id = :id"), {"id": a1_id}
        )
    db.session.rollback()
    # Nor can two revisions start being in force on the same day.
    with pytest.raises(IntegrityError):
        db.session.execute(
            text("UPDATE revision SET effective_date = :d, state = 'superseded' WHERE id = :id"),
            {"d": a0_day, "id": a1_id},
        )
    db.session.rollback()


def test_two_people_publishing_the_same_revision_at_once_publish_it_once(
    app, people, create_document, draft_of, approve, today
):
    """Two sessions load the approved revision, both publish; one wins, one gets a conflict."""
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    from docmgmt.auth.models import User
    from docmgmt.versioning import publishing

    doc = create_document()
    rev = approve(draft_of(doc))
    rev_id, qm_id, doc_id = rev.id, people["qm"].id, doc.id
    db.session.remove()

    results = []
    barrier = threading.Barrier(2)

    def publish():
        with app.app_context():
            session = db.session
            r = session.get(Revision, rev_id)
            _ = r.document.revisions, r.signatures
            actor = session.get(User, qm_id)
            barrier.wait()
            try:
                publishing.publish_revision(actor, r, today)
                session.commit()
                results.append("ok")
            except (StaleDataError, IntegrityError):
                session.rollback()
                results.append("conflict")
            except Exception as exc:  # a lock error on SQLite also means "not twice"
                session.rollback()
                results.append(type(exc).__name__)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    with Session(db.engine) as s:
        states = s.scalars(select(Revision.state).where(Revision.document_id == doc_id)).all()
        assert states == [RevisionState.EFFECTIVE]
        events = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "revision.publish")
        )
        assert events == 1


def test_stale_publish_answers_409_through_the_app(
    client, auth, people, create_document, draft_of, approve, today
):
    doc = create_document()
    rev = approve(draft_of(doc))
    auth.login("qm")
    assert (
        client.post(
            f"/documents/{doc.id}/revisions/{rev.id}/publish",
            data={"effective_date": today.isoformat()},
        ).status_code
        == 303
    )
    r = client.post(
        f"/documents/{doc.id}/revisions/{rev.id}/publish",
        data={"effective_date": today.isoformat()},
    )
    assert r.status_code == 409


def test_withdrawn_document_disappears_for_staff_and_stays_in_the_register(
    client, auth, people, effective_doc
):
    doc, a0 = effective_doc()
    auth.login("qm")
    approver = people["approver"]
    r = client.post(
        f"/documents/{doc.id}/withdraw", data={"reason": "", "approver_id": approver.id}
    )
    assert db.session.get(type(doc), doc.id).is_obsolete is False
    r = client.post(
        f"/documents/{doc.id}/withdraw",
        data={"reason": "业务合并，不再适用", "approver_id": approver.id},
    )
    assert r.status_code == 303
    # Proposed, not yet done: the approver decides.
    assert db.session.get(type(doc), doc.id).is_obsolete is False
    from docmgmt.control.operations import pending_withdrawal

    wd = pending_withdrawal(doc)
    auth.logout()
    auth.login("approver")
    client.post(
        f"/documents/withdrawals/{wd.id}/approve", data={"password": PASSWORD, "comment": ""}
    )
    db.session.expire_all()
    assert db.session.get(type(doc), doc.id).is_obsolete is True
    auth.logout()
    auth.login("qm")
    page = page_text(client.get("/documents/?obsolete=1"))
    assert doc.number in page and "作废" in page
    auth.logout()
    auth.login("staff")
    assert doc.number not in page_text(client.get("/documents/"))
    assert client.get(f"/documents/{doc.id}/revisions/{a0.id}").status_code == 403


@pytest.mark.parametrize(
    ("prefix", "lookalikes"),
    [
        ("AB_1", ["ABX1-SP-07", "AB11-SP-12"]),  # _ is any one character to LIKE
        ("AB%1", ["AB1-SP-09", "ABZZ1-SP-05"]),  # % is any run of characters
        ("XX", ["xx-SP-04"]),  # another case is another number
    ],
)
def test_the_next_number_counts_only_numbers_with_the_prefix_itself(
    app, client, auth, people, prefix, lookalikes
):
    """A company prefix holding LIKE's wildcards (or a number differing only in case) must not
    make the numbers of other prefixes count: the first document with the prefix is -01,
    the next -02, on SQLite and PostgreSQL alike."""
    from docmgmt.versioning.models import Document

    app.config["DOC_NUMBER_PREFIX"] = prefix
    auth.login("qm")

    def register(number=""):
        r = client.post(
            "/documents/new",
            data={
                "doc_type": "procedure",
                "title": "客户投诉管理控制程序",
                "department_id": 0,
                "review_interval_months": 12,
                "number": number,
            },
        )
        assert r.status_code == 302, page_text(r)
        return db.session.scalar(select(Document.number).order_by(Document.id.desc()).limit(1))

    for number in lookalikes:
        assert register(number) == number
    assert register() == f"{prefix}-SP-01"
    assert register() == f"{prefix}-SP-02"
    assert sorted(db.session.scalars(select(Document.number))) == sorted(
        [*lookalikes, f"{prefix}-SP-01", f"{prefix}-SP-02"]
    )
