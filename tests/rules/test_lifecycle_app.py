"""The revision lifecycle through the JSON API: from every state, every verb the state does
not allow is refused (409) with a message naming the revision, its state and the verb, and
changes nothing; cancel and unschedule each way. Whatever shape the lifecycle code takes, these
answers stay (tests/rules/test_lifecycle.py pins the rules one by one)."""

from datetime import timedelta

import pytest

from docmgmt.extensions import db
from tests.conftest import PASSWORD

ALLOWED = object()


def expected(state_label, **overrides):
    """The refusal of every verb from a state, unless overridden (ALLOWED: not tried here)."""
    out = {
        verb: f"Revision A0 is {state_label}; it cannot be {label}."
        for verb, label in [
            ("edit", "edited"),
            ("submit", "submitted for review"),
            ("review", "reviewed"),
            ("approve", "approved"),
            ("reject", "rejected"),
            ("publish", "published"),
            ("cancel", "cancelled"),
            ("unschedule", "unscheduled"),
        ]
    }
    return out | overrides


@pytest.fixture
def lifecycle(client, people, token_for, create_document, draft_of, approve, today):
    qm = token_for(people["qm"])

    def call(rev_id, verb):
        method, path, body = {
            "edit": ("PATCH", "", {"title": "改"}),
            "submit": (
                "POST",
                "/submit",
                {
                    "reviewer_id": people["reviewer"].id,
                    "approver_id": people["approver"].id,
                    "password": PASSWORD,
                },
            ),
            "review": ("POST", "/sign", {"meaning": "reviewed", "password": PASSWORD}),
            "approve": ("POST", "/sign", {"meaning": "approved", "password": PASSWORD}),
            "reject": ("POST", "/reject", {"comment": "不同意"}),
            "publish": ("POST", "/publish", {"effective_date": today.isoformat()}),
            "cancel": ("POST", "/cancel", {"reason": "不再需要"}),
            "unschedule": ("POST", "/unschedule", {"reason": "推迟"}),
        }[verb]
        return client.open(
            f"/api/v1/revisions/{rev_id}{path}", method=method, json=body, headers=qm
        )

    def state(rev_id):
        return client.get(f"/api/v1/revisions/{rev_id}", headers=qm).get_json()["state"]

    def make(state_name):
        doc = create_document()
        rev = draft_of(doc)
        if state_name == "draft":
            return rev
        if state_name == "in_review":
            assert call(rev.id, "submit").status_code == 200
            return rev
        approve(rev)
        if state_name == "approved":
            return rev
        if state_name == "scheduled":
            r = client.post(
                f"/api/v1/revisions/{rev.id}/publish",
                json={"effective_date": (today + timedelta(days=3)).isoformat()},
                headers=qm,
            )
            assert r.status_code == 200
            return rev
        assert call(rev.id, "publish").status_code == 200
        if state_name == "effective":
            return rev
        if state_name == "superseded":
            rev.effective_date = today - timedelta(days=1)  # in force since yesterday
            db.session.commit()
            a1 = approve(draft_of(doc, change_summary="第二版"))
            assert call(a1.id, "publish").status_code == 200
            return rev
        if state_name == "obsolete":
            r = client.post(
                f"/api/v1/documents/{doc.id}/withdraw",
                json={"reason": "业务取消", "approver_id": people["approver"].id},
                headers=qm,
            )
            assert r.status_code == 201, r.get_json()
            r = client.post(
                f"/api/v1/withdrawals/{r.get_json()['id']}/approve",
                json={"password": PASSWORD},
                headers=token_for(people["approver"]),
            )
            assert r.status_code == 200, r.get_json()
            return rev
        raise AssertionError(state_name)

    def cancelled():
        rev = draft_of(create_document())
        assert call(rev.id, "cancel").status_code == 200
        return rev

    return call, state, make, cancelled


def refusals(today):
    later = (today + timedelta(days=3)).isoformat()
    return {
        "draft": (
            "draft",
            expected("Draft", edit=ALLOWED, submit=ALLOWED, cancel=ALLOWED),
        ),
        "in_review": (
            "in_review",
            expected("In review", review=ALLOWED, approve=ALLOWED, reject=ALLOWED),
        ),
        "approved": (
            "approved",
            expected(
                "Approved",
                publish=ALLOWED,
                cancel=ALLOWED,
                unschedule="Revision A0 is not scheduled; it has no effective date.",
            ),
        ),
        "scheduled": (
            "approved",
            expected(
                "Approved",
                publish=f"Revision A0 is already published for {later}.",
                cancel=ALLOWED,
                unschedule=ALLOWED,
            ),
        ),
        "effective": ("effective", expected("Effective")),
        "superseded": ("superseded", expected("Superseded")),
        "obsolete": ("obsolete", expected("Obsolete")),
        "cancelled": ("cancelled", expected("Cancelled")),
    }


@pytest.mark.parametrize(
    "state_name",
    [
        "draft",
        "in_review",
        "approved",
        "scheduled",
        "effective",
        "superseded",
        "obsolete",
        "cancelled",
    ],
)
def test_every_verb_a_state_does_not_allow_is_refused_and_changes_nothing(
    lifecycle, today, state_name
):
    call, state, make, cancelled = lifecycle
    rev = cancelled() if state_name == "cancelled" else make(state_name)
    stored, messages = refusals(today)[state_name]
    assert state(rev.id) == stored
    for verb, message in messages.items():
        if message is ALLOWED:
            continue
        r = call(rev.id, verb)
        assert r.status_code == 409, (verb, r.status_code, r.get_json())
        if verb == "edit":  # the content is frozen once submitted
            assert r.get_json()["message"].startswith(message.split(";")[0]), verb
        else:
            assert r.get_json()["message"] == message, verb
        assert state(rev.id) == stored, verb


def test_cancel_a_draft(lifecycle):
    call, state, make, _cancelled = lifecycle
    rev = make("draft")
    r = call(rev.id, "cancel")
    assert r.status_code == 200 and r.get_json()["state"] == "cancelled"


def test_cancel_an_approved_revision_needs_the_reason(client, lifecycle, people, token_for):
    call, state, make, _cancelled = lifecycle
    rev = make("approved")
    r = client.post(
        f"/api/v1/revisions/{rev.id}/cancel", json={"reason": " "}, headers=token_for(people["qm"])
    )
    assert r.status_code == 422
    assert r.get_json()["message"] == "Give the reason for cancelling revision A0."
    assert state(rev.id) == "approved"
    r = call(rev.id, "cancel")
    assert r.status_code == 200 and r.get_json()["state"] == "cancelled"


def test_cancel_or_unschedule_a_scheduled_revision_before_its_date(lifecycle):
    call, state, make, _cancelled = lifecycle
    rev = make("scheduled")
    r = call(rev.id, "unschedule")
    assert r.status_code == 200
    assert r.get_json()["state"] == "approved" and r.get_json()["effective_date"] is None
    other = make("scheduled")
    r = call(other.id, "cancel")
    assert r.status_code == 200
    assert r.get_json()["state"] == "cancelled" and r.get_json()["effective_date"] is None


def test_a_scheduled_revision_whose_date_has_come_is_neither_cancelled_nor_unscheduled(
    lifecycle, today
):
    """On its day it takes effect (the API activates it when it is next used): from then on
    only a new revision or a withdrawal changes it."""
    from docmgmt.versioning.models import Revision

    call, state, make, _cancelled = lifecycle
    rev = make("scheduled")
    db.session.get(Revision, rev.id).effective_date = today
    db.session.commit()
    for verb, label in [("cancel", "cancelled"), ("unschedule", "unscheduled")]:
        r = call(rev.id, verb)
        assert r.status_code == 409
        assert r.get_json()["message"] == f"Revision A0 is Effective; it cannot be {label}."
    assert state(rev.id) == "effective"
