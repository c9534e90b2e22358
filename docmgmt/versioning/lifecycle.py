"""The revision lifecycle: every allowed transition, written down once.

draft ──submit──▶ in_review ──approve──▶ approved ──publish──▶ effective ──▶ superseded
  ▲                  │ (review keeps it in review)   │ (future date: scheduled,
  └─────reject───────┘                              │  activated on the day)
draft ──cancel──▶ cancelled          effective/approved ──withdraw──▶ obsolete
approved (unpublished, or scheduled and its date not yet come) ──cancel──▶ cancelled
approved, scheduled ──unschedule──▶ approved (effective date cleared), before its date

Whether the date has come is checked by the verbs (withdrawing.cancel_revision and
unschedule_revision), since it depends on the day, not only on the state.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from docmgmt.errors import InvalidState
from docmgmt.versioning.models import RevisionState as S

TRANSITIONS: dict[str, tuple[frozenset[S], S | None]] = {
    "edit": (frozenset({S.DRAFT}), S.DRAFT),
    "submit": (frozenset({S.DRAFT}), S.IN_REVIEW),
    "review": (frozenset({S.IN_REVIEW}), S.IN_REVIEW),
    "approve": (frozenset({S.IN_REVIEW}), S.APPROVED),
    "reject": (frozenset({S.IN_REVIEW}), S.DRAFT),
    "publish": (frozenset({S.APPROVED}), None),  # effective now, or stays approved until its date
    "activate": (frozenset({S.APPROVED}), S.EFFECTIVE),
    "supersede": (frozenset({S.EFFECTIVE}), S.SUPERSEDED),
    "cancel": (frozenset({S.DRAFT, S.APPROVED}), S.CANCELLED),
    "unschedule": (frozenset({S.APPROVED}), S.APPROVED),
    "withdraw": (frozenset({S.EFFECTIVE, S.APPROVED}), S.OBSOLETE),
}


# The labels are translated one at a time, when asked for (a page shows many).
_STATE_LABELS = {
    S.DRAFT: _l("Draft"),
    S.IN_REVIEW: _l("In review"),
    S.APPROVED: _l("Approved"),
    S.EFFECTIVE: _l("Effective"),
    S.SUPERSEDED: _l("Superseded"),
    S.OBSOLETE: _l("Obsolete"),
    S.CANCELLED: _l("Cancelled"),
}


def state_label(state: S) -> str:
    return str(_STATE_LABELS[S(state)])


def allows(revision, action: str) -> bool:
    """Whether the table lets ``action`` happen to ``revision`` in its present state."""
    return revision.state in TRANSITIONS[action][0]


def check(revision, action: str) -> S | None:
    """Return the state ``action`` leads to, or raise InvalidState saying why not."""
    if not allows(revision, action):
        raise InvalidState(
            _(
                "Revision %(version)s is %(state)s; it cannot be %(action)s.",
                version=revision.version,
                state=state_label(revision.state),
                action=action_label(action),
            )
        )
    return TRANSITIONS[action][1]


def event_label(action: str) -> str:
    """An entry of a revision's history, as people read it (never the code)."""
    if action in _EXTRA_EVENT_LABELS:
        return str(_EXTRA_EVENT_LABELS[action])
    try:
        return action_label(action)
    except KeyError:
        return action


def event_state_label(state: str) -> str:
    if not state:
        return ""
    try:
        return state_label(S(state))
    except ValueError:
        return state


_ACTION_LABELS = {
    "edit": _l("edited"),
    "submit": _l("submitted for review"),
    "review": _l("reviewed"),
    "approve": _l("approved"),
    "reject": _l("rejected"),
    "publish": _l("published"),
    "activate": _l("made effective"),
    "supersede": _l("superseded"),
    "cancel": _l("cancelled"),
    "unschedule": _l("unscheduled"),
    "withdraw": _l("withdrawn"),
}
_EXTRA_EVENT_LABELS = {"create": _l("created"), "schedule": _l("scheduled")}


def action_label(action: str) -> str:
    return str(_ACTION_LABELS[action])
