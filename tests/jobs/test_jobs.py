"""Background jobs (docmgmt/jobs): made once per piece of work, run once however often they
are asked for, taken up again when their worker dies, their effect committed exactly once;
the day's jobs (date activation, the digest mail) once per day. The last test runs real
worker processes and kills one with SIGKILL half-way through an import."""

import csv
import io
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from docmgmt.extensions import db
from tests.control.test_mail import Mailbox, body, mailbox  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[2]


def _import_job(people, rt, n, prefix="J"):
    """An uploaded file of ``n`` rows made into an import job (as the page does for a large
    file), committed, not started."""
    from docmgmt.records import importing

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["工单号", "客户"])
    w.writerows([f"{prefix}-{i}", f"客户{prefix}{i}"] for i in range(n))
    imp, _parsed = importing.upload(people["qm"], rt, "jobs.csv", buf.getvalue().encode())
    imp.external_id_column = "工单号"
    job = importing.submit(imp, people["qm"].id, "skip")
    db.session.commit()
    return imp.id, job.id


def _filed(import_id):
    from docmgmt.records.models import Record

    return db.session.scalar(
        select(func.count()).select_from(Record).where(Record.import_id == import_id)
    )


def _job(job_id):
    from docmgmt.jobs.models import Job

    db.session.expire_all()
    return db.session.get(Job, job_id)


def test_the_same_work_is_one_job_and_runs_once_however_often_it_is_started(app, people, wo_type):
    from docmgmt.jobs import operations as jobs
    from docmgmt.jobs.tasks import run_job
    from docmgmt.records.models import RecordImport

    import_id, job_id = _import_job(people, wo_type, 25)
    again = jobs.submit("import", f"import:{import_id}", {"import_id": import_id})
    assert again.id == job_id
    jobs.start(job_id)
    jobs.start(job_id)  # a second message (a retry, a sweep): nothing left to do
    assert run_job.call_local(job_id) == "skipped"
    job = _job(job_id)
    assert (job.state, job.attempt, job.phase, job.done, job.total) == (
        "done",
        1,
        "filing",
        25,
        25,
    )
    assert "25 records imported" in job.message
    assert db.session.get(RecordImport, import_id).status == "done"
    assert _filed(import_id) == 25


def test_a_job_whose_worker_died_before_its_commit_is_run_again_and_files_each_row_once(
    app, people, wo_type
):
    from docmgmt.clock import utcnow
    from docmgmt.jobs import operations as jobs
    from docmgmt.jobs.models import Job

    import_id, job_id = _import_job(people, wo_type, 30)
    assert jobs.claim(job_id) == 1  # a worker took it ... and was killed: nothing committed
    jobs.start(job_id)
    assert _job(job_id).state == "running" and _filed(import_id) == 0  # its lease still holds
    assert jobs.sweep() == []
    db.session.execute(
        update(Job).where(Job.id == job_id).values(lease_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert jobs.sweep() == [job_id]  # the lease ran out: queued again, run by the next worker
    job = _job(job_id)
    assert (job.state, job.attempt) == ("done", 2)
    assert _filed(import_id) == 30
    jobs.sweep()
    jobs.start(job_id)
    assert _filed(import_id) == 30 and _job(job_id).attempt == 2


def test_an_overtaken_attempt_cannot_commit_its_effect(app, people, wo_type):
    from docmgmt.clock import utcnow
    from docmgmt.jobs import operations as jobs
    from docmgmt.jobs.models import Job

    import_id, job_id = _import_job(people, wo_type, 5)
    assert jobs.claim(job_id) == 1
    db.session.execute(
        update(Job).where(Job.id == job_id).values(lease_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert jobs.claim(job_id) == 2  # the first worker only seemed dead
    with pytest.raises(jobs.Fenced):
        jobs.finish(job_id, 1, "done")
    db.session.rollback()
    jobs.finish(job_id, 2, "done")
    db.session.commit()
    assert _job(job_id).state == "done"


def test_a_failed_job_says_why_and_its_import_files_nothing(app, people, wo_type, monkeypatch):
    from docmgmt.jobs import operations as jobs
    from docmgmt.records import importing
    from docmgmt.records.models import RecordImport

    import_id, job_id = _import_job(people, wo_type, 5)

    def broken(*a, **kw):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(importing, "load", broken)
    jobs.start(job_id)
    job = _job(job_id)
    assert job.state == "failed" and "the administrator can see the detail" in job.message
    imp = db.session.get(RecordImport, import_id)
    assert imp.status == "failed" and imp.message_id == job.message_id
    assert _filed(import_id) == 0


def test_the_import_page_shows_the_progress_kept_in_the_job_row(app, client, auth, people, wo_type):
    from docmgmt.jobs.models import Job

    import_id, job_id = _import_job(people, wo_type, 4500)
    db.session.execute(
        update(Job).where(Job.id == job_id).values(phase="validating", done=2000, total=4500)
    )
    db.session.commit()
    auth.login("qm")
    from tests.conftest import page_text

    text = page_text(client.get(f"/records/imports/{import_id}"))
    assert "Checking the rows" in text and "2000 / 4500" in text


def test_the_days_activation_is_one_job_for_the_cluster_and_activates_once(
    app, people, effective_doc, draft_of, approve, today, monkeypatch
):
    from docmgmt import clock
    from docmgmt.audit.models import AuditEvent
    from docmgmt.jobs.daily import submit_daily
    from docmgmt.jobs.models import Job
    from docmgmt.versioning import publishing
    from docmgmt.versioning.models import Revision, RevisionState

    doc, a0 = effective_doc()
    a1 = approve(draft_of(doc, change_summary="回访", change_number="CR-9"))
    publishing.publish_revision(people["qm"], a1, today + timedelta(days=1))
    db.session.commit()
    later = clock.utcnow() + timedelta(days=1)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    monkeypatch.setattr(publishing, "utcnow", lambda: later)
    # Two workers' schedulers ask, twice each: one job, one activation.
    for _ in range(4):
        submit_daily(now=later, only="activate")
    db.session.expire_all()
    jobs = db.session.scalars(select(Job).where(Job.kind == "activate")).all()
    assert len(jobs) == 1 and jobs[0].state == "done" and jobs[0].attempt == 1
    assert jobs[0].message == "1 revision(s) made effective"
    assert db.session.get(Revision, a1.id).state == RevisionState.EFFECTIVE
    assert db.session.get(Revision, a0.id).state == RevisionState.SUPERSEDED
    activations = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.object_type == "revision", AuditEvent.object_id == a1.id)
        .where(AuditEvent.action == "revision.activate")
    )
    assert activations == 1


def test_the_daily_digest_tells_each_person_what_waits_once_a_day(
    app,
    people,
    effective_doc,
    mailbox,  # noqa: F811
    today,
):
    from docmgmt.jobs.daily import submit_daily
    from docmgmt.training.models import TrainingTask

    doc, a0 = effective_doc()
    db.session.add(
        TrainingTask(
            user_id=people["staff"].id,
            document_id=doc.id,
            revision_id=a0.id,
            due_date=today - timedelta(days=3),
        )
    )
    db.session.commit()
    mailbox.clear()
    from docmgmt.clock import utcnow

    morning = utcnow().replace(hour=1)  # 09:00 in Shanghai: after the digest hour
    submit_daily(now=morning, only="digest")
    submit_daily(now=morning, only="digest")  # asked again: the same job, nothing sent again
    staff = mailbox.to("staff@example.com")
    assert len(staff) == 1, [m["Subject"] for m in staff]
    text = body(staff[0])
    assert "Overdue reading tasks" in text and doc.number in text
    qm = [m for m in mailbox.to("qm@example.com") if "waits for you" in str(m["Subject"])]
    assert len(qm) == 1 and "1 reading tasks overdue" in body(qm[0])


# ---------------------------------------------------------------- real worker processes


def _worker(env, log):
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--threads", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait(predicate, seconds, what):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_with_sigkill_mid_import_is_replaced_and_the_import_files_once(
    app, people, wo_type, tmp_path
):
    """Real worker processes on a SQLite queue: the first stops inside the import's
    transaction (a failpoint) and is SIGKILLed; the second finds the job's lease run out,
    runs it again and files every row once."""
    from docmgmt.jobs import operations as jobs
    from docmgmt.jobs.queue import configure, huey

    queue_file = tmp_path / "queue.sqlite3"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DOCMGMT_ENV": "development",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "DOCMGMT_STORAGE_DIR": app.config["STORAGE_DIR"],
        "DOCMGMT_QUEUE_URL": f"sqlite:///{queue_file}",
        "DOCMGMT_JOB_LEASE_SECONDS": "3",
        "DOCMGMT_SEARCH_BACKEND": app.config.get("SEARCH_BACKEND") or "",
    }
    app.config["QUEUE_URL"] = env["DOCMGMT_QUEUE_URL"]
    configure(app)
    logs = [open(tmp_path / f"worker{i}.log", "w") for i in (1, 2)]  # noqa: SIM115
    first = second = None
    try:
        import_id, job_id = _import_job(people, wo_type, 300)
        stop = {"DOCMGMT_FAILPOINT": "import", "DOCMGMT_FAILPOINT_SECONDS": "300"}
        first = _worker({**env, **stop}, logs[0])
        jobs.start(job_id)
        _wait(lambda: _job(job_id).state == "running", 60, "the first worker to claim the job")
        # Every row checked (on SQLite the filing phase's progress waits for the commit).
        _wait(lambda: _job(job_id).done == 300, 60, "the rows to be checked")
        time.sleep(1.5)  # now inside its transaction, at the failpoint before the commit
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        assert _filed(import_id) == 0
        second = _worker(env, logs[1])
        _wait(lambda: _job(job_id).state == "done", 90, "the second worker to finish the job")
        job = _job(job_id)
        assert job.attempt == 2 and _filed(import_id) == 300
        from docmgmt.records.models import Record

        numbers = db.session.scalars(
            select(Record.external_id).where(Record.import_id == import_id)
        ).all()
        assert len(set(numbers)) == 300
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(20)
        for f in logs:
            f.close()
        app.config["QUEUE_URL"] = ""
        configure(app)
        assert huey.immediate


def test_a_large_import_through_the_api_is_a_job_whose_progress_and_outcome_can_be_polled(
    app, client, people, token_for, wo_type
):
    from docmgmt.jobs.models import Job
    from docmgmt.records import importing

    n = importing.BACKGROUND_ROWS + 1
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["工单号", "客户"])
    w.writerows([f"A-{i}", f"客户A{i}"] for i in range(n))
    qm = token_for(people["qm"])
    up = client.post(
        "/api/v1/record-types/WO/imports",
        data={"file": (io.BytesIO(buf.getvalue().encode()), "big.csv")},
        headers=qm,
    )
    assert up.status_code == 201, up.get_json()
    import_id = up.get_json()["id"]
    run = client.post(
        f"/api/v1/imports/{import_id}/run",
        json={"mode": "skip", "external_id_column": "工单号"},
        headers=qm,
    )
    assert run.status_code == 200, run.get_json()
    job = db.session.scalar(select(Job).where(Job.key == f"import:{import_id}"))
    assert job is not None and job.state == "done"  # the tests' queue runs it at once
    got = client.get(f"/api/v1/imports/{import_id}", headers=qm).get_json()
    assert got["status"] == "done" and got["imported"] == n and got["progress"] is None
    again = client.post(f"/api/v1/imports/{import_id}/run", json={"mode": "skip"}, headers=qm)
    assert again.status_code == 409 and "already run" in again.get_json()["message"]
    assert _filed(import_id) == n
