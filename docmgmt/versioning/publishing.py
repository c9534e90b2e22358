"""Publishing an approved revision with its effective date, and activation: it becomes
effective on that date (superseding the one before), in the request that finds it due or in
the CLI (docmgmt.versioning.scheduling commits each). The mails that tell people of it are
sent from here. Verbs check, change, log and flush; they never commit."""

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from docmgmt.audit.operations import log_event
from docmgmt.auth.models import User
from docmgmt.auth.permissions import can_manage_documents, require
from docmgmt.clock import local_today, utcnow
from docmgmt.errors import InvalidState, ValidationFailed
from docmgmt.extensions import db
from docmgmt.notify import Event, notify, staff_concerned
from docmgmt.versioning import lifecycle, signals
from docmgmt.versioning.content import content_hash
from docmgmt.versioning.models import Revision, RevisionEvent, RevisionState, SignatureMeaning
from docmgmt.versioning.queries import IN_FORCE_STATES
from docmgmt.versioning.transitions import _revision_link, _transition

S = RevisionState


def publish_revision(
    actor: User, rev: Revision, effective_date: date, now: datetime | None = None
) -> Revision:
    """Publish an approved revision: in force today, or on its (future) effective date."""
    now = now or utcnow()
    require(can_manage_documents(actor), _("Only a quality manager can publish revisions."))
    lifecycle.check(rev, "publish")
    if rev.effective_date is not None:
        raise InvalidState(
            _(
                "Revision %(v)s is already published for %(d)s.",
                v=rev.version,
                d=rev.effective_date.isoformat(),
            )
        )
    if effective_date is None:
        raise ValidationFailed(_("Give the effective date."), field="effective_date")
    today = local_today(now)
    if effective_date < today:
        raise ValidationFailed(
            _("The effective date cannot be in the past."), field="effective_date"
        )
    signed = rev.current_signatures()
    missing = [m for m in SignatureMeaning if m not in signed]
    if missing:
        raise InvalidState(
            _(
                "Revision %(v)s cannot be published before it is prepared, reviewed and approved.",
                v=rev.version,
            )
        )
    current_hash = content_hash(rev.signed_payload())
    if any(s.content_hash != current_hash for s in signed.values()):
        raise InvalidState(_("The signatures do not match the content; it cannot be published."))
    doc = rev.document
    if doc.is_obsolete:
        raise InvalidState(_("Document %(n)s is obsolete.", n=doc.number))
    for other in doc.revisions:
        if other.id != rev.id and other.is_scheduled:
            raise InvalidState(
                _(
                    "Revision %(v)s is already waiting to take effect on %(d)s.",
                    v=other.version,
                    d=other.effective_date.isoformat(),
                )
            )
        if (
            other.effective_date is not None
            and other.effective_date >= effective_date
            and (other.state in IN_FORCE_STATES)
        ):
            raise ValidationFailed(
                _(
                    "The effective date must be after that of revision %(v)s (%(d)s).",
                    v=other.version,
                    d=other.effective_date.isoformat(),
                ),
                field="effective_date",
            )
    rev.effective_date = effective_date
    rev.published_dt = now
    rev.published_by_id = actor.id
    doc.last_published_dt = now  # bumps the document's lock_version: concurrent publishers collide
    log_event(
        actor,
        "revision.publish",
        rev,
        summary=f"{doc.number} {rev.version} → {effective_date.isoformat()}",
        before={"effective_date": None},
        after={"effective_date": effective_date},
        now=now,
    )
    if effective_date <= today:
        _activate(actor, rev, now)
        _mail_publication(actor, rev, at_once=True)
    else:
        _mail_publication(actor, rev, at_once=False)
        db.session.add(
            RevisionEvent(
                revision=rev,
                action="schedule",
                from_state=rev.state.value,
                to_state=rev.state.value,
                user_id=actor.id,
                user_name=actor.full_name,
                occurred_dt=now,
                comment=effective_date.isoformat(),
            )
        )
        db.session.flush()
    from docmgmt.faults import failpoint

    failpoint("publish")  # fault tests: the server dies here, before the commit
    return rev


def _mail_publication(actor, rev: Revision, *, at_once: bool) -> None:
    """Tell those who asked for the change, and the staff the training matrix says must know
    the document.  Whoever got a training task for this revision just now hears of it by the
    training mail instead (one mail, not two)."""
    from docmgmt.training.models import TrainingTask

    trained = set(
        db.session.scalars(select(TrainingTask.user_id).where(TrainingTask.revision_id == rev.id))
    )
    people = {cr.requester_id: cr.requester for cr in getattr(rev, "change_requests", [])}
    for user in staff_concerned(rev.document_id):
        if user.id not in trained:
            people.setdefault(user.id, user)
    doc = rev.document

    def body():
        if at_once:
            text = _(
                "%(n)s %(t)s, revision %(v)s, is in force from today (%(d)s).",
                n=doc.number,
                t=rev.title,
                v=rev.version,
                d=rev.effective_date.isoformat(),
            )
        else:
            text = _(
                "%(n)s %(t)s, revision %(v)s, is published and takes effect on %(d)s.",
                n=doc.number,
                t=rev.title,
                v=rev.version,
                d=rev.effective_date.isoformat(),
            )
        if rev.change_summary:
            text += "\n" + _("What changed: %(s)s", s=rev.change_summary)
        if rev.change_reference != "-":
            text += "\n" + _("Change number: %(c)s", c=rev.change_reference)
        return text

    for user in people.values():
        notify(
            user,
            Event.PUBLISHED,
            lambda: _("%(n)s %(v)s is published", n=doc.number, v=rev.version),
            body,
            # Staff read a revision once it is in force; until then the register shows it.
            link=_revision_link(rev) if at_once else ("versioning.register", {}),
            actor=actor,
        )


def _activate(actor, rev: Revision, now: datetime) -> None:
    superseded = []
    for other in rev.document.revisions:
        if other.id != rev.id and other.state == S.EFFECTIVE:
            other.superseded_date = rev.effective_date
            _transition(actor, other, "supersede", now, comment=rev.version)
            superseded.append(other)
    # The old revision must leave the effective state before the new one enters it, or the
    # one-effective index would see two for a moment.
    db.session.flush()
    _transition(actor, rev, "activate", now)
    db.session.flush()
    signals.revision_effective.send(rev, superseded=superseded, actor=actor, now=now)


def due_revision_ids(now: datetime | None = None) -> list[int]:
    """Ids of the published revisions whose effective date has come (a plain read)."""
    today = local_today(now or utcnow())
    return list(
        db.session.scalars(
            select(Revision.id)
            .where(
                Revision.state == S.APPROVED,
                Revision.effective_date.is_not(None),
                Revision.effective_date <= today,
            )
            .order_by(Revision.effective_date, Revision.id)
        )
    )


def activate_if_due(revision_id: int, now: datetime | None = None) -> Revision | None:
    """Make one due revision effective, unless someone else already did.

    The claim is a compare-and-set on the revision row: only the transaction whose UPDATE
    still finds it approved and due goes on (PostgreSQL holds the row until the commit; on
    SQLite the write lock does the same). Everyone else gets None and has changed nothing.
    Like every verb it flushes and never commits."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(Revision)
        .where(
            Revision.id == revision_id,
            Revision.state == S.APPROVED,
            Revision.effective_date.is_not(None),
            Revision.effective_date <= local_today(now),
        )
        .values(lock_version=Revision.lock_version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return None
    rev = db.session.get(Revision, revision_id, populate_existing=True)
    _activate(None, rev, now)
    return rev


def activate_due_revisions(now: datetime | None = None) -> list[Revision]:
    """Make effective every published revision whose effective date has come, in the current
    transaction (the demo loader and tests); the request hook and the CLI use
    docmgmt.versioning.scheduling, which gives each its own transaction."""
    now = now or utcnow()
    done = []
    for rev_id in due_revision_ids(now):
        rev = activate_if_due(rev_id, now)
        if rev is not None:
            done.append(rev)
    return done
