"""Drafting a revision: its version code, its content (Markdown or blocks), and edits while
it is a draft (the transition table's ``edit``). Verbs check, change, log and flush; they never
commit; ``now`` may be passed in (the demo loader replays history with it)."""

from datetime import datetime

from flask_babel import gettext as _

from docmgmt import storage
from docmgmt.audit.operations import log_event
from docmgmt.auth.permissions import can_manage_documents, require
from docmgmt.clock import utcnow
from docmgmt.doclang import in_document_language
from docmgmt.errors import InvalidState, ValidationFailed
from docmgmt.extensions import db
from docmgmt.versioning import lifecycle, versions
from docmgmt.versioning.content import (
    ContentError,
    content_hash,
    markdown_to_blocks,
    validate_blocks,
)
from docmgmt.versioning.models import Document, Revision, RevisionEvent, RevisionState
from docmgmt.versioning.queries import _skip, latest_version, open_revision

S = RevisionState


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
    if not lifecycle.allows(rev, "edit"):
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
