"""Bulk import of records from CSV or .xlsx (the export of a ticketing system).

Upload → the file is kept by SHA-256 and its header read → the user maps columns to fields →
preview: every row validated, errors listed per row and field → import: either everything
or nothing (``block``), or the valid rows with the others reported (``skip``). Re-importing the
same file files nothing twice: rows whose external ID is already filed are counted, not filed.
Encodings: UTF-8 with or without BOM, and GBK/GB18030 as Chinese Excel writes CSV.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import insert, select

from docmgmt.audit.operations import log_event
from docmgmt.clock import local_today, utcnow
from docmgmt.errors import InvalidState, ValidationFailed, refuse_unstorable
from docmgmt.extensions import db
from docmgmt.formtools import csv_unguard
from docmgmt.jobs.said import keep, said
from docmgmt.records import operations as ops
from docmgmt.records.models import Record, RecordImport, RecordState, RecordType, Trigger

SUFFIXES = {".csv", ".xlsx"}
CHUNK = 2000
BACKGROUND_ROWS = 5000  # larger imports are jobs for a worker, with a progress page


@dataclass
class Parsed:
    header: list[str]
    rows: list[list[str]]
    encoding: str


def parse(filename: str, data: bytes) -> Parsed:
    name = filename.lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:  # openpyxl reads lazily: a damaged sheet fails while its rows are read
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            rows = []
            for r in wb.worksheets[0].iter_rows(values_only=True):
                rows.append(["" if v is None else _cell(v) for v in r])
        except Exception:
            raise ValidationFailed(
                _("%(n)s cannot be read as an Excel workbook.", n=filename), field="file"
            ) from None
        encoding = "xlsx"
    else:
        text = None
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
                encoding = "utf-8" if enc == "utf-8-sig" else "gbk"
                if enc == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf"):
                    encoding = "utf-8 (BOM)"
                break
            except UnicodeDecodeError:
                continue
        if text is None:
            raise ValidationFailed(
                _("The file is neither UTF-8 nor GBK text; save it as CSV (UTF-8)."), field="file"
            )
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        # A CSV the app exported carries a guard apostrophe before formula-like text: off
        rows = [[csv_unguard(c) for c in r] for r in csv.reader(io.StringIO(text), dialect)]
    rows = [r for r in rows if any(str(c).strip() for c in r)]
    refuse_unstorable(rows, field="file")
    if not rows:
        raise ValidationFailed(_("The file is empty."), field="file")
    header = [str(h).strip() for h in rows[0]]
    if not any(header) or len(set(h for h in header if h)) != len([h for h in header if h]):
        raise ValidationFailed(
            _("The first row must hold the column names, each once."), field="file"
        )
    return Parsed(
        header=header, rows=[[str(c).strip() for c in r] for r in rows[1:]], encoding=encoding
    )


def _cell(v) -> str:
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def upload(actor, rt: RecordType, filename: str, data: bytes) -> tuple[RecordImport, Parsed]:
    from docmgmt import storage

    if not ops.can_file(actor):
        ops.require_manager(actor)
    name = storage.check_upload(filename, data, SUFFIXES)
    parsed = parse(name, data)
    blob = storage.put(data)
    imp = RecordImport(
        type_id=rt.id,
        filename=name,
        sha256=blob.sha256,
        encoding=parsed.encoding,
        mapping=auto_mapping(rt, parsed.header),
        external_id_column=_guess(parsed.header, ("external_id", "外部编号", "工单号", "ID", "id")),
        title_column=_guess(parsed.header, ("title", "标题", "摘要")),
        total_rows=len(parsed.rows),
        created_by_id=actor.id,
        created_dt=utcnow(),
    )
    db.session.add(imp)
    db.session.flush()
    return imp, parsed


def _guess(header, names) -> str:
    for n in names:
        if n in header:
            return n
    return ""


def auto_mapping(rt: RecordType, header: list[str]) -> dict:
    out = {}
    for f in rt.fields:
        for candidate in (f["name"], f["label"]):
            if candidate in header:
                out[f["name"]] = candidate
                break
    return out


def load(imp: RecordImport) -> Parsed:
    from docmgmt import storage

    return parse(imp.filename, storage.read(imp.sha256))


def set_mapping(
    imp: RecordImport, mapping: dict, external_id_column: str, title_column: str, header: list[str]
) -> None:
    rt = imp.type
    wrong = [
        c for c in [*mapping.values(), external_id_column, title_column] if c and c not in header
    ]
    if wrong:
        raise ValidationFailed(
            _("The header row does not have these columns: %(c)s", c=", ".join(wrong)),
            field="mapping",
        )
    missing = [f["label"] for f in rt.fields if f["required"] and not mapping.get(f["name"])]
    if missing:
        raise ValidationFailed(
            _("Map a column to every required field: %(f)s", f=", ".join(missing)), field="mapping"
        )
    imp.mapping = {k: v for k, v in mapping.items() if v}
    imp.external_id_column = external_id_column or ""
    imp.title_column = title_column or ""


@dataclass
class RowResult:
    line: int  # line number in the file (header = 1)
    external_id: str
    title: str
    values: dict
    trigger: object = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    duplicate: bool = False


def validate(imp: RecordImport, parsed: Parsed, progress=None) -> list[RowResult]:
    """Every row checked; ``progress(phase, done, total)`` is told every ``CHUNK`` rows."""
    rt = imp.type
    col = {h: i for i, h in enumerate(parsed.header)}
    people = ops._people_index()
    today = local_today()
    existing = set(
        db.session.scalars(
            select(Record.external_id).where(
                Record.type_id == rt.id, Record.external_id.is_not(None)
            )
        )
    )
    seen: dict[str, int] = {}
    out = []
    total = len(parsed.rows)
    for n, row in enumerate(parsed.rows, start=2):
        if progress and (n - 2) % CHUNK == 0:
            progress("validating", n - 2, total)

        def get(h, row=row):
            i = col.get(h)
            return row[i] if i is not None and i < len(row) else ""

        raw = {name: get(h) for name, h in imp.mapping.items() if not name.startswith("_")}
        values, errors = ops.clean_values(rt, raw, people=people, today=today)
        ext = get(imp.external_id_column) if imp.external_id_column else ""
        title = get(imp.title_column) if imp.title_column else ""
        if not title:
            title = " ".join(str(values.get(f["name"], "")) for f in rt.fields[:3]).strip()[:200]
        if not title:
            errors.append(("title", _("The row has no title.")))
        trigger = None
        if imp.mapping.get("_trigger_date"):
            raw_t = get(imp.mapping["_trigger_date"])
            if raw_t:
                trigger = ops._parse_date(raw_t)
                if trigger is None or trigger > today:
                    errors.append(("_trigger_date", _("Not a plausible date: %(v)s", v=raw_t)))
        r = RowResult(
            line=n,
            external_id=ext,
            title=title[:200],
            values=values,
            trigger=trigger,
            errors=errors,
        )
        if ext:
            if ext in existing:
                r.duplicate = True
            elif ext in seen:
                r.errors.append(
                    (
                        "external_id",
                        _("External ID %(e)s is also on line %(l)d.", e=ext, l=seen[ext]),
                    )
                )
            else:
                seen[ext] = n
        out.append(r)
    if progress:
        progress("validating", total, total)
    return out


def error_report(results: list[RowResult]) -> bytes:
    from docmgmt.formtools import csv_bytes

    return csv_bytes(
        ([r.line, r.external_id, f, m] for r in results for f, m in r.errors),
        header=["line", "external_id", "field", "message"],
    )


def run(actor, imp: RecordImport, mode: str, progress=None, background=False) -> RecordImport:
    """File the rows. ``block``: any error files nothing; ``skip``: valid rows are filed.
    Rows whose external ID is already filed are skipped in both modes. ``progress(phase,
    done, total)`` hears of both phases: validating (rows of the file), filing (good rows)."""
    from docmgmt import storage
    from docmgmt.search import queue_bulk

    if mode not in ("block", "skip"):
        raise ValidationFailed(_("Choose what to do with rows in error."), field="mode")
    if imp.status not in ("uploaded", "mapped") + (("running",) if background else ()):
        raise InvalidState(_("This import has already run."))
    rt = imp.type
    parsed = load(imp)
    results = validate(imp, parsed, progress)
    bad = [r for r in results if r.errors]
    imp.error_rows = len(bad)
    if bad:
        imp.errors_sha256 = storage.put(error_report(results)).sha256
    if bad and mode == "block":
        imp.status = "failed"
        keep(imp, said("%(n)d rows have errors; nothing was imported.", n=len(bad)))
        db.session.flush()
        return imp
    good = [r for r in results if not r.errors and not r.duplicate]
    imp.skipped_duplicates = sum(1 for r in results if r.duplicate and not r.errors)
    now = utcnow()
    filed_day = local_today(now)
    numbers = ops.next_numbers(rt, filed_day.year, len(good)) if good else []
    form_rev = ops._form_revision(rt)
    imp.status = "running"
    rows = []
    for r, number in zip(good, numbers, strict=True):
        trigger = filed_day if rt.trigger == Trigger.FILING else r.trigger
        rows.append(
            {
                "number": number,
                "type_id": rt.id,
                "external_id": r.external_id or None,
                "title": r.title,
                "values": r.values,
                "department_id": rt.department_id,
                "form_revision_id": form_rev.id if form_rev else None,
                "filed_by_id": actor.id,
                "filed_dt": now,
                "trigger_date": trigger,
                "dispose_after": ops.dispose_after(rt, trigger),
                "corrects_id": None,
                "import_id": imp.id,
                "content_hash": ops.content_hash(rt, r.title, r.values, []),
                "state": RecordState.ACTIVE,
            }
        )
    if progress:
        progress("filing", 0, len(rows))
    for i in range(0, len(rows), CHUNK):
        db.session.execute(insert(Record), rows[i : i + CHUNK])
        imp.processed_rows = min(len(rows), i + CHUNK)
        if progress:
            progress("filing", imp.processed_rows, len(rows))
    # Search learns of the new records through the outbox, as bulk rows: indexed in large
    # batches after every other waiting change (a removal never waits behind an import).
    ids = db.session.scalars(select(Record.id).where(Record.import_id == imp.id)).all()
    queue_bulk(db.session, (f"rec:{x}" for x in ids))
    from docmgmt.faults import failpoint

    failpoint("import")  # fault tests: the server dies here, before the commit
    imp.imported = len(rows)
    imp.status = "done"
    keep(
        imp,
        said(
            "%(n)d records imported, %(d)d already filed, %(e)d rows with errors.",
            n=len(rows),
            d=imp.skipped_duplicates,
            e=len(bad),
        ),
    )
    db.session.flush()
    log_event(
        actor,
        "record.import",
        imp,
        summary=f"{imp.filename}: {len(rows)} imported, {imp.skipped_duplicates} duplicates, "
        f"{len(bad)} errors",
        object_type="record_import",
        object_id=imp.id,
    )
    return imp


PHASES = ("reading", "validating", "filing")


def job_key(import_id: int) -> str:
    return f"import:{import_id}"


def read_progress(import_id: int) -> tuple[str, int, int] | None:
    """(phase, done, total) of a background import, from its job row (any server sees it):
    reading the file, validating its rows, filing the good ones; None before it started."""
    from docmgmt.jobs.operations import progress_of

    got = progress_of(job_key(import_id))
    if got is None or not got[1]:
        return None
    _state, phase, done, total = got
    return (phase if phase in PHASES else "filing"), done, total


def submit(imp: RecordImport, user_id: int, mode: str):
    """Large files: the import becomes a job (docmgmt/jobs, kind "import"), run by a worker;
    the page polls its progress. Flushed, not committed: call ``jobs.start(job)`` after the
    commit. The import's outcome is its transaction, committed with the job's state, so a
    worker killed half-way leaves nothing filed and the next worker files it all, once."""
    from docmgmt.jobs import operations as jobs

    imp.status = "running"
    return jobs.submit(
        "import",
        job_key(imp.id),
        {"import_id": imp.id, "user_id": user_id, "mode": mode},
        total=imp.total_rows,
    )
