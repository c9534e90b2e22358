"""Verbs of document control: change requests, periodic reviews, links between documents.

Like every operations module: check, change, log, flush; the caller commits.
"""

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from docmgmt import storage
from docmgmt.audit.operations import log_event
from docmgmt.auth.permissions import can_manage_documents, require
from docmgmt.clock import as_utc, local_date, local_today, utcnow
from docmgmt.control.models import (
    ChangeRequest,
    ChangeRequestAttachment,
    DocumentLink,
    LinkKind,
    PeriodicReview,
    RequestState,
    ReviewOutcome,
    Urgency,
    Withdrawal,
    WithdrawalState,
    referrers,
)
from docmgmt.control.rules import next_review_date
from docmgmt.errors import InvalidState, PermissionDenied, ValidationFailed
from docmgmt.extensions import db
from docmgmt.notify import Event, notify, quality_managers
from docmgmt.templating import listed
from docmgmt.versioning import drafting, lifecycle, queries, withdrawing
from docmgmt.versioning.models import Document, DocumentType, Revision

# ---------------------------------------------------------------- change requests


def _next_request_number(now: datetime) -> str:
    year = local_today(now).year
    stem = f"CR-{year}-"
    numbers = db.session.scalars(
        select(ChangeRequest.number).where(ChangeRequest.number.like(stem + "%"))
    )
    used = [int(n[len(stem) :]) for n in numbers if n[len(stem) :].isdigit()]
    return f"{stem}{(max(used) + 1 if used else 1):03d}"


def _request_snapshot(cr: ChangeRequest) -> dict:
    return {
        "number": cr.number,
        "state": cr.state,
        "urgency": cr.urgency,
        "decision_comment": cr.decision_comment,
        "revision_id": cr.revision_id,
    }


def create_request(
    actor,
    document: Document,
    *,
    reason: str,
    proposed_change: str,
    urgency="normal",
    now: datetime | None = None,
) -> ChangeRequest:
    """Anyone who can read the document may ask for a change to it (auditors change nothing)."""
    from docmgmt.auth.permissions import is_read_only

    now = now or utcnow()
    require(not is_read_only(actor), _("Auditors cannot request changes."))
    if document.is_obsolete:
        raise InvalidState(_("Document %(n)s is obsolete.", n=document.number))
    if document.doc_type != DocumentType.EXTERNAL and queries.in_force_revision(document) is None:
        # The same refusal for everyone: a request asks to change what is in force.
        raise InvalidState(
            _(
                "Document %(n)s has no revision in force: there is nothing to change yet. "
                "Its draft is edited directly.",
                n=document.number,
            )
        )
    reason, proposed = (reason or "").strip(), (proposed_change or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why the document should change."), field="reason")
    if not proposed:
        raise ValidationFailed(_("Describe the change you propose."), field="proposed_change")
    try:
        urgency = Urgency(urgency)
    except ValueError:
        raise ValidationFailed(_("Unknown urgency."), field="urgency") from None
    cr = ChangeRequest(
        number=_next_request_number(now),
        document=document,
        requester_id=actor.id,
        reason=reason,
        proposed_change=proposed,
        urgency=urgency,
        state=RequestState.OPEN,
        created_dt=now,
    )
    db.session.add(cr)
    db.session.flush()
    log_event(
        actor,
        "change_request.create",
        cr,
        summary=f"{cr.number} {document.number}",
        after=_request_snapshot(cr),
        now=now,
    )
    for qm in quality_managers():
        notify(
            qm,
            Event.CHANGE_REQUEST,
            lambda: _("Change request %(n)s for %(d)s", n=cr.number, d=document.number),
            lambda: _(
                "%(who)s asks for a change to %(d)s %(t)s.\n\nUrgency: %(u)s\nReason: %(r)s\n"
                "Proposed change: %(p)s",
                who=actor.full_name,
                d=document.number,
                t=document.title,
                u=urgency_label(cr.urgency),
                r=reason,
                p=proposed,
            ),
            link=("control.request_detail", {"cr_id": cr.id}),
            actor=actor,
        )
    return cr


def urgency_label(urgency) -> str:
    return {
        Urgency.LOW: _("Low"),
        Urgency.NORMAL: _("Normal"),
        Urgency.HIGH: _("Urgent"),
    }[Urgency(urgency)]


def accept_request(actor, cr: ChangeRequest, comment: str = "", now: datetime | None = None):
    """Accept: the next draft opens (or the open draft takes it), carrying the request number."""
    now = now or utcnow()
    require(can_manage_documents(actor), _("Only a quality manager can decide change requests."))
    if cr.state != RequestState.OPEN:
        raise InvalidState(_("Change request %(n)s is already decided.", n=cr.number))
    doc = cr.document
    if doc.is_obsolete:
        raise InvalidState(
            _("Document %(n)s is obsolete; the request cannot be accepted.", n=doc.number)
        )
    before = _request_snapshot(cr)
    draft = queries.open_revision(doc)
    if draft is None:
        draft = drafting.create_draft(
            actor, doc, change_summary=cr.proposed_change, change_number=cr.number, now=now
        )
    elif lifecycle.allows(draft, "edit"):
        pass  # the open draft takes the request too: the row below, not a longer string
    else:
        raise InvalidState(
            _(
                "Revision %(v)s of %(n)s is already in review; accept the request after it is "
                "published, or reject the revision first.",
                v=draft.version,
                n=doc.number,
            )
        )
    cr.state = RequestState.ACCEPTED
    cr.decided_by_id, cr.decided_dt = actor.id, now
    cr.decision_comment = (comment or "").strip()
    cr.revision_id = draft.id
    if cr not in draft.change_requests:
        draft.change_requests.append(cr)
    db.session.flush()
    log_event(
        actor,
        "change_request.accept",
        cr,
        summary=f"{cr.number} → {draft.version}",
        before=before,
        after=_request_snapshot(cr),
        now=now,
    )
    notify(
        cr.requester,
        Event.REQUEST_DECIDED,
        lambda: _("Change request %(n)s accepted", n=cr.number),
        lambda: _(
            "Your request for %(d)s was accepted; it will be made in revision %(v)s.",
            d=doc.number,
            v=draft.version,
        ),
        link=("control.request_detail", {"cr_id": cr.id}),
        actor=actor,
    )
    return draft


def reject_request(actor, cr: ChangeRequest, reason: str, now: datetime | None = None):
    now = now or utcnow()
    require(can_manage_documents(actor), _("Only a quality manager can decide change requests."))
    if cr.state != RequestState.OPEN:
        raise InvalidState(_("Change request %(n)s is already decided.", n=cr.number))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Give the requester the reason for the rejection."), field="comment"
        )
    before = _request_snapshot(cr)
    cr.state = RequestState.REJECTED
    cr.decided_by_id, cr.decided_dt, cr.decision_comment = actor.id, now, reason
    db.session.flush()
    log_event(
        actor,
        "change_request.reject",
        cr,
        summary=f"{cr.number}: {reason}",
        before=before,
        after=_request_snapshot(cr),
        now=now,
    )
    notify(
        cr.requester,
        Event.REQUEST_DECIDED,
        lambda: _("Change request %(n)s rejected", n=cr.number),
        lambda: _("Your request for %(d)s was rejected: %(r)s", d=cr.document.number, r=reason),
        link=("control.request_detail", {"cr_id": cr.id}),
        actor=actor,
    )
    return cr


# ---------------------------------------------------------------- periodic review


def last_review(doc: Document) -> PeriodicReview | None:
    return db.session.scalar(
        select(PeriodicReview)
        .where(PeriodicReview.document_id == doc.id)
        .order_by(PeriodicReview.review_date.desc(), PeriodicReview.id.desc())
        .limit(1)
    )


def review_due_dates(docs, in_force: dict) -> dict:
    """``review_due_date`` for a whole page of documents in one query (``in_force``: the
    revision in force per document id, from ``in_force_map``)."""
    ids = [d.id for d in docs]
    last = (
        dict(
            db.session.execute(
                select(PeriodicReview.document_id, func.max(PeriodicReview.review_date))
                .where(PeriodicReview.document_id.in_(ids))
                .group_by(PeriodicReview.document_id)
            ).all()
        )
        if ids
        else {}
    )
    out = {}
    for doc in docs:
        if doc.is_obsolete:
            out[doc.id] = None
            continue
        if doc.doc_type != DocumentType.EXTERNAL:
            current = in_force.get(doc.id)
            since = current.effective_date if current else None
        else:
            since = local_date(doc.created_dt) if doc.created_dt else None
        out[doc.id] = next_review_date(doc.review_interval_months, last.get(doc.id), since)
    return out


def review_due_date(doc: Document) -> date | None:
    """The next periodic review of one document: the rule of :func:`review_due_dates`."""
    if doc.is_obsolete:
        return None
    return review_due_dates([doc], queries.in_force_revisions([doc]))[doc.id]


def register_documents() -> list[Document]:
    """The documents of the register (not obsolete), by number, with their revisions (but
    not the revisions' signatures, which nothing here shows: loaded if asked for)."""
    return db.session.scalars(
        select(Document)
        .options(selectinload(Document.revisions).lazyload(Revision.signatures))
        .where(Document.is_obsolete.is_(False))
        .order_by(Document.number)
    ).all()


def overdue_reviews(
    today: date | None = None, docs: list[Document] | None = None
) -> list[tuple[Document, date]]:
    """The documents whose periodic review is overdue, of ``docs`` (default: the register)."""
    today = today or local_today()
    docs = register_documents() if docs is None else docs
    # The whole register in three queries (documents, their revisions, last reviews): the
    # revision in force is taken from the revisions loaded with the documents.
    due = review_due_dates(docs, queries.in_force_among(docs))
    return [(doc, due[doc.id]) for doc in docs if due[doc.id] is not None and due[doc.id] < today]


def record_review(
    actor,
    doc: Document,
    *,
    review_date: date,
    finding: str,
    change_needed: bool = False,
    proposed_change: str = "",
    now: datetime | None = None,
) -> PeriodicReview:
    now = now or utcnow()
    require(can_manage_documents(actor), _("Only a quality manager records periodic reviews."))
    if doc.is_obsolete:
        raise InvalidState(_("Document %(n)s is obsolete.", n=doc.number))
    if review_date is None:
        raise ValidationFailed(_("Give the date of the review."), field="review_date")
    if review_date > local_today(now):
        raise ValidationFailed(_("A review cannot be dated in the future."), field="review_date")
    registered = local_today(as_utc(doc.created_dt)) if doc.created_dt else None
    if registered is not None and review_date < registered:
        raise ValidationFailed(
            _(
                "A review cannot be dated before the document was registered (%(d)s).",
                d=registered.isoformat(),
            ),
            field="review_date",
        )
    finding = (finding or "").strip()
    if not finding:
        raise ValidationFailed(_("Record what the review found."), field="finding")
    cr = None
    if change_needed:
        cr = create_request(
            actor, doc, reason=finding, proposed_change=proposed_change or finding, now=now
        )
    review = PeriodicReview(
        document=doc,
        reviewer_id=actor.id,
        reviewer_name=actor.full_name,
        review_date=review_date,
        finding=finding,
        outcome=ReviewOutcome.CHANGE_NEEDED if change_needed else ReviewOutcome.CONFIRMED,
        change_request=cr,
        created_dt=now,
    )
    db.session.add(review)
    db.session.flush()
    log_event(
        actor,
        "review.record",
        review,
        summary=f"{doc.number} {review_date.isoformat()}",
        after={
            "outcome": review.outcome,
            "finding": finding,
            "change_request": cr.number if cr else None,
        },
        now=now,
    )
    return review


# ---------------------------------------------------------------- related documents

_TARGET_TYPE = {
    LinkKind.USES_FORM: DocumentType.RECORD_FORM,
    LinkKind.USES_INSTRUCTION: DocumentType.WORK_INSTRUCTION,
}


def _refers_to_reaches(start_id: int, goal_id: int) -> bool:
    """Is ``goal`` reachable from ``start`` through refers-to links?"""
    seen, frontier = set(), [start_id]
    while frontier:
        current = frontier.pop()
        if current == goal_id:
            return True
        if current in seen:
            continue
        seen.add(current)
        frontier.extend(
            db.session.scalars(
                select(DocumentLink.to_document_id).where(
                    DocumentLink.from_document_id == current,
                    DocumentLink.kind == LinkKind.REFERS_TO,
                )
            )
        )
    return False


def add_link(actor, source: Document, target: Document, kind) -> DocumentLink:
    require(can_manage_documents(actor), _("Only a quality manager links documents."))
    try:
        kind = LinkKind(kind)
    except ValueError:
        raise ValidationFailed(_("Unknown kind of link."), field="kind") from None
    if target is None:
        raise ValidationFailed(_("Choose the document to link."), field="target")
    if source.id == target.id:
        raise ValidationFailed(_("A document cannot refer to itself."), field="target")
    wanted = _TARGET_TYPE.get(kind)
    if wanted is not None and target.doc_type != wanted:
        raise ValidationFailed(
            _("%(n)s is not a document of the right type for this link.", n=target.number),
            field="target",
        )
    if kind == LinkKind.REFERS_TO and _refers_to_reaches(target.id, source.id):
        raise ValidationFailed(
            _(
                "%(a)s already refers, directly or through others, to %(b)s: the link would be "
                "circular.",
                a=target.number,
                b=source.number,
            ),
            field="target",
        )
    exists = db.session.scalar(
        select(func.count())
        .select_from(DocumentLink)
        .where(
            DocumentLink.from_document_id == source.id,
            DocumentLink.to_document_id == target.id,
            DocumentLink.kind == kind,
        )
    )
    if exists:
        raise ValidationFailed(_("This link exists already."), field="target")
    link = DocumentLink(source=source, target=target, kind=kind)
    db.session.add(link)
    db.session.flush()
    log_event(actor, "document.link", link, summary=f"{source.number} {kind.value} {target.number}")
    return link


def remove_link(actor, link: DocumentLink) -> None:
    require(can_manage_documents(actor), _("Only a quality manager links documents."))
    log_event(
        actor,
        "document.unlink",
        link,
        summary=f"{link.source.number} {link.kind.value} {link.target.number}",
    )
    db.session.delete(link)
    db.session.flush()


def links_from(doc: Document) -> list[DocumentLink]:
    return db.session.scalars(
        select(DocumentLink)
        .options(selectinload(DocumentLink.target))  # with the documents, not one per link
        .where(DocumentLink.from_document_id == doc.id)
        .order_by(DocumentLink.kind, DocumentLink.id)
    ).all()


def check_permission_to_read(actor, doc: Document) -> None:
    from docmgmt.auth.permissions import can_read_history
    from docmgmt.auth.scope import require_document_access

    require_document_access(actor, doc)
    if (
        not can_read_history(actor)
        and queries.in_force_revision(doc) is None
        and (doc.doc_type != DocumentType.EXTERNAL or doc.is_obsolete)
    ):
        raise PermissionDenied(_("Document %(n)s has no revision in force.", n=doc.number))


# ---------------------------------------------------------------- attachments

ATTACHMENT_SUFFIXES = {
    ".pdf",
    ".png",
    ".jpg",
    ".jpeg",
    ".docx",
    ".xlsx",
    ".txt",
}


def attach_to_request(
    actor, cr: ChangeRequest, filename: str, data: bytes, content_type: str = "", now=None
) -> ChangeRequestAttachment:
    """Keep a file with a change request: the requester or a quality manager may add one while
    the request is open.  The file is checked before anything is written."""
    now = now or utcnow()
    if not (cr.requester_id == actor.id or can_manage_documents(actor)):
        raise PermissionDenied(_("You do not have permission to do this."))
    if cr.state != RequestState.OPEN:
        raise InvalidState(_("Change request %(n)s is already decided.", n=cr.number))
    return storage.attach(
        ChangeRequestAttachment,
        (filename, data),
        allowed_suffixes=ATTACHMENT_SUFFIXES,
        audit=lambda att: log_event(
            actor,
            "change_request.attach",
            cr,
            summary=f"{cr.number}: {att.filename}",
            after={"filename": att.filename, "sha256": att.sha256, "size": att.size},
            now=now,
        ),
        change_request=cr,
        uploaded_by_id=actor.id,
        uploaded_dt=now,
    )


# ---------------------------------------------------------------- text of the attachments
# Read as jobs like every attachment (docmgmt/extract/recognition.py); who may see the request
# may see the text, and ask again for a failed reading if they may add files to it.


def request_attachment(cr: ChangeRequest, att_id: int) -> ChangeRequestAttachment:
    from docmgmt.errors import NotFound

    att = next((a for a in cr.attachments if a.id == att_id), None)
    if att is None:
        raise NotFound(_("Not found."))
    return att


def attachment_texts(cr: ChangeRequest) -> dict:
    """attachment id -> its AttachmentText (the text read from it)."""
    from docmgmt.extract import recognition

    return recognition.texts_of("change_request_attachment", [a.id for a in cr.attachments])


def attachment_text(cr: ChangeRequest, att_id: int):
    from docmgmt.extract import recognition

    return recognition.text_of("change_request_attachment", request_attachment(cr, att_id))


def can_retry_recognition(actor, cr: ChangeRequest) -> bool:
    """A quality manager, or the requester while they may still add files (open)."""
    return can_manage_documents(actor) or (
        cr.requester_id == actor.id and cr.state == RequestState.OPEN
    )


def retry_recognition(actor, cr: ChangeRequest, att_id: int):
    """Read a failed attachment of the request again: (text, job); the caller commits and
    starts the job."""
    from docmgmt.extract import recognition

    if cr.requester_id == actor.id and not can_retry_recognition(actor, cr):
        refusal = _("Change request %(n)s is already decided.", n=cr.number)
    else:
        refusal = _("Only a quality manager or the requester can ask for this again.")
    return recognition.retry_attachment(
        actor,
        "change_request_attachment",
        request_attachment(cr, att_id),
        allowed=can_retry_recognition(actor, cr),
        refusal=refusal,
    )


# ---------------------------------------------------------------- withdrawal with approval


def pending_withdrawal(doc: Document) -> Withdrawal | None:
    return db.session.scalar(
        select(Withdrawal).where(
            Withdrawal.document_id == doc.id, Withdrawal.state == WithdrawalState.PENDING
        )
    )


def withdrawal_approvers() -> list:
    from docmgmt.auth.models import Role, User

    users = db.session.scalars(select(User).order_by(User.full_name)).all()
    return [u for u in users if u.is_active and u.has_role(Role.APPROVER)]


def propose_withdrawal(
    actor, doc: Document, reason: str, approver, confirm_references=False, now=None
) -> Withdrawal:
    """The quality manager asks for a document to be made obsolete; a named approver decides."""
    from docmgmt.auth.models import Role

    now = now or utcnow()
    require(can_manage_documents(actor), _("Only a quality manager can withdraw a document."))
    reason = withdrawing.check_withdrawable(doc, reason, confirm_references)
    if pending_withdrawal(doc) is not None:
        raise InvalidState(_("The withdrawal of %(n)s already waits for approval.", n=doc.number))
    from docmgmt.auth.signers import named_signer

    approver = named_signer(  # a User or an id; the refusal names the real reason
        approver,
        field="approver_id",
        role="approver",
        actor=actor,
        may_sign=lambda u: u.has_role(Role.APPROVER),
    )
    refs = listed(d.number for d in referrers(doc))
    wd = Withdrawal(
        document=doc,
        reason=reason,
        proposed_by_id=actor.id,
        proposed_dt=now,
        approver_id=approver.id,
        state=WithdrawalState.PENDING,
        confirmed_references=refs,
    )
    db.session.add(wd)
    db.session.flush()
    log_event(
        actor,
        "withdrawal.propose",
        doc,
        summary=f"{doc.number}: {reason}",
        after={"approver": approver.full_name, "reason": reason, "references": refs},
        now=now,
    )
    notify(
        approver,
        Event.SIGNATURE,
        lambda: _("Please approve the withdrawal of %(n)s", n=doc.number),
        lambda: _(
            "%(who)s proposes to withdraw %(n)s %(t)s (作废): %(r)s",
            who=actor.full_name,
            n=doc.number,
            t=doc.title,
            r=reason,
        ),
        link=("versioning.withdrawal", {"wd_id": wd.id}),
        actor=actor,
    )
    return wd


def decide_withdrawal(
    actor, wd: Withdrawal, *, approve: bool, password: str, comment: str = "", now=None
) -> Withdrawal:
    """The named approver approves (the document becomes obsolete at once) or rejects, signing
    either way with their password."""
    from docmgmt.auth.operations import verify_signing_password

    now = now or utcnow()
    if wd.approver_id != getattr(actor, "id", None):
        raise PermissionDenied(_("This withdrawal was routed to another approver."))
    if wd.state != WithdrawalState.PENDING:
        raise InvalidState(_("This withdrawal is already decided."))
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationFailed(_("Say why the withdrawal is rejected."), field="comment")
    verify_signing_password(actor, password)
    wd.state = WithdrawalState.APPROVED if approve else WithdrawalState.REJECTED
    wd.decided_dt = now
    wd.decision_comment = comment
    db.session.flush()
    log_event(
        actor,
        "withdrawal.approve" if approve else "withdrawal.reject",
        wd.document,
        summary=f"{wd.document.number}" + (f": {comment}" if comment else ""),
        after={"state": wd.state, "comment": comment},
        now=now,
    )
    doc = wd.document
    in_force = queries.in_force_revision(doc)
    version = in_force.version if in_force else "—"
    if approve:
        withdrawing.execute_withdrawal(actor, doc, wd.reason, now=now, confirm_references=True)

    def body():
        if approve:
            text = _(
                "%(who)s approved the withdrawal of %(n)s %(t)s (version %(v)s): the whole "
                "document is obsolete (作废) from %(d)s.\nReason: %(r)s",
                who=actor.full_name,
                n=doc.number,
                t=doc.title,
                v=version,
                d=local_today(now).isoformat(),
                r=wd.reason,
            )
        else:
            text = _(
                "%(who)s rejected the withdrawal of %(n)s %(t)s (version %(v)s); it stays in "
                "force.\nReason proposed: %(r)s",
                who=actor.full_name,
                n=doc.number,
                t=doc.title,
                v=version,
                r=wd.reason,
            )
        return text + ("\n" + _("Comment: %(c)s", c=comment) if comment else "")

    notify(
        wd.proposed_by,
        Event.WITHDRAWAL_DECIDED,
        lambda: (
            _("Withdrawal of %(n)s approved", n=doc.number)
            if approve
            else _("Withdrawal of %(n)s rejected", n=doc.number)
        ),
        body,
        link=("versioning.document", {"doc_id": doc.id}),
        actor=actor,
    )
    return wd


def withdrawals_waiting_for(user) -> list[Withdrawal]:
    return db.session.scalars(
        select(Withdrawal)
        .where(Withdrawal.approver_id == user.id, Withdrawal.state == WithdrawalState.PENDING)
        .order_by(Withdrawal.proposed_dt)
    ).all()
