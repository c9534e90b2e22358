"""Pages of document control: the desk, change requests, reviews, links, the master list."""

from datetime import timedelta
from io import BytesIO

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import case, select

from docmgmt import certification, printing, records, training
from docmgmt.auth.models import User
from docmgmt.auth.permissions import can_manage_documents, can_read_history, require
from docmgmt.auth.scope import require_access, scope_documents, scoped, visible
from docmgmt.clock import local_today
from docmgmt.control import bp
from docmgmt.control import operations as ops
from docmgmt.control.export import master_list_pdf, master_list_rows, master_list_xlsx
from docmgmt.control.forms import (
    AttachmentForm,
    ChangeRequestForm,
    DecisionForm,
    LinkForm,
    ReviewForm,
)
from docmgmt.control.models import ChangeRequest, DocumentLink, RequestState, Urgency
from docmgmt.errors import DomainError, NotFound, undo
from docmgmt.extensions import db
from docmgmt.extract import web as text_web
from docmgmt.extract.web import RetryTextForm
from docmgmt.preload import preload
from docmgmt.versioning import queries
from docmgmt.versioning.models import Document, DocumentType, Revision, RevisionState


def _doc(doc_id) -> Document:
    doc = db.session.get(Document, doc_id)
    if doc is None:
        raise NotFound(_("No such document."))
    ops.check_permission_to_read(current_user, doc)
    return doc


def _request(cr_id) -> ChangeRequest:
    cr = db.session.get(ChangeRequest, cr_id)
    if cr is None:
        raise NotFound(_("No such change request."))
    if not (can_read_history(current_user) or cr.requester_id == current_user.id):
        raise NotFound(_("No such change request."))
    return require_access(current_user, cr, _("No such change request."))


# Urgent first: the stored codes sort as text (high < low < normal), so rank them explicitly.
URGENCY_ORDER = case(
    (ChangeRequest.urgency == Urgency.HIGH, 0),
    (ChangeRequest.urgency == Urgency.NORMAL, 1),
    else_=2,
)


def desk_items(today=None) -> dict:
    """Everything that waits for the quality manager, each item linking to where it is done."""
    today = today or local_today()
    # The register's documents first: the revisions and requests below find theirs loaded.
    # Kept for the whole page (the session holds rows weakly; rows in reference cycles go
    # whenever the garbage collector runs): the sections below find them loaded.
    register = ops.register_documents()
    overdue = ops.overdue_reviews(today, register)
    revs = db.session.scalars(
        select(Revision)
        .where(
            Revision.state.in_(
                [RevisionState.DRAFT, RevisionState.IN_REVIEW, RevisionState.APPROVED]
            )
        )
        .order_by(Revision.id)
    ).all()
    requests = db.session.scalars(
        select(ChangeRequest)
        .where(ChangeRequest.state == RequestState.OPEN)
        .order_by(URGENCY_ORDER, ChangeRequest.created_dt, ChangeRequest.id)
    ).all()
    # The people and documents the lines name, each kind in one query for those not loaded.
    held = [
        *register,
        *preload(
            User,
            {r.reviewer_id for r in revs}
            | {r.approver_id for r in revs}
            | {cr.requester_id for cr in requests},
        ),
        *preload(Document, {r.document_id for r in revs} | {cr.document_id for cr in requests}),
    ]
    return {
        "drafts": [r for r in revs if r.state == RevisionState.DRAFT],
        "in_review": [r for r in revs if r.state == RevisionState.IN_REVIEW],
        "to_publish": [
            r for r in revs if r.state == RevisionState.APPROVED and r.effective_date is None
        ],
        "soon": [r for r in revs if r.is_scheduled and r.effective_date <= today + timedelta(30)],
        "requests": requests,
        "overdue": overdue,
        "extra": desk_extensions(),
        "held": held,  # kept with the page: the session holds rows weakly
    }


# The other features' sections of the desk (records due for disposal, surveillance audits,
# copies to recall, overdue training), in this order: each is a callable returning
# (title, [(label, url), ...]) and lives in its feature package, which only makes a blueprint.
DESK_SECTIONS: list = [
    records.desk_section,
    certification.desk_section,
    printing.desk_section,
    training.desk_section,
]


def desk_extensions():
    return [section() for section in DESK_SECTIONS]


@bp.get("/desk")
@login_required
def desk():
    require(can_manage_documents(current_user), _("The desk is the quality manager's page."))
    return render_template("control/desk.html", items=desk_items())


@bp.get("/change-requests/")
@login_required
def requests_list():
    state = request.args.get("state", "")
    stmt = select(ChangeRequest).order_by(ChangeRequest.id.desc())
    if not can_read_history(current_user):
        stmt = stmt.where(ChangeRequest.requester_id == current_user.id)
    if state in {s.value for s in RequestState}:
        stmt = stmt.where(ChangeRequest.state == RequestState(state))
    stmt = scoped(stmt, current_user, ChangeRequest)
    return render_template(
        "control/requests.html", requests=db.session.scalars(stmt).all(), state=state
    )


@bp.route("/documents/<int:doc_id>/change-requests/new", methods=["GET", "POST"])
@login_required
def new_request(doc_id):
    doc = _doc(doc_id)
    form = ChangeRequestForm()
    status = 200
    if form.validate_on_submit():
        try:
            cr = ops.create_request(
                current_user,
                doc,
                reason=form.reason.data,
                proposed_change=form.proposed_change.data,
                urgency=form.urgency.data,
            )
            _attach_uploads(cr, form.attachments.data)
            db.session.commit()
            flash(_("Change request %(n)s sent to the quality manager.", n=cr.number), "success")
            return redirect(url_for(".request_detail", cr_id=cr.id), 303)
        except DomainError as exc:
            undo(exc)
            flash(exc.message, "error")
            status = exc.status
    elif form.is_submitted():
        status = 422
    return render_template("control/request_form.html", form=form, doc=doc), status


@bp.get("/change-requests/<int:cr_id>")
@login_required
def request_detail(cr_id):
    cr = _request(cr_id)
    return _request_page(cr, DecisionForm())


def _request_page(cr, form, status=200):
    return render_template(
        "control/request.html",
        cr=cr,
        form=form,
        upload_form=AttachmentForm(),
        texts=ops.attachment_texts(cr),
        can_retry=ops.can_retry_recognition(current_user, cr),
        retry_form=RetryTextForm(),
    ), status


def _attach_uploads(cr, uploads) -> int:
    """Attach every uploaded file, or none: the first refusal undoes the whole request."""
    count = 0
    for upload in uploads or []:
        if upload is None or not getattr(upload, "filename", ""):
            continue
        ops.attach_to_request(current_user, cr, upload.filename, upload.read(), upload.mimetype)
        count += 1
    return count


@bp.post("/change-requests/<int:cr_id>/attachments")
@login_required
def upload_attachment(cr_id):
    cr = _request(cr_id)
    form = AttachmentForm()
    if form.validate_on_submit():
        try:
            count = _attach_uploads(cr, form.attachments.data)
            db.session.commit()
            if count:
                flash(_("%(n)d file(s) attached.", n=count), "success")
            else:
                flash(_("Choose a file to attach."), "error")
        except DomainError as exc:
            undo(exc)
            flash(exc.message, "error")
    return redirect(url_for(".request_detail", cr_id=cr_id), 303)


def attachment_response(cr, att_id):
    from docmgmt import storage
    from docmgmt.control.models import ChangeRequestAttachment

    att = db.session.get(ChangeRequestAttachment, att_id)
    if att is None or att.change_request_id != cr.id:
        raise NotFound(_("Not found."))
    return storage.send_stored(att.sha256, att.filename)


@bp.get("/change-requests/<int:cr_id>/attachments/<int:att_id>")
@login_required
def download_attachment(cr_id, att_id):
    return attachment_response(_request(cr_id), att_id)


@bp.get("/change-requests/<int:cr_id>/attachments/<int:att_id>/searchable.pdf")
@login_required
def searchable_pdf(cr_id, att_id):
    return text_web.send_searchable(ops.attachment_text(_request(cr_id), att_id))


@bp.post("/change-requests/<int:cr_id>/attachments/<int:att_id>/retry-text")
@login_required
def retry_text(cr_id, att_id):
    cr = _request(cr_id)
    return text_web.retry_page(
        lambda: ops.retry_recognition(current_user, cr, att_id),
        url_for(".request_detail", cr_id=cr_id),
    )


@bp.post("/change-requests/<int:cr_id>/<decision>")
@login_required
def decide_request(cr_id, decision):
    cr = _request(cr_id)
    form = DecisionForm()
    if decision not in ("accept", "reject") or not form.validate_on_submit():
        raise NotFound(_("Not found."))
    try:
        if decision == "accept":
            draft = ops.accept_request(current_user, cr, form.comment.data or "")
            db.session.commit()
            flash(
                _("Request %(n)s accepted: draft %(v)s is open.", n=cr.number, v=draft.version),
                "success",
            )
            return redirect(
                url_for("versioning.revision", doc_id=draft.document_id, rev_id=draft.id), 303
            )
        ops.reject_request(current_user, cr, form.comment.data or "")
        db.session.commit()
        flash(_("Request %(n)s rejected.", n=cr.number), "success")
        return redirect(url_for(".request_detail", cr_id=cr.id), 303)
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
        return _request_page(_request(cr_id), form, exc.status)


@bp.post("/documents/<int:doc_id>/reviews")
@login_required
def record_review(doc_id):
    doc = _doc(doc_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        flash(_("Give the review date and the finding."), "error")
        return redirect(url_for("versioning.document", doc_id=doc.id), 303)
    try:
        review = ops.record_review(
            current_user,
            doc,
            review_date=form.review_date.data,
            finding=form.finding.data,
            change_needed=form.change_needed.data,
            proposed_change=form.proposed_change.data or "",
        )
        db.session.commit()
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
        return redirect(url_for("versioning.document", doc_id=doc.id), 303)
    flash(
        _("Review recorded.")
        + (
            " " + _("Change request %(n)s opened.", n=review.change_request.number)
            if review.change_request
            else ""
        ),
        "success",
    )
    return redirect(url_for("versioning.document", doc_id=doc.id), 303)


@bp.post("/documents/<int:doc_id>/links")
@login_required
def add_link(doc_id):
    doc = _doc(doc_id)
    form = LinkForm()
    if not form.validate_on_submit():
        flash(_("Choose the document to link."), "error")
        return redirect(url_for("versioning.document", doc_id=doc.id), 303)
    try:
        ops.add_link(
            current_user, doc, db.session.get(Document, form.target_id.data), form.kind.data
        )
        db.session.commit()
        flash(_("Link added."), "success")
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
    return redirect(url_for("versioning.document", doc_id=doc.id), 303)


@bp.post("/links/<int:link_id>/delete")
@login_required
def remove_link(link_id):
    link = db.session.get(DocumentLink, link_id)
    if link is None:
        raise NotFound(_("Not found."))
    doc_id = link.from_document_id
    ops.remove_link(current_user, link)
    db.session.commit()
    flash(_("Link removed."), "success")
    return redirect(url_for("versioning.document", doc_id=doc_id), 303)


@bp.get("/register/master-list.xlsx")
@login_required
def master_list():
    data = master_list_xlsx(master_list_rows(current_user))
    return send_file(
        data,
        as_attachment=True,
        download_name="master-list.xlsx",
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@bp.get("/register/master-list.pdf")
@login_required
def master_list_as_pdf():
    return send_file(
        BytesIO(master_list_pdf_for(current_user)),
        as_attachment=False,
        download_name="master-list.pdf",
        mimetype="application/pdf",
    )


def master_list_pdf_for(user) -> bytes:
    from flask import current_app

    from docmgmt.clock import to_local, utcnow

    return master_list_pdf(
        master_list_rows(user),
        current_app.config["COMPANY_NAME"],
        user.full_name,
        to_local(utcnow()).strftime("%Y-%m-%d %H:%M"),
    )


@bp.app_template_global()
def related_for_reading(user, doc: Document) -> list[dict]:
    """The related documents a reader of ``doc`` is shown: each with the version in force and
    where to read it.  Staff see only what they may open (in force, or an external standard);
    quality managers and auditors see every link, withdrawn or not yet issued ones marked."""
    out = []
    history = can_read_history(user)
    links = visible(user, ops.links_from(doc))
    # The targets' revisions in force in one query, not one per link.
    in_force = queries.in_force_revisions(
        [lk.target for lk in links if lk.target.doc_type != DocumentType.EXTERNAL]
    )
    for link in links:
        target = link.target
        if visible(user, [target]) != [target]:
            continue
        external = target.doc_type == DocumentType.EXTERNAL
        current = None if external else in_force[target.id]
        readable = not target.is_obsolete and (external or current is not None)
        if not (readable or history):
            continue
        if current is not None:
            url = url_for("versioning.revision", doc_id=target.id, rev_id=current.id)
        else:
            url = url_for("versioning.document", doc_id=target.id)
        out.append({"link": link, "target": target, "current": current, "url": url})
    return out


@bp.app_template_global("doc_control")
def document_panel(doc: Document) -> dict:
    """What the document page shows of document control."""
    reviews = db.session.scalars(
        select(ops.PeriodicReview)
        .where(ops.PeriodicReview.document_id == doc.id)
        .order_by(ops.PeriodicReview.review_date.desc())
    ).all()
    stmt = select(ChangeRequest).where(ChangeRequest.document_id == doc.id)
    if not can_read_history(current_user):
        stmt = stmt.where(ChangeRequest.requester_id == current_user.id)
    requests = db.session.scalars(stmt.order_by(ChangeRequest.id.desc())).all()
    candidates = db.session.scalars(
        scope_documents(
            select(Document)
            .where(Document.id != doc.id, Document.is_obsolete.is_(False))
            .order_by(Document.number),
            current_user,
        )
    ).all()
    return {
        "links": visible(current_user, ops.links_from(doc)),
        "referrers": visible(current_user, ops.referrers(doc)),
        "reviews": reviews,
        "requests": requests,
        "due": ops.review_due_date(doc),
        "review_form": ReviewForm(formdata=None, review_date=local_today()),
        "link_form": LinkForm(formdata=None),
        "candidates": candidates,
    }
