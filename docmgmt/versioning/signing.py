"""Signing a revision: the preparer submits it to a named reviewer and approver, who review
(审核) and approve (核准) with their password given again, or reject it back to a draft.
Verbs check, change, log and flush; they never commit."""

from datetime import datetime

from flask_babel import gettext as _

from docmgmt.audit.operations import log_event
from docmgmt.auth.models import User
from docmgmt.auth.operations import verify_signing_password
from docmgmt.auth.permissions import can_manage_documents, require
from docmgmt.auth.signers import named_signer, role_label
from docmgmt.clock import utcnow
from docmgmt.errors import InvalidState, PermissionDenied, ValidationFailed
from docmgmt.extensions import db
from docmgmt.notify import Event, notify, quality_managers
from docmgmt.placeholders import revision_placeholders
from docmgmt.versioning import lifecycle
from docmgmt.versioning.content import content_hash
from docmgmt.versioning.models import Revision, Signature, SignatureMeaning
from docmgmt.versioning.queries import _may_sign_step
from docmgmt.versioning.transitions import _move, _revision_link, _transition


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
    allow_placeholders: bool = False,
    now: datetime | None = None,
) -> Revision:
    """The preparer signs (制订) and routes the revision to a named reviewer and approver
    (each a User or a user id; docmgmt.auth.signers says what is wrong with either). A
    revision that still holds placeholders 【待填写：…】 goes only with ``allow_placeholders``."""
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
    left = revision_placeholders(rev)
    if left and not allow_placeholders:
        raise ValidationFailed(
            _(
                "This revision still holds places to fill in: %(p)s. Fill them in, or confirm "
                "that it goes for review with them.",
                p="; ".join(left),
            ),
            field="allow_placeholders",
        )
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
        _move(actor, rev, "review", now, comment=sig.comment)
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
