"""Jobs: background work whose effect happens exactly once, whatever happens to workers.

A job row names the work (``key``, unique), its state (queued → running → done | failed), its
progress (phase, done, total) and its ``attempt``. A worker *claims* the job (a compare-and-set
that bumps ``attempt`` and takes a lease), keeps the lease alive while it works, and commits its
effect in the same transaction as ``state = done`` — and only if the job still carries its
attempt (``finish``). So:

- a worker killed before its commit left nothing; its lease runs out, the sweeper queues the
  job again, the next worker claims it (attempt + 1) and does all of it;
- a worker killed after its commit left the job done; a second message finds nothing to do;
- a worker that only *seemed* dead (its lease ran out while it still worked) loses at
  ``finish``: the newer attempt fenced it off, its transaction is rolled back.

The broker (docmgmt/jobs/queue.py) only carries "run job N": losing a message is harmless.
Progress is written beside the job's transaction, in a short one of its own, so every server
sees it while the job works.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from docmgmt.clock import as_utc, utcnow
from docmgmt.extensions import db
from docmgmt.jobs import said
from docmgmt.jobs.models import Job

log = logging.getLogger(__name__)

#: kind -> handler(job, progress) that does the work in db.session and flushes, never commits
HANDLERS: dict[str, Callable] = {}


class Fenced(Exception):
    """A newer attempt has the job: this worker's work must not commit."""


def handler(kind: str):
    def register(fn):
        HANDLERS[kind] = fn
        return fn

    return register


def lease_seconds() -> int:
    return int(current_app.config.get("JOB_LEASE_SECONDS", 60))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def get(key: str) -> Job | None:
    return db.session.scalar(select(Job).where(Job.key == key))


def submit(kind: str, key: str, payload: dict | None = None, total: int = 0) -> Job:
    """The job for ``key``, made (queued) if there is none yet; flushed, not committed. Call
    ``start(job)`` after the commit."""
    job = get(key)
    if job is not None:
        return job
    job = Job(kind=kind, key=key, payload=payload or {}, total=total, state="queued")
    try:
        with db.session.begin_nested():
            db.session.add(job)
    except IntegrityError:  # another server made it at the same moment
        job = get(key)
    return job


def start(job: Job | int) -> None:
    """Hand the job to the queue (after the transaction that made it has committed)."""
    from docmgmt.jobs.tasks import run_job

    run_job(job if isinstance(job, int) else job.id)


def claim(job_id: int) -> int | None:
    """Take the job if it is queued, or running under an expired lease; commits. The attempt
    number this worker holds, or None when the job is done, failed or someone else's."""
    now = utcnow()
    db.session.rollback()
    got = db.session.execute(
        update(Job)
        .where(
            Job.id == job_id,
            or_(
                Job.state == "queued",
                (Job.state == "running") & (Job.lease_until < now),
            ),
        )
        .values(
            state="running",
            attempt=Job.attempt + 1,
            lease_until=now + timedelta(seconds=lease_seconds()),
            worker=worker_name()[:120],
            started_dt=now,
        )
        .execution_options(synchronize_session=False)
    )
    if got.rowcount != 1:
        db.session.rollback()
        return None
    db.session.commit()
    return db.session.scalar(select(Job.attempt).where(Job.id == job_id))


def _side_write(stmt) -> bool:
    """One short statement in its own transaction, beside the job's (progress, lease). Never
    waits long: on SQLite the job's own transaction may hold the write lock, and then this
    progress is simply not shown until the next one."""
    try:
        with db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA busy_timeout = 200")
            conn.execute(stmt)
            conn.commit()
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA busy_timeout = 5000")
        return True
    except OperationalError:
        return False


class Progress:
    """``progress(phase, done, total)`` for a handler: written to the job row at once, in a
    short transaction of its own, so every server sees it; the last one is also written with
    the job's outcome (on SQLite the job's transaction may have kept the side write out)."""

    def __init__(self, job_id: int, attempt: int):
        self.job_id, self.attempt, self.last = job_id, attempt, None

    def __call__(self, phase: str, done: int, total: int) -> None:
        self.last = (phase[:20], int(done), int(total))
        _side_write(
            update(Job)
            .where(Job.id == self.job_id, Job.attempt == self.attempt)
            .values(phase=phase[:20], done=int(done), total=int(total))
        )


class Heartbeat(threading.Thread):
    """Keeps the lease of a claimed job alive while its worker lives."""

    def __init__(self, app, job_id: int, attempt: int):
        super().__init__(name=f"job-{job_id}-lease", daemon=True)
        self.app, self.job_id, self.attempt = app, job_id, attempt
        self.stopped = threading.Event()

    def run(self):
        with self.app.app_context():
            every = max(1.0, lease_seconds() / 3)
            while not self.stopped.wait(every):
                _side_write(
                    update(Job)
                    .where(
                        Job.id == self.job_id,
                        Job.attempt == self.attempt,
                        Job.state == "running",
                    )
                    .values(lease_until=utcnow() + timedelta(seconds=lease_seconds()))
                )


def finish(job_id: int, attempt: int, state: str, message: str = "", progress=None) -> None:
    """Mark the job done or failed in the caller's transaction, if it is still this attempt's;
    raises Fenced otherwise (the caller rolls back)."""
    values = dict(state=state, finished_dt=utcnow(), **said.columns(message))
    if progress is not None and progress.last is not None:
        values.update(zip(("phase", "done", "total"), progress.last, strict=True))
    got = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.attempt == attempt, Job.state == "running")
        .values(lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    if got.rowcount != 1:
        raise Fenced(f"job {job_id}: attempt {attempt} was overtaken")


def execute(job_id: int) -> str:
    """Claim and run one job in the current app context; what became of it."""
    attempt = claim(job_id)
    if attempt is None:
        return "skipped"
    job = db.session.get(Job, job_id)
    kind, key = job.kind, job.key
    fn = HANDLERS.get(kind)
    beat = Heartbeat(current_app._get_current_object(), job_id, attempt)
    beat.start()
    try:
        if fn is None:
            raise RuntimeError(f"no handler for jobs of kind {kind!r}")
        progress = Progress(job_id, attempt)
        message = fn(job, progress) or ""
        finish(job_id, attempt, "done", message, progress)
        db.session.commit()
        after = getattr(fn, "after_commit", None)
        if after is not None:
            try:
                after(job)
            except Exception:  # the job is done; what follows is best effort
                log.exception("job %s: after its commit", job_id)
        return "done"
    except Fenced:
        db.session.rollback()
        log.warning("job %s attempt %s overtaken by a newer attempt; rolled back", job_id, attempt)
        return "fenced"
    except Exception as exc:
        db.session.rollback()
        # The error itself is for the administrator, in the server log; the job (and the
        # import or pack it worked on) says in words what failed (said.failure).
        log.exception("job %s (%s, attempt %s) failed", job_id, key, attempt)
        failed = getattr(HANDLERS.get(kind), "on_failure", None)
        job = db.session.get(Job, job_id)
        try:
            message = failed(job, exc) if failed is not None else None
            finish(job_id, attempt, "failed", message or said.failure(exc))
            db.session.commit()
        except Fenced:
            db.session.rollback()
        return "failed"
    finally:
        beat.stopped.set()


def sweep(now=None, lost_after_s: int = 60) -> list[int]:
    """Queue again every job whose worker is gone (running, lease expired) or whose message was
    lost (queued for longer than ``lost_after_s``). The claim decides who runs it."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Job.id, Job.state, Job.lease_until, Job.created_dt).where(
            Job.state.in_(("queued", "running"))
        )
    ).all()
    again = []
    for job_id, state, lease_until, created in rows:
        if (
            state == "running"
            and lease_until is not None
            and as_utc(lease_until) < now
            or state == "queued"
            and as_utc(created) < now - timedelta(seconds=lost_after_s)
        ):
            again.append(job_id)
    db.session.rollback()
    for job_id in again:
        log.info("job %s: its worker is gone or its message lost; queued again", job_id)
        start(job_id)
    return again


def progress_of(key: str):
    """(state, phase, done, total) of the job for ``key``, read in a short transaction of its
    own (never behind the reader's); None when there is no such job."""
    with db.engine.connect() as conn:
        row = conn.execute(
            select(Job.state, Job.phase, Job.done, Job.total).where(Job.key == key)
        ).first()
    return tuple(row) if row else None


def rerun(actor, job: Job) -> Job:
    """Queue a failed job again (a quality manager or administrator; audited); flushed, not
    committed: ``start(job)`` after the commit. Only kinds whose work is simply done again:
    an import, an evidence pack or a text recognition is retried from its own page."""
    from flask_babel import gettext as _

    from docmgmt.audit.operations import log_event
    from docmgmt.auth.permissions import can_see_jobs, require
    from docmgmt.errors import InvalidState
    from docmgmt.jobs.labels import kind_label
    from docmgmt.jobs.maintenance import RERUNNABLE

    require(can_see_jobs(actor))
    if job.kind not in RERUNNABLE:
        raise InvalidState(_("This job is run again from the page of what it works on."))
    if job.kind == "reindex" and db.session.scalar(
        select(Job.id).where(Job.kind == "reindex", Job.state.in_(("queued", "running")))
    ):
        raise InvalidState(_("A rebuild of the search index is already waiting or running."))
    got = db.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.state == "failed")
        .values(
            state="queued",
            phase="",
            done=0,
            total=0,
            finished_dt=None,
            lease_until=None,
            worker="",
            **said.columns(""),
        )
        .execution_options(synchronize_session=False)
    )
    if got.rowcount != 1:
        raise InvalidState(_("Only a failed job can be run again."))
    log_event(actor, "job.rerun", job, summary=kind_label(job.kind))
    db.session.flush()
    db.session.expire(job)
    return job
