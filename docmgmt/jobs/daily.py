"""The day's jobs: date activation just after midnight, pruning the job table and checking the
search index in the night, the digest mail in the morning (all in the company's time zone).
Each is one job per calendar day for the whole cluster."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from docmgmt.clock import company_tz, utcnow
from docmgmt.extensions import db


def schedule() -> dict[str, int]:
    """kind -> the hour (company time) from which the day's job is due."""
    return {
        "activate": 0,
        "prune": 2,
        "search-check": 3,
        "digest": int(current_app.config.get("DIGEST_HOUR", 7)),
    }


KINDS = ("activate", "prune", "search-check", "digest")


def submit_daily(now: datetime | None = None, only: str | None = None) -> list:
    """Make (and start) each daily job that is due and not yet made today; returns the jobs."""
    from docmgmt.jobs import operations as jobs

    local = (now or utcnow()).astimezone(company_tz())
    made = []
    for kind, hour in schedule().items():
        if (only and kind != only) or local.hour < hour:
            continue
        job = jobs.submit(kind, f"{kind}:{local.date().isoformat()}", {"day": str(local.date())})
        db.session.commit()
        if job.state == "queued":
            jobs.start(job.id)
        made.append(job)
    return made
