"""The daily notices: periodic reviews coming due and the next certification audit.

Nobody acts when a date comes near, so a daily run (``flask --app wsgi notify daily`` from
cron; the job queue will schedule it) mails the quality managers.  Each notice goes out once:
the key of what was announced (document and due date, certificate, due date and kind of
audit) is kept in notice_sent.
"""

from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from docmgmt.clock import local_today
from docmgmt.extensions import db
from docmgmt.notify import Event, NoticeSent, notify, quality_managers

#: A periodic review is announced this many days before it is due (and when overdue).
REVIEW_NOTICE_DAYS = 30


def _once(key: str) -> bool:
    """True the first time ``key`` is seen (and remembers it)."""
    if db.session.get(NoticeSent, key) is not None:
        return False
    db.session.add(NoticeSent(key=key))
    return True


def daily_notices(today: date | None = None) -> dict:
    from docmgmt.certification import operations as cert_ops
    from docmgmt.control.operations import review_due_date
    from docmgmt.versioning.models import Document

    today = today or local_today()
    counts = {"review_due": 0, "surveillance_due": 0}
    if not current_app.config.get("SMTP_HOST"):
        return counts  # nothing is mailed, so nothing is marked as announced either
    managers = quality_managers()
    docs = db.session.scalars(
        select(Document).where(Document.is_obsolete.is_(False)).order_by(Document.number)
    ).all()
    for doc in docs:
        due = review_due_date(doc)
        if due is None or due > today + timedelta(days=REVIEW_NOTICE_DAYS):
            continue
        if not _once(f"review_due:{doc.id}:{due.isoformat()}"):
            continue
        counts["review_due"] += 1
        for qm in managers:
            notify(
                qm,
                Event.REVIEW_DUE,
                lambda doc=doc, due=due: _(
                    "Periodic review of %(n)s due %(d)s", n=doc.number, d=due.isoformat()
                ),
                lambda doc=doc, due=due: _(
                    "The periodic review of %(n)s %(t)s is due on %(d)s (%(days)d days from "
                    "today). Record whether it is still suitable, or request a change.",
                    n=doc.number,
                    t=doc.title,
                    d=due.isoformat(),
                    days=(due - today).days,
                ),
                link=("versioning.document", {"doc_id": doc.id}),
            )
    cert = cert_ops.current_certificate()
    if cert is not None:
        s = cert_ops.schedule(cert, today)
        if s["status"] != "ok" and _once(f"audit_due:{cert.id}:{s['due'].isoformat()}:{s['kind']}"):
            counts["surveillance_due"] += 1
            for qm in managers:
                notify(
                    qm,
                    Event.SURVEILLANCE_DUE,
                    lambda: (
                        _("Recertification audit due %(d)s", d=s["due"].isoformat())
                        if s["kind"] == "recertification"
                        else _("Surveillance audit due %(d)s", d=s["due"].isoformat())
                    ),
                    lambda: _(
                        "Certificate %(c)s (%(b)s): the next audit is due on %(d)s, %(days)d "
                        "days from today. Agree the date with the certification body and "
                        "prepare the evidence pack.",
                        c=cert.number,
                        b=cert.body,
                        d=s["due"].isoformat(),
                        days=s["days_left"],
                    ),
                    link=("certification.index", {}),
                )
    return counts
