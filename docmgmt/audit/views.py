"""The audit trail page: newest first, filterable by action, person and object."""

from flask import render_template, request
from flask_login import current_user, login_required
from sqlalchemy import func, select

from docmgmt.audit import bp, labels
from docmgmt.audit.models import AuditEvent
from docmgmt.auth.permissions import can_read_audit, require
from docmgmt.auth.scope import scoped
from docmgmt.extensions import db
from docmgmt.sqltext import contains, starts_with

PAGE_SIZE = 50


@bp.get("/")
@login_required
def trail():
    require(can_read_audit(current_user))
    stmt = scoped(select(AuditEvent), current_user, AuditEvent)
    action = request.args.get("action", "").strip()
    actor = request.args.get("actor", "").strip()
    object_type = request.args.get("object_type", "").strip()
    object_id = request.args.get("object_id", type=int)
    if action:
        stmt = stmt.where(starts_with(AuditEvent.action, action))
    if actor:
        stmt = stmt.where(contains(AuditEvent.actor_name, actor))
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    page = max(1, request.args.get("page", 1, type=int))
    events = db.session.scalars(
        stmt.order_by(AuditEvent.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return render_template(
        "audit/trail.html",
        events=events,
        objects=labels.object_labels(events),
        action_label=labels.action_label,
        changes=labels.changes,
        action_choices=sorted(
            ((code, str(text)) for code, text in labels.ACTIONS.items()), key=lambda c: c[1]
        ),
        object_choices=sorted(
            ((code, str(text)) for code, text in labels.OBJECTS.items()), key=lambda c: c[1]
        ),
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        filters={
            "action": action,
            "actor": actor,
            "object_type": object_type,
            "object_id": object_id or "",
        },
    )


@bp.get("/verify")
@login_required
def verify_chain():
    """Whether the hash chain is intact and, if not, the first event that breaks it."""
    from docmgmt.audit.chain import verify

    require(can_read_audit(current_user))
    result = verify(db.session)
    bad = db.session.scalar(
        scoped(select(AuditEvent), current_user, AuditEvent).where(
            AuditEvent.id == result.first_bad_id
        )
    )
    return render_template("audit/verify.html", result=result, bad=bad)
