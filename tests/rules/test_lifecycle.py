"""The revision lifecycle, pinned: every action from every state is allowed (to a given state)
or refused with its message. The table below is written here on purpose: it is what the
product promises, and docmgmt/versioning/lifecycle.py must keep to it.
(tests/rules/test_lifecycle_app.py drives the same rules through the JSON API.)"""

from types import SimpleNamespace

import pytest

from docmgmt.errors import InvalidState
from docmgmt.versioning import lifecycle
from docmgmt.versioning.models import RevisionState as S

STATE_LABELS = {
    S.DRAFT: "Draft",
    S.IN_REVIEW: "In review",
    S.APPROVED: "Approved",
    S.EFFECTIVE: "Effective",
    S.SUPERSEDED: "Superseded",
    S.OBSOLETE: "Obsolete",
    S.CANCELLED: "Cancelled",
}

# action: (its label, {state it is allowed from: the state it leads to})
RULES = {
    "edit": ("edited", {S.DRAFT: S.DRAFT}),
    "submit": ("submitted for review", {S.DRAFT: S.IN_REVIEW}),
    "review": ("reviewed", {S.IN_REVIEW: S.IN_REVIEW}),
    "approve": ("approved", {S.IN_REVIEW: S.APPROVED}),
    "reject": ("rejected", {S.IN_REVIEW: S.DRAFT}),
    # publish: effective at once, or approved until its date: the verb decides, not the table
    "publish": ("published", {S.APPROVED: None}),
    "activate": ("made effective", {S.APPROVED: S.EFFECTIVE}),
    "supersede": ("superseded", {S.EFFECTIVE: S.SUPERSEDED}),
    "cancel": ("cancelled", {S.DRAFT: S.CANCELLED, S.APPROVED: S.CANCELLED}),
    "unschedule": ("unscheduled", {S.APPROVED: S.APPROVED}),
    "withdraw": ("withdrawn", {S.EFFECTIVE: S.OBSOLETE, S.APPROVED: S.OBSOLETE}),
}

CASES = [(action, state) for action in RULES for state in S]


def revision(state, version="B3"):
    return SimpleNamespace(state=state, version=version)


@pytest.mark.parametrize(("action", "state"), CASES, ids=[f"{a}-{s.value}" for a, s in CASES])
def test_every_action_from_every_state(action, state):
    label, allowed = RULES[action]
    if state in allowed:
        assert lifecycle.check(revision(state), action) is allowed[state]
    else:
        with pytest.raises(InvalidState) as err:
            lifecycle.check(revision(state), action)
        assert str(err.value) == f"Revision B3 is {STATE_LABELS[state]}; it cannot be {label}."


def test_the_refusal_names_the_revision_its_state_and_the_action():
    with pytest.raises(InvalidState) as err:
        lifecycle.check(revision(S.SUPERSEDED, "A0"), "withdraw")
    assert str(err.value) == "Revision A0 is Superseded; it cannot be withdrawn."
    with pytest.raises(InvalidState) as err:
        lifecycle.check(revision(S.IN_REVIEW, "C7"), "submit")
    assert str(err.value) == "Revision C7 is In review; it cannot be submitted for review."


def test_a_revision_whose_state_is_stored_as_text_is_checked_alike():
    assert lifecycle.check(revision("draft"), "submit") is S.IN_REVIEW
    with pytest.raises(InvalidState) as err:
        lifecycle.check(revision("approved"), "submit")
    assert str(err.value) == "Revision B3 is Approved; it cannot be submitted for review."


def test_an_unknown_action_is_a_programming_error():
    with pytest.raises(KeyError):
        lifecycle.check(revision(S.DRAFT), "publish-now")


@pytest.mark.parametrize(("state", "label"), STATE_LABELS.items())
def test_state_labels(state, label):
    assert lifecycle.state_label(state) == label
    assert lifecycle.state_label(state.value) == label
    assert lifecycle.event_state_label(state.value) == label


@pytest.mark.parametrize("action", RULES)
def test_action_and_event_labels(action):
    assert lifecycle.action_label(action) == RULES[action][0]
    assert lifecycle.event_label(action) == RULES[action][0]


def test_event_labels_of_what_is_not_a_transition():
    assert lifecycle.event_label("create") == "created"
    assert lifecycle.event_label("schedule") == "scheduled"
    assert lifecycle.event_label("import") == "import"  # an unknown entry shows its code
    with pytest.raises(KeyError):
        lifecycle.action_label("create")


def test_event_state_labels_of_nothing_or_an_unknown_state():
    assert lifecycle.event_state_label("") == ""
    assert lifecycle.event_state_label(None) == ""
    assert lifecycle.event_state_label("archived") == "archived"
