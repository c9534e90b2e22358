"""Applying a lifecycle transition: the table in docmgmt.versioning.lifecycle says where an
action leads; this writes the new state, the revision's history row and the audit event."""

from datetime import datetime

from docmgmt.audit.operations import log_event
from docmgmt.extensions import db
from docmgmt.versioning import lifecycle
from docmgmt.versioning.models import Revision, RevisionEvent, RevisionState

S = RevisionState


def _transition(
    actor,
    rev: Revision,
    action: str,
    now: datetime,
    comment: str = "",
    target: S | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    from_state, to_state = _move(actor, rev, action, now, comment, target)
    log_event(
        actor,
        f"revision.{action}",
        rev,
        summary=f"{rev.document.number} {rev.version}" + (f": {comment}" if comment else ""),
        before=before or {"state": from_state},
        after=after or {"state": to_state},
        now=now,
    )


def _move(
    actor, rev: Revision, action: str, now: datetime, comment: str = "", target: S | None = None
) -> tuple[S, S]:
    """The state the table gives ``action`` and the revision's history row, without an audit
    event: a review is audited by its signature, and stays in review (the table says so)."""
    to_state = target or lifecycle.check(rev, action)
    from_state = rev.state
    rev.state = to_state
    db.session.add(
        RevisionEvent(
            revision=rev,
            action=action,
            from_state=from_state.value,
            to_state=to_state.value,
            user_id=getattr(actor, "id", None),
            user_name=getattr(actor, "full_name", "") or "",
            comment=comment,
            occurred_dt=now,
        )
    )
    return from_state, to_state


def _revision_link(rev: Revision):
    return ("versioning.revision", {"doc_id": rev.document_id, "rev_id": rev.id})
