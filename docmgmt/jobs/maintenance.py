"""Housekeeping as jobs: the search index's outbox drained by a worker (each minute that rows
wait), the daily index check, a rebuild in the background, and pruning the job table.

With the PostgreSQL search engine the index is written in each change's own transaction, so
the search jobs have nothing to do (they finish at once, saying so)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from docmgmt import clock
from docmgmt.extensions import db
from docmgmt.jobs.models import Job
from docmgmt.jobs.said import said

#: Kinds a quality manager or administrator may run again when they failed: their work is
#: simply done again. (An import, a pack, a text recognition have their own page to retry.)
RERUNNABLE = frozenset({"activate", "digest", "search", "search-check", "prune", "reindex"})


def embedded_search() -> bool:
    """The Whoosh engine, whose index (a folder) is written after the commit, from an outbox."""
    from docmgmt import search

    return not search.backend().transactional


def submit_drain(now: datetime | None = None) -> Job | None:
    """The minute's "search" job when outbox rows wait (embedded engine only), made and
    started; None when there is nothing to do. Its key names the minute, so every worker's
    scheduler may ask and one job runs."""
    from docmgmt import search
    from docmgmt.jobs import operations as jobs

    if not embedded_search() or not search.pending():
        return None
    minute = (now or clock.utcnow()).strftime("%Y-%m-%dT%H:%M")
    job = jobs.submit("search", f"search:{minute}")
    db.session.commit()
    if job.state == "queued":
        jobs.start(job.id)
    return job


class AlreadyRunning(Exception):
    def __init__(self, job: Job):
        super().__init__(f"job {job.id} ({job.key}) is {job.state}")
        self.job = job


def submit_reindex() -> Job:
    """A "reindex" job, made and started; refused (AlreadyRunning) while another is queued or
    running. Two asking at once compute the same key (after the newest reindex job): one job."""
    from docmgmt.jobs import operations as jobs

    busy = db.session.scalar(
        select(Job)
        .where(Job.kind == "reindex", Job.state.in_(("queued", "running")))
        .order_by(Job.id.desc())
        .limit(1)
    )
    if busy is not None:
        raise AlreadyRunning(busy)
    last = db.session.scalar(select(func.max(Job.id)).where(Job.kind == "reindex")) or 0
    job = jobs.submit("reindex", f"reindex:after:{last}")
    db.session.commit()
    if job.state == "queued":
        jobs.start(job.id)
    return job


def keep_days() -> int:
    return max(1, int(current_app.config.get("JOB_KEEP_DAYS", 90)))


def prune(days: int | None = None, now: datetime | None = None) -> int:
    """Delete the finished jobs (done or failed) that finished more than ``days`` ago (default
    DOCMGMT_JOB_KEEP_DAYS); never a queued or running one. No table points at a job (imports
    and packs keep their own status and name their job by key only), and a pruned job's key is
    of a past day or of work that says itself it is done, so nothing is run again. Flushed,
    not committed; returns how many."""
    cutoff = (now or clock.utcnow()) - timedelta(days=days or keep_days())
    finished = func.coalesce(Job.finished_dt, Job.created_dt)
    got = db.session.execute(
        delete(Job)
        .where(Job.state.in_(("done", "failed")), finished < cutoff)
        .execution_options(synchronize_session=False)
    )
    return got.rowcount or 0


# ---------------------------------------------------------------- what the jobs say


def drain_outbox(progress) -> str:
    from docmgmt import search
    from docmgmt.search.engine import IndexBusy

    if not embedded_search():
        return said("Nothing to do: the PostgreSQL search engine indexes each change at once.")
    waiting = search.pending()
    progress("indexing", 0, waiting)
    try:
        n = search.drain(timeout=current_app.config.get("SEARCH_LOCK_TIMEOUT", 10.0), rounds=10**6)
    except IndexBusy:
        return said("The search index was busy; the changes wait for the next run.")
    progress("indexing", waiting, waiting)
    return said("%(n)d search entries brought up to date.", n=n)


def check_index(progress) -> str:
    from docmgmt import search

    if not embedded_search():
        return said("Nothing to do: the PostgreSQL search engine indexes each change at once.")
    rep = search.check(fix=True)  # what `flask search check --fix` runs
    bad = len(rep.missing) + len(rep.extra) + len(rep.stale)
    if not bad:
        return said("The search index matches the database (%(n)d entries).", n=rep.entries)
    after = search.check()
    if after.ok:
        return said("%(n)d differences in the search index repaired.", n=bad)
    raise RuntimeError(
        _("The search index still differs from the database: rebuild it (search reindex).")
    )


def rebuild_index(progress) -> str:
    from docmgmt import search

    state = {"done": 0, "total": 0}

    def total(n):
        state["total"] = n
        progress("indexing", 0, n)

    def step(k):
        state["done"] += k
        progress("indexing", state["done"], state["total"])

    n = search.reindex(progress=step, total_cb=total)
    return said("%(n)d search entries indexed.", n=n)
