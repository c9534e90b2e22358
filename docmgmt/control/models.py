"""Document control beyond one revision: change requests, periodic reviews, related documents."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docmgmt.auth.models import User, enum_column
from docmgmt.clock import utcnow
from docmgmt.extensions import db
from docmgmt.versioning.models import Document, Revision


class Urgency(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class RequestState(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ChangeRequest(db.Model):
    """文件更改申请: anyone asks for a change; the quality manager accepts or rejects it."""

    __tablename__ = "change_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    proposed_change: Mapped[str] = mapped_column(Text)
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency), default=Urgency.NORMAL)
    state: Mapped[RequestState] = mapped_column(
        enum_column(RequestState), default=RequestState.OPEN, index=True
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("revision.id"))
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Two quality managers deciding the same request at once: the second gets a conflict.
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    document: Mapped[Document] = relationship()
    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    revision: Mapped[Revision | None] = relationship()

    __mapper_args__ = {"version_id_col": lock_version}


class RevisionChangeRequest(db.Model):
    """Which accepted change requests a revision carries out: kept as rows, so a revision can
    carry any number of them (the change number column holds only what was typed)."""

    __tablename__ = "revision_change_request"

    revision_id: Mapped[int] = mapped_column(
        ForeignKey("revision.id", ondelete="CASCADE"), primary_key=True
    )
    change_request_id: Mapped[int] = mapped_column(
        ForeignKey("change_request.id", ondelete="CASCADE"), primary_key=True, index=True
    )


Revision.change_requests = relationship(
    ChangeRequest,
    secondary="revision_change_request",
    order_by=ChangeRequest.number,
)


class ReviewOutcome(enum.StrEnum):
    CONFIRMED = "confirmed"  # still suitable and adequate, unchanged
    CHANGE_NEEDED = "change_needed"  # a change request was opened


class PeriodicReview(db.Model):
    """A recorded review of a document's suitability, even when nothing changes."""

    __tablename__ = "periodic_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    reviewer_name: Mapped[str] = mapped_column(String(100))
    review_date: Mapped[date] = mapped_column(Date)
    finding: Mapped[str] = mapped_column(Text)
    outcome: Mapped[ReviewOutcome] = mapped_column(enum_column(ReviewOutcome))
    change_request_id: Mapped[int | None] = mapped_column(ForeignKey("change_request.id"))
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    document: Mapped[Document] = relationship()
    change_request: Mapped[ChangeRequest | None] = relationship()


class LinkKind(enum.StrEnum):
    USES_FORM = "uses_form"  # the record forms a procedure uses
    USES_INSTRUCTION = "uses_instruction"  # the work instructions it uses
    REFERS_TO = "refers_to"  # documents it refers to (incl. external standards)


class DocumentLink(db.Model):
    __tablename__ = "document_link"
    __table_args__ = (UniqueConstraint("from_document_id", "to_document_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    to_document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    kind: Mapped[LinkKind] = mapped_column(enum_column(LinkKind))
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    source: Mapped[Document] = relationship(foreign_keys=[from_document_id])
    target: Mapped[Document] = relationship(foreign_keys=[to_document_id])


def referrers(doc: Document) -> list[Document]:
    """Documents in use that point at ``doc``: withdrawing it would leave them dangling.

    Here, beside the link, so that the withdrawal check in versioning and the document-control
    page can both ask without importing each other's operations."""
    return db.session.scalars(
        select(Document)
        .join(DocumentLink, DocumentLink.from_document_id == Document.id)
        .where(DocumentLink.to_document_id == doc.id, Document.is_obsolete.is_(False))
        .order_by(Document.number)
        .distinct()
    ).all()


class ChangeRequestAttachment(db.Model):
    """A file attached to a change request (marked-up page, photo, customer letter).

    The bytes live in the content-addressed store under their SHA-256; the row keeps the name
    the requester gave it."""

    __tablename__ = "change_request_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    change_request_id: Mapped[int] = mapped_column(ForeignKey("change_request.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    change_request: Mapped[ChangeRequest] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User] = relationship()


ChangeRequest.attachments = relationship(
    ChangeRequestAttachment,
    back_populates="change_request",
    order_by=ChangeRequestAttachment.id,
)


class WithdrawalState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Withdrawal(db.Model):
    """Making a whole document obsolete: proposed by the quality manager with a reason,
    approved (or rejected) by a named approver signing with their password."""

    __tablename__ = "withdrawal"
    __table_args__ = (
        Index(
            "uq_withdrawal_one_pending",
            "document_id",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    proposed_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approver_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    state: Mapped[WithdrawalState] = mapped_column(
        enum_column(WithdrawalState), default=WithdrawalState.PENDING, index=True
    )
    decided_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    confirmed_references: Mapped[str] = mapped_column(Text, default="")
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    document: Mapped[Document] = relationship()
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    approver: Mapped[User] = relationship(foreign_keys=[approver_id])

    __mapper_args__ = {"version_id_col": lock_version}
