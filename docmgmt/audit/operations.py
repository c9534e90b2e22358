"""Writing to the audit trail. Called by every operation that changes something."""

from datetime import date, datetime
from enum import Enum

from flask import has_request_context, request
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from docmgmt.audit.chain import anchors_path, append_anchor, chain_head, hash_of, write_seal
from docmgmt.audit.models import AuditEvent
from docmgmt.clock import local_today, utcnow
from docmgmt.extensions import db

_HEAD = "audit_chain_head"
_SEALED = "audit_sealed"
# The local day this process last anchored the seal, per anchor file (see chain.py).
_anchored_day: dict[str, str] = {}


def _plain(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def log_event(
    actor,
    action: str,
    obj=None,
    summary: str = "",
    before: dict | None = None,
    after: dict | None = None,
    now: datetime | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
) -> AuditEvent:
    ip = ""
    if has_request_context():
        ip = request.remote_addr or ""
    session = db.session()
    head = session.info.get(_HEAD)
    if head is None:
        head = chain_head(session)
    seq, prev = head[0] + 1, head[1]
    event = AuditEvent(
        seq=seq,
        prev_hash=prev,
        occurred_dt=now or utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "full_name", "") or "",
        action=action,
        object_type=object_type or (obj.__tablename__ if obj is not None else ""),
        object_id=object_id if object_id is not None else getattr(obj, "id", None),
        summary=summary,
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
        ip_address=ip,
    )
    event.hash = hash_of(event)
    session.info[_HEAD] = (seq, event.hash)
    db.session.add(event)
    mac = write_seal(session, seq, event.hash, event.occurred_dt)
    session.info[_SEALED] = {"seq": seq, "hash": event.hash, "mac": mac}
    return event


def anchor_now(session=None) -> dict:
    """Append the committed seal to the anchor file (``flask audit anchor``, daily cron)."""
    from docmgmt.audit.chain import seal_to_anchor

    seal = seal_to_anchor(session or db.session)
    line = append_anchor(seal, local_today().isoformat())
    _anchored_day[str(anchors_path())] = line["date"]
    return line


@sa_event.listens_for(Session, "after_commit")
def _anchor_daily(session):
    """The first commit of each local day that writes an event anchors the seal outside the
    database, so a cut made later that day or after is found even with the seal moved back."""
    sealed = session.info.pop(_SEALED, None)
    if sealed is None:
        return
    day = local_today().isoformat()
    try:
        path = str(anchors_path())
        if _anchored_day.get(path) == day:
            return
        append_anchor(sealed, day)
        _anchored_day[path] = day
    except OSError:  # never fail a committed change; the next commit tries again
        from flask import current_app

        current_app.logger.exception("could not write the audit anchor")


@sa_event.listens_for(Session, "after_commit")
@sa_event.listens_for(Session, "after_rollback")
def _forget_head(session, *args):
    # The next transaction takes the lock again and reads the head afresh.
    session.info.pop(_HEAD, None)


@sa_event.listens_for(Session, "after_rollback")
def _forget_seal(session, *args):
    session.info.pop(_SEALED, None)
