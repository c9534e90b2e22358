"""Verbs of printing: prints of revisions, controlled copies, their recall.

Like every operations module: check, change, log, flush; the caller commits.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from docmgmt.audit.operations import log_event
from docmgmt.auth.models import Department, User
from docmgmt.auth.permissions import can_manage_documents, can_read_history, require
from docmgmt.clock import to_local, utcnow
from docmgmt.errors import InvalidState, PermissionDenied, ValidationFailed
from docmgmt.extensions import db
from docmgmt.notify import Event, notify
from docmgmt.printing import pdf
from docmgmt.printing.models import ControlledCopy, CopyState, Medium
from docmgmt.versioning import drafting, lifecycle, queries
from docmgmt.versioning.models import Revision, RevisionState, SignatureMeaning

MEANINGS = {
    # (label, what the signature means): the print is a Chinese controlled document
    SignatureMeaning.PREPARED: ("制订", "编制本文件"),
    SignatureMeaning.REVIEWED: ("审核", "审核内容，同意提交核准"),
    SignatureMeaning.APPROVED: ("核准", "批准发布"),
}
GONE = (RevisionState.SUPERSEDED, RevisionState.OBSOLETE)


def _when(dt) -> str:
    local = to_local(dt)
    return local.strftime("%Y-%m-%d %H:%M") if local else ""


def record_rows(rev: Revision) -> list[list]:
    rows = []
    for n, r in enumerate(queries.revision_record(rev.document, upto=rev), start=1):
        signed = r.current_signatures()
        rows.append(
            [
                n,
                r.effective_date.isoformat() if r.effective_date else "",
                r.change_reference,
                r.change_summary or "",
                r.version,
                r.pages_affected or "—",
                *[
                    signed[m].signer_name if m in signed else ""
                    for m in (
                        SignatureMeaning.PREPARED,
                        SignatureMeaning.REVIEWED,
                        SignatureMeaning.APPROVED,
                    )
                ],
            ]
        )
    return rows


def signature_rows(rev: Revision) -> list[tuple]:
    signed = rev.current_signatures()
    rows = []
    for meaning, (label, text) in MEANINGS.items():
        sig = signed.get(meaning)
        rows.append(
            (label, sig.signer_name if sig else "", _when(sig.signed_dt) if sig else "", text)
        )
    return rows


def print_job(rev: Revision, mode: str, user, copy: ControlledCopy | None = None, now=None):
    from docmgmt import storage

    now = now or utcnow()
    job = pdf.PrintJob(
        company=current_app.config["COMPANY_NAME"],
        number=rev.document.number,
        title=rev.title,
        version=rev.version,
        effective_date=rev.effective_date.isoformat() if rev.effective_date else "",
        blocks=rev.body_blocks or [],
        signatures=signature_rows(rev),
        record=record_rows(rev),
        mode=mode,
        printed_by=getattr(user, "full_name", ""),
        printed_at=_when(now),
        image_loader=storage.image_loader(rev.document_id),
    )
    if copy is not None:
        job.copy_label = copy.label
        job.holder = copy.holder_name
        job.department = copy.department.name if copy.department else ""
        job.issued_on = to_local(copy.issued_dt).date().isoformat()
        job.verify_url = url_for("printing.verify", token=copy.token, _external=True)
    return job


def print_revision(user, rev: Revision, mode: str, now=None) -> bytes:
    """An uncontrolled print (非受控) of a revision the user may read, or a print of a
    superseded or obsolete one stamped 作废 (quality managers and auditors)."""
    now = now or utcnow()
    if mode not in (pdf.MODE_UNCONTROLLED, pdf.MODE_OBSOLETE):
        raise ValidationFailed(_("Unknown kind of print."), field="mode")
    if not queries.can_read_revision(user, rev):
        raise PermissionDenied(
            _(
                "Revision %(v)s of %(n)s is not in force; only the revision in force can be read.",
                v=rev.version,
                n=rev.document.number,
            )
        )
    gone = rev.state in GONE
    if mode == pdf.MODE_UNCONTROLLED and gone:
        # A superseded revision never leaves the system without its 作废 stamp.
        mode = pdf.MODE_OBSOLETE
    if mode == pdf.MODE_OBSOLETE and not gone:
        raise InvalidState(
            _("Revision %(v)s is not superseded or obsolete; print it uncontrolled.", v=rev.version)
        )
    data = pdf.render(print_job(rev, mode, user, now=now))
    log_event(
        user,
        f"revision.print_{mode}",
        rev,
        summary=f"{rev.document.number} {rev.version}",
        now=now,
    )
    return data


# ---------------------------------------------------------------- controlled copies


def issue_copy(
    actor,
    rev: Revision,
    *,
    holder_name: str = "",
    holder: User | None = None,
    department: Department | None = None,
    medium: str = "paper",
    now: datetime | None = None,
) -> ControlledCopy:
    """Issue the next numbered controlled copy of a revision in force to a named holder."""
    now = now or utcnow()
    require(can_manage_documents(actor), _("Only a quality manager issues controlled copies."))
    if rev.state != RevisionState.EFFECTIVE:
        raise InvalidState(
            _("Only the revision in force can be issued; %(v)s is not.", v=rev.version)
        )
    if holder is not None and not holder.is_active:
        raise ValidationFailed(_("%(n)s is deactivated.", n=holder.full_name), field="holder_id")
    name = (holder_name or "").strip() or (holder.full_name if holder else "")
    if not name:
        raise ValidationFailed(_("Name the holder of the copy."), field="holder_name")
    if len(name) > 100:
        raise ValidationFailed(_("The holder's name is too long."), field="holder_name")
    try:
        medium = Medium(medium)
    except ValueError:
        raise ValidationFailed(_("The medium is paper or electronic."), field="medium") from None
    if department is None and holder is not None:
        department = holder.department
    last = db.session.scalar(
        select(func.max(ControlledCopy.copy_no)).where(ControlledCopy.revision_id == rev.id)
    )
    copy = ControlledCopy(
        revision=rev,
        copy_no=(last or 0) + 1,
        holder_name=name,
        holder_id=holder.id if holder else None,
        department_id=department.id if department else None,
        medium=medium,
        issued_dt=now,
        issued_by_id=actor.id,
        token=secrets.token_urlsafe(32),
        state=CopyState.ISSUED,
        note="",
    )
    db.session.add(copy)
    db.session.flush()  # the unique (revision, copy_no) catches two issuers at once
    log_event(
        actor,
        "copy.issue",
        copy,
        summary=f"{copy.label} → {name}",
        after={
            "holder": name,
            "medium": medium,
            "department": department.name if department else "",
        },
        now=now,
    )
    return copy


def controlled_copy_pdf(user, copy: ControlledCopy, now=None) -> bytes:
    """The PDF of an issued copy; once recalled or lost it is no longer printed as controlled."""
    if not (can_read_history(user) or copy.holder_id == getattr(user, "id", None)):
        raise PermissionDenied(_("You do not have permission to do this."))
    if copy.state != CopyState.ISSUED:
        raise InvalidState(_("Copy %(c)s is no longer issued.", c=copy.label))
    mode = pdf.MODE_CONTROLLED
    return pdf.render(print_job(copy.revision, mode, user, copy=copy, now=now))


def close_copy(actor, copy: ControlledCopy, *, lost: bool, note: str = "", now=None):
    """Record a copy's return (recall) or its loss (a reason is required)."""
    now = now or utcnow()
    require(can_manage_documents(actor), _("Only a quality manager records recalls."))
    if copy.state != CopyState.ISSUED:
        raise InvalidState(_("Copy %(c)s is already closed.", c=copy.label))
    note = (note or "").strip()
    if lost and not note:
        raise ValidationFailed(_("Say how the copy was lost."), field="note")
    copy.state = CopyState.LOST if lost else CopyState.RECALLED
    copy.closed_dt, copy.closed_by_id, copy.note = now, actor.id, note
    db.session.flush()
    log_event(
        actor,
        "copy.lost" if lost else "copy.recall",
        copy,
        summary=f"{copy.label}" + (f": {note}" if note else ""),
        before={"state": CopyState.ISSUED},
        after={"state": copy.state, "note": note},
        now=now,
    )
    return copy


def copies_query(*, state: str | None = None, due_only: bool = False, revision_id=None):
    stmt = (
        select(ControlledCopy)
        .join(Revision, ControlledCopy.revision_id == Revision.id)
        .order_by(ControlledCopy.issued_dt.desc(), ControlledCopy.id.desc())
    )
    if state:
        stmt = stmt.where(ControlledCopy.state == CopyState(state))
    if due_only:
        stmt = stmt.where(ControlledCopy.state == CopyState.ISSUED, Revision.state.in_(GONE))
    if revision_id:
        stmt = stmt.where(ControlledCopy.revision_id == revision_id)
    return stmt


def due_for_recall() -> list[ControlledCopy]:
    return db.session.scalars(copies_query(due_only=True)).all()


def is_due_for_recall(copy: ControlledCopy) -> bool:
    return copy.state == CopyState.ISSUED and copy.revision.state in GONE


def _mark_due(revisions, actor, now, why: str) -> None:
    ids = [r.id for r in revisions]
    if not ids:
        return
    copies = db.session.scalars(
        select(ControlledCopy).where(
            ControlledCopy.revision_id.in_(ids), ControlledCopy.state == CopyState.ISSUED
        )
    ).all()
    for copy in copies:
        log_event(actor, "copy.due_for_recall", copy, summary=f"{copy.label}: {why}", now=now)
        if copy.holder is not None:
            notify(
                copy.holder,
                Event.COPY_RECALL,
                lambda copy=copy: _("Please return controlled copy %(c)s", c=copy.label),
                lambda copy=copy: _(
                    "Revision %(v)s of %(n)s is no longer in force (%(why)s). Return copy %(c)s "
                    "to the quality manager.",
                    v=copy.revision.version,
                    n=copy.revision.document.number,
                    why=why,
                    c=copy.label,
                ),
                link=("printing.copy_detail", {"copy_id": copy.id}),
                actor=actor,
            )


def on_revision_effective(rev, superseded=(), actor=None, now=None, **_kw):
    _mark_due(superseded, actor, now, f"{rev.version}")


def on_document_withdrawn(doc, revisions=(), actor=None, now=None, reason="", **_kw):
    _mark_due(revisions, actor, now, reason or "作废")


# ---------------------------------------------------------------- Word import and export


def _staging_dir():
    from pathlib import Path

    path = Path(current_app.config["STORAGE_DIR"]) / "staging"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _clean_staging(max_age_s: int = 24 * 3600) -> None:
    import time

    cutoff = time.time() - max_age_s
    for f in _staging_dir().glob("*.docx"):
        try:
            if f.stat().st_mtime < cutoff:
                f.unlink(missing_ok=True)
        except OSError:
            pass


def preview_import(actor, doc, filename: str, data: bytes):
    """Check and read a .docx; keep it in staging for the save that follows the report.

    Nothing is kept when the file is refused."""
    import json

    from docmgmt.printing import docx_in

    require(can_manage_documents(actor), _("Only a quality manager can draft revisions."))
    if doc.is_obsolete:
        raise InvalidState(_("Document %(n)s is obsolete; it cannot be revised.", n=doc.number))
    name = docx_in.check_docx(filename, data)
    result = docx_in.read_docx(data, name)
    _clean_staging()
    token = secrets.token_urlsafe(18)
    staging = _staging_dir()
    (staging / f"{token}.docx").write_bytes(data)
    (staging / f"{token}.json").write_text(
        json.dumps({"filename": name, "document_id": doc.id}, ensure_ascii=False), "utf-8"
    )
    return token, name, result


def staged(token: str):
    import json
    import re

    if not re.fullmatch(r"[A-Za-z0-9_-]{10,40}", token or ""):
        return None
    staging = _staging_dir()
    data_file, meta_file = staging / f"{token}.docx", staging / f"{token}.json"
    if not data_file.exists() or not meta_file.exists():
        return None
    return data_file.read_bytes(), json.loads(meta_file.read_text("utf-8"))


def discard_staged(token: str) -> None:
    staging = _staging_dir()
    for suffix in (".docx", ".json"):
        (staging / f"{token}{suffix}").unlink(missing_ok=True)


def save_import(actor, doc, token: str, *, change_summary: str = "", now=None) -> Revision:
    """Make the staged Word file the content of a draft: the open draft if there is one, else a
    new one.  The .docx is kept unchanged in the store as the revision's source, with its
    images and the import report."""
    import json

    from docmgmt import storage
    from docmgmt.printing import docx_in
    from docmgmt.printing.models import RevisionSource

    now = now or utcnow()
    require(can_manage_documents(actor), _("Only a quality manager can draft revisions."))
    found = staged(token)
    if found is None or found[1].get("document_id") != doc.id:
        raise InvalidState(_("The uploaded file is no longer waiting; upload it again."))
    data, meta = found
    result = docx_in.read_docx(data, meta["filename"])
    title = result.title or None
    draft = queries.open_revision(doc)
    if draft is None:
        draft = drafting.create_draft(
            actor,
            doc,
            title=title,
            blocks=result.blocks,
            change_summary=change_summary or "",
            images=result.images,
            now=now,
        )
    elif lifecycle.allows(draft, "edit"):
        drafting.update_draft(
            actor,
            draft,
            title=title or draft.title,
            blocks=result.blocks,
            change_summary=change_summary or draft.change_summary,
            images=result.images,
            now=now,
        )
    else:
        raise InvalidState(
            _("Revision %(v)s is no longer a draft: its content is frozen.", v=draft.version)
        )
    for content in result.images.values():
        storage.put(content)
    blob = storage.put(data)
    db.session.add(
        RevisionSource(
            revision=draft,
            filename=meta["filename"],
            sha256=blob.sha256,
            size=blob.size,
            report=json.dumps(result.report(), ensure_ascii=False),
            imported_by_id=actor.id,
            imported_dt=now,
        )
    )
    db.session.flush()
    log_event(
        actor,
        "revision.import_docx",
        draft,
        summary=f"{doc.number} {draft.version} ← {meta['filename']}",
        after={"sha256": blob.sha256, "kept": result.kept, "left_out": result.left_out},
        now=now,
    )
    return draft


def export_docx(user, rev: Revision) -> bytes:
    from docmgmt import storage
    from docmgmt.printing import docx_out

    if not queries.can_read_revision(user, rev):
        raise PermissionDenied(
            _(
                "Revision %(v)s of %(n)s is not in force; only the revision in force can be read.",
                v=rev.version,
                n=rev.document.number,
            )
        )
    return docx_out.export_revision(
        rev,
        company=current_app.config["COMPANY_NAME"],
        signatures=signature_rows(rev),
        record=record_rows(rev),
        image_loader=storage.image_loader(rev.document_id),
    )


def revision_sources(rev: Revision):
    from docmgmt.printing.models import RevisionSource

    return db.session.scalars(
        select(RevisionSource)
        .where(RevisionSource.revision_id == rev.id)
        .order_by(RevisionSource.id.desc())
    ).all()
