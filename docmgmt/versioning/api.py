"""The documents and revisions API under /api/v1: the register, drafts, approvals, signatures,
publishing. Thin: it calls the same operations as the pages, then commits once.

The routes are on the shared "api" blueprint (docmgmt/api/), whose OpenAPI tag they keep."""

from flask_babel import gettext as _
from sqlalchemy import select

from docmgmt.api import blp
from docmgmt.api.auth import api_user
from docmgmt.auth.models import Department
from docmgmt.auth.permissions import can_read_history
from docmgmt.auth.scope import require_access, scope_documents
from docmgmt.clock import utcnow
from docmgmt.control.operations import (
    check_permission_to_read,
    review_due_date,
    review_due_dates,
)
from docmgmt.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from docmgmt.extensions import db
from docmgmt.versioning import documents, drafting, publishing, queries, signing, withdrawing
from docmgmt.versioning.models import Document, Revision, SignatureMeaning
from docmgmt.versioning.schemas import (
    CommentSchema,
    DocumentCreateSchema,
    DocumentQuerySchema,
    DocumentSchema,
    DraftCreateSchema,
    DraftUpdateSchema,
    PublishSchema,
    ReasonSchema,
    RecordRowSchema,
    RevisionSchema,
    RevisionSummarySchema,
    SignatureSchema,
    SignSchema,
    SubmitSchema,
)

actor = api_user


def _department_by_code(code):
    if not code:
        return None
    dep = db.session.scalar(select(Department).where(Department.code == code))
    if dep is None:
        raise ValidationFailed(_("No department with code %(c)s.", c=code), field="department")
    return dep


_UNSET = object()


def _doc_json(doc: Document, in_force: Revision | None, next_review=_UNSET):
    return {
        "id": doc.id,
        "number": doc.number,
        "title": doc.title,
        "doc_type": doc.doc_type.value,
        "department": doc.department.code if doc.department else None,
        "review_interval_months": doc.review_interval_months,
        "is_obsolete": doc.is_obsolete,
        "external_edition": doc.external_edition,
        "external_source": doc.external_source,
        "next_review": review_due_date(doc) if next_review is _UNSET else next_review,
        "in_force": {
            "revision_id": in_force.id,
            "version": in_force.version,
            "effective_date": in_force.effective_date,
        }
        if in_force
        else None,
    }


def _rev_json(rev: Revision, full: bool = False):
    data = {
        "id": rev.id,
        "document_id": rev.document_id,
        "document_number": rev.document.number,
        "version": rev.version,
        "state": rev.state.value,
        "title": rev.title,
        "change_summary": rev.change_summary,
        "change_number": rev.change_number,
        "change_reference": rev.change_reference,
        "change_requests": [cr.number for cr in getattr(rev, "change_requests", [])],
        "pages_affected": rev.pages_affected,
        "effective_date": rev.effective_date,
        "superseded_date": rev.superseded_date,
        "reviewer_id": rev.reviewer_id,
        "approver_id": rev.approver_id,
    }
    if full:
        data.update(
            body_markdown=rev.body_source,
            blocks=rev.body_blocks,
            content_hash=rev.content_hash,
            signatures=rev.signatures,
        )
    return data


def _get_doc(doc_id) -> Document:
    doc = db.session.get(Document, doc_id)
    if doc is None:
        raise NotFound(_("No such document."))
    check_permission_to_read(actor(), doc)
    return doc


def _get_rev(rev_id) -> Revision:
    rev = db.session.get(Revision, rev_id)
    if rev is None:
        raise NotFound(_("No such revision."))
    require_access(actor(), rev, _("No such revision."))
    if not queries.can_read_revision(actor(), rev):
        raise PermissionDenied(
            _(
                "Revision %(v)s of %(n)s is not in force; only the revision in force can be read.",
                v=rev.version,
                n=rev.document.number,
            )
        )
    return rev


def _commit():
    try:
        db.session.commit()
    except DomainError:
        db.session.rollback()
        raise


@blp.get("/documents")
@blp.arguments(DocumentQuerySchema, location="query")
@blp.response(200, DocumentSchema(many=True))
def list_documents(args):
    """The document register (文件清单) with the version in force of each document.

    Staff see only documents with a revision in force today."""
    dep = _department_by_code(args.get("department")) if args.get("department") else None
    history = can_read_history(actor())
    docs = db.session.scalars(
        scope_documents(
            queries.register_query(
                doc_type=args.get("type"),
                department_id=dep.id if dep else None,
                q=args.get("q"),
                include_obsolete=history and args.get("include_obsolete", False),
            ),
            actor(),
        )
    ).all()
    in_force = queries.in_force_among(docs)
    docs = [d for d in docs if history or d.id in in_force or d.doc_type.value == "external"]
    due = review_due_dates(docs, in_force)
    return [_doc_json(d, in_force.get(d.id), due[d.id]) for d in docs]


@blp.post("/documents")
@blp.arguments(DocumentCreateSchema)
@blp.response(201, DocumentSchema)
@blp.alt_response(422, schema=None, description="Invalid input")
def create_document(data):
    """Register a new document (quality managers)."""
    doc = documents.create_document(
        actor(),
        data["title"],
        data["doc_type"],
        department=_department_by_code(data.get("department")),
        number=data.get("number"),
        review_interval_months=data.get("review_interval_months"),
        external_edition=data.get("external_edition", ""),
        external_source=data.get("external_source", ""),
    )
    _commit()
    return _doc_json(doc, None)


@blp.get("/documents/<int:doc_id>")
@blp.response(200, DocumentSchema)
def get_document(doc_id):
    """One document and its revision in force."""
    doc = _get_doc(doc_id)
    return _doc_json(doc, queries.in_force_revision(doc))


@blp.get("/documents/<int:doc_id>/revisions")
@blp.response(200, RevisionSummarySchema(many=True))
def list_revisions(doc_id):
    """Every revision (quality managers, auditors); staff get only the one in force."""
    doc = _get_doc(doc_id)
    if can_read_history(actor()):
        return [_rev_json(r) for r in doc.revisions]
    current = queries.in_force_revision(doc)
    return [_rev_json(current)] if current else []


@blp.post("/documents/<int:doc_id>/revisions")
@blp.arguments(DraftCreateSchema)
@blp.response(201, RevisionSchema)
def create_revision(data, doc_id):
    """Start the next draft: a revision (A1 → A2) or a re-edition (A2 → B0)."""
    doc = _get_doc(doc_id)
    rev = drafting.create_draft(
        actor(),
        doc,
        reedition=data["reedition"],
        version=data["version"],
        title=data["title"],
        body=data["body_markdown"],
        blocks=data["blocks"],
        change_summary=data["change_summary"],
        change_number=data["change_number"],
        pages_affected=data["pages_affected"],
    )
    _commit()
    return _rev_json(rev, full=True)


@blp.get("/documents/<int:doc_id>/revision-record")
@blp.response(200, RecordRowSchema(many=True))
def revision_record(doc_id):
    """The revision record table (文件制修订记录) produced from the document's history."""
    doc = _get_doc(doc_id)
    rows = []
    for n, r in enumerate(queries.revision_record(doc), 1):
        signed = r.current_signatures()
        rows.append(
            {
                "no": n,
                "date": r.effective_date,
                "change_number": r.change_reference,
                "change_requests": [cr.number for cr in r.change_requests],
                "change_summary": r.change_summary,
                "version": r.version,
                "pages_affected": r.pages_affected,
                **{
                    f"{k}_by": signed[m].signer_name if m in signed else None
                    for k, m in (
                        ("prepared", SignatureMeaning.PREPARED),
                        ("reviewed", SignatureMeaning.REVIEWED),
                        ("approved", SignatureMeaning.APPROVED),
                    )
                },
            }
        )
    return rows


@blp.get("/revisions/<int:rev_id>")
@blp.response(200, RevisionSchema)
def get_revision(rev_id):
    """One revision with its content blocks and signatures."""
    return _rev_json(_get_rev(rev_id), full=True)


@blp.patch("/revisions/<int:rev_id>")
@blp.arguments(DraftUpdateSchema)
@blp.response(200, RevisionSchema)
def update_revision(data, rev_id):
    """Edit a draft. Submitted revisions are frozen (409)."""
    rev = _get_rev(rev_id)
    drafting.update_draft(
        actor(),
        rev,
        title=data.get("title"),
        body=data.get("body_markdown"),
        blocks=data.get("blocks"),
        change_summary=data.get("change_summary"),
        change_number=data.get("change_number"),
        pages_affected=data.get("pages_affected"),
    )
    _commit()
    return _rev_json(rev, full=True)


@blp.post("/revisions/<int:rev_id>/submit")
@blp.arguments(SubmitSchema)
@blp.response(200, RevisionSchema)
def submit_revision(data, rev_id):
    """Sign as preparer (制订) and route to a reviewer and an approver."""
    rev = _get_rev(rev_id)
    signing.submit_for_review(
        actor(),
        rev,
        reviewer=data["reviewer_id"],
        approver=data["approver_id"],
        password=data["password"],
        allow_placeholders=data["allow_placeholders"],
    )
    _commit()
    return _rev_json(rev, full=True)


@blp.post("/revisions/<int:rev_id>/sign")
@blp.arguments(SignSchema)
@blp.response(201, SignatureSchema)
def sign_revision(data, rev_id):
    """Review (meaning "reviewed", 审核) or approve ("approved", 核准); password required."""
    rev = _get_rev(rev_id)
    sig = signing.sign_revision(actor(), rev, data["meaning"], data["password"], data["comment"])
    _commit()
    return sig


@blp.post("/revisions/<int:rev_id>/reject")
@blp.arguments(CommentSchema)
@blp.response(200, RevisionSchema)
def reject_revision(data, rev_id):
    """Return the revision to draft with a comment."""
    rev = _get_rev(rev_id)
    signing.reject_revision(actor(), rev, data["comment"])
    _commit()
    return _rev_json(rev, full=True)


@blp.post("/revisions/<int:rev_id>/publish")
@blp.arguments(PublishSchema)
@blp.response(200, RevisionSchema)
def publish_revision(data, rev_id):
    """Publish an approved revision with its effective date (today or later)."""
    rev = _get_rev(rev_id)
    publishing.publish_revision(actor(), rev, data["effective_date"], now=utcnow())
    _commit()
    return _rev_json(rev, full=True)


@blp.post("/revisions/<int:rev_id>/cancel")
@blp.arguments(ReasonSchema)
@blp.response(200, RevisionSchema)
def cancel_revision(data, rev_id):
    """Cancel a draft, or an approved revision before its effective date (kept in the history
    as cancelled); the next draft can then start."""
    rev = _get_rev(rev_id)
    withdrawing.cancel_revision(actor(), rev, data["reason"])
    _commit()
    return _rev_json(rev, full=True)


@blp.post("/revisions/<int:rev_id>/unschedule")
@blp.arguments(ReasonSchema)
@blp.response(200, RevisionSchema)
def unschedule_revision(data, rev_id):
    """Take a scheduled revision back to approved (its effective date cleared) before its date."""
    rev = _get_rev(rev_id)
    withdrawing.unschedule_revision(actor(), rev, data["reason"])
    _commit()
    return _rev_json(rev, full=True)


@blp.get("/revisions/<int:rev_id>/signatures")
@blp.response(200, SignatureSchema(many=True))
def list_signatures(rev_id):
    """Every signature on the revision, all submission rounds."""
    return _get_rev(rev_id).signatures
