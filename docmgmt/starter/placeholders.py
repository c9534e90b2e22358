"""The places a company must still fill in (【待填写：…】), per document."""

from sqlalchemy import select

from docmgmt.extensions import db
from docmgmt.placeholders import revision_placeholders
from docmgmt.versioning import queries
from docmgmt.versioning.models import Document


def working_revision(doc: Document):
    """The revision being written (the open one) or else the one in force."""
    return queries.open_revision(doc) or queries.in_force_revision(doc)


def document_placeholders(doc: Document) -> list[str]:
    rev = working_revision(doc)
    return revision_placeholders(rev) if rev is not None else []


def open_by_document() -> list[tuple[Document, object, list[str]]]:
    """Every document whose working revision still holds placeholders, by number."""
    out = []
    for doc in db.session.scalars(select(Document).order_by(Document.number)):
        if doc.is_obsolete:
            continue
        rev = working_revision(doc)
        labels = revision_placeholders(rev) if rev is not None else []
        if labels:
            out.append((doc, rev, labels))
    return out
