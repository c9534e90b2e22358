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


def state_label(state: S) -> str:
    return {
        S.DRAFT: _("Draft"),
        S.IN_REVIEW: _("In review"),
        S.APPROVED: _("Approved"),
        S.EFFECTIVE: _("Effective"),
        S.SUPERSEDED: _("Superseded"),
        S.OBSOLETE: _("Obsolete"),
        S.CANCELLED: _("Cancelled"),
    }[S(state)]


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
    extra = {"create": _("created"), "schedule": _("scheduled")}
    if action in extra:
        return extra[action]
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


def action_label(action: str) -> str:
    return {
        "edit": _("edited"),
        "submit": _("submitted for review"),
        "review": _("reviewed"),
        "approve": _("approved"),
        "reject": _("rejected"),
        "publish": _("published"),
        "activate": _("made effective"),
        "supersede": _("superseded"),
        "cancel": _("cancelled"),
        "unschedule": _("unscheduled"),
        "withdraw": _("withdrawn"),
    }[action]
