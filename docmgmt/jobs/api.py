"""Background jobs through the API: the newest jobs, one job, a failed one run again (quality
managers and administrators)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from docmgmt.api.auth import api_user, require_token
from docmgmt.auth.permissions import can_see_jobs, require
from docmgmt.errors import NotFound
from docmgmt.extensions import db
from docmgmt.jobs import labels
from docmgmt.jobs import operations as ops
from docmgmt.jobs.maintenance import RERUNNABLE
from docmgmt.jobs.models import STATES, Job
from docmgmt.jobs.said import text_of

blp = Blueprint(
    "jobs_api",
    __name__,
    url_prefix="/api/v1/jobs",
    description="Background jobs: imports, evidence packs, daily work, search maintenance",
)
blp.before_request(require_token)


class JobQuery(Schema):
    state = fields.Str(load_default=None, validate=validate.OneOf(STATES))
    kind = fields.Str(load_default=None)
    limit = fields.Int(load_default=50, validate=validate.Range(1, 500))


class JobOut(Schema):
    id = fields.Int()
    kind = fields.Str()
    kind_label = fields.Function(lambda j: labels.kind_label(j.kind))
    key = fields.Str(metadata={"description": "the work the job does, once (e.g. import:12)"})
    state = fields.Str(metadata={"description": "queued, running, done or failed"})
    state_label = fields.Function(lambda j: labels.state_label(j.state))
    phase = fields.Str()
    phase_label = fields.Function(lambda j: labels.phase_label(j.phase))
    done = fields.Int()
    total = fields.Int()
    attempt = fields.Int(metadata={"description": "how many times a worker took the job"})
    message = fields.Function(
        lambda j: text_of(j), metadata={"description": "in the caller's language when it can be"}
    )
    created = fields.DateTime(attribute="created_dt")
    started = fields.DateTime(attribute="started_dt", allow_none=True)
    finished = fields.DateTime(attribute="finished_dt", allow_none=True)
    can_run_again = fields.Function(
        lambda j: j.state == "failed" and j.kind in RERUNNABLE,
        metadata={"type": "boolean"},
    )


def _job(job_id: int) -> Job:
    require(can_see_jobs(api_user()))
    job = db.session.get(Job, job_id)
    if job is None:
        raise NotFound(_("Not found."))
    return job


@blp.get("")
@blp.arguments(JobQuery, location="query")
@blp.response(200, JobOut(many=True))
def list_jobs(args):
    """The newest jobs first (quality managers and administrators)."""
    require(can_see_jobs(api_user()))
    stmt = select(Job).order_by(Job.id.desc()).limit(args["limit"])
    if args["state"]:
        stmt = stmt.where(Job.state == args["state"])
    if args["kind"]:
        stmt = stmt.where(Job.kind == args["kind"])
    return db.session.scalars(stmt).all()


@blp.get("/<int:job_id>")
@blp.response(200, JobOut)
def get_job(job_id):
    """One job: its state, progress, attempts and message."""
    return _job(job_id)


@blp.post("/<int:job_id>/run-again")
@blp.response(200, JobOut)
def rerun_job(job_id):
    """Queue a failed job again (the daily work, search maintenance; an import, a pack or a
    text recognition is retried where it belongs: 409). Audited."""
    job = _job(job_id)
    ops.rerun(api_user(), job)
    db.session.commit()
    ops.start(job_id)
    db.session.expire_all()
    return db.session.get(Job, job_id)
