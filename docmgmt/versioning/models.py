"""Controlled documents, their revisions (append-only) and the signatures on them."""

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docmgmt.auth.models import Department, User, enum_column
from docmgmt.clock import utcnow
from docmgmt.extensions import db


class NumberingLock(db.Model):
    """One row per number stem (XX-SP-): updating it serialises the allocation of the next
    number, on PostgreSQL (row lock) and SQLite (write lock) alike, until the commit."""

    __tablename__ = "numbering_lock"

    stem: Mapped[str] = mapped_column(String(40), primary_key=True)
    taken: Mapped[int] = mapped_column(Integer, default=0)


class DocumentType(enum.StrEnum):
    MANUAL = "manual"
    PROCEDURE = "procedure"
    WORK_INSTRUCTION = "work_instruction"
    RECORD_FORM = "record_form"
    EXTERNAL = "external"


class RevisionState(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    EFFECTIVE = "effective"
    SUPERSEDED = "superseded"
    OBSOLETE = "obsolete"
    CANCELLED = "cancelled"


class SignatureMeaning(enum.StrEnum):
    PREPARED = "prepared"  # 制订
    REVIEWED = "reviewed"  # 审核
    APPROVED = "approved"  # 核准


class Document(db.Model):
    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    doc_type: Mapped[DocumentType] = mapped_column(enum_column(DocumentType))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    review_interval_months: Mapped[int] = mapped_column(Integer, default=12)
    is_obsolete: Mapped[bool] = mapped_column(Boolean, default=False)
    obsolete_date: Mapped[date | None] = mapped_column(Date)
    obsolete_reason: Mapped[str] = mapped_column(Text, default="")
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    last_published_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # External documents (外来文件): the edition in use and who issues it.
    external_edition: Mapped[str] = mapped_column(String(100), default="", server_default="")
    external_source: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Bumped by every publication: two people publishing the same document at the same moment
    # collide here and the second gets a clear conflict instead of a double publication.
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    department: Mapped[Department | None] = relationship()
    revisions: Mapped[list["Revision"]] = relationship(
        back_populates="document",
        order_by="Revision.id",
        lazy="selectin",
        foreign_keys="Revision.document_id",
    )

    __mapper_args__ = {"version_id_col": lock_version}


class Revision(db.Model):
    __tablename__ = "revision"
    __table_args__ = (
        # A cancelled draft gives its version code back; every other revision keeps its own.
        Index(
            "uq_revision_version",
            "document_id",
            "version",
            unique=True,
            sqlite_where=text("state <> 'cancelled'"),
            postgresql_where=text("state <> 'cancelled'"),
        ),
        # Two revisions of one document can never start being in force on the same day …
        UniqueConstraint("document_id", "effective_date"),
        # … and at most one of them is in the effective state at any time.
        Index(
            "uq_revision_one_effective",
            "document_id",
            unique=True,
            sqlite_where=text("state = 'effective'"),
            postgresql_where=text("state = 'effective'"),
        ),
        # One open draft per document: a second change waits for the first.
        Index(
            "uq_revision_one_open",
            "document_id",
            unique=True,
            sqlite_where=text(
                "state IN ('draft', 'in_review') OR (state = 'approved' AND effective_date IS NULL)"
            ),
            postgresql_where=text(
                "state IN ('draft', 'in_review') OR (state = 'approved' AND effective_date IS NULL)"
            ),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    version: Mapped[str] = mapped_column(String(4))
    state: Mapped[RevisionState] = mapped_column(
        enum_column(RevisionState), default=RevisionState.DRAFT, index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    # The body is loaded only when it is read (one query for both columns): lists of
    # revisions (register, API, desk, a document's history) never decode it. A query that
    # reads many bodies asks for them with ``undefer_group("body")``.
    body_source: Mapped[str] = mapped_column(Text, default="", deferred=True, deferred_group="body")
    body_blocks: Mapped[list] = mapped_column(
        JSON, default=list, deferred=True, deferred_group="body"
    )
    change_summary: Mapped[str] = mapped_column(Text, default="")  # 制/修订内容
    change_number: Mapped[str] = mapped_column(  # 修订编号
        String(40), default="-", info={"label": _l("Change number")}
    )
    pages_affected: Mapped[str] = mapped_column(String(40), default="")  # 页次
    is_reedition: Mapped[bool] = mapped_column(Boolean, default=False)
    effective_date: Mapped[date | None] = mapped_column(Date)
    superseded_date: Mapped[date | None] = mapped_column(Date)
    # Set when submitted: what every signature of this round must match.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    submission_round: Mapped[int] = mapped_column(Integer, default=0)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    document: Mapped[Document] = relationship(
        back_populates="revisions", foreign_keys=[document_id]
    )
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    approver: Mapped[User | None] = relationship(foreign_keys=[approver_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])
    signatures: Mapped[list["Signature"]] = relationship(
        back_populates="revision", order_by="Signature.id", lazy="selectin"
    )
    events: Mapped[list["RevisionEvent"]] = relationship(
        back_populates="revision", order_by="RevisionEvent.id"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def is_scheduled(self) -> bool:
        return self.state == RevisionState.APPROVED and self.effective_date is not None

    @property
    def change_reference(self) -> str:
        """The change number (修订编号) as the revision record shows it: what was typed, then
        every accepted change request this revision carries (docmgmt/control/models.py
        RevisionChangeRequest), none left out."""
        linked = [cr.number for cr in getattr(self, "change_requests", None) or []]
        typed = [t.strip() for t in (self.change_number or "").split(",")]
        typed = [t for t in typed if t and t != "-"]
        # Before the requests were kept as rows, several were joined here and cut at 40
        # characters: a cut piece is the start of a request number the rows now hold.
        typed = [t for t in typed if t in linked or not any(n.startswith(t) for n in linked)]
        return ", ".join(typed + [n for n in linked if n not in typed]) or "-"

    def current_signatures(self) -> dict["SignatureMeaning", "Signature"]:
        return {
            s.meaning: s for s in self.signatures if s.submission_round == self.submission_round
        }

    def signed_payload(self) -> dict:
        """What a signature covers; its hash is stored on every signature."""
        return {
            "document": self.document.number,
            "version": self.version,
            "title": self.title,
            "blocks": self.body_blocks,
            "change_summary": self.change_summary,
            "change_number": self.change_number,
            "pages_affected": self.pages_affected,
        }


class Signature(db.Model):
    """An electronic signature: who, in what meaning, when, over which content hash."""

    __tablename__ = "signature"
    __table_args__ = (
        UniqueConstraint("revision_id", "submission_round", "meaning"),
        # Separation of duties, enforced by the database as well: one person, one role.
        UniqueConstraint("revision_id", "submission_round", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revision.id"), index=True)
    submission_round: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    signer_name: Mapped[str] = mapped_column(String(100))
    meaning: Mapped[SignatureMeaning] = mapped_column(enum_column(SignatureMeaning))
    signed_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")

    revision: Mapped[Revision] = relationship(back_populates="signatures")
    user: Mapped[User] = relationship()


class RevisionEvent(db.Model):
    """What happened to a revision and why (submission, rejection with its comment, …)."""

    __tablename__ = "revision_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revision.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str] = mapped_column(String(20), default="")
    to_state: Mapped[str] = mapped_column(String(20), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    user_name: Mapped[str] = mapped_column(String(100), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    occurred_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    revision: Mapped[Revision] = relationship(back_populates="events")
