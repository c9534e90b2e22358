"""A background job: its state and progress live here, in the database every server reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from docmgmt.clock import utcnow
from docmgmt.extensions import db

STATES = ("queued", "running", "done", "failed")


class Job(db.Model):
    """One piece of background work (an import, an evidence pack, a day's activation or
    digest). ``key`` names the work itself ("import:12", "activate:2026-12-02"), once: asking
    twice for the same work finds the same job. ``attempt`` is the fencing token: a worker's
    effect commits only together with the job's state, and only while the job is still its
    attempt (docmgmt/jobs/operations.py)."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(120), unique=True)
    state: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    phase: Mapped[str] = mapped_column(String(20), default="")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    worker: Mapped[str] = mapped_column(String(120), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    # The message as a msgid and its parameters, said in the reader's language (jobs/said.py).
    message_id: Mapped[str] = mapped_column(String(300), default="", server_default="")
    message_params: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
