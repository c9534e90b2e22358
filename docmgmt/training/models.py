"""Training records (售后服务人员能力评价和培训): the matrix, read-and-understood tasks,
training sessions and competence evaluations."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docmgmt.auth.models import User, enum_column
from docmgmt.clock import utcnow
from docmgmt.extensions import db
from docmgmt.versioning.models import Document, Revision


class TargetKind(enum.StrEnum):
    ROLE = "role"
    DEPARTMENT = "department"
    JOB_TITLE = "job_title"


class TaskState(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    REPLACED = "replaced"  # a newer revision took effect before it was done
    CANCELLED = "cancelled"  # the document was withdrawn or no longer applies


class SessionKind(enum.StrEnum):
    CLASSROOM = "classroom"
    ON_THE_JOB = "on_the_job"


class AttendeeResult(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ATTENDED = "attended"  # present, not assessed


class EvaluationResult(enum.StrEnum):
    COMPETENT = "competent"
    NEEDS_TRAINING = "needs_training"
    NOT_COMPETENT = "not_competent"


class TrainingRequirement(db.Model):
    """One cell of the training matrix: who must know a document, and within how many days."""

    __tablename__ = "training_requirement"
    __table_args__ = (UniqueConstraint("document_id", "target_kind", "target_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    target_kind: Mapped[TargetKind] = mapped_column(enum_column(TargetKind))
    target_value: Mapped[str] = mapped_column(String(100))
    due_days: Mapped[int] = mapped_column(Integer, default=14)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    document: Mapped[Document] = relationship()


class TrainingTask(db.Model):
    """Read and understood: one person, one revision in force, acknowledged with a signature."""

    __tablename__ = "training_task"
    __table_args__ = (
        UniqueConstraint("user_id", "revision_id"),
        # At most one open task per person and document (a newer revision replaces it).
        Index(
            "uq_training_task_open",
            "user_id",
            "document_id",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revision.id"), index=True)
    state: Mapped[TaskState] = mapped_column(enum_column(TaskState), default=TaskState.OPEN)
    assigned_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due_date: Mapped[date] = mapped_column(Date)
    completed_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_via: Mapped[str] = mapped_column(String(20), default="")  # acknowledged / session
    session_id: Mapped[int | None] = mapped_column(ForeignKey("training_session.id"))
    signature_hash: Mapped[str] = mapped_column(String(64), default="")
    closed_reason: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()
    document: Mapped[Document] = relationship()
    revision: Mapped[Revision] = relationship()


session_revision = Table(
    "training_session_revision",
    db.metadata,
    Column("session_id", ForeignKey("training_session.id"), primary_key=True),
    Column("revision_id", ForeignKey("revision.id"), primary_key=True),
)


class TrainingSession(db.Model):
    __tablename__ = "training_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[SessionKind] = mapped_column(enum_column(SessionKind))
    topic: Mapped[str] = mapped_column(String(200))
    trainer_name: Mapped[str] = mapped_column(String(100))
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    assessed: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    revisions: Mapped[list[Revision]] = relationship(secondary=session_revision)
    attendees: Mapped[list["SessionAttendee"]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="SessionAttendee.id"
    )
    attachments: Mapped[list["SessionAttachment"]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="SessionAttachment.id"
    )


class SessionAttendee(db.Model):
    __tablename__ = "training_attendee"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    result: Mapped[AttendeeResult] = mapped_column(enum_column(AttendeeResult))
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(500), default="")

    session: Mapped[TrainingSession] = relationship(back_populates="attendees")
    user: Mapped[User] = relationship()


class SessionAttachment(db.Model):
    """The sign-in sheet or materials of a session, kept by SHA-256 in the file store."""

    __tablename__ = "training_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    session: Mapped[TrainingSession] = relationship(back_populates="attachments")


class CompetenceEvaluation(db.Model):
    __tablename__ = "competence_evaluation"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    evaluated_on: Mapped[date] = mapped_column(Date)
    criteria: Mapped[str] = mapped_column(Text)
    result: Mapped[EvaluationResult] = mapped_column(enum_column(EvaluationResult))
    next_due: Mapped[date | None] = mapped_column(Date, index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    evaluator: Mapped[User] = relationship(foreign_keys=[evaluator_id])
