"""The daily digest: one mail a day to each person of what waits for them (overdue reading
tasks, periodic reviews due, controlled copies to return) and to the quality managers of what
falls due this week. Sent by the day's "digest" job (once per cluster per day); each person's
choices apply (a kind turned off is left out of their digest). The day's earlier notices
(reviews coming due, the next audit) go out in the same run (control/reminders.py)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from docmgmt.clock import local_today
from docmgmt.extensions import db
from docmgmt.notify import (
    Delivery,
    Event,
    NoticeSent,
    _deliver,
    _render,
    preferences,
    quality_managers,
)


def _lines(user, today: date, week_end: date, reviews, copies, tasks, qms) -> list[str]:
    prefs = preferences(user)
    out = []
    if prefs[Event.TRAINING] != Delivery.OFF:
        mine = [t for t in tasks if t.user_id == user.id]
        if mine:
            out.append(_("Overdue reading tasks:"))
            out += [
                f"  - {t.revision.document.number} {t.revision.version} "
                f"{t.revision.document.title} ({_('due %(d)s', d=t.due_date.isoformat())})"
                for t in mine
            ]
    if prefs[Event.REVIEW_DUE] != Delivery.OFF:
        owned = [(d, due) for d, due in reviews if due <= today and _owns(user, d)]
        if owned:
            out.append(_("Periodic reviews due:"))
            out += [f"  - {d.number} {d.title} ({due.isoformat()})" for d, due in owned]
    if prefs[Event.COPY_RECALL] != Delivery.OFF:
        held = [c for c in copies if c.holder_id == user.id]
        if held:
            out.append(_("Controlled copies to return:"))
            out += [f"  - {c.label}" for c in held]
    if user.id in qms and prefs[Event.REVIEW_DUE] != Delivery.OFF:
        week = [(d, due) for d, due in reviews if today <= due <= week_end]
        late = list(tasks)
        if week or late or copies:
            out.append(_("Due this week (quality manager):"))
            out += [f"  - {d.number} {d.title}: {due.isoformat()}" for d, due in week]
            if late:
                out.append("  - " + _("%(n)d reading tasks overdue", n=len(late)))
            if copies:
                out.append("  - " + _("%(n)d controlled copies to recall", n=len(copies)))
    return out


def _owns(user, doc) -> bool:
    from docmgmt.auth.models import Role

    return user.has_role(Role.QUALITY_MANAGER) or getattr(doc, "owner_id", None) == user.id


def send_digests(today: date | None = None, progress=None) -> int:
    """Mail each active person their digest, once per day (NoticeSent "digest:<day>:<user>");
    returns how many were sent. Nothing is marked sent while mail is off (no SMTP_HOST)."""
    from docmgmt.auth.models import User
    from docmgmt.control.operations import review_due_date
    from docmgmt.control.reminders import daily_notices
    from docmgmt.printing.operations import due_for_recall
    from docmgmt.training.models import TaskState, TrainingTask
    from docmgmt.versioning.models import Document

    today = today or local_today()
    daily_notices(today)
    if not current_app.config.get("SMTP_HOST"):
        return 0
    week_end = today + timedelta(days=7)
    reviews = []
    for doc in db.session.scalars(select(Document).where(Document.is_obsolete.is_(False))):
        due = review_due_date(doc)
        if due is not None and due <= week_end:
            reviews.append((doc, due))
    copies = due_for_recall()
    tasks = db.session.scalars(
        select(TrainingTask)
        .where(TrainingTask.state == TaskState.OPEN, TrainingTask.due_date < today)
        .order_by(TrainingTask.due_date)
    ).all()
    users = db.session.scalars(select(User).order_by(User.id)).all()
    qms = {u.id for u in quality_managers()}
    sent = 0
    for i, user in enumerate(users):
        if progress:
            progress("mailing", i, len(users))
        if not user.is_active or not user.email:
            continue
        key = f"digest:{today.isoformat()}:{user.id}"
        if db.session.get(NoticeSent, key) is not None:
            continue
        args = (user, today, week_end, reviews, copies, tasks, qms)
        if not _lines(*args):
            continue
        db.session.add(NoticeSent(key=key))
        # Written in the recipient's language; the kinds they turned off are left out above.
        _deliver(
            user,
            _render(
                user,
                lambda: _("What waits for you on %(d)s", d=today.isoformat()),
                lambda args=args: "\n".join(str(x) for x in _lines(*args)),
                ("main.index", {}),
            ),
        )
        sent += 1
    if progress:
        progress("mailing", len(users), len(users))
    db.session.flush()
    return sent
