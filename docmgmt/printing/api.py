"""Printing through the API: prints, Word import/export, controlled copies and recalls."""

from io import BytesIO

from flask import current_app, send_file, url_for
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from docmgmt.api.auth import api_user, require_token
from docmgmt.auth.models import Department, User
from docmgmt.auth.permissions import can_read_history, require
from docmgmt.auth.scope import require_access, scoped
from docmgmt.errors import NotFound, ValidationFailed
from docmgmt.extensions import db
from docmgmt.printing import operations as ops
from docmgmt.printing.models import ControlledCopy
from docmgmt.versioning.models import Document, Revision
from docmgmt.versioning.queries import can_read_revision

blp = Blueprint(
    "printing_api",
    __name__,
    url_prefix="/api/v1",
    description="Prints, Word import and export, controlled copies and their recall",
)
blp.before_request(require_token)

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class CopySchema(Schema):
    id = fields.Int()
    label = fields.Str()
    revision_id = fields.Int()
    document_number = fields.Str()
    version = fields.Str()
    copy_no = fields.Int()
    holder_name = fields.Str()
    holder_id = fields.Int(allow_none=True)
    department = fields.Str(allow_none=True)
    medium = fields.Str()
    issued_dt = fields.DateTime()
    issued_by = fields.Str()
    state = fields.Str()
    due_for_recall = fields.Bool()
    closed_dt = fields.DateTime(allow_none=True)
    note = fields.Str()
    verify_url = fields.Str()
    pdf_url = fields.Str()


class IssueSchema(Schema):
    holder_id = fields.Int(load_default=None, allow_none=True)
    holder_name = fields.Str(load_default="", validate=validate.Length(max=100))
    department_id = fields.Int(load_default=None, allow_none=True)
    medium = fields.Str(load_default="paper", validate=validate.OneOf(["paper", "electronic"]))


class CloseSchema(Schema):
    note = fields.Str(load_default="", validate=validate.Length(max=2000))


class CopyQuerySchema(Schema):
    state = fields.Str(validate=validate.OneOf(["issued", "recalled", "lost"]))
    due = fields.Bool(load_default=False)
    revision_id = fields.Int()


class PrintQuerySchema(Schema):
    mode = fields.Str(
        load_default="uncontrolled", validate=validate.OneOf(["uncontrolled", "obsolete"])
    )


class DocxUploadSchema(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


class ImportReportSchema(Schema):
    token = fields.Str()
    filename = fields.Str()
    report = fields.Dict()
    blocks = fields.List(fields.Dict())


class SaveImportSchema(Schema):
    change_summary = fields.Str(load_default="", validate=validate.Length(max=2000))


def _copy_json(c: ControlledCopy) -> dict:
    return {
        "id": c.id,
        "label": c.label,
        "revision_id": c.revision_id,
        "document_number": c.revision.document.number,
        "version": c.revision.version,
        "copy_no": c.copy_no,
        "holder_name": c.holder_name,
        "holder_id": c.holder_id,
        "department": c.department.name if c.department else None,
        "medium": c.medium.value,
        "issued_dt": c.issued_dt,
        "issued_by": c.issued_by.full_name,
        "state": c.state.value,
        "due_for_recall": ops.is_due_for_recall(c),
        "closed_dt": c.closed_dt,
        "note": c.note,
        "verify_url": url_for("printing.verify", token=c.token, _external=True),
        "pdf_url": url_for("printing_api.copy_pdf", copy_id=c.id),
    }


def _rev(rev_id) -> Revision:
    rev = db.session.get(Revision, rev_id)
    if rev is None or not can_read_revision(api_user(), rev):
        raise NotFound(_("No such revision."))
    return rev


def _copy(copy_id) -> ControlledCopy:
    copy = db.session.get(ControlledCopy, copy_id)
    user = api_user()
    if copy is None or not (can_read_history(user) or copy.holder_id == user.id):
        raise NotFound(_("Not found."))
    return require_access(user, copy)


@blp.get("/revisions/<int:rev_id>/print.pdf")
@blp.arguments(PrintQuerySchema, location="query")
@blp.response(200, description="The print as PDF")
def print_pdf(args, rev_id):
    """An uncontrolled print (非受控), or a print of a superseded revision stamped 作废."""
    rev = _rev(rev_id)
    data = ops.print_revision(api_user(), rev, args["mode"])
    db.session.commit()
    return send_file(BytesIO(data), mimetype=PDF, download_name=f"{rev.document.number}.pdf")


@blp.get("/revisions/<int:rev_id>/export.docx")
@blp.response(200, description="The revision as a Word file")
def export_docx(rev_id):
    """Export a revision to .docx (control block in the header, record table, signatures)."""
    rev = _rev(rev_id)
    data = ops.export_docx(api_user(), rev)
    return send_file(
        BytesIO(data),
        mimetype=DOCX,
        as_attachment=True,
        download_name=f"{rev.document.number}-{rev.version}.docx",
    )


@blp.post("/documents/<int:doc_id>/import")
@blp.arguments(DocxUploadSchema, location="files")
@blp.response(200, ImportReportSchema)
def preview_import(files, doc_id):
    """Check and read a .docx (multipart field ``file``); returns the report and a token.
    Nothing is saved until ``POST /documents/{id}/import/{token}``."""
    doc = db.session.get(Document, doc_id)
    if doc is None:
        raise NotFound(_("No such document."))
    upload = files["file"]
    token, name, result = ops.preview_import(api_user(), doc, upload.filename, upload.read())
    return {"token": token, "filename": name, "report": result.report(), "blocks": result.blocks}


@blp.post("/documents/<int:doc_id>/import/<token>")
@blp.arguments(SaveImportSchema)
@blp.response(201, description="The draft the file was saved into")
def save_import(data, doc_id, token):
    """Save the checked file as the content of the open draft (or a new draft)."""
    doc = db.session.get(Document, doc_id)
    if doc is None:
        raise NotFound(_("No such document."))
    rev = ops.save_import(api_user(), doc, token, change_summary=data["change_summary"])
    db.session.commit()
    ops.discard_staged(token)
    return {"revision_id": rev.id, "version": rev.version, "state": rev.state.value}


@blp.get("/copies")
@blp.arguments(CopyQuerySchema, location="query")
@blp.response(200, CopySchema(many=True))
def list_copies(args):
    """The distribution and recall register (quality managers and auditors)."""
    require(can_read_history(api_user()))
    stmt = ops.copies_query(
        state=args.get("state"), due_only=args["due"], revision_id=args.get("revision_id")
    )
    return [_copy_json(c) for c in db.session.scalars(scoped(stmt, api_user(), ControlledCopy))]


@blp.post("/revisions/<int:rev_id>/copies")
@blp.arguments(IssueSchema)
@blp.response(201, CopySchema)
def issue_copy(data, rev_id):
    """Issue the next numbered controlled copy of the revision in force."""
    rev = _rev(rev_id)
    holder = db.session.get(User, data["holder_id"]) if data.get("holder_id") else None
    if data.get("holder_id") and holder is None:
        raise ValidationFailed(_("No such user."), field="holder_id")
    dep = db.session.get(Department, data["department_id"]) if data.get("department_id") else None
    copy = ops.issue_copy(
        api_user(),
        rev,
        holder_name=data["holder_name"],
        holder=holder,
        department=dep,
        medium=data["medium"],
    )
    db.session.commit()
    return _copy_json(copy)


@blp.get("/copies/<int:copy_id>")
@blp.response(200, CopySchema)
def get_copy(copy_id):
    """One copy."""
    return _copy_json(_copy(copy_id))


@blp.get("/copies/<int:copy_id>/copy.pdf")
@blp.response(200, description="The controlled copy as PDF")
def copy_pdf(copy_id):
    """The controlled copy's PDF: copy number, holder, watermark, QR code."""
    copy = _copy(copy_id)
    data = ops.controlled_copy_pdf(api_user(), copy)
    return send_file(BytesIO(data), mimetype=PDF, download_name=f"{copy.label}.pdf")


@blp.post("/copies/<int:copy_id>/<any(recall, lost):action>")
@blp.arguments(CloseSchema)
@blp.response(200, CopySchema)
def close_copy(data, copy_id, action):
    """Record a copy's return (recall) or its loss (note required)."""
    copy = _copy(copy_id)
    ops.close_copy(api_user(), copy, lost=action == "lost", note=data["note"])
    db.session.commit()
    return _copy_json(copy)


@blp.get("/copies/register.pdf")
@blp.response(200, description="The register as PDF")
def register_pdf():
    """The distribution and recall register (文件发放回收记录) as PDF."""
    from docmgmt.printing.register_pdf import register_pdf as build

    require(can_read_history(api_user()))
    copies = db.session.scalars(scoped(ops.copies_query(), api_user(), ControlledCopy)).all()
    return send_file(
        BytesIO(build(copies, current_app.config["COMPANY_NAME"], api_user().full_name)),
        mimetype=PDF,
        download_name="distribution-register.pdf",
    )
