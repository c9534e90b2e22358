"""Document control through the API: change requests, reviews, links, the desk, the master list."""

from flask import send_file
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from docmgmt.api.auth import api_user, require_token
from docmgmt.auth.permissions import can_manage_documents, can_read_history, require
from docmgmt.auth.scope import in_scope, require_access, scoped, visible
from docmgmt.control import operations as ops
from docmgmt.control.export import master_list_rows, master_list_xlsx
from docmgmt.control.models import ChangeRequest, DocumentLink, PeriodicReview, RequestState
from docmgmt.errors import NotFound
from docmgmt.extensions import db
from docmgmt.extract import web as text_web
from docmgmt.extract.web import AttachmentTextOut
from docmgmt.versioning.models import Document

blp = Blueprint(
    "control_api",
    __name__,
    url_prefix="/api/v1",
    description="Change requests, periodic reviews, related documents, the desk",
)
blp.before_request(require_token)


class ChangeRequestSchema(Schema):
    id = fields.Int()
    number = fields.Str()
    document_id = fields.Int()
    document_number = fields.Str()
    requester = fields.Str()
    reason = fields.Str()
    proposed_change = fields.Str()
    urgency = fields.Str()
    state = fields.Str()
    decided_by = fields.Str(allow_none=True)
    decided_dt = fields.DateTime(allow_none=True)
    decision_comment = fields.Str()
    revision_id = fields.Int(allow_none=True)
    created_dt = fields.DateTime()


class ChangeRequestCreateSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=4000))
    proposed_change = fields.Str(required=True, validate=validate.Length(min=1, max=4000))
    urgency = fields.Str(load_default="normal", validate=validate.OneOf(["low", "normal", "high"]))


class DecisionSchema(Schema):
    comment = fields.Str(load_default="", validate=validate.Length(max=4000))


class RequestQuerySchema(Schema):
    state = fields.Str(validate=validate.OneOf([s.value for s in RequestState]))


class ReviewSchema(Schema):
    id = fields.Int(dump_only=True)
    review_date = fields.Date(required=True)
    finding = fields.Str(required=True, validate=validate.Length(min=1, max=4000))
    change_needed = fields.Bool(load_default=False, load_only=True)
    proposed_change = fields.Str(
        load_default="", load_only=True, validate=validate.Length(max=4000)
    )
    reviewer_name = fields.Str(dump_only=True)
    outcome = fields.Str(dump_only=True)
    change_request_number = fields.Str(dump_only=True, allow_none=True)


class LinkSchema(Schema):
    id = fields.Int(dump_only=True)
    kind = fields.Str(
        required=True, validate=validate.OneOf(["refers_to", "uses_form", "uses_instruction"])
    )
    target_id = fields.Int(required=True)
    target_number = fields.Str(dump_only=True)
    target_version_in_force = fields.Str(dump_only=True, allow_none=True)


class OverdueSchema(Schema):
    document_id = fields.Int()
    number = fields.Str()
    title = fields.Str()
    due = fields.Date()


class DeskSchema(Schema):
    change_requests = fields.List(fields.Nested(ChangeRequestSchema))
    drafts = fields.List(fields.Int())
    in_review = fields.List(fields.Int())
    to_publish = fields.List(fields.Int())
    taking_effect_soon = fields.List(fields.Int())
    overdue_reviews = fields.List(fields.Nested(OverdueSchema))


def _cr_json(cr: ChangeRequest) -> dict:
    return {
        "id": cr.id,
        "number": cr.number,
        "document_id": cr.document_id,
        "document_number": cr.document.number,
        "requester": cr.requester.full_name,
        "reason": cr.reason,
        "proposed_change": cr.proposed_change,
        "urgency": cr.urgency.value,
        "state": cr.state.value,
        "decided_by": cr.decided_by.full_name if cr.decided_by else None,
        "decided_dt": cr.decided_dt,
        "decision_comment": cr.decision_comment,
        "revision_id": cr.revision_id,
        "created_dt": cr.created_dt,
    }


def _review_json(r: PeriodicReview) -> dict:
    return {
        "id": r.id,
        "review_date": r.review_date,
        "finding": r.finding,
        "reviewer_name": r.reviewer_name,
        "outcome": r.outcome.value,
        "change_request_number": r.change_request.number if r.change_request else None,
    }


def _link_json(link: DocumentLink) -> dict:
    from docmgmt.versioning.queries import in_force_revision

    current = in_force_revision(link.target)
    return {
        "id": link.id,
        "kind": link.kind.value,
        "target_id": link.to_document_id,
        "target_number": link.target.number,
        "target_version_in_force": current.version if current else None,
    }


def _doc(doc_id) -> Document:
    doc = db.session.get(Document, doc_id)
    if doc is None:
        raise NotFound(_("No such document."))
    ops.check_permission_to_read(api_user(), doc)
    return doc


def _cr(cr_id) -> ChangeRequest:
    cr = db.session.get(ChangeRequest, cr_id)
    if cr is None or not (can_read_history(api_user()) or cr.requester_id == api_user().id):
        raise NotFound(_("No such change request."))
    return require_access(api_user(), cr, _("No such change request."))


@blp.get("/change-requests")
@blp.arguments(RequestQuerySchema, location="query")
@blp.response(200, ChangeRequestSchema(many=True))
def list_requests(args):
    """Change requests: all for quality managers and auditors, one's own for everyone else."""
    stmt = select(ChangeRequest).order_by(ChangeRequest.id.desc())
    if not can_read_history(api_user()):
        stmt = stmt.where(ChangeRequest.requester_id == api_user().id)
    if args.get("state"):
        stmt = stmt.where(ChangeRequest.state == RequestState(args["state"]))
    return [_cr_json(cr) for cr in db.session.scalars(scoped(stmt, api_user(), ChangeRequest))]


@blp.post("/documents/<int:doc_id>/change-requests")
@blp.arguments(ChangeRequestCreateSchema)
@blp.response(201, ChangeRequestSchema)
def create_request(data, doc_id):
    """Ask for a change to a document (文件更改申请)."""
    cr = ops.create_request(api_user(), _doc(doc_id), **data)
    db.session.commit()
    return _cr_json(cr)


@blp.get("/change-requests/<int:cr_id>")
@blp.response(200, ChangeRequestSchema)
def get_request(cr_id):
    """One change request."""
    return _cr_json(_cr(cr_id))


@blp.post("/change-requests/<int:cr_id>/accept")
@blp.arguments(DecisionSchema)
@blp.response(200, ChangeRequestSchema)
def accept_request(data, cr_id):
    """Accept: the next draft opens with the request's number as its change number."""
    cr = _cr(cr_id)
    ops.accept_request(api_user(), cr, data["comment"])
    db.session.commit()
    return _cr_json(cr)


@blp.post("/change-requests/<int:cr_id>/reject")
@blp.arguments(DecisionSchema)
@blp.response(200, ChangeRequestSchema)
def reject_request(data, cr_id):
    """Reject with a reason the requester sees."""
    cr = _cr(cr_id)
    ops.reject_request(api_user(), cr, data["comment"])
    db.session.commit()
    return _cr_json(cr)


@blp.get("/documents/<int:doc_id>/reviews")
@blp.response(200, ReviewSchema(many=True))
def list_reviews(doc_id):
    """The document's periodic review history."""
    doc = _doc(doc_id)
    rows = db.session.scalars(
        select(PeriodicReview)
        .where(PeriodicReview.document_id == doc.id)
        .order_by(PeriodicReview.review_date.desc())
    )
    return [_review_json(r) for r in rows]


@blp.post("/documents/<int:doc_id>/reviews")
@blp.arguments(ReviewSchema)
@blp.response(201, ReviewSchema)
def record_review(data, doc_id):
    """Record a periodic review; with change_needed a change request is opened too."""
    review = ops.record_review(api_user(), _doc(doc_id), **data)
    db.session.commit()
    return _review_json(review)


@blp.get("/reviews/overdue")
@blp.response(200, OverdueSchema(many=True))
def overdue():
    """Documents whose periodic review is overdue."""
    require(can_read_history(api_user()))
    return [
        {"document_id": d.id, "number": d.number, "title": d.title, "due": due}
        for d, due in ops.overdue_reviews()
        if in_scope(api_user(), d)
    ]


@blp.get("/documents/<int:doc_id>/links")
@blp.response(200, LinkSchema(many=True))
def list_links(doc_id):
    """Record forms, work instructions and documents this one uses or refers to."""
    return [_link_json(link) for link in visible(api_user(), ops.links_from(_doc(doc_id)))]


@blp.post("/documents/<int:doc_id>/links")
@blp.arguments(LinkSchema)
@blp.response(201, LinkSchema)
def add_link(data, doc_id):
    """Link a related document (circular refers-to links are refused)."""
    link = ops.add_link(
        api_user(), _doc(doc_id), db.session.get(Document, data["target_id"]), data["kind"]
    )
    db.session.commit()
    return _link_json(link)


@blp.delete("/links/<int:link_id>")
@blp.response(204)
def remove_link(link_id):
    """Remove a link."""
    link = db.session.get(DocumentLink, link_id)
    if link is None:
        raise NotFound(_("Not found."))
    ops.remove_link(api_user(), link)
    db.session.commit()


@blp.get("/desk")
@blp.response(200, DeskSchema)
def desk():
    """What waits for the quality manager."""
    from docmgmt.control.views import desk_items

    require(can_manage_documents(api_user()))
    items = desk_items()
    return {
        "change_requests": [_cr_json(cr) for cr in items["requests"]],
        "drafts": [r.id for r in items["drafts"]],
        "in_review": [r.id for r in items["in_review"]],
        "to_publish": [r.id for r in items["to_publish"]],
        "taking_effect_soon": [r.id for r in items["soon"]],
        "overdue_reviews": [
            {"document_id": d.id, "number": d.number, "title": d.title, "due": due}
            for d, due in items["overdue"]
        ],
    }


@blp.get("/register/master-list.pdf")
@blp.response(200, description="The master list as a PDF")
def master_list_as_pdf():
    """The register (master list) as a printable PDF."""
    from io import BytesIO

    from docmgmt.control.views import master_list_pdf_for

    return send_file(
        BytesIO(master_list_pdf_for(api_user())),
        download_name="master-list.pdf",
        mimetype="application/pdf",
    )


@blp.get("/register/master-list.xlsx")
@blp.response(200, description="The master list as an Excel sheet")
def master_list():
    """The register (master list) as .xlsx."""
    data = master_list_xlsx(master_list_rows(api_user()))
    return send_file(
        data,
        as_attachment=True,
        download_name="master-list.xlsx",
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# ---------------------------------------------------------------- attachments


class AttachmentSchema(Schema):
    id = fields.Int()
    filename = fields.Str()
    content_type = fields.Str()
    sha256 = fields.Str()
    size = fields.Int()
    uploaded_by = fields.Str()
    uploaded_dt = fields.DateTime()
    download_url = fields.Str()
    text_url = fields.Str(metadata={"description": "The text read from it (…/text)"})


class UploadSchema(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


def _att_json(att) -> dict:
    from flask import url_for

    return {
        "id": att.id,
        "filename": att.filename,
        "content_type": att.content_type,
        "sha256": att.sha256,
        "size": att.size,
        "uploaded_by": att.uploaded_by.full_name,
        "uploaded_dt": att.uploaded_dt,
        "download_url": url_for(
            "control_api.download_attachment", cr_id=att.change_request_id, att_id=att.id
        ),
        "text_url": url_for(
            "control_api.attachment_text", cr_id=att.change_request_id, att_id=att.id
        ),
    }


@blp.get("/change-requests/<int:cr_id>/attachments")
@blp.response(200, AttachmentSchema(many=True))
def list_attachments(cr_id):
    """Files kept with a change request."""
    return [_att_json(a) for a in _cr(cr_id).attachments]


@blp.post("/change-requests/<int:cr_id>/attachments")
@blp.arguments(UploadSchema, location="files")
@blp.response(201, AttachmentSchema)
def upload_attachment(files, cr_id):
    """Attach a file (multipart field ``file``: .pdf, .png, .jpg, .docx, .xlsx, .txt)."""
    upload = files["file"]
    att = ops.attach_to_request(
        api_user(), _cr(cr_id), upload.filename, upload.read(), upload.mimetype or ""
    )
    db.session.commit()
    return _att_json(att)


@blp.get("/change-requests/<int:cr_id>/attachments/<int:att_id>")
@blp.response(200, description="The file as uploaded")
def download_attachment(cr_id, att_id):
    """Download an attachment, byte for byte as uploaded."""
    from docmgmt.control.views import attachment_response

    return attachment_response(_cr(cr_id), att_id)


def _text_out(cr_id: int, text) -> dict:
    from flask import url_for

    return text_web.text_json(
        text, url_for("control_api.searchable_pdf", cr_id=cr_id, att_id=text.attachment_id)
    )


@blp.get("/change-requests/<int:cr_id>/attachments/<int:att_id>/text")
@blp.response(200, AttachmentTextOut)
def attachment_text(cr_id, att_id):
    """The text read from an attachment, with its state (pending, done, failed and why)."""
    return _text_out(cr_id, ops.attachment_text(_cr(cr_id), att_id))


@blp.post("/change-requests/<int:cr_id>/attachments/<int:att_id>/text/retry")
@blp.response(202, AttachmentTextOut)
def retry_text(cr_id, att_id):
    """Read a failed attachment again (a quality manager, or the requester while the request
    is open)."""
    cr = _cr(cr_id)
    return text_web.retry_api(
        lambda: ops.retry_recognition(api_user(), cr, att_id),
        lambda t: _text_out(cr_id, t)["searchable_pdf_url"],
    )


@blp.get("/change-requests/<int:cr_id>/attachments/<int:att_id>/searchable.pdf")
@blp.response(200, description="The scan with its recognised text invisible over it")
def searchable_pdf(cr_id, att_id):
    """The searchable PDF of a scanned attachment (the scan with its text invisible over it)."""
    return text_web.send_searchable(ops.attachment_text(_cr(cr_id), att_id))


# ---------------------------------------------------------------- withdrawals


class WithdrawalSchema(Schema):
    id = fields.Int()
    document_id = fields.Int()
    document_number = fields.Str()
    reason = fields.Str()
    proposed_by = fields.Str()
    proposed_dt = fields.DateTime()
    approver_id = fields.Int()
    approver = fields.Str()
    state = fields.Str()
    decided_dt = fields.DateTime(allow_none=True)
    decision_comment = fields.Str()


class WithdrawalProposeSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    approver_id = fields.Int(required=True)
    confirm_references = fields.Bool(load_default=False)


class WithdrawalDecisionSchema(Schema):
    password = fields.Str(required=True, load_only=True)
    comment = fields.Str(load_default="", validate=validate.Length(max=2000))


class WithdrawalQuerySchema(Schema):
    state = fields.Str(validate=validate.OneOf(["pending", "approved", "rejected"]))


def _wd_json(wd) -> dict:
    return {
        "id": wd.id,
        "document_id": wd.document_id,
        "document_number": wd.document.number,
        "reason": wd.reason,
        "proposed_by": wd.proposed_by.full_name,
        "proposed_dt": wd.proposed_dt,
        "approver_id": wd.approver_id,
        "approver": wd.approver.full_name,
        "state": wd.state.value,
        "decided_dt": wd.decided_dt,
        "decision_comment": wd.decision_comment,
    }


def _wd(wd_id):
    from docmgmt.control.models import Withdrawal

    wd = db.session.get(Withdrawal, wd_id)
    user = api_user()
    if wd is None or not (can_read_history(user) or wd.approver_id == user.id):
        raise NotFound(_("Not found."))
    return require_access(user, wd)


@blp.post("/documents/<int:doc_id>/withdraw")
@blp.arguments(WithdrawalProposeSchema)
@blp.response(201, WithdrawalSchema)
def propose_withdrawal(data, doc_id):
    """Propose to withdraw a whole document (作废); the named approver approves or rejects."""
    wd = ops.propose_withdrawal(
        api_user(),
        _doc(doc_id),
        data["reason"],
        data["approver_id"],
        confirm_references=data["confirm_references"],
    )
    db.session.commit()
    return _wd_json(wd)


@blp.get("/withdrawals")
@blp.arguments(WithdrawalQuerySchema, location="query")
@blp.response(200, WithdrawalSchema(many=True))
def list_withdrawals(args):
    """Withdrawals: all for quality managers and auditors, those routed to you otherwise."""
    from docmgmt.control.models import Withdrawal, WithdrawalState

    stmt = select(Withdrawal).order_by(Withdrawal.id.desc())
    if not can_read_history(api_user()):
        stmt = stmt.where(Withdrawal.approver_id == api_user().id)
    if args.get("state"):
        stmt = stmt.where(Withdrawal.state == WithdrawalState(args["state"]))
    return [_wd_json(w) for w in db.session.scalars(scoped(stmt, api_user(), Withdrawal))]


@blp.get("/withdrawals/<int:wd_id>")
@blp.response(200, WithdrawalSchema)
def get_withdrawal(wd_id):
    """One withdrawal."""
    return _wd_json(_wd(wd_id))


@blp.post("/withdrawals/<int:wd_id>/<any(approve, reject):decision>")
@blp.arguments(WithdrawalDecisionSchema)
@blp.response(200, WithdrawalSchema)
def decide_withdrawal(data, wd_id, decision):
    """The named approver approves (the document becomes obsolete) or rejects (comment
    required), signing with their password."""
    wd = _wd(wd_id)
    ops.decide_withdrawal(
        api_user(),
        wd,
        approve=decision == "approve",
        password=data["password"],
        comment=data["comment"],
    )
    db.session.commit()
    return _wd_json(wd)
