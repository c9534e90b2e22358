"""The auditor's workspace: clause-to-evidence matrix, reproducible record samples, the
surveillance schedule, and evidence packs (.zip with a manifest of SHA-256)."""

from __future__ import annotations

import hashlib
import io
import json
import random
import zipfile
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from docmgmt.audit.operations import log_event
from docmgmt.auth.permissions import can_manage_documents, can_read_history
from docmgmt.auth.scope import require_access, scope_documents, scope_records, scoped, visible
from docmgmt.certification.models import (
    CLAUSE_CODES,
    CLAUSES,
    Certificate,
    CertificationPlan,
    ClauseMapping,
    EvidencePack,
    Extension,
    SurveillanceAudit,
)
from docmgmt.clock import day_start, local_today, utcnow
from docmgmt.errors import NotFound, PermissionDenied, ValidationFailed
from docmgmt.extensions import db
from docmgmt.formtools import csv_bytes
from docmgmt.jobs.said import keep, said
from docmgmt.records.models import Record, RecordType
from docmgmt.records.operations import add_months
from docmgmt.versioning.models import Document

WARN_DAYS = 60
MAX_SAMPLE = 500


def require_reader(actor):
    if not can_read_history(actor):
        raise PermissionDenied(_("Only quality managers and auditors can see this."))


def require_manager(actor):
    if not can_manage_documents(actor):
        raise PermissionDenied(_("Only a quality manager can do this."))


def _day_bounds(d_from: date, d_to: date):
    # As UTC instants: SQLite stores an instant's UTC wall time and drops any other offset.
    return day_start(d_from), day_start(d_to + timedelta(days=1))


def check_period(d_from, d_to):
    if d_from is None or d_to is None:
        raise ValidationFailed(_("Give the start and end of the audit period."), field="period")
    if d_to < d_from:
        raise ValidationFailed(_("The period ends before it starts."), field="period")
    if (d_to - d_from).days > 3 * 366:
        raise ValidationFailed(_("An audit period is at most three years."), field="period")


# ---------------------------------------------------------------- clause matrix


def map_clause(actor, clause: str, *, document=None, record_type=None, now=None):
    require_manager(actor)
    if clause not in CLAUSE_CODES:
        raise ValidationFailed(_("Unknown clause %(c)s.", c=clause), field="clause")
    if (document is None) == (record_type is None):
        raise ValidationFailed(_("Map a clause to one procedure or one record type."))
    exists = db.session.scalar(
        select(func.count())
        .select_from(ClauseMapping)
        .where(
            ClauseMapping.clause == clause,
            ClauseMapping.document_id == (document.id if document else None)
            if document
            else ClauseMapping.document_id.is_(None),
            ClauseMapping.record_type_id == record_type.id
            if record_type
            else ClauseMapping.record_type_id.is_(None),
        )
    )
    if exists:
        raise ValidationFailed(_("This mapping exists already."))
    m = ClauseMapping(
        clause=clause,
        document=document,
        record_type=record_type,
        created_by_id=actor.id,
        created_dt=now or utcnow(),
    )
    db.session.add(m)
    db.session.flush()
    log_event(
        actor,
        "clause.map",
        m,
        object_type="clause_mapping",
        object_id=m.id,
        summary=f"{clause} → {document.number if document else record_type.code}",
    )
    return m


def unmap(actor, mapping: ClauseMapping):
    require_manager(actor)
    log_event(
        actor,
        "clause.unmap",
        mapping,
        object_type="clause_mapping",
        object_id=mapping.id,
        summary=mapping.clause,
    )
    db.session.delete(mapping)
    db.session.flush()


def clause_matrix(d_from: date, d_to: date, viewer=None) -> list[dict]:
    """Per clause: procedures with the revision in force at the end of the period and
    training completion on it; record types with how many records were filed in the period;
    ``gap`` when the clause has no evidence. With ``viewer``, only what they may see."""
    from docmgmt.training.models import TaskState, TrainingTask
    from docmgmt.versioning.queries import in_force_revision

    check_period(d_from, d_to)
    start, end = _day_bounds(d_from, d_to)
    mappings = visible(viewer, db.session.scalars(select(ClauseMapping)))
    rows = []
    for code, zh, en in CLAUSES:
        docs, types = [], []
        for m in (m for m in mappings if m.clause == code):
            if m.document is not None:
                rev = in_force_revision(m.document, d_to)
                done = total = 0
                if rev is not None:
                    counts = dict(
                        db.session.execute(
                            scoped(select(TrainingTask.state, func.count()), viewer, TrainingTask)
                            .where(
                                TrainingTask.revision_id == rev.id,
                                TrainingTask.state.in_([TaskState.OPEN, TaskState.DONE]),
                            )
                            .group_by(TrainingTask.state)
                        ).all()
                    )
                    done = counts.get(TaskState.DONE, 0)
                    total = done + counts.get(TaskState.OPEN, 0)
                docs.append(
                    {
                        "mapping": m,
                        "document": m.document,
                        "revision": rev,
                        "trained": done,
                        "to_train": total,
                    }
                )
            else:
                n = db.session.scalar(
                    scope_records(select(func.count()).select_from(Record), viewer).where(
                        Record.type_id == m.record_type_id,
                        Record.filed_dt >= start,
                        Record.filed_dt < end,
                    )
                )
                types.append({"mapping": m, "type": m.record_type, "records": n})
        gap = (
            not docs
            and not types
            or any(d["revision"] is None for d in docs)
            or any(t["records"] == 0 for t in types)
        )
        rows.append(
            {"clause": code, "zh": zh, "en": en, "documents": docs, "types": types, "gap": gap}
        )
    return rows


# ---------------------------------------------------------------- record sampling


def sample(actor, rt: RecordType, d_from: date, d_to: date, size: int, seed: int | None = None):
    """A random sample of the records of ``rt`` filed in the period; the same seed gives the
    same sample, so the auditor can show how it was drawn. Returns (seed, population, records)."""
    require_reader(actor)
    check_period(d_from, d_to)
    try:
        size = int(size)
    except (TypeError, ValueError):
        raise ValidationFailed(_("The sample size is a number."), field="size") from None
    if not 1 <= size <= MAX_SAMPLE:
        raise ValidationFailed(_("The sample size is 1 to %(n)d.", n=MAX_SAMPLE), field="size")
    if seed is None:
        seed = random.SystemRandom().randrange(1, 10**9)
    elif not 0 <= int(seed) < 2**31:
        raise ValidationFailed(_("The seed is a whole number below 2^31."), field="seed")
    start, end = _day_bounds(d_from, d_to)
    ids = db.session.scalars(
        scope_records(select(Record.id), actor)
        .where(Record.type_id == rt.id, Record.filed_dt >= start, Record.filed_dt < end)
        .order_by(Record.id)
    ).all()
    chosen = sorted(random.Random(int(seed)).sample(ids, min(size, len(ids))))
    records = db.session.scalars(
        select(Record).where(Record.id.in_(chosen)).order_by(Record.id)
    ).all()
    # A read, and written nowhere: the seed reproduces it, an auditor's reads are logged as
    # auditor.view with their path, and a sample that becomes evidence is in the pack.
    return int(seed), len(ids), records


# ---------------------------------------------------------------- surveillance schedule


def create_certificate(actor, *, number, body, issued_on, expires_on):
    require_manager(actor)
    if not (number or "").strip() or not (body or "").strip():
        raise ValidationFailed(_("Give the certificate number and the certification body."))
    if issued_on is None or expires_on is None or expires_on <= issued_on:
        raise ValidationFailed(_("The certificate expires after it is issued."), field="expires_on")
    c = Certificate(
        number=number.strip(), body=body.strip(), issued_on=issued_on, expires_on=expires_on
    )
    db.session.add(c)
    db.session.flush()
    log_event(
        actor,
        "certificate.create",
        c,
        object_type="certificate",
        object_id=c.id,
        summary=f"{c.number} {c.body}",
    )
    return c


def record_audit(actor, cert: Certificate, *, held_on, kind, auditor_name="", notes=""):
    require_manager(actor)
    if held_on is None or held_on > local_today():
        raise ValidationFailed(_("An audit is recorded after it was held."), field="held_on")
    if kind not in ("certification", "surveillance", "recertification"):
        raise ValidationFailed(_("Unknown kind of audit."), field="kind")
    a = SurveillanceAudit(
        certificate=cert,
        held_on=held_on,
        kind=kind,
        auditor_name=(auditor_name or "").strip(),
        notes=(notes or "").strip(),
    )
    db.session.add(a)
    db.session.flush()
    log_event(
        actor,
        "certificate.audit",
        cert,
        object_type="certificate",
        object_id=cert.id,
        summary=f"{kind} {held_on}",
    )
    return a


def record_extension(actor, cert: Certificate, *, granted_on, months, reason):
    require_manager(actor)
    try:
        months = int(months)
    except (TypeError, ValueError):
        raise ValidationFailed(_("An extension is 1 to 3 months."), field="months") from None
    if not 1 <= months <= 3:
        raise ValidationFailed(_("An extension is 1 to 3 months."), field="months")
    if not (reason or "").strip():
        raise ValidationFailed(_("Give the reason for the extension."), field="reason")
    last = _last_audit_day(cert)
    already = sum(e.months for e in cert.extensions if e.granted_on >= last)
    if already + months > 3:
        raise ValidationFailed(
            _("Extensions since the last audit may total at most 3 months."), field="months"
        )
    e = Extension(
        certificate=cert,
        granted_on=granted_on or local_today(),
        months=months,
        reason=reason.strip(),
    )
    db.session.add(e)
    db.session.flush()
    log_event(
        actor,
        "certificate.extension",
        cert,
        object_type="certificate",
        object_id=cert.id,
        summary=f"+{months} months: {reason.strip()[:80]}",
    )
    return e


def _last_audit_day(cert: Certificate) -> date:
    return max([a.held_on for a in cert.audits] or [cert.issued_on])


def schedule(cert: Certificate, today: date | None = None) -> dict:
    """Next surveillance due: at most 12 months after the last audit, plus extensions granted
    since (3 months at most); a warning from 60 days before."""
    today = today or local_today()
    last = _last_audit_day(cert)
    extra = min(3, sum(e.months for e in cert.extensions if e.granted_on >= last))
    surveillance_due = add_months(last, 12 + extra)
    # No surveillance audit falls after the certificate expires: the next audit is then the
    # recertification, held before the expiry.
    kind = "recertification" if surveillance_due >= cert.expires_on else "surveillance"
    due = min(surveillance_due, cert.expires_on)
    warning = None
    if extra and surveillance_due > cert.expires_on:
        warning = _(
            "The extension moves the next surveillance audit (%(d)s) past the certificate's "
            "expiry (%(e)s): the next audit is the recertification, due by %(e)s.",
            d=surveillance_due.isoformat(),
            e=cert.expires_on.isoformat(),
        )
    if today > due:
        status = "overdue"
    elif today >= due - timedelta(days=WARN_DAYS):
        status = "due_soon"
    else:
        status = "ok"
    return {
        "last": last,
        "extension_months": extra,
        "due": due,
        "kind": kind,
        "warning": warning,
        "status": status,
        "days_left": (due - today).days,
    }


def planned_body() -> str:
    """The certification body the company has chosen before it holds a certificate ("")."""
    plan = db.session.scalar(select(CertificationPlan).limit(1))
    return plan.body if plan is not None else ""


def set_planned_body(actor, body: str) -> CertificationPlan | None:
    """Remember the chosen certification body (the certificate form starts from it)."""
    require_manager(actor)
    body = (body or "").strip()
    if len(body) > 200:
        raise ValidationFailed(
            _("The certification body is at most %(n)d characters.", n=200), field="body"
        )
    plan = db.session.scalar(select(CertificationPlan).limit(1))
    if not body and plan is None:
        return None
    if plan is None:
        plan = CertificationPlan(body=body)
        db.session.add(plan)
    plan.body, plan.updated_dt = body, utcnow()
    db.session.flush()
    log_event(
        actor,
        "certification.plan",
        None,
        object_type="certification_plan",
        object_id=plan.id,
        summary=body,
    )
    return plan


def current_certificate() -> Certificate | None:
    return db.session.scalar(select(Certificate).order_by(Certificate.issued_on.desc()).limit(1))


# ---------------------------------------------------------------- evidence pack


def request_pack(actor, d_from, d_to, *, sample_type=None, sample_size=0, sample_seed=None):
    require_reader(actor)
    check_period(d_from, d_to)
    if sample_type is not None and not 1 <= int(sample_size or 0) <= MAX_SAMPLE:
        raise ValidationFailed(_("The sample size is 1 to %(n)d.", n=MAX_SAMPLE), field="size")
    pack = EvidencePack(
        period_from=d_from,
        period_to=d_to,
        sample_type_id=sample_type.id if sample_type else None,
        sample_size=int(sample_size or 0) if sample_type else 0,
        sample_seed=sample_seed,
        status="queued",
        created_by_id=actor.id,
        created_dt=utcnow(),
    )
    db.session.add(pack)
    db.session.flush()
    log_event(
        actor,
        "evidence.request",
        pack,
        object_type="evidence_pack",
        object_id=pack.id,
        summary=f"{d_from}..{d_to}",
    )
    return pack


def _csv(rows) -> bytes:
    return csv_bytes(rows)


def build_pack(pack: EvidencePack, actor, progress=None) -> bytes:
    """The zip: master list (PDF, CSV), each document in force as a PDF marked for audit,
    revision histories with signatures, training status, records index, the sample with its
    attachments, the audit trail extract with its verification, and a manifest of SHA-256."""
    from docmgmt import storage
    from docmgmt.audit.chain import verify
    from docmgmt.audit.models import AuditEvent
    from docmgmt.clock import to_local
    from docmgmt.control import export as cexport
    from docmgmt.extract import recognition
    from docmgmt.extract.reasons import reason_of
    from docmgmt.printing import operations as pops
    from docmgmt.printing import pdf
    from docmgmt.training.models import TrainingTask
    from docmgmt.versioning.queries import in_force_revision

    files: dict[str, bytes] = {}
    company = current_app.config["COMPANY_NAME"]
    start, end = _day_bounds(pack.period_from, pack.period_to)
    printed_at = to_local(utcnow()).strftime("%Y-%m-%d %H:%M")

    rows = cexport.master_list_rows(actor)
    files["01-master-list/master-list.pdf"] = cexport.master_list_pdf(
        rows, company, actor.full_name, printed_at
    )
    headers = cexport.master_list_headers()
    files["01-master-list/master-list.csv"] = _csv(
        [headers] + [[str(v) for v in r.values()] for r in rows]
    )
    docs = db.session.scalars(scope_documents(select(Document), actor).order_by(Document.number))
    docs = docs.all()
    in_force = [(d, in_force_revision(d, pack.period_to)) for d in docs]
    in_force = [(d, r) for d, r in in_force if r is not None]
    steps = len(in_force) + 5  # a step per document in force, then the five parts after them
    for i, (d, rev) in enumerate(in_force, 1):
        job = pops.print_job(rev, pdf.MODE_UNCONTROLLED, actor)
        job.printed_by = f"{actor.full_name}（供认证审核使用 · for audit）"
        files[f"02-documents-in-force/{d.number}-{rev.version}.pdf"] = pdf.render(job)
        if progress:
            progress(i, steps)
    history = [
        [
            "document",
            "version",
            "state",
            "effective",
            "superseded",
            "signature",
            "signer",
            "signed_at",
            "content_hash",
        ]
    ]
    for d in docs:
        for rev in d.revisions:
            sigs = rev.signatures or [None]
            for s in sigs:
                history.append(
                    [
                        d.number,
                        rev.version,
                        rev.state.value,
                        rev.effective_date.isoformat() if rev.effective_date else "",
                        rev.superseded_date.isoformat() if rev.superseded_date else "",
                        s.meaning.value if s else "",
                        s.signer_name if s else "",
                        to_local(s.signed_dt).isoformat() if s else "",
                        s.content_hash if s else "",
                    ]
                )
    files["03-revision-histories.csv"] = _csv(history)
    tasks = [["person", "document", "version", "state", "due", "completed", "via"]]
    for t in db.session.scalars(
        scoped(select(TrainingTask), actor, TrainingTask).order_by(TrainingTask.id)
    ):
        tasks.append(
            [
                t.user.full_name,
                t.document.number,
                t.revision.version,
                t.state.value,
                t.due_date.isoformat(),
                to_local(t.completed_dt).isoformat() if t.completed_dt else "",
                t.completed_via,
            ]
        )
    files["04-training-status.csv"] = _csv(tasks)
    index = [
        ["number", "type", "external_id", "title", "filed", "keep_until", "state", "content_hash"]
    ]
    for r in db.session.scalars(
        scope_records(select(Record), actor)
        .where(Record.filed_dt >= start, Record.filed_dt < end)
        .order_by(Record.id)
    ):
        index.append(
            [
                r.number,
                r.type.code,
                r.external_id or "",
                r.title,
                to_local(r.filed_dt).isoformat(),
                r.dispose_after.isoformat() if r.dispose_after else "",
                r.state.value,
                r.content_hash,
            ]
        )
    files["05-records-index.csv"] = _csv(index)
    if pack.sample_type_id:
        rt = db.session.get(RecordType, pack.sample_type_id)
        seed, population, chosen = sample(
            actor, rt, pack.period_from, pack.period_to, pack.sample_size, pack.sample_seed
        )
        pack.sample_seed = seed
        texts = recognition.texts_of_records([r.id for r in chosen])
        files["06-sample/sample.json"] = json.dumps(
            {
                "type": rt.code,
                "period": [pack.period_from.isoformat(), pack.period_to.isoformat()],
                "seed": seed,
                "population": population,
                "records": [
                    {
                        "number": r.number,
                        "title": r.title,
                        "values": r.values,
                        "filed": to_local(r.filed_dt).isoformat(),
                        "content_hash": r.content_hash,
                        "attachments": [
                            {
                                "filename": t.filename,
                                "sha256": t.sha256,
                                "text_state": t.state,
                                "text_reason": reason_of(t),
                            }
                            for t in texts.get(r.id, ())
                        ],
                    }
                    for r in chosen
                ],
            },
            ensure_ascii=False,
            indent=1,
        ).encode()
        for r in chosen:
            for a in r.attachments:
                if not a.removed and storage.exists(a.sha256):
                    files[f"06-sample/{r.number}/{a.filename}"] = storage.read(a.sha256)
            # The text read from each attachment, and the searchable copy of a scan.
            for t in texts.get(r.id, ()):
                if t.state == "done":
                    files[f"06-sample/{r.number}/{t.filename}.txt"] = t.text.encode()
                if t.searchable_sha256 and storage.exists(t.searchable_sha256):
                    name = recognition.searchable_name(t)
                    files[f"06-sample/{r.number}/{name}"] = storage.read(t.searchable_sha256)
    trail = [["seq", "at", "actor", "action", "object", "summary", "hash", "prev_hash"]]
    for e in db.session.scalars(
        scoped(select(AuditEvent), actor, AuditEvent)
        .where(AuditEvent.occurred_dt >= start, AuditEvent.occurred_dt < end)
        .order_by(AuditEvent.seq)
    ):
        trail.append(
            [
                e.seq,
                to_local(e.occurred_dt).isoformat(),
                e.actor_name,
                e.action,
                f"{e.object_type}:{e.object_id or ''}",
                e.summary,
                e.hash,
                e.prev_hash,
            ]
        )
    files["07-audit-trail/audit-trail.csv"] = _csv(trail)
    result = verify(db.session)
    files["07-audit-trail/verification.txt"] = (
        f"Audit trail hash chain, verified {printed_at}: "
        + (
            f"INTACT, {result.checked} events."
            if result.ok
            else f"BROKEN at event #{result.first_bad_seq}: {result.reason}."
            if result.first_bad_seq is not None
            else f"BROKEN: {result.reason}."
        )
        + "\n"
    ).encode()
    from docmgmt.audit.chain import seal_to_anchor

    manifest = {
        "audit_seal": seal_to_anchor(db.session),
        "company": company,
        "period": [pack.period_from.isoformat(), pack.period_to.isoformat()],
        "built_by": actor.full_name,
        "built_at": printed_at,
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in sorted(files.items())
        },
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(files.items()):
            z.writestr(name, data)
        z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    pack.files = len(files)
    if progress:  # the end: the parts after the documents are written too
        progress(steps, steps)
    return out.getvalue()


def run_pack(pack: EvidencePack, actor, progress=None) -> EvidencePack:
    from docmgmt import storage

    pack.status = "running"
    data = build_pack(pack, actor, progress)
    blob = storage.put(data)
    pack.sha256, pack.size, pack.status = blob.sha256, blob.size, "done"
    keep(pack, said("%(n)d files.", n=pack.files))
    db.session.flush()
    log_event(
        actor,
        "evidence.build",
        pack,
        object_type="evidence_pack",
        object_id=pack.id,
        summary=f"{pack.period_from}..{pack.period_to}: {pack.files} files, {blob.sha256}"
        + (f", sample seed {pack.sample_seed}" if pack.sample_type_id else ""),
    )
    return pack


def job_key(pack_id: int) -> str:
    return f"pack:{pack_id}"


def read_progress(pack_id: int):
    """(done, total) of a pack being built, from its job row; None before it started."""
    from docmgmt.jobs.operations import progress_of

    got = progress_of(job_key(pack_id))
    if got is None or not got[3]:
        return None
    return got[2], got[3]


def submit(pack: EvidencePack, user_id: int):
    """A large pack is a job for a worker (kind "pack"); flushed, call ``jobs.start(job)``
    after the commit. The pack's outcome commits with the job's state: built once."""
    from docmgmt.jobs import operations as jobs

    return jobs.submit("pack", job_key(pack.id), {"pack_id": pack.id, "user_id": user_id})


def get_pack(pack_id, user=None) -> EvidencePack:
    """The pack; 404 also when ``user`` may not see it (a limited auditor sees their own)."""
    p = db.session.get(EvidencePack, pack_id)
    if p is None:
        raise NotFound(_("Not found."))
    return require_access(user, p)
