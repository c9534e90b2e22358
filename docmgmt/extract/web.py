"""The text of an attachment on the pages and in the API, one way for every owner (records,
change requests, training sessions): finding it, asking for it again, the searchable PDF, the
JSON. Each owner's routes find the attachment with their own access rules, then call these (and
``recognition.text_of`` / ``recognition.retry_attachment`` underneath).

The page part is the macro ``attachment_text`` of templates/_partials/_attachment_text.html.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from marshmallow import Schema, fields

from docmgmt import storage
from docmgmt.errors import DomainError, NotFound, ValidationFailed, undo
from docmgmt.extensions import db
from docmgmt.extract import engine_label, reasons, recognition
from docmgmt.extract.models import AttachmentText


class RetryTextForm(FlaskForm):
    """CSRF only: read an attachment's text again."""


def retry_page(ask: Callable[[], tuple], back: str):
    """The page's retry button: ``ask()`` is ``recognition.retry_attachment`` for it; back to
    ``back`` with what happened."""
    form = RetryTextForm()
    try:
        if not form.validate_on_submit():
            raise ValidationFailed(_("The form expired; try again."))
        text, job = ask()
        db.session.commit()
        recognition.start(job.id)
        flash(_("The text of %(n)s will be read again.", n=text.filename), "success")
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
    return redirect(back, 303)


def retry_api(ask: Callable[[], tuple], pdf_url: Callable[[AttachmentText], str]) -> dict:
    """The API's retry: ``ask()`` is ``recognition.retry_attachment``; the text as it now is."""
    text, job = ask()
    db.session.commit()
    recognition.start(job.id)
    db.session.refresh(text)
    return text_json(text, pdf_url(text) if text.searchable_sha256 else None)


def send_searchable(text: AttachmentText):
    if not text.searchable_sha256:
        raise NotFound(_("Not found."))
    return storage.send_stored(text.searchable_sha256, recognition.searchable_name(text))


class AttachmentTextOut(Schema):
    attachment_id = fields.Int()
    filename = fields.Str()
    state = fields.Str(
        metadata={"description": "pending (待识别), done (已识别) or failed (识别失败)"}
    )
    reason = fields.Str(
        metadata={"description": "Why no text was read (state failed), in the caller's language"}
    )
    reason_code = fields.Str(
        metadata={
            "description": "The same as a code: "
            + ", ".join(sorted(reasons.REASONS))
            + "; empty when read (or for a reason stored before codes)"
        }
    )
    text = fields.Str()
    engine = fields.Str(metadata={"description": "rapidocr or tesseract; empty for a text layer"})
    engine_name = fields.Str(
        metadata={"description": "The engine's name to show (RapidOCR, Tesseract OCR)"}
    )
    method = fields.Str(metadata={"description": "layer (the file's own text) or ocr"})
    pages = fields.Int()
    tries = fields.Int()
    read_dt = fields.DateTime(allow_none=True)
    searchable_pdf_url = fields.Str(allow_none=True)


def text_json(text: AttachmentText, pdf_url: str | None) -> dict:
    out = {
        k: getattr(text, k)
        for k in ("attachment_id", "filename", "state", "text", "engine", "method", "pages")
    }
    out |= {
        "reason": reasons.reason_of(text),
        "reason_code": text.reason_code or "",
        "engine_name": engine_label(text.engine) if text.engine else "",
        "tries": text.tries,
        "read_dt": text.read_dt,
        "searchable_pdf_url": pdf_url if text.searchable_sha256 else None,
    }
    return out


def template_helpers() -> dict:
    """For templates/_partials/_attachment_text.html."""
    return {
        "text_state_label": recognition.state_label,
        "text_reason": reasons.reason_of,
        "engine_label": engine_label,
    }
