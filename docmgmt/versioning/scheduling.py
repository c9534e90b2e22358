"""Date-driven activation: a scheduled revision takes effect on its day with nobody acting.

The first requests of that day (and the daily CLI command) find it due. Each due revision is
made effective in its own short transaction, committed here because no one's request asked for
it, and never in the transaction of the request that happened to come first: a read must not
fail, or wait long, because of the date. Requests race for the claim (a compare-and-set in
``operations.activate_if_due``); the loser rolls back only its attempt and reads on. The
effects (supersession, training tasks, recall of copies, search outbox, audit events) belong
to the one transaction that won, so they happen exactly once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from docmgmt.extensions import db

log = logging.getLogger(__name__)

# What losing the race looks like: the row was changed under us, a unique index saw the
# winner's row, or (SQLite) the winner held the write lock.
RACE_LOST = (StaleDataError, IntegrityError, DBAPIError)


def apply_due_revisions(now: datetime | None = None) -> list:
    """Activate every due revision, each in its own transaction; returns those this call made
    effective. Never raises for a lost race or a failed activation: it is logged, rolled back
    and tried again by the next request."""
    from docmgmt.versioning import publishing

    due = publishing.due_revision_ids(now)
    if not due:
        return []
    done = []
    for rev_id in due:
        # Start clean: nothing of the request may ride along in the activation's transaction.
        db.session.rollback()
        try:
            rev = publishing.activate_if_due(rev_id, now)
            if rev is None:
                db.session.rollback()
                continue
            label = f"{rev.document.number} {rev.version}"
            db.session.commit()
            done.append(rev)
            log.info("revision %s made effective on its date", label)
        except RACE_LOST as exc:
            db.session.rollback()
            log.info("revision %s: activation left to another request (%s)", rev_id, type(exc))
        except Exception:
            db.session.rollback()
            log.exception("revision %s could not be made effective; next request retries", rev_id)
    return done


def apply_due_revisions_on_request() -> list:
    """The request hook's activation: :func:`apply_due_revisions`, except that once a look
    found nothing due, this app looks no more that day (a query saved on every request).

    Nothing can fall due later the same day: publishing for today makes a revision effective
    at once, and a schedule is always for a later day. Reads never depend on activation (the
    revision in force is decided by its date) and the daily job activates for the whole
    cluster, so even a revision scheduled at midnight by a slow request is only made effective
    by the job instead. A failed or lost activation leaves the look to the next request, and
    a revision's date or state set in this process (publishing, or by hand) brings it back."""
    from flask import current_app

    from docmgmt.clock import local_today
    from docmgmt.versioning import publishing

    today = local_today()
    seen = current_app.extensions.setdefault(_SEEN, {})
    if seen.get("nothing_due_on") == today:
        return []
    if not publishing.due_revision_ids():
        seen["nothing_due_on"] = today
        return []
    return apply_due_revisions()


_SEEN = "docmgmt.activation"


def _look_again(target, value, oldvalue, initiator):
    from flask import current_app, has_app_context

    if has_app_context():
        current_app.extensions.get(_SEEN, {}).pop("nothing_due_on", None)


def _watch_dates() -> None:
    from sqlalchemy import event

    from docmgmt.versioning.models import Revision

    for attr in (Revision.effective_date, Revision.state):
        if not event.contains(attr, "set", _look_again):
            event.listen(attr, "set", _look_again)


_watch_dates()
