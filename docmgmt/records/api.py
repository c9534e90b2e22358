"""Records through the API: types, filing, corrections, import, holds, disposition."""

from datetime import datetime

from flask import request, send_file, url_for
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select

from docmgmt import storage
from docmgmt.api.auth import api_user, require_token
from docmgmt.auth.models import Department
from docmgmt.auth.permissions import require
from docmgmt.auth.scope import require_access, scope_records, scoped
from docmgmt.errors import InvalidState, NotFound, ValidationFailed, refuse_unstorable
from docmgmt.extensions import db
from docmgmt.extract import web as text_web
from docmgmt.extract.web import AttachmentTextOut
from docmgmt.jobs.said import text_of
from docmgmt.records import importing
from docmgmt.records import operations as ops
from docmgmt.records.models import LegalHold, Record, RecordImport, RecordType
from docmgmt.versioning.models import Document

blp = Blueprint(
    "records_api", __name__, url_prefix="/api/v1", description="Service records and retention"
)
blp.before_request(require_token)


class FieldSchema(Schema):
    name = fields.Str(required=True)
    label = fields.Str(load_default="")
    kind = fields.Str(load_default="text", validate=validate.OneOf(list(ops.FIELD_KINDS)))
    required = fields.Bool(load_default=False)
    choices = fields.List(fields.Str(), load_default=list)
    # A number field's range (inclusive; either end may be left out) and a text field's
    # longest length; the type definition line spells them number[0..1000], text[..200].
    min = fields.Float(
        load_default=None, allow_none=True, metadata={"description": "number fields: smallest"}
    )
    max = fields.Float(
        load_default=None, allow_none=True, metadata={"description": "number fields: largest"}
    )
    max_length = fields.Int(
        load_default=None,
        allow_none=True,
        validate=validate.Range(1, ops.TEXT_MAX),
        metadata={"description": f"text fields: most characters (default {ops.TEXT_MAX})"},
    )


def _department_code(rt):
    dep = getattr(rt, "department", None)  # apispec serialises the default with rt None
    return dep.code if dep is not None else None


def _code_in(value):
    if not isinstance(value, str):
        raise ValidationError(_("A department is given by its code."))
    return value


def _department_name(rt):
    dep = getattr(rt, "department", None)
    return dep.name if dep is not None else None


class TypeSchema(Schema):
    id = fields.Int(dump_only=True)
    code = fields.Str(required=True)
    name = fields.Str(required=True)
    form_document_id = fields.Int(load_default=None, allow_none=True)
    department = fields.Function(
        _department_code,
        deserialize=_code_in,
        load_default=None,
        allow_none=True,
        metadata={"type": "string", "description": "the keeping department's code, e.g. AS"},
    )
    department_name = fields.Function(
        _department_name,
        allow_none=True,
        metadata={"type": "string", "description": "the keeping department's name"},
    )
    retention_months = fields.Int(required=True)
    trigger = fields.Str(load_default="filing")
    disposal_method = fields.Str(load_default="destroy")
    is_active = fields.Bool(dump_only=True)
    field_defs = fields.List(
        fields.Nested(FieldSchema), load_default=list, data_key="fields", attribute="fields"
    )


class AttachmentOut(Schema):
    id = fields.Int()
    filename = fields.Str()
    sha256 = fields.Str()
    size = fields.Int()
    removed = fields.Bool()


def _text_out(record_id: int, text) -> dict:
    return text_web.text_json(
        text,
        url_for("records_api.searchable_pdf", record_id=record_id, att_id=text.attachment_id),
    )


class RecordOut(Schema):
    id = fields.Int()
    number = fields.Str()
    type = fields.Function(lambda r: r.type.code)
    external_id = fields.Str(allow_none=True)
    title = fields.Str()
    values = fields.Dict()
    filed_dt = fields.DateTime()
    filed_by = fields.Function(lambda r: r.filed_by.username)
    form_revision = fields.Function(
        lambda r: (
            f"{r.form_revision.document.number} {r.form_revision.version}"
            if r.form_revision
            else None
        )
    )
    trigger_date = fields.Date(allow_none=True)
    dispose_after = fields.Date(allow_none=True)
    corrects_id = fields.Int(allow_none=True)
    content_hash = fields.Str()
    state = fields.Function(lambda r: r.state.value)
    attachments = fields.List(fields.Nested(AttachmentOut))


class RecordIn(Schema):
    title = fields.Str(required=True)
    values = fields.Dict(load_default=dict)
    external_id = fields.Str(load_default=None, allow_none=True)
    trigger_date = fields.Date(load_default=None, allow_none=True)


class ListArgs(Schema):
    type = fields.Str(load_default=None, metadata={"description": "record type code"})
    department = fields.Str(load_default=None)
    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
    field = fields.Str(load_default=None)
    value = fields.Str(load_default=None)
    q = fields.Str(load_default=None)
    state = fields.Str(load_default=None, validate=validate.OneOf(["active", "disposed"]))
    after = fields.Str(load_default=None, metadata={"description": "cursor from next_cursor"})
    limit = fields.Int(load_default=50, validate=validate.Range(1, 500))


class TriggerIn(Schema):
    trigger_date = fields.Date(required=True)


class HoldIn(Schema):
    scope = fields.Str(required=True, validate=validate.OneOf(["record", "type", "query"]))
    reason = fields.Str(required=True)
    record_id = fields.Int(load_default=None, allow_none=True)
    type_id = fields.Int(load_default=None, allow_none=True)
    query = fields.Str(load_default="")


class HoldOut(Schema):
    id = fields.Int()
    scope = fields.Function(lambda h: h.scope.value)
    record_id = fields.Int(allow_none=True)
    type_id = fields.Int(allow_none=True)
    query = fields.Str()
    reason = fields.Str()
    placed_by = fields.Function(lambda h: h.placed_by.username)
    placed_dt = fields.DateTime()
    released_dt = fields.DateTime(allow_none=True)
    release_reason = fields.Str()


class ReasonIn(Schema):
    reason = fields.Str(required=True)


class ProposeIn(Schema):
    record_ids = fields.List(fields.Int(), required=True)
    reason = fields.Str(required=True)
    approver_id = fields.Int(required=True)


class DecideIn(Schema):
    password = fields.Str(required=True)
    comment = fields.Str(load_default="")


class DisposalOut(Schema):
    id = fields.Int()
    number = fields.Str()
    state = fields.Function(lambda d: d.state.value)
    reason = fields.Str()
    proposed_by = fields.Function(lambda d: d.proposed_by.username)
    approver = fields.Function(lambda d: d.approver.username)
    proposed_dt = fields.DateTime()
    decided_dt = fields.DateTime(allow_none=True)
    comment = fields.Str()
    items = fields.List(fields.Dict())
    certificate_sha256 = fields.Str()


class ImportOut(Schema):
    id = fields.Int()
    filename = fields.Str()
    encoding = fields.Str()
    status = fields.Str()
    total_rows = fields.Int()
    imported = fields.Int()
    skipped_duplicates = fields.Int()
    error_rows = fields.Int()
    message = fields.Function(
        lambda row: text_of(row),
        metadata={"type": "string", "description": "in the caller's language when it can be"},
    )
    mapping = fields.Dict()
    external_id_column = fields.Str()
    title_column = fields.Str()
    progress = fields.Method(
        "_progress",
        metadata={"description": "A large import runs as a job: its phase, done and total."},
    )

    def _progress(self, imp):
        got = importing.read_progress(imp.id) if imp.status == "running" else None
        return dict(zip(("phase", "done", "total"), got, strict=True)) if got else None


class ImportUpload(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


class ImportRunIn(Schema):
    mode = fields.Str(required=True, validate=validate.OneOf(["block", "skip"]))
    mapping = fields.Dict(load_default=None, allow_none=True)
    external_id_column = fields.Str(load_default=None, allow_none=True)
    title_column = fields.Str(load_default=None, allow_none=True)


def _type_by_code(code) -> RecordType:
    rt = db.session.scalar(select(RecordType).where(RecordType.code == code))
    if rt is None:
        raise NotFound(_("No such record type."))
    return rt


# ---------------------------------------------------------------- types


@blp.get("/record-types")
@blp.response(200, TypeSchema(many=True))
def list_types():
    return db.session.scalars(select(RecordType).order_by(RecordType.code)).all()


@blp.post("/record-types")
@blp.arguments(TypeSchema)
@blp.response(201, TypeSchema)
def create_type(data):
    dep = None
    if data.get("department"):
        dep = db.session.scalar(select(Department).where(Department.code == data["department"]))
        if dep is None:
            raise ValidationFailed(_("Unknown department."), field="department")
    form = (
        db.session.get(Document, data["form_document_id"]) if data.get("form_document_id") else None
    )
    rt = ops.create_type(
        api_user(),
        code=data["code"],
        name=data["name"],
        retention_months=data["retention_months"],
        trigger=data["trigger"],
        disposal_method=data["disposal_method"],
        fields=data["fields"],
        form_document=form,
        department=dep,
    )
    db.session.commit()
    return rt


# ---------------------------------------------------------------- records


@blp.get("/records")
@blp.arguments(ListArgs, location="query")
def list_records(args):
    """Newest first, keyset-paginated: pass ``next_cursor`` back as ``after``."""
    after = None
    if args["after"]:
        dt, _sep, rid = args["after"].rpartition("_")
        try:
            after = (datetime.fromisoformat(dt), int(rid))
        except ValueError:
            raise ValidationFailed(_("Not a cursor from this list."), field="after") from None
    type_id = _type_by_code(args["type"]).id if args["type"] else None
    dep_id = None
    if args["department"]:
        dep = db.session.scalar(select(Department).where(Department.code == args["department"]))
        dep_id = dep.id if dep else -1
    rows = db.session.scalars(
        ops.records_query(
            user=api_user(),
            type_id=type_id,
            department_id=dep_id,
            date_from=args["date_from"],
            date_to=args["date_to"],
            field=args["field"],
            value=args["value"],
            text=args["q"],
            state=args["state"],
            after=after,
        ).limit(args["limit"] + 1)
    ).all()
    more = len(rows) > args["limit"]
    rows = rows[: args["limit"]]
    return {
        "records": RecordOut(many=True).dump(rows),
        "next_cursor": f"{rows[-1].filed_dt.isoformat()}_{rows[-1].id}" if more else None,
    }


@blp.post("/record-types/<code>/records")
@blp.arguments(RecordIn)
@blp.response(201, RecordOut)
def file_record(data, code):
    """File a record (JSON); ``.../records/with-files`` takes attachments too."""
    rt = _type_by_code(code)
    record = ops.file_record(
        api_user(),
        rt,
        title=data["title"],
        values=data["values"],
        external_id=data["external_id"],
        trigger_date=data["trigger_date"],
    )
    db.session.commit()
    return record


@blp.post("/record-types/<code>/records/with-files")
@blp.response(201, RecordOut)
def file_record_with_files(code):
    """File a record with attachments: multipart field ``data`` (the JSON of a record) and one
    or more ``files``. Every file is checked before anything is stored."""
    import json

    rt = _type_by_code(code)
    raw = request.form.get("data") or "{}"  # a body over the size limit stops here with 413
    try:
        parsed = json.loads(raw)
        refuse_unstorable(parsed, field="data")  # a DomainError, not caught below
        data = RecordIn().load(parsed)
    except (ValueError, TypeError):
        raise ValidationFailed(_("The data field is not valid JSON."), field="data") from None
    except ValidationError as exc:
        raise ValidationFailed(str(exc.messages), field="data") from None
    files = [(f.filename, f.read(), f.mimetype or "") for f in request.files.getlist("files")]
    record = ops.file_record(
        api_user(),
        rt,
        title=data["title"],
        values=data["values"],
        files=files,
        external_id=data["external_id"],
        trigger_date=data["trigger_date"],
    )
    db.session.commit()
    return record


@blp.get("/records/<int:record_id>")
@blp.response(200, RecordOut)
def get_record(record_id):
    return ops.get_record(record_id, api_user())


@blp.post("/records/<int:record_id>/corrections")
@blp.arguments(RecordIn)
@blp.response(201, RecordOut)
def correct(data, record_id):
    original = ops.get_record(record_id)
    record = ops.file_record(
        api_user(),
        original.type,
        title=data["title"],
        values=data["values"],
        external_id=data["external_id"],
        trigger_date=data["trigger_date"],
        corrects=original,
    )
    db.session.commit()
    return record


@blp.post("/records/<int:record_id>/trigger-date")
@blp.arguments(TriggerIn)
@blp.response(200, RecordOut)
def trigger(data, record_id):
    record = ops.set_trigger_date(api_user(), ops.get_record(record_id), data["trigger_date"])
    db.session.commit()
    return record


@blp.get("/records/<int:record_id>/attachments/<int:att_id>")
def download(record_id, att_id):
    record = ops.get_record(record_id, api_user())
    att = next((a for a in record.attachments if a.id == att_id), None)
    if att is None or att.removed:
        raise NotFound(_("Not found."))
    return storage.send_stored(att.sha256, att.filename)


@blp.get("/records/<int:record_id>/attachments/<int:att_id>/text")
@blp.response(200, AttachmentTextOut)
def attachment_text(record_id, att_id):
    """The text read from an attachment, with its state (pending, done, failed and why)."""
    text = ops.attachment_text(ops.get_record(record_id, api_user()), att_id)
    return _text_out(record_id, text)


@blp.post("/records/<int:record_id>/attachments/<int:att_id>/text/retry")
@blp.response(202, AttachmentTextOut)
def retry_text(record_id, att_id):
    """Read a failed attachment again (the quality manager or whoever filed the record)."""
    record = ops.get_record(record_id, api_user())
    return text_web.retry_api(
        lambda: ops.retry_recognition(api_user(), record, att_id),
        lambda t: _text_out(record_id, t)["searchable_pdf_url"],
    )


@blp.get("/records/<int:record_id>/attachments/<int:att_id>/searchable.pdf")
def searchable_pdf(record_id, att_id):
    """The searchable PDF of a scanned attachment (the scan with its text invisible over it)."""
    return text_web.send_searchable(
        ops.attachment_text(ops.get_record(record_id, api_user()), att_id)
    )


# ---------------------------------------------------------------- import


@blp.post("/record-types/<code>/imports")
@blp.arguments(ImportUpload, location="files")
@blp.response(201, ImportOut)
def upload_import(files, code):
    rt = _type_by_code(code)
    f = request.files.get("file")
    if f is None:
        raise ValidationFailed(_("Send the file as multipart field 'file'."), field="file")
    imp, _parsed = importing.upload(api_user(), rt, f.filename, f.read())
    db.session.commit()
    return imp


@blp.get("/imports/<int:import_id>/preview")
def preview_import(import_id):
    imp = _import(import_id)
    results = importing.validate(imp, importing.load(imp))
    return {
        "rows": len(results),
        "ready": sum(1 for r in results if not r.errors and not r.duplicate),
        "duplicates": sum(1 for r in results if r.duplicate and not r.errors),
        "errors": [
            {"line": r.line, "external_id": r.external_id, "field": f, "message": m}
            for r in results
            for f, m in r.errors
        ][:1000],
    }


def _import(import_id) -> RecordImport:
    imp = db.session.get(RecordImport, import_id)
    if imp is None:
        raise NotFound(_("Not found."))
    from docmgmt.auth.permissions import can_manage_documents

    require(imp.created_by_id == api_user().id or can_manage_documents(api_user()))
    return require_access(api_user(), imp)


@blp.post("/imports/<int:import_id>/run")
@blp.arguments(ImportRunIn)
@blp.response(200, ImportOut)
def run_import(data, import_id):
    imp = _import(import_id)
    if data["mapping"] is not None or data["external_id_column"] or data["title_column"]:
        parsed = importing.load(imp)
        importing.set_mapping(
            imp,
            data["mapping"] if data["mapping"] is not None else imp.mapping,
            data["external_id_column"]
            if data["external_id_column"] is not None
            else imp.external_id_column,
            data["title_column"] if data["title_column"] is not None else imp.title_column,
            parsed.header,
        )
    if imp.total_rows > importing.BACKGROUND_ROWS:
        # A large file is a job for a worker: answered at once with status "running"; poll
        # GET /imports/<id> for its progress and outcome.
        from docmgmt.jobs.operations import start

        if imp.status not in ("uploaded", "mapped"):
            raise InvalidState(_("This import has already run."))
        job = importing.submit(imp, api_user().id, data["mode"])
        db.session.commit()
        start(job)
        db.session.expire_all()
        return _import(import_id)
    importing.run(api_user(), imp, data["mode"])
    db.session.commit()
    return imp


@blp.get("/imports/<int:import_id>")
@blp.response(200, ImportOut)
def get_import(import_id):
    """An import: its status, counts and, while it runs as a job, its progress."""
    return _import(import_id)


@blp.get("/imports/<int:import_id>/errors.csv")
def import_errors(import_id):
    imp = _import(import_id)
    if not imp.errors_sha256:
        raise NotFound(_("Not found."))
    return send_file(
        storage.blob_path(imp.errors_sha256), mimetype="text/csv", download_name="errors.csv"
    )


# ---------------------------------------------------------------- holds and disposition


@blp.get("/holds")
@blp.response(200, HoldOut(many=True))
def list_holds():
    require(ops.can_read_history(api_user()))
    return db.session.scalars(
        scoped(select(LegalHold).order_by(LegalHold.id), api_user(), LegalHold)
    ).all()


@blp.post("/holds")
@blp.arguments(HoldIn)
@blp.response(201, HoldOut)
def place_hold(data):
    record = db.session.get(Record, data["record_id"]) if data["record_id"] else None
    rt = db.session.get(RecordType, data["type_id"]) if data["type_id"] else None
    hold = ops.place_hold(
        api_user(),
        scope=data["scope"],
        reason=data["reason"],
        record=record,
        rt=rt,
        query=data["query"],
    )
    db.session.commit()
    return hold


@blp.post("/holds/<int:hold_id>/release")
@blp.arguments(ReasonIn)
@blp.response(200, HoldOut)
def release_hold(data, hold_id):
    hold = db.session.get(LegalHold, hold_id)
    if hold is None:
        raise NotFound(_("Not found."))
    ops.release_hold(api_user(), hold, data["reason"])
    db.session.commit()
    return hold


@blp.get("/disposition/due")
@blp.response(200, RecordOut(many=True))
def due():
    require(ops.can_read_history(api_user()))
    return db.session.scalars(scope_records(ops.due_query(limit=500), api_user())).all()


@blp.post("/disposals")
@blp.arguments(ProposeIn)
@blp.response(201, DisposalOut)
def propose(data):
    records = ops.records_for_disposal(data["record_ids"])
    d = ops.propose_disposal(api_user(), records, data["reason"], data["approver_id"])
    db.session.commit()
    return d


@blp.get("/disposals/<int:disposal_id>")
@blp.response(200, DisposalOut)
def get_disposal(disposal_id):
    d = require_access(api_user(), ops.get_disposal(disposal_id))
    require(ops.can_read_history(api_user()) or d.approver_id == api_user().id)
    return d


@blp.post("/disposals/<int:disposal_id>/<any(approve, reject):decision>")
@blp.arguments(DecideIn)
@blp.response(200, DisposalOut)
def decide(data, disposal_id, decision):
    d = ops.decide_disposal(
        api_user(),
        ops.get_disposal(disposal_id),
        decision == "approve",
        data["password"],
        data["comment"],
    )
    db.session.commit()
    return d


@blp.get("/disposals/<int:disposal_id>/certificate.pdf")
def certificate(disposal_id):
    d = require_access(api_user(), ops.get_disposal(disposal_id))
    require(ops.can_read_history(api_user()) or d.approver_id == api_user().id)
    if not d.certificate_sha256:
        raise NotFound(_("Not found."))
    return send_file(
        storage.blob_path(d.certificate_sha256),
        mimetype="application/pdf",
        download_name=f"{d.number}.pdf",
    )
