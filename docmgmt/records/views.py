"""Records pages: types, filing and correcting, the list, import, holds, disposition."""

import io
from datetime import date, datetime

from flask import (
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from docmgmt import storage
from docmgmt.auth.models import Department, Role, User
from docmgmt.auth.permissions import can_manage_documents, require
from docmgmt.auth.scope import require_access, scope_records, scoped, visible
from docmgmt.clock import to_local
from docmgmt.errors import DomainError, NotFound, ValidationFailed, undo
from docmgmt.extensions import db
from docmgmt.extract import web as text_web
from docmgmt.extract.web import RetryTextForm
from docmgmt.formtools import csv_bytes, error_at_field, options, xlsx_append
from docmgmt.jobs.said import text_of
from docmgmt.records import bp, importing
from docmgmt.records import operations as ops
from docmgmt.records.forms import (
    DecideForm,
    FilingForm,
    HoldForm,
    ImportRunForm,
    ImportUploadForm,
    ProposeForm,
    ReleaseForm,
    TriggerForm,
    TypeForm,
)
from docmgmt.records.models import (
    Disposal,
    LegalHold,
    Record,
    RecordAttachment,
    RecordImport,
    RecordType,
)
from docmgmt.versioning.models import Document, DocumentType

PAGE = 50


def _types(active_only=False):
    q = select(RecordType).order_by(RecordType.code)
    if active_only:
        q = q.where(RecordType.is_active.is_(True))
    return db.session.scalars(q).all()


def _departments():
    return db.session.scalars(select(Department).order_by(Department.code)).all()


def parse_fields_text(text: str) -> list[dict]:
    """``name | label | kind | required | choice1, choice2`` per line; the kind may carry a
    range, ``number[0..1000]`` (either end may be left open: ``number[0..]``), or a longest
    length, ``text[..200]``."""
    out = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        parts += [""] * (5 - len(parts))
        out.append(
            {
                "name": parts[0],
                "label": parts[1] or parts[0],
                **ops.parse_kind(parts[2] or "text"),
                "required": parts[3].lower() in ("required", "yes", "y", "必填", "1", "true"),
                "choices": [c.strip() for c in parts[4].replace("，", ",").split(",") if c.strip()],
            }
        )
    return out


# ---------------------------------------------------------------- types


@bp.route("/types", methods=["GET", "POST"])
@login_required
def types():
    form = TypeForm()
    forms = db.session.scalars(
        select(Document)
        .where(Document.doc_type == DocumentType.RECORD_FORM)
        .order_by(Document.number)
    ).all()
    form.form_document_id.choices = options(
        [(0, "—")] + [(d.id, f"{d.number} {d.title}") for d in forms]
    )
    form.department_id.choices = options(
        [(0, "—")] + [(d.id, d.shown_name) for d in _departments()]
    )
    if request.method == "POST":
        require(can_manage_documents(current_user))
        if form.validate_on_submit():
            try:
                rt = ops.create_type(
                    current_user,
                    code=form.code.data,
                    name=form.name.data,
                    retention_months=form.retention_months.data,
                    trigger=form.trigger.data,
                    disposal_method=form.disposal_method.data,
                    fields=parse_fields_text(form.fields.data),
                    form_document=db.session.get(Document, form.form_document_id.data)
                    if form.form_document_id.data
                    else None,
                    department=db.session.get(Department, form.department_id.data)
                    if form.department_id.data
                    else None,
                )
                db.session.commit()
                flash(_("Record type %(c)s created.", c=rt.code), "success")
                return redirect(url_for(".types"), 303)
            except DomainError as exc:
                undo(exc)
                flash(exc.message, "error")
        else:
            flash(_("Please correct the marked fields."), "error")
    return render_template(
        "records/types.html", types=_types(), form=form, can_edit=can_manage_documents(current_user)
    )


# ---------------------------------------------------------------- the list


def _filters():
    a = request.args

    def day(name):
        try:
            return date.fromisoformat(a.get(name, "")) if a.get(name) else None
        except ValueError:
            flash(_("%(v)s is not a date (YYYY-MM-DD).", v=a.get(name)), "error")
            return None

    return {
        "type_id": a.get("type", type=int),
        "department_id": a.get("department", type=int),
        "date_from": day("from"),
        "date_to": day("to"),
        "field": (a.get("field") or "").strip() or None,
        "value": (a.get("value") or "").strip() or None,
        "text": (a.get("q") or "").strip() or None,
        "state": a.get("state") if a.get("state") in ("active", "disposed") else None,
    }


def _export_value(v):
    """Numbers stay numbers (a spreadsheet can sum them); the rest is text."""
    if v is None:
        return ""
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)


def _cursor():
    raw = request.args.get("after", "")
    if "_" not in raw:
        return None
    dt, _sep, rid = raw.rpartition("_")
    try:
        return datetime.fromisoformat(dt), int(rid)
    except ValueError:
        return None


@bp.get("/")
@login_required
def index():
    f = _filters()
    rows = db.session.scalars(
        ops.records_query(**f, after=_cursor(), user=current_user).limit(PAGE + 1)
    ).all()
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    nxt = f"{rows[-1].filed_dt.isoformat()}_{rows[-1].id}" if more else None
    args = {k: v for k, v in request.args.items() if k != "after"}
    return render_template(
        "records/index.html",
        rows=rows,
        next_cursor=nxt,
        args=args,
        types=_types(),
        departments=_departments(),
        can_file=ops.can_file(current_user),
    )


@bp.get("/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt):
    f = _filters()
    rows = db.session.scalars(ops.records_query(**f, user=current_user).limit(100_000)).all()
    fields = []
    for r in rows:
        for fd in r.type.fields:
            if fd["name"] not in fields:
                fields.append(fd["name"])
    header = ["number", "type", "external_id", "title", "filed", "dispose_after", "state", *fields]
    data = [
        [
            r.number,
            r.type.code,
            r.external_id or "",
            r.title,
            to_local(r.filed_dt).date().isoformat(),
            r.dispose_after.isoformat() if r.dispose_after else "",
            r.state.value,
            *[_export_value(r.values.get(n)) for n in fields],
        ]
        for r in rows
    ]
    if fmt == "csv":
        return send_file(
            io.BytesIO(csv_bytes(data, header=header)),
            mimetype="text/csv",
            download_name="records.csv",
        )
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "records"
    xlsx_append(ws, header)
    for row in data:
        xlsx_append(ws, row)
    out = io.BytesIO()
    wb.save(out)
    return send_file(
        io.BytesIO(out.getvalue()),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        download_name="records.xlsx",
    )


# ---------------------------------------------------------------- filing


def _file_from_request(rt, corrects=None):
    form = FilingForm()
    if not form.validate_on_submit():
        raise ValidationFailed(
            "; ".join(
                f"{getattr(form, k).label.text}: {', '.join(v)}" for k, v in form.errors.items()
            )
            or _("The form expired; try again.")
        )
    values = {f["name"]: request.form.get(f"f_{f['name']}", "") for f in rt.fields}
    files = [
        (fs.filename, fs.read(), fs.mimetype or "")
        for fs in request.files.getlist("files")
        if fs and fs.filename
    ]
    return ops.file_record(
        current_user,
        rt,
        title=form.title.data,
        values=values,
        files=files,
        external_id=form.external_id.data,
        trigger_date=form.trigger_date.data,
        corrects=corrects,
    )


def _filing_page(rt, form, values, corrects, exc=None):
    """The filing form; an error is shown at the field it names (a form field or one of the
    type's fields), or at the top when it names none."""
    error_field = None
    if exc is not None and not error_at_field(form, exc):
        if exc.field in {f["name"] for f in rt.fields}:
            error_field = exc.field
        else:
            flash(exc.message, "error")
    return render_template(
        "records/file.html",
        rt=rt,
        form=form,
        values=values,
        corrects=corrects,
        error_field=error_field,
        error_message=exc.message if exc is not None else "",
    ), (exc.status if exc is not None else 200)


@bp.route("/new/<int:type_id>", methods=["GET", "POST"])
@login_required
def new(type_id):
    rt = ops.get_type(type_id)
    require(ops.can_file(current_user))
    if request.method == "POST":
        try:
            record = _file_from_request(rt)
            db.session.commit()
            flash(_("Record %(n)s filed.", n=record.number), "success")
            return redirect(url_for(".detail", record_id=record.id), 303)
        except DomainError as exc:
            undo(exc)
            return _filing_page(rt, FilingForm(), request.form, None, exc)
    return _filing_page(rt, FilingForm(), request.form, None)


@bp.route("/<int:record_id>/correct", methods=["GET", "POST"])
@login_required
def correct(record_id):
    original = ops.get_record(record_id, current_user)
    rt = original.type
    require(ops.can_file(current_user))
    if request.method == "POST":
        try:
            record = _file_from_request(rt, corrects=original)
            db.session.commit()
            flash(
                _(
                    "Correction %(n)s filed; %(o)s stays as it was.",
                    n=record.number,
                    o=original.number,
                ),
                "success",
            )
            return redirect(url_for(".detail", record_id=record.id), 303)
        except DomainError as exc:
            undo(exc)
            return _filing_page(rt, FilingForm(), request.form, original, exc)
    else:
        values = {f"f_{k}": v for k, v in original.values.items()} | {"title": original.title}
    form = FilingForm(data={"title": values.get("title", "")})
    return _filing_page(rt, form, values, original)


@bp.get("/<int:record_id>")
@login_required
def detail(record_id):
    record = ops.get_record(record_id, current_user)
    return render_template(
        "records/detail.html",
        r=record,
        corrections=ops.corrections_of(record),
        holds=ops.holds_on(record),
        trigger_form=TriggerForm(),
        can_file=ops.can_file(current_user),
        can_manage=can_manage_documents(current_user),
        texts=ops.attachment_texts(record),
        can_retry=ops.can_retry_recognition(current_user, record),
        retry_form=RetryTextForm(),
    )


@bp.post("/<int:record_id>/trigger")
@login_required
def set_trigger(record_id):
    record = ops.get_record(record_id)
    form = TriggerForm()
    try:
        if not form.validate_on_submit():
            raise ValidationFailed(_("Give a plausible date, not in the future."))
        ops.set_trigger_date(current_user, record, form.trigger_date.data)
        db.session.commit()
        flash(
            _("Date recorded; the record may be disposed of after %(d)s.", d=record.dispose_after),
            "success",
        )
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
    return redirect(url_for(".detail", record_id=record_id), 303)


@bp.get("/<int:record_id>/attachments/<int:att_id>")
@login_required
def attachment(record_id, att_id):
    ops.get_record(record_id, current_user)
    att = db.session.get(RecordAttachment, att_id)
    if att is None or att.record_id != record_id or att.removed:
        raise NotFound(_("Not found."))
    return storage.send_stored(att.sha256, att.filename)


@bp.get("/<int:record_id>/attachments/<int:att_id>/searchable.pdf")
@login_required
def searchable_pdf(record_id, att_id):
    record = ops.get_record(record_id, current_user)
    return text_web.send_searchable(ops.attachment_text(record, att_id))


@bp.post("/<int:record_id>/attachments/<int:att_id>/retry-text")
@login_required
def retry_text(record_id, att_id):
    record = ops.get_record(record_id, current_user)
    return text_web.retry_page(
        lambda: ops.retry_recognition(current_user, record, att_id),
        url_for(".detail", record_id=record_id),
    )


# ---------------------------------------------------------------- import


@bp.route("/import/<int:type_id>", methods=["GET", "POST"])
@login_required
def import_upload(type_id):
    rt = ops.get_type(type_id)
    require(ops.can_file(current_user))
    form = ImportUploadForm()
    if request.method == "POST":
        f = request.files.get("file")
        try:
            if not form.validate_on_submit() or f is None or not f.filename:
                raise ValidationFailed(_("Choose a CSV or .xlsx file."), field="file")
            imp, _parsed = importing.upload(current_user, rt, f.filename, f.read())
            db.session.commit()
            return redirect(url_for(".import_detail", import_id=imp.id), 303)
        except DomainError as exc:
            undo(exc)
            flash(exc.message, "error")
    return render_template("records/import_upload.html", rt=rt, form=form)


def _import(import_id) -> RecordImport:
    imp = db.session.get(RecordImport, import_id)
    if imp is None:
        raise NotFound(_("Not found."))
    require(imp.created_by_id == current_user.id or can_manage_documents(current_user))
    return require_access(current_user, imp)


@bp.route("/imports/<int:import_id>", methods=["GET", "POST"])
@login_required
def import_detail(import_id):
    imp = _import(import_id)
    if imp.status in ("running", "done", "failed"):
        progress = importing.read_progress(imp.id) if imp.status == "running" else None
        return render_template("records/import_status.html", imp=imp, progress=progress)
    parsed = importing.load(imp)
    if request.method == "POST" and request.form.get("action") == "map":
        mapping = {f["name"]: request.form.get(f"map_{f['name']}", "") for f in imp.type.fields}
        if request.form.get("map__trigger_date"):
            mapping["_trigger_date"] = request.form["map__trigger_date"]
        try:
            importing.set_mapping(
                imp,
                mapping,
                request.form.get("external_id_column", ""),
                request.form.get("title_column", ""),
                parsed.header,
            )
            db.session.commit()
        except DomainError as exc:
            undo(exc)
            flash(exc.message, "error")
            imp = _import(import_id)
    results = importing.validate(imp, parsed)
    return render_template(
        "records/import_preview.html",
        imp=imp,
        header=parsed.header,
        results=results,
        preview=results[:20],
        errors=[r for r in results if r.errors][:200],
        n_errors=sum(1 for r in results if r.errors),
        n_dupes=sum(1 for r in results if r.duplicate and not r.errors),
        run_form=ImportRunForm(),
    )


@bp.post("/imports/<int:import_id>/run")
@login_required
def import_run(import_id):
    imp = _import(import_id)
    form = ImportRunForm()
    if not form.validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return redirect(url_for(".import_detail", import_id=import_id), 303)
    if imp.total_rows > importing.BACKGROUND_ROWS:
        from docmgmt.jobs.operations import start

        job = importing.submit(imp, current_user.id, form.mode.data)
        db.session.commit()
        start(job)
        return redirect(url_for(".import_detail", import_id=import_id), 303)
    try:
        importing.run(current_user, imp, form.mode.data)
        db.session.commit()
        flash(text_of(imp), "success" if imp.status == "done" else "error")
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
    return redirect(url_for(".import_detail", import_id=import_id), 303)


@bp.get("/imports/<int:import_id>/errors.csv")
@login_required
def import_errors(import_id):
    imp = _import(import_id)
    if not imp.errors_sha256:
        raise NotFound(_("Not found."))
    return send_file(
        storage.blob_path(imp.errors_sha256),
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"import-{imp.id}-errors.csv",
    )


# ---------------------------------------------------------------- holds


@bp.route("/holds", methods=["GET", "POST"])
@login_required
def holds():
    require(ops.can_read_history(current_user))
    form = HoldForm()
    form.type_id.choices = options([(0, "—")] + [(t.id, f"{t.code} {t.name}") for t in _types()])
    if request.method == "POST":
        require(can_manage_documents(current_user))
        try:
            if not form.validate_on_submit():
                raise ValidationFailed(_("Give the reason for the hold."), field="reason")
            record = None
            if form.scope.data == "record":
                record = db.session.scalar(
                    select(Record).where(Record.number == (form.record_number.data or "").strip())
                )
                if record is None:
                    raise ValidationFailed(_("No record has that number."), field="record_number")
            ops.place_hold(
                current_user,
                scope=form.scope.data,
                reason=form.reason.data,
                record=record,
                rt=db.session.get(RecordType, form.type_id.data) if form.type_id.data else None,
                query=form.query.data or "",
            )
            db.session.commit()
            flash(_("Legal hold placed."), "success")
            return redirect(url_for(".holds"), 303)
        except DomainError as exc:
            undo(exc)
            flash(exc.message, "error")
    rows = db.session.scalars(
        scoped(select(LegalHold).order_by(LegalHold.placed_dt.desc()), current_user, LegalHold)
    ).all()
    return render_template(
        "records/holds.html",
        rows=rows,
        form=form,
        release_form=ReleaseForm(),
        can_edit=can_manage_documents(current_user),
    )


@bp.post("/holds/<int:hold_id>/release")
@login_required
def release(hold_id):
    hold = db.session.get(LegalHold, hold_id)
    if hold is None:
        raise NotFound(_("Not found."))
    form = ReleaseForm()
    try:
        if not form.validate_on_submit():
            raise ValidationFailed(_("Give the reason for the release."), field="reason")
        ops.release_hold(current_user, hold, form.reason.data)
        db.session.commit()
        flash(_("Legal hold released."), "success")
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
    return redirect(url_for(".holds"), 303)


# ---------------------------------------------------------------- disposition


def _approvers():
    return [
        u
        for u in db.session.scalars(
            select(User).where(User.is_active_flag.is_(True)).order_by(User.full_name)
        )
        if u.has_role(Role.APPROVER, Role.QUALITY_MANAGER) and u.id != current_user.id
    ]


@bp.route("/disposition", methods=["GET", "POST"])
@login_required
def disposition():
    require(ops.can_read_history(current_user))
    form = ProposeForm()
    form.approver_id.choices = options([(u.id, u.full_name) for u in _approvers()])
    if request.method == "POST":
        require(can_manage_documents(current_user))
        ids = [int(x) for x in request.form.getlist("record_id") if x.isdigit()]
        try:
            if not form.validate_on_submit():
                raise ValidationFailed(_("Give the reason and the approver."), field="reason")
            records = ops.records_for_disposal(ids)
            d = ops.propose_disposal(current_user, records, form.reason.data, form.approver_id.data)
            db.session.commit()
            flash(
                _(
                    "Disposal %(n)s proposed; it waits for %(a)s.",
                    n=d.number,
                    a=d.approver.full_name,
                ),
                "success",
            )
            return redirect(url_for(".disposal", disposal_id=d.id), 303)
        except DomainError as exc:
            undo(exc)
            flash(exc.message, "error")
    due = db.session.scalars(scope_records(ops.due_query(limit=500), current_user)).all()
    holds = ops.active_holds()
    rows = [(r, ops.holds_on(r, holds)) for r in due]
    disposals = visible(
        current_user, db.session.scalars(select(Disposal).order_by(Disposal.id.desc()).limit(50))
    )
    return render_template(
        "records/disposition.html",
        rows=rows,
        form=form,
        disposals=disposals,
        can_edit=can_manage_documents(current_user),
    )


@bp.get("/disposals/<int:disposal_id>")
@login_required
def disposal(disposal_id):
    d = require_access(current_user, ops.get_disposal(disposal_id))
    require(ops.can_read_history(current_user) or d.approver_id == current_user.id)
    records = [db.session.get(Record, it["record_id"]) for it in d.items]
    return render_template("records/disposal.html", d=d, records=records, form=DecideForm())


@bp.post("/disposals/<int:disposal_id>/<any(approve, reject):decision>")
@login_required
def decide(disposal_id, decision):
    d = ops.get_disposal(disposal_id)
    form = DecideForm()
    try:
        if not form.validate_on_submit():
            raise ValidationFailed(_("Give your password to sign."), field="password")
        ops.decide_disposal(
            current_user, d, decision == "approve", form.password.data, form.comment.data
        )
        db.session.commit()
        flash(
            _("Disposal %(n)s approved and carried out.", n=d.number)
            if decision == "approve"
            else _("Disposal %(n)s rejected.", n=d.number),
            "success",
        )
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
    return redirect(url_for(".disposal", disposal_id=disposal_id), 303)


@bp.get("/disposals/<int:disposal_id>/certificate.pdf")
@login_required
def certificate(disposal_id):
    d = require_access(current_user, ops.get_disposal(disposal_id))
    require(ops.can_read_history(current_user) or d.approver_id == current_user.id)
    if not d.certificate_sha256:
        raise NotFound(_("Not found."))
    return send_file(
        storage.blob_path(d.certificate_sha256),
        mimetype="application/pdf",
        download_name=f"{d.number}.pdf",
    )
