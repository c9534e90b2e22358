"""Pages of the auditor's workspace: schedule, clause matrix, sampling, evidence packs."""

from datetime import date, timedelta

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from docmgmt import storage
from docmgmt.auth.permissions import can_manage_documents, can_read_history, require
from docmgmt.auth.scope import scope_documents, scoped
from docmgmt.certification import bp
from docmgmt.certification import operations as ops
from docmgmt.certification.models import (
    CLAUSES,
    Certificate,
    ClauseMapping,
    EvidencePack,
)
from docmgmt.clock import local_today
from docmgmt.errors import DomainError, NotFound, undo
from docmgmt.extensions import db
from docmgmt.records.models import RecordType
from docmgmt.versioning.models import Document, DocumentType

BACKGROUND_DOCS = 40  # packs with more documents in force are jobs for a worker


def _period():
    """The audit period from the query string; default: the last twelve months."""
    today = local_today()
    try:
        d_to = date.fromisoformat(request.values.get("to") or today.isoformat())
        d_from = date.fromisoformat(
            request.values.get("from") or (d_to - timedelta(days=365)).isoformat()
        )
    except ValueError:
        flash(_("Dates are YYYY-MM-DD; the last twelve months are shown."), "error")
        d_to, d_from = today, today - timedelta(days=365)
    return d_from, d_to


@bp.get("/")
@login_required
def index():
    require(can_read_history(current_user))
    cert = ops.current_certificate()
    return render_template(
        "certification/index.html",
        cert=cert,
        planned_body=ops.planned_body() if cert is None else "",
        schedule=ops.schedule(cert) if cert else None,
        packs=db.session.scalars(
            scoped(select(EvidencePack), current_user, EvidencePack)
            .order_by(EvidencePack.id.desc())
            .limit(20)
        ).all(),
        types=db.session.scalars(select(RecordType).order_by(RecordType.code)).all(),
        can_edit=can_manage_documents(current_user),
        today=local_today(),
    )


@bp.post("/certificate")
@login_required
def save_certificate():
    try:
        f = request.form
        cert = db.session.get(Certificate, f.get("certificate_id", type=int) or 0)
        if cert is None:
            ops.create_certificate(
                current_user,
                number=f.get("number"),
                body=f.get("body"),
                issued_on=_d(f.get("issued_on")),
                expires_on=_d(f.get("expires_on")),
            )
        elif f.get("what") == "audit":
            ops.record_audit(
                current_user,
                cert,
                held_on=_d(f.get("held_on")),
                kind=f.get("kind", ""),
                auditor_name=f.get("auditor_name", ""),
                notes=f.get("notes", ""),
            )
        else:
            ops.record_extension(
                current_user,
                cert,
                granted_on=_d(f.get("granted_on")),
                months=f.get("months"),
                reason=f.get("reason", ""),
            )
        db.session.commit()
        flash(_("Saved."), "success")
        if cert is not None and f.get("what") != "audit":
            warning = ops.schedule(cert)["warning"]
            if warning:
                flash(warning, "error")
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
    return redirect(url_for(".index"), 303)


def _d(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.route("/clauses", methods=["GET", "POST"])
@login_required
def clauses():
    require(can_read_history(current_user))
    if request.method == "POST":
        try:
            if request.form.get("remove"):
                m = db.session.get(ClauseMapping, request.form.get("remove", type=int))
                if m is None:
                    raise NotFound(_("Not found."))
                ops.unmap(current_user, m)
            else:
                doc_id = request.form.get("document_id", type=int)
                type_id = request.form.get("record_type_id", type=int)
                ops.map_clause(
                    current_user,
                    request.form.get("clause", ""),
                    document=db.session.get(Document, doc_id) if doc_id else None,
                    record_type=db.session.get(RecordType, type_id) if type_id else None,
                )
            db.session.commit()
            flash(_("Saved."), "success")
        except DomainError as exc:
            undo(exc)
            flash(exc.message, "error")
        return redirect(url_for(".clauses", **{k: v for k, v in request.args.items()}), 303)
    d_from, d_to = _period()
    try:
        matrix = ops.clause_matrix(d_from, d_to, current_user)
    except DomainError as exc:
        flash(exc.message, "error")
        d_from, d_to = local_today() - timedelta(days=365), local_today()
        matrix = ops.clause_matrix(d_from, d_to, current_user)
    return render_template(
        "certification/clauses.html",
        matrix=matrix,
        d_from=d_from,
        d_to=d_to,
        clauses=CLAUSES,
        documents=db.session.scalars(
            scope_documents(select(Document), current_user)
            .where(Document.doc_type.in_([DocumentType.MANUAL, DocumentType.PROCEDURE]))
            .order_by(Document.number)
        ).all(),
        types=db.session.scalars(select(RecordType).order_by(RecordType.code)).all(),
        can_edit=can_manage_documents(current_user),
    )


@bp.get("/sample")
@login_required
def sample():
    require(can_read_history(current_user))
    types = db.session.scalars(select(RecordType).order_by(RecordType.code)).all()
    d_from, d_to = _period()
    result = None
    if request.args.get("type"):
        try:
            rt = db.session.get(RecordType, request.args.get("type", type=int) or 0)
            if rt is None:
                raise NotFound(_("No such record type."))
            seed = request.args.get("seed", "").strip()
            result = ops.sample(
                current_user,
                rt,
                d_from,
                d_to,
                request.args.get("size", "10"),
                int(seed) if seed.isdigit() else None,
            )
            if not seed.isdigit():  # a drawn seed goes into the address: bookmarkable, and
                # the auditor's view log (the path) says how the sample was drawn
                args = request.args.to_dict() | {"seed": result[0]}
                return redirect(url_for(".sample", **args), 303)
        except DomainError as exc:
            undo(exc)
            flash(exc.message, "error")
    from docmgmt.extract import recognition

    texts = recognition.texts_of_records([r.id for r in result[2]]) if result else {}
    return render_template(
        "certification/sample.html",
        types=types,
        d_from=d_from,
        d_to=d_to,
        result=result,
        texts=texts,
        state_label=recognition.state_label,
    )


@bp.post("/packs")
@login_required
def request_pack():
    require(can_read_history(current_user))
    d_from, d_to = _period()
    try:
        type_id = request.form.get("sample_type", type=int)
        seed = (request.form.get("seed") or "").strip()
        pack = ops.request_pack(
            current_user,
            d_from,
            d_to,
            sample_type=db.session.get(RecordType, type_id) if type_id else None,
            sample_size=request.form.get("size", type=int) or 0,
            sample_seed=int(seed) if seed.isdigit() else None,
        )
        n_docs = db.session.scalar(select(func.count()).select_from(Document))
        if n_docs > BACKGROUND_DOCS:
            from docmgmt.jobs.operations import start

            job = ops.submit(pack, current_user.id)
            db.session.commit()
            start(job)
        else:
            db.session.commit()
            ops.run_pack(pack, current_user)
            db.session.commit()
        return redirect(url_for(".pack", pack_id=pack.id), 303)
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
        return redirect(url_for(".index"), 303)


@bp.get("/packs/<int:pack_id>")
@login_required
def pack(pack_id):
    require(can_read_history(current_user))
    p = ops.get_pack(pack_id, current_user)
    return render_template("certification/pack.html", p=p, progress=ops.read_progress(p.id))


@bp.get("/packs/<int:pack_id>/evidence.zip")
@login_required
def download_pack(pack_id):
    require(can_read_history(current_user))
    p = ops.get_pack(pack_id, current_user)
    if p.status != "done" or not storage.exists(p.sha256):
        raise NotFound(_("Not found."))
    return send_file(
        storage.blob_path(p.sha256),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"evidence-{p.period_from}-{p.period_to}.zip",
    )
