"""Verbs on documents and revisions.

Each verb checks the state and the actor, changes the rows, writes the audit trail and
flushes; it never commits.  The request handler or CLI command commits once at the end.
``now`` may be passed in (the demo loader replays history with it); it defaults to the clock.
"""

from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import selectinload

from docmgmt import storage
from docmgmt.audit.operations import log_event
from docmgmt.auth.models import Department, Role, User
from docmgmt.auth.operations import verify_signing_password
from docmgmt.auth.permissions import can_manage_documents, require
from docmgmt.auth.signers import named_signer, role_label
from docmgmt.clock import local_today, utcnow
from docmgmt.control.models import referrers
from docmgmt.doclang import in_document_language
from docmgmt.errors import InvalidState, PermissionDenied, ValidationFailed
from docmgmt.extensions import db
from docmgmt.notify import Event, notify, quality_managers, staff_concerned
from docmgmt.versioning import lifecycle, signals, versions
from docmgmt.versioning.content import (
    ContentError,
    content_hash,
    markdown_to_blocks,
    validate_blocks,
)
from docmgmt.versioning.models import (
    Document,
    DocumentType,
    Revision,
    RevisionEvent,
    RevisionState,
    Signature,
    SignatureMeaning,
)

S = RevisionState
IN_FORCE_STATES = (S.EFFECTIVE, S.SUPERSEDED, S.APPROVED)


# ---------------------------------------------------------------- queries


def _skip() -> str:
    return current_app.config["VERSION_SKIP_LETTERS"]


def in_force_revision(document: Document, day: date | None = None) -> Revision | None:
    """The revision in force on ``day``: the latest one to have started by then."""
    day = day or local_today()
    if document.is_obsolete and (document.obsolete_date is None or document.obsolete_date <= day):
        return None
    return db.session.scalar(
        select(Revision)
        .where(
            Revision.document_id == document.id,
            Revision.state.in_(IN_FORCE_STATES),
            Revision.effective_date.is_not(None),
            Revision.effective_date <= day,
        )
        .order_by(Revision.effective_date.desc())
        .limit(1)
    )


def in_force_map(document_ids, day: date | None = None) -> dict[int, Revision]:
    """In-force revision per document for a whole page of the register, in one query."""
    day = day or local_today()
    latest = (
        select(Revision.document_id, func.max(Revision.effective_date).label("d"))
        .where(
            Revision.document_id.in_(list(document_ids)),
            Revision.state.in_(IN_FORCE_STATES),
            Revision.effective_date.is_not(None),
            Revision.effective_date <= day,
        )
        .group_by(Revision.document_id)
        .subquery()
    )
    rows = db.session.scalars(
        select(Revision).join(
            latest,
            and_(
                Revision.document_id == latest.c.document_id, Revision.effective_date == latest.c.d
            ),
        )
    )
    return {r.document_id: r for r in rows}


def is_in_force(revision: Revision, day: date | None = None) -> bool:
    current = in_force_revision(revision.document, day)
    return current is not None and current.id == revision.id


def open_revision(document: Document) -> Revision | None:
    for r in document.revisions:
        if r.state in (S.DRAFT, S.IN_REVIEW) or (
            r.state == S.APPROVED and r.effective_date is None
        ):
            return r
    return None


def latest_version(document: Document) -> str | None:
    codes = [r.version for r in document.revisions if r.state != S.CANCELLED]
    if not codes:
        return None
    return max(codes, key=lambda c: versions.sort_key(c, _skip()))


def can_read_revision(user, revision: Revision, day: date | None = None) -> bool:
    from docmgmt.auth.permissions import can_read_history
    from docmgmt.auth.scope import in_scope

    if not in_scope(user, revision):
        return False
    if can_read_history(user):
        return True
    if (
        user.is_authenticated
        and user.id in (revision.reviewer_id, revision.approver_id)
        and (revision.state in (S.IN_REVIEW, S.APPROVED))
    ):
        return True
    return is_in_force(revision, day)


def revision_record(
    document: Document, upto: Revision | None = None, day: date | None = None
) -> list[Revision]:
    """Rows of the revision record table (文件制修订记录), oldest first: every revision that has
    taken effect by ``day`` (the company's today). A revision scheduled for a later date is not
    in it until that date; one withdrawn before its date never is. With ``upto`` (the print or
    export of one revision) only the rows up to that revision, which itself is listed as soon
    as it is published. Pages, API, PDF, Word and the evidence pack all take their rows here."""
    day = day or local_today()
    withdrawn_on = document.obsolete_date if document.is_obsolete else None
    limit = versions.sort_key(upto.version, _skip()) if upto is not None else None

    def issued(r: Revision) -> bool:
        if r.effective_date is None or r.state not in (*IN_FORCE_STATES, S.OBSOLETE):
            return False
        if withdrawn_on is not None and r.effective_date > withdrawn_on:
            return False  # withdrawn before its date: never in force
        return r.effective_date <= day or (upto is not None and r.id == upto.id)

    rows = [r for r in document.revisions if issued(r)]
    if limit is not None:
        rows = [r for r in rows if versions.sort_key(r.version, _skip()) <= limit]
    return sorted(rows, key=lambda r: versions.sort_key(r.version, _skip()))


def scheduled_revision(document: Document, day: date | None = None) -> Revision | None:
    """The published revision waiting for its effective date (待生效), if any."""
    day = day or local_today()
    for r in document.revisions:
        if r.is_scheduled and r.effective_date > day:
            return r
    return None


def eligible_signers(doc_type: DocumentType, step: str) -> list[User]:
    roles = [Role(r) for r in current_app.config["APPROVAL_ROUTES"][doc_type.value][step]]
    users = db.session.scalars(select(User).order_by(User.full_name)).all()
    return [u for u in users if u.is_active and u.has_role(*roles)]


def _may_sign_step(user: User, doc_type: DocumentType, step: str) -> bool:
    roles = [Role(r) for r in current_app.config["APPROVAL_ROUTES"][doc_type.value][step]]
    return user.has_role(*roles)


# ---------------------------------------------------------------- documents


def _number_stem(doc_type: DocumentType) -> str:
    cfg = current_app.config
    return f"{cfg['DOC_NUMBER_PREFIX']}-{cfg['DOC_TYPE_CODES'][doc_type.value]}-"


def lock_numbering(doc_type: DocumentType) -> None:
    """Hold the numbering of this type until the transaction ends, so two people registering
    at the same moment cannot be given the same next number."""
    from docmgmt.versioning.models import NumberingLock

    stem = _number_stem(doc_type)
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    db.session.execute(upsert(NumberingLock).values(stem=stem, taken=0).on_conflict_do_nothing())
    db.session.execute(
        update(NumberingLock)
        .where(NumberingLock.stem == stem)
        .values(taken=NumberingLock.taken + 1)
    )


def next_document_number(doc_type: DocumentType) -> str:
    cfg = current_app.config
    stem = _number_stem(doc_type)
    existing = db.session.scalars(select(Document.number).where(Document.number.like(stem + "%")))
    used = [int(n[len(stem) :]) for n in existing if n[len(stem) :].isdigit()]
    return f"{stem}{(max(used) + 1 if used else 1):0{cfg['DOC_NUMBER_DIGITS']}d}"


def _document_snapshot(doc: Document) -> dict:
    return {
        "number": doc.number,
        "title": doc.title,
        "doc_type": doc.doc_type,
        "department": doc.department.code if doc.department else None,
        "review_interval_months": doc.review_interval_months,
        "is_obsolete": doc.is_obsolete,
        "external_edition": doc.external_edition,
        "external_source": doc.external_source,
    }


def create_document(
    actor,
    title: str,
    doc_type,
    department: Department | None = None,
    number: str | None = None,
    review_interval_months: int | None = None,
    external_edition: str = "",
    external_source: str = "",
    now: datetime | None = None,
) -> Document:
    require(can_manage_documents(actor), _("Only a quality manager can register documents."))
    title = (title or "").strip()
    if not title:
        raise ValidationFailed(_("The title is required."), field="title")
    try:
        doc_type = DocumentType(doc_type)
    except ValueError:
        raise ValidationFailed(_("Unknown document type."), field="doc_type") from None
    auto_number = not (number or "").strip()
    if auto_number:
        lock_numbering(doc_type)
    number = (number or "").strip() or next_document_number(doc_type)
    if len(number) > 40:
        raise ValidationFailed(_("The document number is too long."), field="number")
    if db.session.scalar(
        select(func.count()).select_from(Document).where(Document.number == number)
    ):
        raise ValidationFailed(
            _("Document number %(n)s is already used.", n=number), field="number"
        )
    interval = (
        review_interval_months or current_app.config["REVIEW_INTERVAL_MONTHS"][doc_type.value]
    )
    if not 1 <= int(interval) <= 120:
        raise ValidationFailed(
            _("The review interval is 1 to 120 months."), field="review_interval_months"
        )
    external_edition = (external_edition or "").strip()[:100]
    if doc_type == DocumentType.EXTERNAL and not external_edition:
        raise ValidationFailed(
            _("Give the edition of the external document, e.g. GB/T 27922-2011."),
            field="external_edition",
        )
    doc = Document(
        number=number,
        title=title,
        doc_type=doc_type,
        external_edition=external_edition,
        external_source=(external_source or "").strip()[:200],
        department=department,
        review_interval_months=int(interval),
        created_by_id=actor.id,
        created_dt=now or utcnow(),
    )
    db.session.add(doc)
    db.session.flush()
    log_event(
        actor,
        "document.create",
        doc,
        summary=f"{number} {title}",
        after=_document_snapshot(doc),
        now=now,
    )
    return doc


def update_document(
    actor,
    doc: Document,
    *,
    title,
    department,
    review_interval_months,
    external_edition=None,
    external_source=None,
) -> Document:
    require(can_manage_documents(actor))
    before = _document_snapshot(doc)
    if not (title or "").strip():
        raise ValidationFailed(_("The title is required."), field="title")
    if not 1 <= int(review_interval_months) <= 120:
        raise ValidationFailed(
            _("The review interval is 1 to 120 months."), field="review_interval_months"
        )
    doc.title = title.strip()
    doc.department = department
    doc.review_interval_months = int(review_interval_months)
    if external_edition is not None:
        doc.external_edition = external_edition.strip()[:100]
    if external_source is not None:
        doc.external_source = external_source.strip()[:200]
    db.session.flush()
    log_event(
        actor,
        "document.update",
        doc,
        summary=doc.number,
        before=before,
        after=_document_snapshot(doc),
    )
    return doc


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
                others=", ".join(d.number for d in users),
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
    versions_gone = ", ".join(r.version for r in withdrawn) or "—"
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


# ---------------------------------------------------------------- revisions


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
    log_event(
        actor,
        f"revision.{action}",
        rev,
        summary=f"{rev.document.number} {rev.version}" + (f": {comment}" if comment else ""),
        before=before or {"state": from_state},
        after=after or {"state": to_state},
        now=now,
    )


def _parse_content(source: str) -> list[dict]:
    try:
        return markdown_to_blocks(source)
    except Exception as exc:  # markdown-it does not raise on text; this guards odd input
        raise ValidationFailed(
            _("The content could not be read: %(e)s", e=str(exc)), field="body"
        ) from exc


def create_draft(
    actor,
    doc: Document,
    *,
    reedition: bool = False,
    version: str | None = None,
    title: str | None = None,
    body: str | None = None,
    blocks: list | None = None,
    change_summary: str = "",
    change_number: str = "",
    pages_affected: str = "",
    images=(),
    now: datetime | None = None,
) -> Revision:
    """``images``: the digests of the images a Word import brings with ``blocks``."""
    require(can_manage_documents(actor), _("Only a quality manager can draft revisions."))
    now = now or utcnow()
    if doc.is_obsolete:
        raise InvalidState(_("Document %(n)s is obsolete; it cannot be revised.", n=doc.number))
    pending = open_revision(doc)
    if pending is not None:
        raise InvalidState(
            _(
                "Revision %(v)s of %(n)s is still in progress; finish or cancel it first.",
                v=pending.version,
                n=doc.number,
            )
        )
    previous = latest_version(doc)
    try:
        if version:
            code = versions.check_successor(previous, version, _skip(), reedition=reedition)
        elif previous is None:
            code = versions.first(_skip())
        elif reedition:
            code = versions.next_edition(previous, _skip())
        else:
            code = versions.next_revision(previous, _skip())
    except versions.InvalidVersionCode as exc:
        raise ValidationFailed(str(exc), field="version") from None
    is_reedition = versions.is_reedition(previous, code, _skip(), asked=reedition)

    base = None
    if previous is not None:
        base = next(r for r in doc.revisions if r.version == previous and r.state != S.CANCELLED)
    if blocks is not None:
        try:
            body_blocks = validate_blocks(blocks)
        except ContentError as exc:
            raise ValidationFailed(str(exc), field="blocks") from None
        from docmgmt.versioning.content import blocks_to_markdown

        source = blocks_to_markdown(body_blocks)
    elif body is not None:
        source = body
        body_blocks = _parse_content(body)
    elif base is not None:
        source, body_blocks = base.body_source, list(base.body_blocks)
    else:
        source, body_blocks = "", []
    if blocks is not None or body is not None:
        storage.check_revision_images(doc.id, body_blocks, images)
    summary = (change_summary or "").strip()
    if previous is None and not summary:
        summary = in_document_language("First issue")
    rev = Revision(
        document=doc,
        version=code,
        state=S.DRAFT,
        title=(title or (base.title if base else doc.title)).strip() or doc.title,
        body_source=source,
        body_blocks=body_blocks,
        change_summary=summary,
        change_number=(change_number or "").strip() or "-",
        pages_affected=(pages_affected or "").strip(),
        is_reedition=is_reedition,
        created_by_id=actor.id,
        created_dt=now,
        submission_round=0,
    )
    db.session.add(rev)
    db.session.flush()
    db.session.add(
        RevisionEvent(
            revision=rev,
            action="create",
            to_state=S.DRAFT.value,
            user_id=actor.id,
            user_name=actor.full_name,
            occurred_dt=now,
        )
    )
    log_event(
        actor,
        "revision.create",
        rev,
        summary=f"{doc.number} {code}",
        after={"version": code, "state": S.DRAFT, "change_summary": summary},
        now=now,
    )
    return rev


def update_draft(
    actor,
    rev: Revision,
    *,
    title=None,
    body=None,
    blocks=None,
    change_summary=None,
    change_number=None,
    pages_affected=None,
    images=(),
    now: datetime | None = None,
) -> Revision:
    require(can_manage_documents(actor), _("Only a quality manager can edit drafts."))
    if rev.state != S.DRAFT:
        raise InvalidState(
            _(
                "Revision %(v)s is %(s)s: its content is frozen. A change needs a new draft.",
                v=rev.version,
                s=lifecycle.state_label(rev.state),
            )
        )
    before = {
        "title": rev.title,
        "change_summary": rev.change_summary,
        "change_number": rev.change_number,
        "pages_affected": rev.pages_affected,
        "body_hash": content_hash({"b": rev.body_blocks}),
    }
    if title is not None:
        if not title.strip():
            raise ValidationFailed(_("The title is required."), field="title")
        rev.title = title.strip()
    if blocks is not None:
        try:
            rev.body_blocks = validate_blocks(blocks)
        except ContentError as exc:
            raise ValidationFailed(str(exc), field="blocks") from None
        from docmgmt.versioning.content import blocks_to_markdown

        rev.body_source = blocks_to_markdown(rev.body_blocks)
    elif body is not None:
        rev.body_source = body
        rev.body_blocks = _parse_content(body)
    if blocks is not None or body is not None:
        storage.check_revision_images(rev.document_id, rev.body_blocks, images)
    if change_summary is not None:
        rev.change_summary = change_summary.strip()
    if change_number is not None:
        rev.change_number = change_number.strip() or "-"
    if pages_affected is not None:
        rev.pages_affected = pages_affected.strip()
    db.session.flush()
    after = {
        "title": rev.title,
        "change_summary": rev.change_summary,
        "change_number": rev.change_number,
        "pages_affected": rev.pages_affected,
        "body_hash": content_hash({"b": rev.body_blocks}),
    }
    if before != after:
        log_event(
            actor,
            "revision.edit",
            rev,
            summary=f"{rev.document.number} {rev.version}",
            before=before,
            after=after,
            now=now,
        )
    return rev


def _sign(
    actor: User,
    rev: Revision,
    meaning: SignatureMeaning,
    password: str,
    now: datetime,
    comment: str = "",
) -> Signature:
    verify_signing_password(actor, password)
    signed = rev.current_signatures()
    if meaning in signed:
        raise InvalidState(_("Revision %(v)s already carries this signature.", v=rev.version))
    if any(s.user_id == actor.id for s in signed.values()):
        raise PermissionDenied(
            _(
                "You have already signed revision %(v)s in another role; one person may not sign "
                "two roles on the same revision.",
                v=rev.version,
            )
        )
    sig = Signature(
        revision=rev,
        submission_round=rev.submission_round,
        user_id=actor.id,
        signer_name=actor.full_name,
        meaning=meaning,
        signed_dt=now,
        content_hash=rev.content_hash,
        comment=(comment or "").strip(),
    )
    db.session.add(sig)
    db.session.flush()
    log_event(
        actor,
        "signature.sign",
        sig,
        summary=f"{rev.document.number} {rev.version} {meaning.value}",
        after={"meaning": meaning, "content_hash": rev.content_hash, "signer": actor.full_name},
        now=now,
    )
    return sig


def submit_for_review(
    actor: User,
    rev: Revision,
    *,
    reviewer: User | int | None,
    approver: User | int | None,
    password: str,
    now: datetime | None = None,
) -> Revision:
    """The preparer signs (制订) and routes the revision to a named reviewer and approver
    (each a User or a user id; docmgmt.auth.signers says what is wrong with either)."""
    now = now or utcnow()
    lifecycle.check(rev, "submit")
    doc_type = rev.document.doc_type
    require(
        can_manage_documents(actor) and _may_sign_step(actor, doc_type, "prepare"),
        _("You may not prepare documents of this type."),
    )
    if not rev.body_blocks:
        raise ValidationFailed(_("The revision has no content yet."), field="body")
    if not rev.change_summary.strip():
        raise ValidationFailed(_("Describe what this revision changes."), field="change_summary")
    reviewer, approver = (
        named_signer(
            person,
            field=field,
            role=role,
            actor=actor,
            may_sign=lambda u, step=step: _may_sign_step(u, doc_type, step),
            not_allowed=lambda u, role=role: _(
                "%(name)s may not sign as %(role)s for this document type.",
                name=u.full_name,
                role=role_label(role),
            ),
        )
        for person, role, step, field in (
            (reviewer, "reviewer", "review", "reviewer_id"),
            (approver, "approver", "approve", "approver_id"),
        )
    )
    if reviewer.id == approver.id:
        raise ValidationFailed(
            _("Preparer, reviewer and approver must be three different people."),
            field="approver_id",
        )
    rev.submission_round += 1
    rev.content_hash = content_hash(rev.signed_payload())
    rev.reviewer_id, rev.approver_id = reviewer.id, approver.id
    rev.submitted_dt = now
    _sign(actor, rev, SignatureMeaning.PREPARED, password, now)
    _transition(actor, rev, "submit", now, comment=f"→ {reviewer.full_name} / {approver.full_name}")
    notify(
        reviewer,
        Event.SIGNATURE,
        lambda: _("Please review %(n)s %(v)s", n=rev.document.number, v=rev.version),
        lambda: _(
            "%(who)s asks you to review (审核) %(n)s %(t)s, revision %(v)s.",
            who=actor.full_name,
            n=rev.document.number,
            t=rev.title,
            v=rev.version,
        ),
        link=_revision_link(rev),
        actor=actor,
    )
    return rev


def sign_revision(
    actor: User,
    rev: Revision,
    meaning,
    password: str,
    comment: str = "",
    now: datetime | None = None,
) -> Signature:
    """Review (审核) or approve (核准) with the signer's password given again."""
    now = now or utcnow()
    meaning = SignatureMeaning(meaning)
    if meaning == SignatureMeaning.PREPARED:
        raise ValidationFailed(_("The preparer signs by submitting the revision."), field="meaning")
    action = "review" if meaning == SignatureMeaning.REVIEWED else "approve"
    lifecycle.check(rev, action)
    signed = rev.current_signatures()
    if meaning == SignatureMeaning.REVIEWED:
        if actor.id != rev.reviewer_id:
            raise PermissionDenied(_("This revision was routed to another reviewer."))
    else:
        if actor.id != rev.approver_id:
            raise PermissionDenied(_("This revision was routed to another approver."))
        if SignatureMeaning.REVIEWED not in signed:
            raise InvalidState(_("The revision must be reviewed before it is approved."))
    step = "review" if meaning == SignatureMeaning.REVIEWED else "approve"
    if not _may_sign_step(actor, rev.document.doc_type, step):
        raise PermissionDenied(_("Your role may not sign this step for this document type."))
    if content_hash(rev.signed_payload()) != rev.content_hash:
        raise InvalidState(_("The content changed after submission; it cannot be signed."))
    sig = _sign(actor, rev, meaning, password, now, comment)
    if meaning == SignatureMeaning.APPROVED:
        _transition(actor, rev, "approve", now)
        for qm in quality_managers():
            notify(
                qm,
                Event.READY_TO_PUBLISH,
                lambda: _("%(n)s %(v)s is approved", n=rev.document.number, v=rev.version),
                lambda: _(
                    "%(who)s approved (核准) %(n)s %(t)s, revision %(v)s. It is ready to be "
                    "published with its effective date.",
                    who=actor.full_name,
                    n=rev.document.number,
                    t=rev.title,
                    v=rev.version,
                ),
                link=_revision_link(rev),
                actor=actor,
            )
    else:
        notify(
            rev.approver,
            Event.SIGNATURE,
            lambda: _("Please approve %(n)s %(v)s", n=rev.document.number, v=rev.version),
            lambda: _(
                "%(n)s %(t)s, revision %(v)s, is reviewed and waits for your approval (核准).",
                n=rev.document.number,
                t=rev.title,
                v=rev.version,
            ),
            link=_revision_link(rev),
            actor=actor,
        )
        db.session.add(
            RevisionEvent(
                revision=rev,
                action="review",
                from_state=rev.state.value,
                to_state=rev.state.value,
                user_id=actor.id,
                user_name=actor.full_name,
                comment=sig.comment,
                occurred_dt=now,
            )
        )
    return sig


def reject_revision(
    actor: User, rev: Revision, comment: str, now: datetime | None = None
) -> Revision:
    now = now or utcnow()
    lifecycle.check(rev, "reject")
    if actor.id not in (rev.reviewer_id, rev.approver_id):
        raise PermissionDenied(_("Only the reviewer or approver of this revision can reject it."))
    comment = (comment or "").strip()
    if not comment:
        raise ValidationFailed(_("Say why the revision is rejected."), field="comment")
    prepared = rev.current_signatures().get(SignatureMeaning.PREPARED)
    preparer = prepared.user if prepared is not None else rev.created_by
    _transition(actor, rev, "reject", now, comment=comment)
    notify(
        preparer,
        Event.REVISION_REJECTED,
        lambda: _("%(n)s %(v)s was rejected", n=rev.document.number, v=rev.version),
        lambda: _(
            "%(who)s rejected %(n)s %(t)s, revision %(v)s; it is a draft again.\nReason: %(r)s",
            who=actor.full_name,
            n=rev.document.number,
            t=rev.title,
            v=rev.version,
            r=comment,
        ),
        link=_revision_link(rev),
        actor=actor,
    )
    return rev


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


def _revision_link(rev: Revision):
    return ("versioning.revision", {"doc_id": rev.document_id, "rev_id": rev.id})


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


def register_query(*, doc_type=None, department_id=None, q=None, include_obsolete=True):
    # A page of the register shows each document's department and revisions: loaded with
    # the documents in two more queries, never one per row.
    stmt = (
        select(Document)
        .options(selectinload(Document.department), selectinload(Document.revisions))
        .order_by(Document.number)
    )
    if doc_type:
        stmt = stmt.where(Document.doc_type == DocumentType(doc_type))
    if department_id:
        stmt = stmt.where(Document.department_id == int(department_id))
    if q and q.strip():
        from docmgmt.sqltext import contains

        stmt = stmt.where(
            or_(contains(Document.number, q.strip()), contains(Document.title, q.strip()))
        )
    if not include_obsolete:
        stmt = stmt.where(Document.is_obsolete.is_(False))
    return stmt
