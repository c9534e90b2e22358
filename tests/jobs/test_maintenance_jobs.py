"""Housekeeping as jobs (issue 18): the search outbox drained by a "search" job each minute
changes wait (embedded engine), the day's "search-check" repairing the index, `flask search
reindex --background`, and pruning finished jobs (`flask jobs prune`, the daily "prune")."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from docmgmt.extensions import db


def _jobs(kind):
    from docmgmt.jobs.models import Job

    db.session.rollback()  # a fresh read: the job committed in its own session
    return db.session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id)).all()


def _found(user, word) -> int:
    from docmgmt.search import service

    return service.search(user, word).total


@pytest.fixture
def outbox_left(whoosh_engine):
    """Changes stay in the outbox after their commit (as when the index was busy)."""
    whoosh_engine.config["SEARCH_SYNC"] = False
    yield whoosh_engine
    whoosh_engine.config["SEARCH_SYNC"] = True


def test_waiting_search_changes_are_drained_by_one_job_per_minute(
    outbox_left, people, effective_doc
):
    from docmgmt import search
    from docmgmt.jobs.maintenance import submit_drain
    from docmgmt.jobs.tasks import search_jobs

    assert submit_drain() is None and _jobs("search") == []  # nothing waits: no job
    effective_doc(title="夜间排队标题甲")
    assert search.pending() > 0  # (a search would drain it first: not asked here)
    search_jobs.call_local()  # what each worker's scheduler runs every minute
    [job] = _jobs("search")
    assert (
        job.state == "done"
        and job.key.startswith("search:")
        and "brought up to date" in (job.message)
    )
    assert search.pending() == 0 and _found(people["qm"], "排队标题甲") == 1
    # Within the same minute every worker's ask finds the minute's job: it does not run twice;
    # what was changed since waits for the next minute's job.
    effective_doc(title="夜间排队标题乙")
    minute = datetime.strptime(job.key, "search:%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
    assert submit_drain(now=minute).id == job.id
    assert submit_drain(now=minute).id == job.id and search.pending() > 0
    second = submit_drain(now=minute + timedelta(minutes=1))
    assert second.id != job.id and len(_jobs("search")) == 2
    assert search.pending() == 0 and _found(people["qm"], "排队标题乙") == 1


def test_the_days_search_check_repairs_what_the_index_lacks(outbox_left, people, effective_doc):
    from sqlalchemy import delete

    from docmgmt import search
    from docmgmt.clock import utcnow
    from docmgmt.jobs.daily import submit_daily
    from docmgmt.search.models import SearchOutbox

    effective_doc(title="检查修复标题丙")
    db.session.execute(delete(SearchOutbox))  # the change is lost on its way to the index
    db.session.commit()
    assert not search.check().ok and _found(people["qm"], "修复标题丙") == 0
    morning = utcnow().replace(hour=1)  # 09:00 in Shanghai
    submit_daily(now=morning, only="search-check")
    submit_daily(now=morning, only="search-check")  # asked again: the day's one job
    [job] = _jobs("search-check")
    assert job.state == "done" and "repaired" in job.message, job.message
    assert search.check().ok and _found(people["qm"], "修复标题丙") == 1
    # Before 03:00 company time the check is not due yet.
    night = utcnow().replace(hour=18)  # 02:00 in Shanghai, the next day
    assert [j.kind for j in submit_daily(now=night)] == ["activate", "prune"]


def test_a_background_rebuild_is_a_job_with_its_progress_and_one_at_a_time(
    whoosh_engine, runner, people, effective_doc
):
    from docmgmt.jobs.models import Job

    for fruit in ("苹果", "香蕉", "葡萄"):
        effective_doc(title=f"重建索引{fruit}")
    r = runner.invoke(args=["search", "reindex", "--background"])
    assert r.exit_code == 0, r.output
    [job] = _jobs("reindex")
    assert job.state == "done" and job.total >= 3 and job.done == job.total
    assert "indexed" in job.message and f"job {job.id}" in r.output
    assert _found(people["qm"], "香蕉") == 1
    # While a rebuild waits or runs, a second is refused.
    db.session.add(Job(kind="reindex", key="reindex:other", state="running"))
    db.session.commit()
    r = runner.invoke(args=["search", "reindex", "--background"])
    assert r.exit_code == 1 and "already running" in r.output
    assert len(_jobs("reindex")) == 2
    # Nor is a failed rebuild run again from the jobs page meanwhile.
    from docmgmt.errors import InvalidState
    from docmgmt.jobs import operations as ops

    job.state = "failed"
    db.session.commit()
    with pytest.raises(InvalidState, match="already waiting or running"):
        ops.rerun(people["qm"], job)


def test_on_the_postgresql_engine_the_search_jobs_have_nothing_to_do(
    postgres_engine, people, effective_doc
):
    from docmgmt.clock import utcnow
    from docmgmt.jobs.daily import submit_daily
    from docmgmt.jobs.maintenance import submit_drain

    effective_doc(title="服务器引擎标题")
    assert submit_drain() is None
    submit_daily(now=utcnow().replace(hour=1), only="search-check")
    [job] = _jobs("search-check")
    assert job.state == "done" and "Nothing to do" in job.message


# ---------------------------------------------------------------- pruning the job table


def _old_jobs():
    from docmgmt.clock import utcnow
    from docmgmt.jobs.models import Job

    now = utcnow()
    rows = {
        "done": Job(kind="activate", key="activate:old", state="done", finished_dt=now),
        "failed": Job(kind="digest", key="digest:old", state="failed", finished_dt=now),
        "queued": Job(kind="search", key="search:old", state="queued"),
        "running": Job(kind="reindex", key="reindex:old", state="running"),
    }
    db.session.add_all(rows.values())
    db.session.commit()
    return {k: j.id for k, j in rows.items()}


def _left():
    from docmgmt.jobs.models import Job

    db.session.rollback()
    return set(db.session.scalars(select(Job.key)))


def _move_clock(monkeypatch, days):
    from docmgmt import clock

    later = clock.utcnow() + timedelta(days=days)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    return later


def test_flask_jobs_prune_deletes_finished_jobs_past_the_days_kept_only(
    app, runner, people, monkeypatch
):
    _old_jobs()
    r = runner.invoke(args=["jobs", "prune"])
    assert r.exit_code == 0 and r.output.startswith("0 finished job(s)"), r.output
    _move_clock(monkeypatch, 60)
    assert runner.invoke(args=["jobs", "prune"]).output.startswith("0 ")  # 90 days kept
    r = runner.invoke(args=["jobs", "prune", "--days", "30"])
    assert r.output.startswith("2 finished job(s) older than 30 days"), r.output
    assert _left() == {"search:old", "reindex:old"}  # never a queued or running job
    r = runner.invoke(args=["jobs", "prune", "--days", "0"])
    assert r.exit_code == 2 and _left() == {"search:old", "reindex:old"}


def test_the_daily_run_prunes_after_the_configured_days(app, people, monkeypatch):
    from docmgmt.jobs.daily import submit_daily

    app.config["JOB_KEEP_DAYS"] = 10
    _old_jobs()
    later = _move_clock(monkeypatch, 11)
    [job] = submit_daily(now=later.replace(hour=1), only="prune")
    [pruned] = _jobs("prune")
    assert pruned.state == "done" and "2 finished jobs older than 10 days" in pruned.message
    assert _left() == {"search:old", "reindex:old", job.key}
