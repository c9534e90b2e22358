"""The audit trail as a hash chain: each event carries the SHA-256 of its own content and of
the event before it, so changing, removing or inserting an event anywhere breaks every hash
after it, and `flask --app wsgi audit verify` names the first event that no longer fits.

A chain alone cannot prove its end: deleting the newest events leaves a shorter chain that is
still intact. Two anchors close that gap:

- the **seal** (table ``audit_seal``, one row): the newest event's number and hash with an
  HMAC under ``AUDIT_KEY`` (``SECRET_KEY`` when unset), a key that lives in the server's
  environment, never in the database or its backups. It is written in the same transaction as
  each event; cutting the tail leaves a seal pointing past the end, and moving the seal back
  needs the key;
- **anchors** outside the database: once a day (the first commit that writes an event) and on
  ``audit anchor`` the seal is appended to ``storage/audit/anchors.jsonl`` and to the server
  log, and every backup and evidence pack carries it in its manifest. Each anchored event must
  still be in the chain with the same hash, so even a replayed old seal is caught; ``audit
  verify --anchor FILE`` checks against a manifest or anchor file kept elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
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


def audit_key() -> str:
    return current_app.config.get("AUDIT_KEY") or current_app.config["SECRET_KEY"]


def seal_mac(seq: int, digest: str, key: str | None = None) -> str:
    key = audit_key() if key is None else key
    message = f"docmgmt-audit-seal:{seq}:{digest}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def write_seal(session, seq: int, digest: str, when: datetime) -> str:
    """Point the seal at the newest event (called with the chain locked, by log_event)."""
    from docmgmt.audit.models import AuditSeal

    mac = seal_mac(seq, digest)
    session.execute(
        update(AuditSeal)
        .where(AuditSeal.id == 1)
        .values(seq=seq, hash=digest, mac=mac, sealed_dt=when)
    )
    return mac


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
    from docmgmt.audit.models import AuditSeal

    session.execute(upsert(NumberingLock).values(stem=LOCK_STEM, taken=0).on_conflict_do_nothing())
    session.execute(
        upsert(AuditSeal)
        .values(id=1, seq=0, hash=GENESIS, mac=seal_mac(0, GENESIS))
        .on_conflict_do_nothing()
    )
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
    sealed_seq: int | None = None
    anchors_checked: int = 0


def anchors_path() -> Path:
    return Path(current_app.config["STORAGE_DIR"]) / "audit" / "anchors.jsonl"


def current_seal(session) -> dict | None:
    from docmgmt.audit.models import AuditSeal

    row = session.get(AuditSeal, 1)
    if row is None:
        return None
    return {"seq": row.seq, "hash": row.hash, "mac": row.mac}


def seal_to_anchor(session) -> dict:
    """The seal an anchor or a manifest records: the chain's seal, or before the first event
    the genesis seal (event #0), so every anchor names the event it holds."""
    return current_seal(session) or {"seq": 0, "hash": GENESIS, "mac": seal_mac(0, GENESIS)}


def append_anchor(seal: dict, day: str) -> dict:
    """Append one anchor line (a single O_APPEND write, so processes never interleave)."""
    if isinstance(seal.get("seq"), bool) or not isinstance(seal.get("seq"), int):
        raise ValueError(f"an anchor names its event: seq {seal.get('seq')!r}")
    line = {"date": day, "seq": seal["seq"], "hash": seal["hash"], "mac": seal["mac"]}
    path = anchors_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(line, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    current_app.logger.info("audit anchor %s", json.dumps(line, sort_keys=True))
    return line


class AnchorFileError(Exception):
    """An anchor file that cannot be read: never taken as 'nothing to check'."""


def read_anchors(path: Path) -> list[dict]:
    """Anchors from an anchor file (.jsonl), a manifest.json, or a backup / evidence pack .zip
    whose manifest.json carries ``audit_seal``."""
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                return read_manifest_anchor(json.loads(z.read("manifest.json")))
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            return read_manifest_anchor(json.loads(text))
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise AnchorFileError(_("%(p)s cannot be read as an anchor: %(e)s", p=path, e=exc)) from exc


def read_manifest_anchor(manifest: dict) -> list[dict]:
    seal = manifest.get("audit_seal")
    if not seal:
        raise ValueError(_("the manifest carries no audit seal"))
    return [seal]


def _check_end(session, last_seq: int, last_hash: str, key: str) -> tuple[int | None, str]:
    """(first missing or bad seq, reason) when the seal does not sit on the chain's end."""
    seal = current_seal(session)
    if seal is None:
        if last_seq:
            return last_seq, _("the chain's seal is missing")
        return None, ""
    if seal["mac"] != seal_mac(seal["seq"], seal["hash"], key):
        return seal["seq"] or 1, _(
            "the seal was not written with this server's audit key (it was forged, or the key "
            "changed)"
        )
    if seal["seq"] > last_seq:
        return last_seq + 1, _(
            "events #%(a)d to #%(b)d were removed from the end of the trail (it is sealed at "
            "#%(b)d)",
            a=last_seq + 1,
            b=seal["seq"],
        )
    if seal["seq"] < last_seq:
        return seal["seq"] + 1, _("events after #%(s)d were added without the seal", s=seal["seq"])
    if seal["hash"] != last_hash:
        return last_seq, _("the last event is not the one the seal names")
    return None, ""


def _check_anchors(session, anchors: list[dict]) -> tuple[int | None, str]:
    """(first missing or differing seq, reason) for the anchors; an anchor that cannot be
    checked (not an object, no event number, or an event number that is not one) fails with
    seq None."""
    from docmgmt.audit.models import AuditEvent

    for anchor in anchors:
        if not isinstance(anchor, dict):
            return None, _(
                "%(a)s is not an anchor: it cannot be checked",
                a=json.dumps(anchor, ensure_ascii=False)[:80],
            )
        if "seq" not in anchor:
            # An anchor that names no event cannot be checked: skipping it would take a cut
            # trail for a whole one.
            return None, _(
                "the anchor %(a)s names no event: it cannot be checked",
                a=json.dumps(anchor, ensure_ascii=False, sort_keys=True)[:120],
            )
        seq = anchor["seq"]
        # bool is an int to Python, not an event number
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            return None, _(
                "the anchor of %(d)s gives its event as %(v)s, which is not an event number: "
                "it cannot be checked",
                d=anchor.get("date") or "?",
                v=repr(seq)[:40],
            )
    for anchor in sorted(anchors, key=lambda a: a["seq"]):
        seq = anchor["seq"]
        if seq == 0:  # the seal of an empty trail
            continue
        stored = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq))
        if stored is None:
            return seq, _(
                "event #%(s)d, anchored on %(d)s, is missing: the trail was cut",
                s=seq,
                d=anchor.get("date") or "?",
            )
        if stored != anchor.get("hash"):
            return seq, _(
                "event #%(s)d differs from the one anchored on %(d)s",
                s=seq,
                d=anchor.get("date") or "?",
            )
    return None, ""


def verify(session, batch: int = 2000, anchors: list[dict] | None = None) -> Verification:
    """Walk the chain in order; report the first event whose hash or link does not fit, then
    check that the chain ends where its seal says and holds every anchored event."""
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
            break
        for ev in rows:
            if ev.seq != expected_seq:
                return Verification(
                    False,
                    checked,
                    ev.id,
                    ev.seq,
                    _(
                        "sequence jumps from %(a)d to %(b)d",
                        a=expected_seq - 1,
                        b=ev.seq,
                    ),
                )
            if ev.prev_hash != prev:
                return Verification(
                    False, checked, ev.id, ev.seq, _("does not link to the event before it")
                )
            if hash_of(ev) != ev.hash:
                return Verification(
                    False, checked, ev.id, ev.seq, _("its content does not match its hash")
                )
            prev, expected_seq, last_seq = ev.hash, ev.seq + 1, ev.seq
            checked += 1
    bad_seq, reason = _check_end(session, last_seq, prev, audit_key())
    if bad_seq is not None:
        return Verification(False, checked, None, bad_seq, reason)
    all_anchors = list(anchors or [])
    path = anchors_path()
    if path.exists():
        try:
            all_anchors += read_anchors(path)
        except AnchorFileError as exc:
            return Verification(False, checked, None, None, str(exc))
    bad_seq, reason = _check_anchors(session, all_anchors)
    if reason:
        # bad_seq is None when an anchor itself cannot be checked
        return Verification(False, checked, None, bad_seq, reason)
    return Verification(True, checked, sealed_seq=last_seq, anchors_checked=len(all_anchors))
