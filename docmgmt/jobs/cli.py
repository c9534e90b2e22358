"""`flask jobs …`: the worker, and what the jobs are doing."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from docmgmt.extensions import db

jobs_cli = AppGroup("jobs", help="Background jobs: the worker and the job table.")


@jobs_cli.command("worker")
@click.option("--threads", default=2, show_default=True, help="Jobs run at the same time.")
@click.option(
    "--no-periodic", is_flag=True, help="Leave the sweeper and the daily jobs to other workers."
)
def worker(threads, no_periodic):
    """Run jobs from the queue until stopped (SIGTERM/SIGINT). Any number may run, on any
    machine that reaches the database, the broker and the file store."""
    import logging

    from docmgmt.jobs import operations as ops
    from docmgmt.jobs.queue import describe, huey
    from docmgmt.jobs.tasks import set_app

    if huey.immediate:
        raise click.ClickException("DOCMGMT_QUEUE_URL=immediate runs jobs in place: no worker")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = current_app._get_current_object()
    set_app(app)
    click.echo(f"worker: {describe()}, {threads} thread(s), lease {ops.lease_seconds()} s")
    ops.sweep()  # jobs left by a worker that died: queued again once their lease ran out
    db.session.remove()
    consumer = huey.create_consumer(
        workers=threads, worker_type="thread", periodic=not no_periodic, check_worker_health=True
    )
    consumer.run()


@jobs_cli.command("list")
@click.option("--limit", default=20, show_default=True)
def list_jobs(limit):
    """The newest jobs: state, progress, attempts."""
    from docmgmt.jobs.models import Job

    for j in db.session.scalars(select(Job).order_by(Job.id.desc()).limit(limit)):
        click.echo(
            f"{j.id:>6} {j.key:<32} {j.state:<8} {j.phase} {j.done}/{j.total} "
            f"attempt {j.attempt} {j.message[:60]}"
        )


@jobs_cli.command("sweep")
def sweep_cmd():
    """Queue again the jobs whose worker is gone or whose message was lost."""
    from docmgmt.jobs.operations import sweep

    click.echo(f"{len(sweep())} job(s) queued again")


@jobs_cli.command("daily")
@click.option(
    "--only", type=click.Choice(["activate", "prune", "search-check", "digest"]), default=None
)
def daily_cmd(only):
    """Ask now for today's jobs (date activation, pruning the job table, checking the search
    index, digest mail) that are due at this hour; the workers' scheduler does this on its own.
    Each runs once per day, however often it is asked."""
    from docmgmt.jobs.daily import submit_daily

    for job in submit_daily(only=only):
        click.echo(f"{job.key}: {job.state}")


@jobs_cli.command("read-attachments")
def read_attachments():
    """Read the text of every attachment filed before text recognition came (records, change
    requests, training sessions): one job each, as for a new attachment. Run it once after
    upgrading; asking again finds nothing left to do."""
    from docmgmt.extract import recognition

    ids = recognition.backfill()
    db.session.commit()
    for job_id in ids:
        recognition.start(job_id)
    click.echo(f"{len(ids)} attachment(s) to read")


@jobs_cli.command("prune")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Keep the jobs finished in these last days (default DOCMGMT_JOB_KEEP_DAYS, 90).",
)
def prune_cmd(days):
    """Delete finished jobs (done or failed) older than the days kept; never a queued or
    running one. The daily run does the same."""
    from docmgmt.jobs.maintenance import keep_days, prune

    n = prune(days)
    db.session.commit()
    click.echo(f"{n} finished job(s) older than {days or keep_days()} days deleted")
