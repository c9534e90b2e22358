"""Service records (记录) and their retention: record types, filed records (never edited),
attachments, legal holds, disposals with their tombstones and certificates, bulk imports."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docmgmt.auth.models import Department, User, enum_column
from docmgmt.clock import utcnow
from docmgmt.extensions import db
from docmgmt.versioning.models import Document, Revision


class Trigger(enum.StrEnum):
    FILING = "filing"  # the day the record was filed
    CLOSING = "closing"  # the case, order or complaint was closed
    EMPLOYMENT_END = "employment_end"
    CONTRACT_END = "contract_end"
    EVENT = "event"  # another dated event named on the record


class DisposalMethod(enum.StrEnum):
    DESTROY = "destroy"
    ARCHIVE = "archive"  # transferred to the archive; the system keeps the tombstone
    REVIEW = "review"  # reviewed again: retention extended or disposed


class RecordState(enum.StrEnum):
    ACTIVE = "active"
    DISPOSED = "disposed"


class HoldScope(enum.StrEnum):
    RECORD = "record"
    TYPE = "type"
    QUERY = "query"  # every record of a type (or all) whose text contains the words


class DisposalState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"  # carried out
    REJECTED = "rejected"


class RecordType(db.Model):
    __tablename__ = "record_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    form_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    retention_months: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[Trigger] = mapped_column(enum_column(Trigger))
    disposal_method: Mapped[DisposalMethod] = mapped_column(enum_column(DisposalMethod))
    # [{"name", "label", "kind": text|number|date|choice|person, "required", "choices": [...]}]
    fields: Mapped[list] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    form_document: Mapped[Document | None] = relationship()
    department: Mapped[Department | None] = relationship()


class Record(db.Model):
    """A filed record. Never edited: a correction is a new record pointing at this one."""

    __tablename__ = "record"
    __table_args__ = (
        UniqueConstraint("type_id", "external_id"),
        # The disposition queue: active records whose date has come, through this index.
        Index("ix_record_due", "state", "dispose_after"),
        Index("ix_record_type_filed", "type_id", "filed_dt", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("record_type.id"))
    external_id: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    form_revision_id: Mapped[int | None] = mapped_column(ForeignKey("revision.id"))
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    filed_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    trigger_date: Mapped[date | None] = mapped_column(Date)
    dispose_after: Mapped[date | None] = mapped_column(Date)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"), index=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("record_import.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[RecordState] = mapped_column(enum_column(RecordState), default=RecordState.ACTIVE)
    disposal_id: Mapped[int | None] = mapped_column(ForeignKey("disposal.id"))
    disposed_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    type: Mapped[RecordType] = relationship()
    department: Mapped[Department | None] = relationship()
    form_revision: Mapped[Revision | None] = relationship()
    filed_by: Mapped[User] = relationship()
    corrects: Mapped["Record | None"] = relationship(remote_side=[id])
    attachments: Mapped[list["RecordAttachment"]] = relationship(
        back_populates="record", order_by="RecordAttachment.id"
    )


class RecordAttachment(db.Model):
    __tablename__ = "record_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)  # content disposed of

    record: Mapped[Record] = relationship(back_populates="attachments")


class LegalHold(db.Model):
    __tablename__ = "legal_hold"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[HoldScope] = mapped_column(enum_column(HoldScope))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"))
    type_id: Mapped[int | None] = mapped_column(ForeignKey("record_type.id"))
    query: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text)
    placed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    placed_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    released_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    release_reason: Mapped[str] = mapped_column(Text, default="")

    record: Mapped[Record | None] = relationship()
    type: Mapped[RecordType | None] = relationship()
    placed_by: Mapped[User] = relationship(foreign_keys=[placed_by_id])
    released_by: Mapped[User | None] = relationship(foreign_keys=[released_by_id])


class Disposal(db.Model):
    __tablename__ = "disposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    state: Mapped[DisposalState] = mapped_column(
        enum_column(DisposalState), default=DisposalState.PENDING
    )
    reason: Mapped[str] = mapped_column(Text)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    proposed_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approver_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    decided_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str] = mapped_column(Text, default="")
    certificate_sha256: Mapped[str] = mapped_column(String(64), default="")
    # record ids proposed, and for each the tombstone written when carried out
    items: Mapped[list] = mapped_column(JSON, default=list)

    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    approver: Mapped[User] = relationship(foreign_keys=[approver_id])


class RecordImport(db.Model):
    """A CSV/.xlsx upload waiting for its preview to be confirmed, then its outcome."""

    __tablename__ = "record_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("record_type.id"))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    encoding: Mapped[str] = mapped_column(String(20), default="")
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)  # field name → column header
    external_id_column: Mapped[str] = mapped_column(String(100), default="")
    title_column: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20), default="uploaded")  # running/done/failed
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    skipped_duplicates: Mapped[int] = mapped_column(Integer, default=0)
    error_rows: Mapped[int] = mapped_column(Integer, default=0)
    errors_sha256: Mapped[str] = mapped_column(String(64), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    # The message as a msgid and its parameters, said in the reader's language (jobs/said.py).
    message_id: Mapped[str] = mapped_column(String(300), default="", server_default="")
    message_params: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    type: Mapped[RecordType] = relationship()
