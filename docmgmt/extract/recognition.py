"""Text recognition of attachments as jobs: every file kept by ``storage.attach`` is read in the
background, after its filing has committed, and never blocks it.

- ``storage.attach`` calls :func:`later` with the new attachment row;
- just before the transaction commits, each such row still in it gets an
  :class:`~docmgmt.extract.models.AttachmentText` (state pending) and a job
  (``ocr:<table>:<id>:<try>``); after the commit the jobs are handed to the queue;
- the job (:func:`recognise`) reads the stored file, keeps the text (and for a scan the
  searchable PDF in the file store by SHA-256) or the reason it could not, in the same
  transaction as the job's own state: a worker killed mid-way stores nothing, its retry does it
  once; a second message finds the attempt done;
- :func:`retry` asks again for a failed one (a new try, a new job).
"""

from __future__ import annotations

import logging

from flask_babel import gettext as _
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from docmgmt import storage
from docmgmt.clock import utcnow
from docmgmt.errors import InvalidState
from docmgmt.extensions import db
from docmgmt.extract.models import DONE, FAILED, PENDING, AttachmentText
from docmgmt.jobs import operations as jobs

log = logging.getLogger(__name__)

_LATER = "docmgmt_recognise_later"
_START = "docmgmt_recognise_start"
#: attachment table -> the column naming its owner
OWNER_COLUMNS = {
    "record_attachment": "record_id",
    "change_request_attachment": "change_request_id",
    "training_attachment": "session_id",
}


def later(row) -> None:
    """Read the text of this new attachment row once its transaction commits."""
    if row.__tablename__ in OWNER_COLUMNS:
        db.session.info.setdefault(_LATER, []).append(row)


def submit(text: AttachmentText):
    return jobs.submit("ocr", text.job_key, {"text_id": text.id, "try": text.tries}, total=1)


@event.listens_for(Session, "before_commit")
def _before_commit(session):
    if session.in_nested_transaction():
        return
    rows = session.info.pop(_LATER, None)
    if not rows:
        return
    session.flush()
    made = []
    for row in rows:
        state = inspect(row)
        if not state.persistent or row.id is None:  # never filed (dropped, rolled back)
            continue
        text = _text_for(row)
        session.add(text)
        made.append(text)
    if not made:
        return
    session.flush()
    session.info.setdefault(_START, []).extend(submit(t).id for t in made)
    session.flush()


def _text_for(row) -> AttachmentText:
    return AttachmentText(
        attachment_table=row.__tablename__,
        attachment_id=row.id,
        owner_id=getattr(row, OWNER_COLUMNS[row.__tablename__]),
        filename=row.filename,
        sha256=row.sha256,
        state=PENDING,
        tries=1,
    )


def backfill() -> list[int]:
    """A text (pending) and a job for every kept attachment that has none: those filed before
    recognition came. Flushed, not committed; start the returned jobs after the commit."""
    from docmgmt.control.models import ChangeRequestAttachment
    from docmgmt.records.models import RecordAttachment
    from docmgmt.training.models import SessionAttachment

    started = []
    for model in (RecordAttachment, ChangeRequestAttachment, SessionAttachment):
        have = select(AttachmentText.attachment_id).where(
            AttachmentText.attachment_table == model.__tablename__
        )
        q = select(model).where(model.id.not_in(have)).order_by(model.id)
        if model is RecordAttachment:
            q = q.where(RecordAttachment.removed.is_(False))
        for row in db.session.scalars(q).all():
            text = _text_for(row)
            db.session.add(text)
            db.session.flush()
            started.append(submit(text).id)
    db.session.flush()
    return started


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    if session.in_nested_transaction():
        return
    for job_id in session.info.pop(_START, None) or ():
        start(job_id)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_LATER, None)
        session.info.pop(_START, None)


def start(job_id: int) -> None:
    """Hand the job to the queue; if the broker cannot take it now, the sweeper will."""
    try:
        jobs.start(job_id)
    except Exception:  # noqa: BLE001 - the filing stands; the sweeper queues the job again
        log.exception("text recognition job %s: not queued now, the sweeper will", job_id)


# ---------------------------------------------------------------- reading


@jobs.handler("ocr")
def recognise(job, progress):
    from docmgmt.extract import Unreadable, extract

    text = db.session.get(AttachmentText, job.payload["text_id"])
    if text is None or text.state != PENDING or text.tries != job.payload["try"]:
        return "nothing to do"  # removed with its attachment, or done by an earlier attempt
    progress("reading", 0, 1)
    try:
        data = storage.read(text.sha256)
    except OSError:
        data = None
    got = None
    if data is None:
        failure = Unreadable("file_missing")
    else:
        try:
            got = extract(data, text.filename)
        except Unreadable as exc:
            failure = exc
    if got is None:
        text.state, text.text = FAILED, ""
        _set_reason(text, failure.code, failure.params)
    else:
        text.state, text.text = DONE, got.text
        _set_reason(text, "")
        text.engine, text.method, text.pages = got.engine, got.method, got.pages
        if got.searchable_pdf:
            text.searchable_sha256 = storage.put(got.searchable_pdf).sha256
    text.read_dt = utcnow()
    db.session.flush()
    progress("reading", 1, 1)
    from docmgmt.extract.reasons import REASONS
    from docmgmt.jobs.said import said

    if text.reason_code in REASONS:
        return said(REASONS[text.reason_code], **(text.reason_params or {}))
    return said("%(n)d characters read.", n=len(text.text))


def _recognise_failed(job, exc):
    text = db.session.get(AttachmentText, job.payload["text_id"])
    if text is not None and text.state == PENDING and text.tries == job.payload["try"]:
        text.state = FAILED
        _set_reason(text, "stopped")
        text.read_dt = utcnow()
        db.session.flush()


recognise.on_failure = _recognise_failed


def _set_reason(text: AttachmentText, code: str, params: dict | None = None) -> None:
    """Keep why no text was read as a code (translated when shown) and, for the record, in the
    worker's language."""
    from docmgmt.extract import reasons

    text.reason_code = code
    text.reason_params = dict(params) if params else None
    text.reason = reasons.message(code, params) if code else ""


def retry(actor, text: AttachmentText) -> AttachmentText:
    """Ask again for a failed reading: a new try, a new job (call ``start`` after the commit
    with :func:`job_of`). Flushed, not committed."""
    from docmgmt.audit.operations import log_event

    if text.state != FAILED:
        raise InvalidState(_("Only a failed text recognition can be tried again."))
    text.tries += 1
    text.state = PENDING
    _set_reason(text, "")
    db.session.flush()
    submit(text)
    log_event(
        actor,
        "attachment.recognise",
        None,
        summary=f"{text.filename} ({text.tries})",
        object_type=text.attachment_table,
        object_id=text.attachment_id,
    )
    return text


def job_of(text: AttachmentText):
    return jobs.get(text.job_key)


def retry_attachment(actor, table: str, att, *, allowed: bool, refusal: str, closed: str = ""):
    """Read a failed attachment again for ``actor``, whom the owner's rule ``allowed`` (else
    ``refusal``); ``closed`` says why the owner takes no more work, if it does not. The one
    retry of records, change requests and training sessions. Flushed: the caller commits, then
    starts the job (``start(job.id)``); returns (text, job)."""
    from docmgmt.errors import PermissionDenied

    if not allowed:
        raise PermissionDenied(refusal)
    if closed:
        raise InvalidState(closed)
    text = retry(actor, text_of(table, att))
    return text, job_of(text)


# ---------------------------------------------------------------- reading it back


def texts_of(table: str, attachment_ids) -> dict[int, AttachmentText]:
    ids = list(attachment_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        select(AttachmentText).where(
            AttachmentText.attachment_table == table, AttachmentText.attachment_id.in_(ids)
        )
    )
    return {t.attachment_id: t for t in rows}


def text_of(table: str, att) -> AttachmentText:
    """The text read from ``att`` (a row of ``table`` the caller may read), or 404."""
    from docmgmt.errors import NotFound

    text = texts_of(table, [att.id]).get(att.id)
    if text is None:
        raise NotFound(_("No text has been read from %(n)s.", n=att.filename))
    return text


def texts_of_records(record_ids) -> dict[int, list[AttachmentText]]:
    """record id -> the texts read from the attachments it keeps, in filing order."""
    from docmgmt.records.models import RecordAttachment

    ids = list(record_ids)
    out: dict[int, list[AttachmentText]] = {}
    if not ids:
        return out
    rows = db.session.scalars(
        select(AttachmentText)
        .join(RecordAttachment, RecordAttachment.id == AttachmentText.attachment_id)
        .where(
            AttachmentText.attachment_table == "record_attachment",
            AttachmentText.owner_id.in_(ids),
            RecordAttachment.removed.is_(False),
        )
        .order_by(AttachmentText.attachment_id)
    )
    for t in rows:
        out.setdefault(t.owner_id, []).append(t)
    return out


def remove(table: str, attachment_ids) -> None:
    """With its attachment the text goes, and its searchable PDF once nothing refers to it
    (after the commit)."""
    for text in texts_of(table, attachment_ids).values():
        if text.searchable_sha256:
            storage.delete_after_commit(text.searchable_sha256)
        db.session.delete(text)
    db.session.flush()


def searchable_name(text: AttachmentText) -> str:
    """The download name of a searchable copy: the original's, marked."""
    stem = text.filename.rsplit(".", 1)[0]
    return f"{stem} ({_('searchable')}).pdf"


def state_label(state: str) -> str:
    return {
        PENDING: _("Awaiting recognition"),
        DONE: _("Recognised"),
        FAILED: _("Recognition failed"),
    }.get(state, state)
