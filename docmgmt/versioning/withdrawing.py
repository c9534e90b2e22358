"""Taking back: cancelling a revision (a draft, or an approved one before its date),
unscheduling a published one before its date, and withdrawing a whole document (作废), which
only the approval of a withdrawal (docmgmt.control.operations) calls. Verbs check, change,
log and flush; they never commit."""

from datetime import datetime

from flask_babel import gettext as _

from docmgmt.audit.operations import log_event
from docmgmt.auth.models import User
from docmgmt.auth.permissions import can_manage_documents, require
from docmgmt.clock import local_today, utcnow
from docmgmt.control.models import referrers
from docmgmt.errors import InvalidState, ValidationFailed
from docmgmt.extensions import db
from docmgmt.notify import Event, notify, staff_concerned
from docmgmt.templating import listed
from docmgmt.versioning import lifecycle, signals
from docmgmt.versioning.models import Document, Revision, RevisionState
from docmgmt.versioning.queries import open_revision
from docmgmt.versioning.transitions import _transition

S = RevisionState


def check_withdrawable(doc: Document, reason: str, confirm_references=False) -> str:
    """Refuse a withdrawal that cannot go ahead; returns the cleaned reason."""
    if doc.is_obsolete:
        raise InvalidState(_("Document %(n)s is already obsolete.", n=doc.number))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the reason for the withdrawal."), field="reason")
    users = referrers(doc)
    if users and not confirm_references:
        raise InvalidState(
            _(
                "%(n)s is referred to by %(others)s. Confirm the withdrawal to go ahead, and "
                "revise those documents.",
                n=doc.number,
                others=listed(d.number for d in users),
            )
        )
    if open_revision(doc) is not None:
        raise InvalidState(
            _("Document %(n)s has a revision in progress; cancel or finish it first.", n=doc.number)
        )
    return reason


def execute_withdrawal(
    actor, doc: Document, reason: str, now: datetime | None = None, confirm_references=False
) -> Document:
    """Make a whole document obsolete (作废): hidden from staff, kept in the register.

    Only the approval of a withdrawal (docmgmt.control.operations.decide_withdrawal) calls this;
    it checks who may."""
    reason = check_withdrawable(doc, reason, confirm_references)
    now = now or utcnow()
    withdrawn = []
    for rev in doc.revisions:
        if rev.state == S.EFFECTIVE or rev.is_scheduled:
            _transition(actor, rev, "withdraw", now, comment=reason)
            withdrawn.append(rev)
    doc.is_obsolete = True
    doc.obsolete_date = local_today(now)
    doc.obsolete_reason = reason
    db.session.flush()
    log_event(
        actor,
        "document.withdraw",
        doc,
        summary=f"{doc.number}: {reason}",
        before={"is_obsolete": False},
        after={"is_obsolete": True, "reason": reason},
        now=now,
    )
    signals.document_withdrawn.send(doc, revisions=withdrawn, actor=actor, now=now, reason=reason)
    versions_gone = listed(r.version for r in withdrawn) or "—"
    for user in staff_concerned(doc.id):
        notify(
            user,
            Event.WITHDRAWN,
            lambda: _("%(n)s is withdrawn (作废)", n=doc.number),
            lambda: _(
                "%(n)s %(t)s (version %(v)s) is withdrawn from %(d)s and no longer in force; do "
                "not use it or its copies.\nReason: %(r)s",
                n=doc.number,
                t=doc.title,
                v=versions_gone,
                d=doc.obsolete_date.isoformat(),
                r=reason,
            ),
            link=("versioning.register", {}),  # staff cannot open a withdrawn document
            actor=actor,
        )
    return doc


def _check_not_yet_in_force(rev: Revision, now: datetime, action: str) -> None:
    """An approved revision may be taken back only before its effective date."""
    if rev.effective_date is not None and rev.effective_date <= local_today(now):
        raise InvalidState(
            _(
                "Revision %(v)s took effect on %(d)s; it can no longer be %(action)s. "
                "Issue a new revision, or withdraw the document.",
                v=rev.version,
                d=rev.effective_date.isoformat(),
                action=lifecycle.action_label(action),
            )
        )


def cancel_revision(
    actor: User, rev: Revision, reason: str = "", now: datetime | None = None
) -> Revision:
    """Cancel a draft, or an approved revision that has not taken effect (not yet published,
    or scheduled for a later date). It stays in the history as cancelled, gives its version
    code back, and the next draft can start. An approved revision needs the reason."""
    now = now or utcnow()
    require(can_manage_documents(actor), _("Only a quality manager can cancel revisions."))
    lifecycle.check(rev, "cancel")
    reason = (reason or "").strip()
    before = {"state": rev.state, "effective_date": rev.effective_date}
    if rev.state == S.APPROVED:
        _check_not_yet_in_force(rev, now, "cancel")
        if not reason:
            raise ValidationFailed(
                _("Give the reason for cancelling revision %(v)s.", v=rev.version), field="reason"
            )
        # Its date is free again for another revision (one revision starts on a given day).
        rev.effective_date = None
    _transition(
        actor,
        rev,
        "cancel",
        now,
        comment=reason,
        before=before,
        after={"state": S.CANCELLED, "effective_date": None},
    )
    return rev


def unschedule_revision(
    actor: User, rev: Revision, reason: str, now: datetime | None = None
) -> Revision:
    """Take a scheduled revision back to approved (its effective date cleared) before its date;
    it can then be published for another date, or cancelled."""
    now = now or utcnow()
    require(can_manage_documents(actor), _("Only a quality manager can unschedule revisions."))
    lifecycle.check(rev, "unschedule")
    if rev.effective_date is None:
        raise InvalidState(
            _("Revision %(v)s is not scheduled; it has no effective date.", v=rev.version)
        )
    _check_not_yet_in_force(rev, now, "unschedule")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Give the reason for unscheduling revision %(v)s.", v=rev.version), field="reason"
        )
    pending = open_revision(rev.document)
    if pending is not None and pending.id != rev.id:
        raise InvalidState(
            _(
                "Revision %(o)s of %(n)s is in progress: one open revision per document. "
                "Cancel %(o)s first, or cancel %(v)s instead.",
                o=pending.version,
                n=rev.document.number,
                v=rev.version,
            )
        )
    before = rev.effective_date
    rev.effective_date = None
    rev.published_dt = None
    rev.published_by_id = None
    _transition(
        actor,
        rev,
        "unschedule",
        now,
        comment=f"{before.isoformat()}: {reason}",
        before={"state": rev.state, "effective_date": before},
        after={"state": rev.state, "effective_date": None},
    )
    return rev
