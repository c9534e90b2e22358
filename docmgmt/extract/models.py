"""The text read from an attachment, kept beside it: never in place of the original."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from docmgmt.clock import utcnow
from docmgmt.extensions import db

PENDING, DONE, FAILED = "pending", "done", "failed"
STATES = (PENDING, DONE, FAILED)

#: attachment tables whose files are read, and the table of their owner
OWNERS = {
    "record_attachment": "record",
    "change_request_attachment": "change_request",
    "training_attachment": "training_session",
}


class AttachmentText(db.Model):
    """The text of one attachment (a record's, a change request's or a training session's):
    its state (pending → done | failed, with the reason as a code), the text, the engine that
    read it and, for a scan, the searchable PDF kept in the file store by SHA-256. ``tries``
    counts the attempts asked for: each is one job (``ocr:<table>:<id>:<tries>``), so a retry
    is a new job and a worker killed mid-way stores nothing twice."""

    __tablename__ = "attachment_text"
    __table_args__ = (UniqueConstraint("attachment_table", "attachment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attachment_table: Mapped[str] = mapped_column(String(40))
    attachment_id: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[int] = mapped_column(Integer, index=True)  # record, change request, session
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))  # of the original
    state: Mapped[str] = mapped_column(String(12), default=PENDING)
    text: Mapped[str] = mapped_column(Text, default="")
    # Why no text was read: a code and its parameters (docmgmt/extract/reasons.py), said in the
    # reader's language when shown; ``reason`` is the same in the worker's language (the only
    # form rows read before codes existed have).
    reason: Mapped[str] = mapped_column(Text, default="")
    reason_code: Mapped[str] = mapped_column(String(40), default="", server_default="")
    reason_params: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    engine: Mapped[str] = mapped_column(String(40), default="")
    method: Mapped[str] = mapped_column(String(12), default="")
    pages: Mapped[int] = mapped_column(Integer, default=0)
    searchable_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    tries: Mapped[int] = mapped_column(Integer, default=1)
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @property
    def job_key(self) -> str:
        return f"ocr:{self.attachment_table}:{self.attachment_id}:{self.tries}"
