"""The daily digest: one mail a day to each person of what waits for them (overdue reading
tasks, periodic reviews due, controlled copies to return) and to the quality managers of what
falls due this week. Sent by the day's "digest" job (once per cluster per day); each person's
choices apply (a kind turned off is left out of their digest), and the notices of the kinds
they chose to hear of "in the daily digest" (notify.PendingNotice) follow the other sections.
The day's earlier notices (reviews coming due, the next audit) go out in the same run
(control/reminders.py)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from docmgmt.clock import local_today
from docmgmt.extensions import db
from docmgmt.notify import (
    Delivery,
    Event,
    NoticeSent,
    PendingNotice,
    _deliver,
    _render,
    page_url,
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


def _kept_lines(notices) -> list[str]:
    """The notices kept for the digest (each already in the recipient's language)."""
    if not notices:
        return []
    out = [_("Other notices since the last digest:")]
    for n in notices:
        out.append(f"  - {n.subject}")
        out += [f"    {line}" if line else "" for line in n.body.splitlines()]
        if n.link:
            out.append("    " + (page_url(n.link) or n.link))
    return out


def _owns(user, doc) -> bool:
    from docmgmt.auth.models import Role

    return user.has_role(Role.QUALITY_MANAGER) or getattr(doc, "owner_id", None) == user.id


def _forget(notices) -> None:
    ids = [n.id for n in notices]
    for i in range(0, len(ids), 500):
        db.session.execute(delete(PendingNotice).where(PendingNotice.id.in_(ids[i : i + 500])))


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
    kept: dict[int, list] = {}
    for n in db.session.scalars(select(PendingNotice).order_by(PendingNotice.id)):
        kept.setdefault(n.user_id, []).append(n)
    sent = 0
    for i, user in enumerate(users):
        if progress:
            progress("mailing", i, len(users))
        notices = kept.get(user.id, [])
        if not user.is_active or not user.email:
            _forget(notices)  # nobody to mail them to any more
            continue
        key = f"digest:{today.isoformat()}:{user.id}"
        if db.session.get(NoticeSent, key) is not None:
            continue  # today's digest went out; what was kept since waits for tomorrow's
        args = (user, today, week_end, reviews, copies, tasks, qms)
        if not _lines(*args) and not notices:
            continue
        db.session.add(NoticeSent(key=key))
        # Written in the recipient's language; the kinds they turned off are left out above.
        # The kept notices are deleted in the transaction that queues the mail (the job's):
        # a repeated run finds them gone and the day's digest marked sent.
        _deliver(
            user,
            _render(
                user,
                lambda: _("What waits for you on %(d)s", d=today.isoformat()),
                lambda args=args, notices=notices: "\n".join(
                    str(x) for x in _lines(*args) + _kept_lines(notices)
                ),
                ("main.index", {}),
            ),
        )
        _forget(notices)
        sent += 1
    if progress:
        progress("mailing", len(users), len(users))
    db.session.flush()
    return sent
