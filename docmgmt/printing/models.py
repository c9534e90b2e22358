"""Controlled copies and their register (文件发放回收记录), and the Word sources of revisions."""

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docmgmt.auth.models import Department, User, enum_column
from docmgmt.clock import utcnow
from docmgmt.extensions import db
from docmgmt.versioning.models import Revision


class Medium(enum.StrEnum):
    PAPER = "paper"
    ELECTRONIC = "electronic"


class CopyState(enum.StrEnum):
    ISSUED = "issued"  # out with its holder
    RECALLED = "recalled"  # returned (and destroyed or archived)
    LOST = "lost"  # cannot be returned; reason recorded


class ControlledCopy(db.Model):
    """One numbered controlled copy of a revision, issued to a named holder."""

    __tablename__ = "controlled_copy"
    __table_args__ = (UniqueConstraint("revision_id", "copy_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revision.id"), index=True)
    copy_no: Mapped[int] = mapped_column(Integer)
    holder_name: Mapped[str] = mapped_column(String(100))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    medium: Mapped[Medium] = mapped_column(enum_column(Medium), default=Medium.PAPER)
    issued_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # The secret in the QR code: opens the copy's status page without logging in.
    token: Mapped[str] = mapped_column(String(43), unique=True)
    state: Mapped[CopyState] = mapped_column(
        enum_column(CopyState), default=CopyState.ISSUED, index=True
    )
    closed_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    revision: Mapped[Revision] = relationship()
    holder: Mapped[User | None] = relationship(foreign_keys=[holder_id])
    department: Mapped[Department | None] = relationship()
    issued_by: Mapped[User] = relationship(foreign_keys=[issued_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def label(self) -> str:
        return f"{self.revision.document.number}-{self.revision.version}-{self.copy_no:03d}"


class RevisionSource(db.Model):
    """The Word file a revision was imported from, kept unchanged (content-addressed)."""

    __tablename__ = "revision_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revision.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    report: Mapped[str] = mapped_column(Text, default="")  # the import report, as JSON
    imported_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    imported_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    revision: Mapped[Revision] = relationship()
    imported_by: Mapped[User] = relationship()
