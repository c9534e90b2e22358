"""What each kind of job does. A handler works in ``db.session`` and flushes, never commits:
docmgmt/jobs/operations.execute commits its effect together with the job's state. Each checks
what is already done, so running it again never files, builds or sends anything twice."""

from __future__ import annotations

from docmgmt.extensions import db
from docmgmt.jobs.operations import handler
from docmgmt.jobs.said import failure, keep, said, said_of


def _user(job):
    from docmgmt.auth.models import User

    return db.session.get(User, job.payload["user_id"])


# ---------------------------------------------------------------- record imports


@handler("import")
def record_import(job, progress):
    from docmgmt.records import importing
    from docmgmt.records.models import RecordImport

    imp = db.session.get(RecordImport, job.payload["import_id"])
    if imp.status in ("done", "failed"):  # an earlier attempt finished it
        return said_of(imp)
    progress("reading", 0, imp.total_rows)
    importing.run(_user(job), imp, job.payload["mode"], progress, background=True)
    return said_of(imp)


def _import_failed(job, exc):
    """The import failed: it says why (its job says the same)."""
    from docmgmt.records.models import RecordImport

    imp = db.session.get(RecordImport, job.payload["import_id"])
    imp.status = "failed"
    keep(imp, failure(exc, "import"))
    db.session.flush()
    return said_of(imp)


def _index_imported(job):
    """The records are filed; indexing them is the search outbox's work (tried here once; if
    the index is busy the outbox keeps the rows for the next drain or `search check`)."""
    from flask import current_app

    from docmgmt.search import drain

    try:
        drain(timeout=current_app.config.get("SEARCH_LOCK_TIMEOUT", 10.0), rounds=10**6)
    except Exception:
        current_app.logger.warning(
            "import job %s: indexing left to the search outbox", job.id, exc_info=True
        )


record_import.on_failure = _import_failed
record_import.after_commit = _index_imported


# ---------------------------------------------------------------- evidence packs


@handler("pack")
def evidence_pack(job, progress):
    from docmgmt.certification import operations as cops
    from docmgmt.certification.models import EvidencePack

    pack = db.session.get(EvidencePack, job.payload["pack_id"])
    if pack.status in ("done", "failed"):
        return said_of(pack)
    cops.run_pack(pack, _user(job), lambda d, t: progress("building", d, t))
    return said_of(pack)


def _pack_failed(job, exc):
    """The pack failed: it says why (its job says the same)."""
    from docmgmt.certification.models import EvidencePack

    pack = db.session.get(EvidencePack, job.payload["pack_id"])
    pack.status = "failed"
    keep(pack, failure(exc, "pack"))
    db.session.flush()
    return said_of(pack)


evidence_pack.on_failure = _pack_failed


# ---------------------------------------------------------------- daily work


@handler("activate")
def activate(job, progress):
    """Scheduled revisions of the day take effect (each in its own transaction, a compare-and-
    set: a request that got there first leaves nothing to do). Reads never wait for this: the
    revision in force is decided by its date."""

    from docmgmt.versioning.scheduling import apply_due_revisions

    done = apply_due_revisions()
    db.session.rollback()
    return said("%(n)d revision(s) made effective", n=len(done))


@handler("digest")
def digest(job, progress):

    from docmgmt.jobs.digest import send_digests

    n = send_digests(progress=progress)
    return said("%(n)d digest(s)", n=n)


# ---------------------------------------------------------------- housekeeping


@handler("search")
def search_outbox(job, progress):
    """The search outbox drained by a worker (the embedded engine; docmgmt/jobs/maintenance)."""
    from docmgmt.jobs.maintenance import drain_outbox

    return drain_outbox(progress)


@handler("search-check")
def search_check(job, progress):
    """The day's comparison of the search index with the database, repairing what differs."""
    from docmgmt.jobs.maintenance import check_index

    return check_index(progress)


@handler("reindex")
def reindex(job, progress):
    """The search index rebuilt (`flask search reindex --background`)."""
    from docmgmt.jobs.maintenance import rebuild_index

    return rebuild_index(progress)


@handler("prune")
def prune(job, progress):
    """Finished jobs older than DOCMGMT_JOB_KEEP_DAYS deleted (with the job's own commit)."""

    from docmgmt.jobs.maintenance import keep_days
    from docmgmt.jobs.maintenance import prune as prune_jobs

    n = prune_jobs()
    return said("%(n)d finished jobs older than %(d)d days deleted.", n=n, d=keep_days())
