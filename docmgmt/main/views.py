"""Start page with the user's inbox, and the health check."""

from flask import current_app, jsonify, render_template
from flask_login import current_user, login_required
from sqlalchemy import or_, select, text

from docmgmt.auth.models import Department, Role
from docmgmt.auth.permissions import can_manage_documents
from docmgmt.extensions import db
from docmgmt.main import bp
from docmgmt.versioning.models import Document, Revision, RevisionState, SignatureMeaning


def inbox_for(user) -> dict:
    """What waits for this user: signatures to give, procedures to read and sign for and, for
    quality managers, their drafts."""
    waiting = db.session.scalars(
        select(Revision)
        .where(
            Revision.state == RevisionState.IN_REVIEW,
            or_(Revision.reviewer_id == user.id, Revision.approver_id == user.id),
        )
        .order_by(Revision.submitted_dt)
    ).all()
    to_sign = []
    for rev in waiting:
        signed = rev.current_signatures()
        if SignatureMeaning.REVIEWED not in signed and rev.reviewer_id == user.id:
            to_sign.append((rev, SignatureMeaning.REVIEWED))
        elif (
            SignatureMeaning.REVIEWED in signed
            and rev.approver_id == user.id
            and (SignatureMeaning.APPROVED not in signed)
        ):
            to_sign.append((rev, SignatureMeaning.APPROVED))
    mine = {}
    if can_manage_documents(user):
        mine = {
            "drafts": db.session.scalars(
                select(Revision)
                .where(Revision.state == RevisionState.DRAFT)
                .order_by(Revision.created_dt)
            ).all(),
            "in_review": db.session.scalars(
                select(Revision)
                .where(Revision.state == RevisionState.IN_REVIEW)
                .order_by(Revision.submitted_dt)
            ).all(),
            "to_publish": db.session.scalars(
                select(Revision).where(
                    Revision.state == RevisionState.APPROVED, Revision.effective_date.is_(None)
                )
            ).all(),
            "scheduled": db.session.scalars(
                select(Revision)
                .where(
                    Revision.state == RevisionState.APPROVED, Revision.effective_date.is_not(None)
                )
                .order_by(Revision.effective_date)
            ).all(),
        }
    from docmgmt.control.models import ChangeRequest

    requests = db.session.scalars(
        select(ChangeRequest)
        .where(ChangeRequest.requester_id == user.id)
        .order_by(ChangeRequest.id.desc())
        .limit(10)
    ).all()
    from docmgmt.control.operations import withdrawals_waiting_for
    from docmgmt.training.operations import open_tasks_of

    return {
        "to_sign": to_sign,
        # Read and understood: the person's open tasks, overdue first (earliest due first).
        "to_read": open_tasks_of(user),
        "my_requests": requests,
        "withdrawals": withdrawals_waiting_for(user),
        **mine,
    }


def instance_is_empty() -> bool:
    """No documents and no departments: the company is not set up yet (one query, and none
    once this app has seen data: an instance with data does not become empty again)."""
    if current_app.extensions.get("docmgmt.has_data"):
        return False
    has = db.session.scalar(
        select(or_(select(Document.id).exists(), select(Department.id).exists()))
    )
    current_app.extensions["docmgmt.has_data"] = bool(has)
    return not has


@bp.get("/")
@login_required
def index():
    empty = instance_is_empty()
    return render_template(
        "main/index.html",
        inbox=inbox_for(current_user),
        not_set_up=empty,
        can_set_up=empty and current_user.has_role(Role.ADMIN),
    )


@bp.get("/ping")
@login_required
def ping():
    """The floor of the stack for the load figures (README): the session's user is read (one
    row) and a minimal template rendered, through every request hook like any page."""
    return render_template("main/ping.html")


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        return jsonify({"status": "ok", "database": "ok"})
    except Exception:  # report, do not crash: this is what load balancers poll
        db.session.rollback()
        return jsonify({"status": "error", "database": "unreachable"}), 503
