"""The background jobs page (quality managers and administrators): the newest jobs, their
state and progress, and a failed one run again."""

from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from docmgmt.auth.permissions import can_see_jobs, require
from docmgmt.errors import DomainError, NotFound, undo
from docmgmt.extensions import db
from docmgmt.jobs import bp, labels
from docmgmt.jobs import operations as ops
from docmgmt.jobs.maintenance import RERUNNABLE
from docmgmt.jobs.models import STATES, Job
from docmgmt.jobs.said import text_of
from docmgmt.redirects import redirect_back

PAGE_SIZE = 50


@bp.get("/")
@login_required
def page():
    require(can_see_jobs(current_user))
    state = request.args.get("state", "")
    stmt = select(Job)
    if state in STATES:
        stmt = stmt.where(Job.state == state)
    else:
        state = ""
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    page_no = min(max(1, request.args.get("page", 1, type=int)), pages)
    rows = db.session.scalars(
        stmt.order_by(Job.id.desc()).offset((page_no - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return render_template(
        "jobs/page.html",
        jobs=rows,
        state=state,
        states=[(s, labels.state_label(s)) for s in STATES],
        total=total,
        page=page_no,
        pages=pages,
        kind_label=labels.kind_label,
        state_label=labels.state_label,
        phase_label=labels.phase_label,
        message_of=text_of,
        rerunnable=RERUNNABLE,
    )


@bp.post("/<int:job_id>/run-again")
@login_required
def rerun(job_id):
    job = db.session.get(Job, job_id)
    if job is None:
        raise NotFound(_("Not found."))
    try:
        ops.rerun(current_user, job)
        db.session.commit()
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
        return redirect_back(request.form.get("next"), url_for("jobs.page"), 303)
    ops.start(job_id)
    flash(_("The job is queued again."), "success")
    # Back to the list the button was on (its filter and page), when that is a page of ours.
    return redirect_back(request.form.get("next"), url_for("jobs.page"), 303)
