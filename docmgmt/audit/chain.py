"""The audit trail as a hash chain: each event carries the SHA-256 of its own content and of
the event before it, so changing, removing or inserting an event anywhere breaks every hash
after it, and `flask --app wsgi audit verify` names the first event that no longer fits."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update

GENESIS = "0" * 64
LOCK_STEM = "audit-chain"


def _utc(dt: datetime | None) -> str:
    if dt is None:
        return ""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def event_hash(
    seq,
    prev_hash,
    occurred_dt,
    actor_id,
    actor_name,
    action,
    object_type,
    object_id,
    summary,
    before,
    after,
    ip_address,
) -> str:
    payload = {
        "seq": seq,
        "prev": prev_hash,
        "at": _utc(occurred_dt),
        "actor_id": actor_id,
        "actor": actor_name or "",
        "action": action,
        "object_type": object_type or "",
        "object_id": object_id,
        "summary": summary or "",
        "before": before,
        "after": after,
        "ip": ip_address or "",
    }
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def hash_of(ev) -> str:
    return event_hash(
        ev.seq,
        ev.prev_hash,
        ev.occurred_dt,
        ev.actor_id,
        ev.actor_name,
        ev.action,
        ev.object_type,
        ev.object_id,
        ev.summary,
        ev.before,
        ev.after,
        ev.ip_address,
    )


def chain_head(session) -> tuple[int, str]:
    """Lock the chain until this transaction ends and return (last seq, last hash).

    The lock row is updated, which serialises writers on PostgreSQL (row lock) and SQLite
    (write lock) alike, so two transactions never link to the same predecessor."""
    from docmgmt.audit.models import AuditEvent
    from docmgmt.versioning.models import NumberingLock

    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    session.execute(upsert(NumberingLock).values(stem=LOCK_STEM, taken=0).on_conflict_do_nothing())
    session.execute(
        update(NumberingLock)
        .where(NumberingLock.stem == LOCK_STEM)
        .values(taken=NumberingLock.taken + 1)
    )
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (last[0], last[1]) if last else (0, GENESIS)


@dataclass
class Verification:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    first_bad_seq: int | None = None
    reason: str = ""


def verify(session, batch: int = 2000) -> Verification:
    """Walk the chain in order; report the first event whose hash or link does not fit."""
    from docmgmt.audit.models import AuditEvent

    prev, expected_seq, checked, last_seq = GENESIS, 1, 0, 0
    while True:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            return Verification(True, checked)
        for ev in rows:
            if ev.seq != expected_seq:
                return Verification(
                    False,
                    checked,
                    ev.id,
                    ev.seq,
                    f"sequence jumps from {expected_seq - 1} to {ev.seq}",
                )
            if ev.prev_hash != prev:
                return Verification(
                    False, checked, ev.id, ev.seq, "does not link to the event before it"
                )
            if hash_of(ev) != ev.hash:
                return Verification(
                    False, checked, ev.id, ev.seq, "its content does not match its hash"
                )
            prev, expected_seq, last_seq = ev.hash, ev.seq + 1, ev.seq
            checked += 1
