"""The queue's tasks: "run job N", the sweeper, and the daily work (once per day per cluster:
the day's job key is unique, so every worker's scheduler may ask and one job runs)."""

from __future__ import annotations

import logging

from flask import current_app, has_app_context
from huey import crontab

from docmgmt.extensions import db
from docmgmt.jobs.queue import huey

log = logging.getLogger(__name__)

_app = None  # the worker's app (flask jobs worker sets it)


def set_app(app) -> None:
    global _app
    _app = app


def _the_app():
    if _app is not None:
        return _app
    if has_app_context():  # immediate mode: the process that asked
        return current_app._get_current_object()
    from docmgmt import create_app

    set_app(create_app())
    return _app


@huey.task()
def run_job(job_id: int) -> str:
    from docmgmt.jobs.operations import execute

    # A context (and database session) of its own, also in immediate mode inside a request.
    with _the_app().app_context():
        try:
            return execute(job_id)
        finally:
            db.session.remove()


@huey.periodic_task(crontab(minute="*"))
def sweep_jobs() -> None:
    from docmgmt.jobs.operations import sweep

    with _the_app().app_context():
        try:
            sweep()
        finally:
            db.session.remove()


@huey.periodic_task(crontab(minute="*"))
def search_jobs() -> None:
    """Each minute that changes wait in the search outbox (the embedded engine), one "search"
    job drains it; its key names the minute, so however many workers ask, one job runs."""
    from docmgmt.jobs.maintenance import submit_drain

    with _the_app().app_context():
        try:
            submit_drain()
        finally:
            db.session.remove()


@huey.periodic_task(crontab(minute="*/10"))
def daily_jobs() -> None:
    """Every ten minutes each worker asks for today's jobs; the first ask of the day makes them,
    the others find them made (docmgmt/jobs/daily.py)."""
    from docmgmt.jobs.daily import submit_daily

    with _the_app().app_context():
        try:
            submit_daily()
        finally:
            db.session.remove()
