"""Verbs on records: define types, file (never edit), correct, holds, the disposition queue,
disposal with approval and certificate. Operations flush and log; the caller commits."""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from docmgmt.audit.operations import log_event
from docmgmt.auth.models import Department, User
from docmgmt.auth.permissions import can_manage_documents, can_read_history
from docmgmt.auth.scope import require_record_access, scope_records
from docmgmt.clock import as_utc, day_start, local_date, local_today, utcnow
from docmgmt.doclang import in_document_language
from docmgmt.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from docmgmt.extensions import db
from docmgmt.extract import recognition
from docmgmt.records.models import (
    Disposal,
    DisposalMethod,
    DisposalState,
    HoldScope,
    LegalHold,
    Record,
    RecordAttachment,
    RecordState,
    RecordType,
    Trigger,
)
from docmgmt.sqltext import contains
from docmgmt.templating import listed
from docmgmt.versioning.models import Document, DocumentType

FIELD_KINDS = ("text", "number", "date", "choice", "person")
TEXT_MAX = 2000  # characters of a text value, unless the field says fewer
# Numbers beyond 15 digits before the point are refused even without a declared range: Excel
# keeps 15 significant digits and JavaScript 2^53, so larger values would be changed by the
# exports and the API's clients (and -1e308 "hours" is a typing accident, not a measurement).
NUMBER_LIMIT = Decimal(10) ** 15
_KIND_RANGE = re.compile(r"^\s*([a-z]+)\s*(?:\[\s*([^\]]*?)\s*\.\.\s*([^\]]*?)\s*\])?\s*$")
ATTACHMENT_SUFFIXES = {
    ".pdf",
    ".png",
    ".jpg",
    ".jpeg",
    ".tif",
    ".tiff",
    ".heic",
    ".heif",
    ".docx",
    ".xlsx",
}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def require_manager(actor) -> None:
    if not can_manage_documents(actor):
        raise PermissionDenied(_("Only a quality manager can do this."))


def can_read_records(actor) -> bool:
    return actor.is_authenticated


def can_file(actor) -> bool:
    from docmgmt.auth.permissions import is_read_only

    return actor.is_authenticated and not is_read_only(actor)


def add_months(d: date, months: int) -> date:
    m = d.month - 1 + months
    year, month = d.year + m // 12, m % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


# ---------------------------------------------------------------- record types


def parse_kind(text: str) -> dict:
    """``number[0..1000]``, ``number[0..]``, ``number[..24]``, ``text[..200]`` or a plain kind
    (the type definition line format) as ``{"kind", "min", "max"}`` / ``{"kind",
    "max_length"}``; the values are checked by ``_clean_fields``."""
    m = _KIND_RANGE.match(text or "text")
    if not m:
        return {"kind": text.strip()}
    kind, low, high = m[1], m[2], m[3]
    if m[2] is None:
        return {"kind": kind}
    if kind == "text":
        return {"kind": kind, "max_length": high or None, "min_length": low or None}
    return {"kind": kind, "min": low or None, "max": high or None}


def _bound(f: dict, key: str, name: str):
    raw = f.get(key)
    if raw is None or raw == "":
        return None
    try:
        num = Decimal(str(raw).strip())
        if not num.is_finite() or abs(num) > NUMBER_LIMIT:
            raise InvalidOperation
    except InvalidOperation:
        raise ValidationFailed(
            _("Field %(n)s: a range limit is not a number: %(v)s", n=name, v=raw),
            field="fields",
        ) from None
    return int(num) if num == num.to_integral_value() else float(num)


def _field_limits(f: dict, name: str, kind: str) -> dict:
    """The range of a number field and the longest text of a text field, checked."""
    if f.get("min_length") not in (None, ""):
        raise ValidationFailed(
            _("Field %(n)s: give a text field only a longest length, as text[..200].", n=name),
            field="fields",
        )
    low, high = _bound(f, "min", name), _bound(f, "max", name)
    longest = f.get("max_length")
    if kind != "number" and (low is not None or high is not None):
        raise ValidationFailed(
            _("Field %(n)s: only a number field has a range.", n=name), field="fields"
        )
    if low is not None and high is not None and low > high:
        raise ValidationFailed(
            _("Field %(n)s: the minimum is above the maximum.", n=name), field="fields"
        )
    out = {}
    if kind == "number":
        out = {"min": low, "max": high}
    if longest not in (None, ""):
        if kind != "text":
            raise ValidationFailed(
                _("Field %(n)s: only a text field has a longest length.", n=name),
                field="fields",
            )
        try:
            longest = int(str(longest).strip())
        except ValueError:
            longest = 0
        if not 1 <= longest <= TEXT_MAX:
            raise ValidationFailed(
                _(
                    "Field %(n)s: the longest length is 1 to %(max)d characters.",
                    n=name,
                    max=TEXT_MAX,
                ),
                field="fields",
            )
        out["max_length"] = longest
    return out


def _clean_fields(fields) -> list[dict]:
    if not isinstance(fields, list):
        raise ValidationFailed(_("Fields are a list."), field="fields")
    out, seen = [], set()
    for i, f in enumerate(fields, 1):
        if not isinstance(f, dict):
            raise ValidationFailed(_("Field %(i)d is not valid.", i=i), field="fields")
        name = str(f.get("name", "")).strip()
        if not _NAME.match(name):
            raise ValidationFailed(
                _("Field %(i)d: a name is lower-case letters, digits and _.", i=i), field="fields"
            )
        if name in seen:
            raise ValidationFailed(_("Field %(n)s is defined twice.", n=name), field="fields")
        seen.add(name)
        kind = str(f.get("kind", "text"))
        if kind not in FIELD_KINDS:
            raise ValidationFailed(_("Field %(n)s: unknown kind.", n=name), field="fields")
        choices = [str(c).strip() for c in f.get("choices") or [] if str(c).strip()]
        if kind == "choice" and not choices:
            raise ValidationFailed(_("Field %(n)s: list the choices.", n=name), field="fields")
        out.append(
            {
                "name": name,
                "label": str(f.get("label") or name).strip()[:100],
                "kind": kind,
                "required": bool(f.get("required")),
                "choices": choices,
            }
            | _field_limits(f, name, kind)
        )
    return out


def create_type(
    actor,
    *,
    code: str,
    name: str,
    retention_months: int,
    trigger="filing",
    disposal_method="destroy",
    fields=(),
    form_document: Document | None = None,
    department: Department | None = None,
    now=None,
) -> RecordType:
    require_manager(actor)
    code = (code or "").strip().upper()
    if not re.match(r"^[A-Z0-9][A-Z0-9-]{0,19}$", code):
        raise ValidationFailed(_("A code is letters, digits and dashes."), field="code")
    if db.session.scalar(
        select(func.count()).select_from(RecordType).where(RecordType.code == code)
    ):
        raise ValidationFailed(_("Code %(c)s is already used.", c=code), field="code")
    if not (name or "").strip():
        raise ValidationFailed(_("The name is required."), field="name")
    try:
        retention_months = int(retention_months)
    except (TypeError, ValueError):
        raise ValidationFailed(
            _("Retention is a number of months."), field="retention_months"
        ) from None
    if not 1 <= retention_months <= 1200:
        raise ValidationFailed(_("Retention is 1 to 1200 months."), field="retention_months")
    try:
        trigger, method = Trigger(trigger), DisposalMethod(disposal_method)
    except ValueError:
        raise ValidationFailed(_("Unknown trigger or disposal method."), field="trigger") from None
    if form_document is not None and form_document.doc_type != DocumentType.RECORD_FORM:
        raise ValidationFailed(
            _("The governing form must be a document of type record form."), field="form_document"
        )
    rt = RecordType(
        code=code,
        name=name.strip()[:100],
        retention_months=retention_months,
        trigger=trigger,
        disposal_method=method,
        fields=_clean_fields(list(fields)),
        form_document=form_document,
        department=department,
        is_active=True,
        created_by_id=actor.id,
        created_dt=now or utcnow(),
    )
    db.session.add(rt)
    db.session.flush()
    log_event(
        actor,
        "record_type.create",
        rt,
        summary=f"{code} {rt.name}",
        now=now,
        object_type="record_type",
        object_id=rt.id,
    )
    return rt


def get_type(type_id) -> RecordType:
    rt = db.session.get(RecordType, type_id)
    if rt is None:
        raise NotFound(_("No such record type."))
    return rt


# ---------------------------------------------------------------- values


def _parse_date(raw: str) -> date | None:
    raw = raw.strip()
    m = re.match(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$", raw)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _people_index() -> dict[str, str]:
    idx = {}
    for u in db.session.scalars(select(User)):
        idx[u.username.lower()] = u.username
        idx.setdefault(u.full_name, u.username)
    return idx


def clean_values(rt: RecordType, raw: dict, people: dict | None = None, today=None) -> tuple:
    """(values, errors): each field parsed by its kind; errors as [(field, message)]."""
    values, errors = {}, []
    today = today or local_today()
    for f in rt.fields:
        name, kind, label = f["name"], f["kind"], f["label"]
        v = raw.get(name)
        v = "" if v is None else (v if isinstance(v, (int, float)) else str(v).strip())
        if v == "":
            if f["required"]:
                errors.append((name, _("%(f)s is required.", f=label)))
            continue
        if kind == "text":
            longest = f.get("max_length") or TEXT_MAX
            if len(v) > longest:
                errors.append(
                    (name, _("%(f)s is longer than %(n)d characters.", f=label, n=longest))
                )
                continue
            values[name] = v
        elif kind == "number":
            try:
                num = Decimal(str(v).replace(",", ""))
                if not num.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                errors.append((name, _("%(f)s is not a number: %(v)s", f=label, v=v)))
                continue
            problem = _out_of_range(num, f.get("min"), f.get("max"), label, v)
            if problem:
                errors.append((name, problem))
                continue
            values[name] = int(num) if num == num.to_integral_value() else float(num)
        elif kind == "date":
            d = _parse_date(str(v))
            if d is None:
                errors.append((name, _("%(f)s is not a date (YYYY-MM-DD): %(v)s", f=label, v=v)))
                continue
            if d.year < 1990 or d > today + timedelta(days=366):
                errors.append((name, _("%(f)s is not a plausible date: %(v)s", f=label, v=v)))
                continue
            values[name] = d.isoformat()
        elif kind == "choice":
            if v not in f["choices"]:
                errors.append(
                    (name, _("%(f)s must be one of: %(c)s", f=label, c=listed(f["choices"])))
                )
                continue
            values[name] = v
        elif kind == "person":
            people = people if people is not None else _people_index()
            username = people.get(str(v).lower()) or people.get(str(v))
            if username is None:
                errors.append((name, _("%(f)s: nobody called %(v)s.", f=label, v=v)))
                continue
            values[name] = username
    unknown = set(raw) - {f["name"] for f in rt.fields}
    for name in sorted(unknown):
        if raw.get(name) not in (None, ""):
            errors.append((name, _("%(n)s is not a field of this record type.", n=name)))
    return values, errors


def _out_of_range(num: Decimal, low, high, label: str, v) -> str | None:
    if low is not None and num < Decimal(str(low)):
        if high is not None:
            return _(
                "%(f)s must be between %(min)s and %(max)s: %(v)s", f=label, min=low, max=high, v=v
            )
        return _("%(f)s must be at least %(min)s: %(v)s", f=label, min=low, v=v)
    if high is not None and num > Decimal(str(high)):
        if low is not None:
            return _(
                "%(f)s must be between %(min)s and %(max)s: %(v)s", f=label, min=low, max=high, v=v
            )
        return _("%(f)s must be at most %(max)s: %(v)s", f=label, max=high, v=v)
    if abs(num) > NUMBER_LIMIT:
        return _("%(f)s is too large (at most 15 digits before the point): %(v)s", f=label, v=v)
    return None


def content_hash(rt: RecordType, title: str, values: dict, attachments: list[str]) -> str:
    payload = {
        "type": rt.code,
        "title": title,
        "values": values,
        "attachments": sorted(attachments),
    }
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _form_revision(rt: RecordType):
    if rt.form_document is None:
        return None
    from docmgmt.versioning.queries import in_force_revision

    return in_force_revision(rt.form_document)


def next_numbers(rt: RecordType, year: int, count: int = 1) -> list[str]:
    """Numbers ``CODE-YYYY-000001`` …, allocated under the numbering lock of the stem."""
    from docmgmt.versioning.models import NumberingLock

    stem = f"{rt.code}-{year}-"
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    db.session.execute(upsert(NumberingLock).values(stem=stem, taken=0).on_conflict_do_nothing())
    db.session.execute(
        update(NumberingLock)
        .where(NumberingLock.stem == stem)
        .values(taken=NumberingLock.taken + count)
    )
    # This type's numbers only: a code may be another code and a year (SR and SR-2026), whose
    # numbers also start with SR-2026-.
    last = db.session.scalar(
        select(func.max(Record.number)).where(
            Record.type_id == rt.id, Record.number.startswith(stem, autoescape=True)
        )
    )
    start = int(last[len(stem) :]) + 1 if last else 1
    return [f"{stem}{n:06d}" for n in range(start, start + count)]


def dispose_after(rt: RecordType, trigger_date: date | None) -> date | None:
    return add_months(trigger_date, rt.retention_months) if trigger_date else None


def file_record(
    actor,
    rt: RecordType,
    *,
    title: str,
    values: dict,
    files: list[tuple[str, bytes, str]] = (),
    external_id: str | None = None,
    trigger_date: date | None = None,
    corrects: Record | None = None,
    department: Department | None = None,
    now: datetime | None = None,
) -> Record:
    """File a record; every field and file is checked before anything is written."""
    from docmgmt import storage

    now = now or utcnow()
    if not can_file(actor):
        raise PermissionDenied(_("You cannot file records."))
    if not rt.is_active:
        raise InvalidState(_("Record type %(c)s is no longer in use.", c=rt.code))
    title = (title or "").strip()
    if not title:
        raise ValidationFailed(_("Give the record a title."), field="title")
    if len(title) > 200:
        raise ValidationFailed(_("The title is longer than 200 characters."), field="title")
    clean, errors = clean_values(rt, values or {}, today=local_today(now))
    if errors:
        field, message = errors[0]
        raise ValidationFailed("; ".join(m for _f, m in errors), field=field)
    external_id = (external_id or "").strip() or None
    if external_id and db.session.scalar(
        select(func.count())
        .select_from(Record)
        .where(Record.type_id == rt.id, Record.external_id == external_id)
    ):
        raise ValidationFailed(
            _("A %(t)s with external ID %(e)s is already filed.", t=rt.name, e=external_id),
            field="external_id",
        )
    uploads = [storage.checked(n, d, ATTACHMENT_SUFFIXES) for n, d, _ct in files]
    filed_day = local_today(now)
    if rt.trigger == Trigger.FILING:
        trigger_date = filed_day
    elif trigger_date is not None and trigger_date > filed_day + timedelta(days=1):
        raise ValidationFailed(_("The trigger date cannot be in the future."), field="trigger_date")
    if corrects is not None:
        if corrects.type_id != rt.id:
            raise ValidationFailed(_("A correction has the type of the record it corrects."))
        if corrects.state != RecordState.ACTIVE:
            raise InvalidState(_("Record %(n)s was disposed of.", n=corrects.number))
    attachments = [storage.attach(RecordAttachment, upload) for upload in uploads]
    record = Record(
        number=next_numbers(rt, filed_day.year)[0],
        type=rt,
        external_id=external_id,
        title=title,
        values=clean,
        department=department or rt.department,
        form_revision=_form_revision(rt),
        filed_by_id=actor.id,
        filed_dt=now,
        trigger_date=trigger_date,
        dispose_after=dispose_after(rt, trigger_date),
        corrects=corrects,
        content_hash=content_hash(rt, title, clean, [a.sha256 for a in attachments]),
        state=RecordState.ACTIVE,
    )
    record.attachments.extend(attachments)
    db.session.add(record)
    db.session.flush()
    log_event(
        actor,
        "record.correct" if corrects else "record.file",
        record,
        summary=f"{record.number} {title}"
        + (in_document_language(" (corrects %(n)s)", n=corrects.number) if corrects else ""),
        after={"content_hash": record.content_hash, "values": clean},
        object_type="record",
        object_id=record.id,
        now=now,
    )
    return record


def set_trigger_date(actor, record: Record, day: date, now=None) -> Record:
    """Record the closing / end date once, for types whose retention starts then."""
    if not can_file(actor):
        raise PermissionDenied(_("You cannot file records."))
    if record.type.trigger == Trigger.FILING:
        raise InvalidState(_("Retention of this type starts on the filing date."))
    if record.trigger_date is not None:
        raise InvalidState(
            _("The date was already recorded (%(d)s); file a correction.", d=record.trigger_date)
        )
    if (
        day is None
        or day > local_today(now) + timedelta(days=1)
        or day < local_date(record.filed_dt) - timedelta(days=3650)
    ):
        raise ValidationFailed(_("Give a plausible date, not in the future."), field="trigger_date")
    record.trigger_date = day
    record.dispose_after = dispose_after(record.type, day)
    db.session.flush()
    log_event(
        actor,
        "record.trigger",
        record,
        summary=f"{record.number}: {day}",
        object_type="record",
        object_id=record.id,
        now=now,
    )
    return record


def get_record(record_id, user=None) -> Record:
    record = db.session.get(Record, record_id)
    if record is None:
        raise NotFound(_("No such record."))
    return require_record_access(user, record)


def corrections_of(record: Record) -> list[Record]:
    return db.session.scalars(
        select(Record).where(Record.corrects_id == record.id).order_by(Record.id)
    ).all()


# ---------------------------------------------------------------- finding records


def records_query(
    *,
    type_id=None,
    department_id=None,
    date_from=None,
    date_to=None,
    field=None,
    value=None,
    text=None,
    state=None,
    after=None,
    user=None,
):
    """Newest first; ``after`` = (filed_dt, id) of the last row seen (keyset pagination).
    With ``user``, only the records that user may see (docmgmt/auth/scope.py)."""
    q = scope_records(select(Record), user)
    if type_id:
        q = q.where(Record.type_id == type_id)
    if department_id:
        q = q.where(Record.department_id == department_id)
    if date_from:
        q = q.where(Record.filed_dt >= day_start(date_from))  # the company's days, not UTC's
    if date_to:
        q = q.where(Record.filed_dt < day_start(date_to + timedelta(days=1)))
    if state:
        q = q.where(Record.state == RecordState(state))
    if text:
        q = q.where(or_(contains(Record.title, text), contains(Record.number, text)))
    if field and value:
        # The field's value as text, exactly (a number as written: 2, 2.5), the same on SQLite
        # (JSON_EXTRACT) and PostgreSQL (->>); nothing in the value is a wildcard.
        from sqlalchemy import String, cast, false

        if _NAME.match(field):
            q = q.where(cast(Record.values[field].as_string(), String) == value)
        else:
            q = q.where(false())  # no field has such a name
    if after is not None:
        dt, rid = after
        q = q.where(or_(Record.filed_dt < dt, (Record.filed_dt == dt) & (Record.id < rid)))
    return q.order_by(Record.filed_dt.desc(), Record.id.desc())


# ---------------------------------------------------------------- legal holds


def place_hold(actor, *, scope, reason: str, record=None, rt=None, query: str = "", now=None):
    require_manager(actor)
    try:
        scope = HoldScope(scope)
    except ValueError:
        raise ValidationFailed(_("Unknown hold scope."), field="scope") from None
    if not (reason or "").strip():
        raise ValidationFailed(_("Give the reason for the hold."), field="reason")
    if scope == HoldScope.RECORD and record is None:
        raise ValidationFailed(_("Name the record to hold."), field="record_id")
    if scope == HoldScope.TYPE and rt is None:
        raise ValidationFailed(_("Name the record type to hold."), field="type_id")
    if scope == HoldScope.QUERY and not (query or "").strip():
        raise ValidationFailed(_("Give the words that select the records."), field="query")
    hold = LegalHold(
        scope=scope,
        record=record if scope == HoldScope.RECORD else None,
        type=rt if scope in (HoldScope.TYPE, HoldScope.QUERY) else None,
        query=(query or "").strip()[:200] if scope == HoldScope.QUERY else "",
        reason=reason.strip(),
        placed_by_id=actor.id,
        placed_dt=now or utcnow(),
    )
    db.session.add(hold)
    db.session.flush()
    log_event(
        actor,
        "hold.place",
        hold,
        summary=f"{scope.value}: {reason.strip()[:80]}",
        object_type="legal_hold",
        object_id=hold.id,
        now=now,
    )
    return hold


def release_hold(actor, hold: LegalHold, reason: str, now=None) -> LegalHold:
    require_manager(actor)
    if hold.released_dt is not None:
        raise InvalidState(_("This hold was already released."))
    if not (reason or "").strip():
        raise ValidationFailed(_("Give the reason for the release."), field="reason")
    hold.released_by_id = actor.id
    hold.released_dt = now or utcnow()
    hold.release_reason = reason.strip()
    db.session.flush()
    log_event(
        actor,
        "hold.release",
        hold,
        summary=reason.strip()[:80],
        object_type="legal_hold",
        object_id=hold.id,
        now=now,
    )
    return hold


def active_holds() -> list[LegalHold]:
    return db.session.scalars(select(LegalHold).where(LegalHold.released_dt.is_(None))).all()


def _record_text(r: Record) -> str:
    return (r.number + " " + r.title + " " + json.dumps(r.values, ensure_ascii=False)).lower()


def holds_on(record: Record, holds=None) -> list[LegalHold]:
    out = []
    for h in holds if holds is not None else active_holds():
        if (
            h.scope == HoldScope.RECORD
            and h.record_id == record.id
            or h.scope == HoldScope.TYPE
            and h.type_id == record.type_id
        ):
            out.append(h)
        elif h.scope == HoldScope.QUERY and (h.type_id in (None, record.type_id)):
            text = _record_text(record)
            if all(w in text for w in h.query.lower().split()):
                out.append(h)
    return out


# ---------------------------------------------------------------- disposition


def due_query(today: date | None = None, limit: int | None = 500):
    """Active records whose disposal date has come: served by the (state, dispose_after) index."""
    today = today or local_today()
    q = (
        select(Record)
        .where(Record.state == RecordState.ACTIVE, Record.dispose_after <= today)
        .order_by(Record.dispose_after, Record.id)
    )
    return q.limit(limit) if limit else q


def _pending_record_ids() -> set[int]:
    ids = set()
    for d in db.session.scalars(select(Disposal).where(Disposal.state == DisposalState.PENDING)):
        ids.update(item["record_id"] for item in d.items)
    return ids


def _check_disposable(record: Record, today: date, holds) -> None:
    if record.state != RecordState.ACTIVE:
        raise InvalidState(_("Record %(n)s was already disposed of.", n=record.number))
    if record.dispose_after is None or record.dispose_after > today:
        raise InvalidState(
            _(
                "Record %(n)s may not be disposed of before %(d)s.",
                n=record.number,
                d=record.dispose_after or _("its retention starts"),
            )
        )
    held = holds_on(record, holds)
    if held:
        raise InvalidState(
            _("Record %(n)s is under a legal hold: %(r)s", n=record.number, r=held[0].reason)
        )


def _bounded(ids: list[int]) -> list[int]:
    """Each id once, in the order given; at most ``DISPOSAL_MAX_RECORDS`` of them.

    A disposal is a set of records: naming one twice changes nothing about what is disposed
    of, so repeats are dropped rather than refused (a list assembled from overlapping pages
    still works) and the disposal, its tombstones and its certificate count each record once.
    The bound keeps one approval (checks, tombstones, the certificate, all in one write
    transaction) to a size that commits in seconds."""
    distinct = list(dict.fromkeys(ids))
    limit = int(current_app.config.get("DISPOSAL_MAX_RECORDS", 5000))
    if len(distinct) > limit:
        raise ValidationFailed(
            _(
                "A disposal takes at most %(max)d records; %(n)d were chosen. Propose them in "
                "several disposals.",
                max=limit,
                n=len(distinct),
            ),
            field="record_ids",
        )
    return distinct


def records_for_disposal(record_ids) -> list[Record]:
    """The records named by id (each once, bounded) for ``propose_disposal``; an unknown id is
    refused like any unknown record."""
    ids = _bounded([int(i) for i in record_ids])
    if any(not 0 < i < 2**31 for i in ids):  # beyond the id column: no such record
        raise NotFound(_("No such record."))
    found = {}
    for i in range(0, len(ids), 500):
        found.update(
            (r.id, r)
            for r in db.session.scalars(select(Record).where(Record.id.in_(ids[i : i + 500])))
        )
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(_("No such record."))
    return [found[i] for i in ids]


def _load_for_disposal(ids: list[int]) -> list[Record]:
    """The records with their type and attachments, a few queries for thousands of records."""
    from sqlalchemy.orm import joinedload, selectinload

    found = {}
    for i in range(0, len(ids), 500):
        found.update(
            (r.id, r)
            for r in db.session.scalars(
                select(Record)
                .where(Record.id.in_(ids[i : i + 500]))
                .options(joinedload(Record.type), selectinload(Record.attachments))
            )
        )
    return [found[i] for i in ids if i in found]


def propose_disposal(
    actor, records: list[Record], reason: str, approver: User, now=None
) -> Disposal:
    require_manager(actor)
    now = now or utcnow()
    today = local_today(now)
    by_id = {r.id: r for r in records}
    records = [by_id[i] for i in _bounded([r.id for r in records])]
    if not records:
        raise ValidationFailed(_("Choose the records to dispose of."), field="record_ids")
    if not (reason or "").strip():
        raise ValidationFailed(_("Give the reason."), field="reason")
    from docmgmt.auth.models import Role
    from docmgmt.auth.signers import named_signer

    approver = named_signer(  # a User or an id; the refusal names the real reason
        approver,
        field="approver_id",
        role="approver",
        actor=actor,
        may_sign=lambda u: u.has_role(Role.APPROVER, Role.QUALITY_MANAGER),
    )
    holds = active_holds()
    pending = _pending_record_ids()
    for r in records:
        _check_disposable(r, today, holds)
        if r.id in pending:
            raise InvalidState(_("Record %(n)s is already in a pending disposal.", n=r.number))
    count = db.session.scalar(select(func.count()).select_from(Disposal)) or 0
    disposal = Disposal(
        number=f"DSP-{today.year}-{count + 1:04d}",
        state=DisposalState.PENDING,
        reason=reason.strip(),
        proposed_by_id=actor.id,
        proposed_dt=now,
        approver_id=approver.id,
        items=[{"record_id": r.id, "number": r.number} for r in records],
    )
    db.session.add(disposal)
    db.session.flush()
    log_event(
        actor,
        "disposal.propose",
        disposal,
        summary=f"{disposal.number}: {len(records)} records",
        object_type="disposal",
        object_id=disposal.id,
        now=now,
    )
    return disposal


def get_disposal(disposal_id) -> Disposal:
    d = db.session.get(Disposal, disposal_id)
    if d is None:
        raise NotFound(_("No such disposal."))
    return d


def decide_disposal(actor, disposal: Disposal, approve: bool, password: str, comment="", now=None):
    """The approver signs; approval carries the disposal out and writes the certificate."""
    from docmgmt import storage
    from docmgmt.auth.operations import verify_signing_password

    now = now or utcnow()
    if disposal.approver_id != actor.id:
        raise PermissionDenied(_("Only the named approver can decide this disposal."))
    if disposal.state != DisposalState.PENDING:
        raise InvalidState(_("Disposal %(n)s is already decided.", n=disposal.number))
    if not approve and not (comment or "").strip():
        raise ValidationFailed(_("Say why the disposal is rejected."), field="comment")
    verify_signing_password(actor, password)
    disposal.decided_dt = now
    disposal.comment = (comment or "").strip()
    if not approve:
        disposal.state = DisposalState.REJECTED
        db.session.flush()
        log_event(
            actor,
            "disposal.reject",
            disposal,
            summary=disposal.number,
            object_type="disposal",
            object_id=disposal.id,
            now=now,
        )
        return disposal
    today = local_today(now)
    holds = active_holds()
    records = _load_for_disposal([item["record_id"] for item in disposal.items])
    for r in records:  # checked again: a hold may have been placed since the proposal
        _check_disposable(r, today, holds)
    items = []
    gone_attachments: list[int] = []
    for r in records:
        tomb = {
            "record_id": r.id,
            "number": r.number,
            "type": r.type.code,
            "type_name": r.type.name,
            "filed": as_utc(r.filed_dt).isoformat(),
            "trigger_date": r.trigger_date.isoformat() if r.trigger_date else None,
            "dispose_after": r.dispose_after.isoformat() if r.dispose_after else None,
            "content_hash": r.content_hash,
            "method": r.type.disposal_method.value,
            "attachments": [
                {"filename": a.filename, "sha256": a.sha256, "size": a.size} for a in r.attachments
            ],
        }
        items.append(tomb)
        for a in r.attachments:
            a.removed = True
            gone_attachments.append(a.id)
        r.values = {}
        r.title = f"[{_('disposed of')}]"
        r.state = RecordState.DISPOSED
        r.disposal_id = disposal.id
        r.disposed_dt = now
    # The text read from the attachments and their searchable copies go with them.
    recognition.remove("record_attachment", gone_attachments)
    db.session.flush()
    # Remove file content nobody else still refers to, once the transaction commits.
    for tomb in items:
        for a in tomb["attachments"]:
            still = db.session.scalar(
                select(func.count())
                .select_from(RecordAttachment)
                .where(RecordAttachment.sha256 == a["sha256"], RecordAttachment.removed.is_(False))
            )
            if not still:
                storage.delete_after_commit(a["sha256"])
    disposal.items = items
    disposal.state = DisposalState.APPROVED
    from docmgmt.records.certificate import certificate_pdf

    pdf = certificate_pdf(disposal, current_app.config["COMPANY_NAME"], now)
    disposal.certificate_sha256 = storage.put(pdf).sha256
    db.session.flush()
    from docmgmt.faults import failpoint

    failpoint("disposal")  # fault tests: the server dies here, before the commit
    log_event(
        actor,
        "disposal.approve",
        disposal,
        summary=f"{disposal.number}: {len(items)} records disposed of",
        object_type="disposal",
        object_id=disposal.id,
        now=now,
    )
    return disposal


def disposals_waiting_for(user) -> list[Disposal]:
    return db.session.scalars(
        select(Disposal).where(
            Disposal.state == DisposalState.PENDING, Disposal.approver_id == user.id
        )
    ).all()


__all__ = ["can_read_history"]


# ---------------------------------------------------------------- text of the attachments


def attachment_texts(record: Record) -> dict:
    """attachment id -> its AttachmentText (the text read from it), for the attachments kept."""
    return recognition.texts_of(
        "record_attachment", [a.id for a in record.attachments if not a.removed]
    )


def attachment_of(record: Record, att_id: int) -> RecordAttachment:
    att = next((a for a in record.attachments if a.id == att_id), None)
    if att is None or att.removed:
        raise NotFound(_("Not found."))
    return att


def attachment_text(record: Record, att_id: int):
    return recognition.text_of("record_attachment", attachment_of(record, att_id))


def can_retry_recognition(actor, record: Record) -> bool:
    return can_manage_documents(actor) or record.filed_by_id == actor.id


def retry_recognition(actor, record: Record, att_id: int):
    """Read a failed attachment again (the quality manager or whoever filed the record): a new
    job, started by the caller after the commit (``recognition.start(job.id)``)."""
    return recognition.retry_attachment(
        actor,
        "record_attachment",
        attachment_of(record, att_id),
        allowed=can_retry_recognition(actor, record),
        refusal=_("Only a quality manager or whoever filed the record can ask for this again."),
        closed=_("Record %(n)s was disposed of.", n=record.number)
        if record.state != RecordState.ACTIVE
        else "",
    )
