"""Registering documents: numbering (one next number per type, held under a lock) and the
document's own details. Verbs check, change, log and flush; they never commit."""

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from docmgmt.audit.operations import log_event
from docmgmt.auth.models import Department
from docmgmt.auth.permissions import can_manage_documents, require
from docmgmt.clock import utcnow
from docmgmt.errors import ValidationFailed
from docmgmt.extensions import db
from docmgmt.sqltext import starts_with
from docmgmt.versioning.models import Document, DocumentType


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
    # The prefix is text, not a pattern (a company prefix may hold _ or %): starts_with
    # escapes it; it is case-insensitive on both databases, so the exact prefix is checked
    # here, as the uniqueness of numbers is case-sensitive.
    existing = db.session.scalars(select(Document.number).where(starts_with(Document.number, stem)))
    used = [
        int(n[len(stem) :]) for n in existing if n.startswith(stem) and n[len(stem) :].isdigit()
    ]
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
