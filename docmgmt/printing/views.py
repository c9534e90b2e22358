"""Pages of printing: prints, controlled copies and their register, Word import and export."""

from io import BytesIO

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from docmgmt import storage
from docmgmt.auth.models import Department, User
from docmgmt.auth.permissions import can_manage_documents, can_read_history, require
from docmgmt.auth.scope import require_access, scoped, visible
from docmgmt.errors import DomainError, NotFound, undo
from docmgmt.extensions import db
from docmgmt.formtools import options
from docmgmt.printing import bp
from docmgmt.printing import operations as ops
from docmgmt.printing.forms import CloseCopyForm, ImportForm, IssueCopyForm, SaveImportForm
from docmgmt.printing.models import ControlledCopy, CopyState
from docmgmt.redirects import redirect_back
from docmgmt.versioning.content import blocks_to_html
from docmgmt.versioning.models import Document, Revision, RevisionState
from docmgmt.versioning.queries import can_read_revision

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _rev(rev_id) -> Revision:
    rev = db.session.get(Revision, rev_id)
    if rev is None or not can_read_revision(current_user, rev):
        raise NotFound(_("No such revision."))
    return rev


def _copy(copy_id) -> ControlledCopy:
    copy = db.session.get(ControlledCopy, copy_id)
    if copy is None or not (can_read_history(current_user) or copy.holder_id == current_user.id):
        raise NotFound(_("Not found."))
    return require_access(current_user, copy)


def _file_name(rev: Revision, suffix: str) -> str:
    return f"{rev.document.number}-{rev.version}{suffix}"


def issue_form() -> IssueCopyForm:
    form = IssueCopyForm()
    users = db.session.scalars(
        select(User).where(User.is_active_flag.is_(True)).order_by(User.full_name)
    )
    form.holder_id.choices = options([(0, "—")] + [(u.id, u.full_name) for u in users])
    deps = db.session.scalars(select(Department).order_by(Department.code))
    form.department_id.choices = options([(0, "—")] + [(d.id, d.shown_name) for d in deps])
    return form


def revision_panel(rev: Revision) -> dict:
    """What the revision page shows of printing."""
    history = can_read_history(current_user)
    copies = ops.copies_query(revision_id=rev.id).options(selectinload(ControlledCopy.department))
    return {
        "copies": db.session.scalars(copies).all() if history else [],
        "sources": ops.revision_sources(rev) if history else [],
        # The form to issue a copy is shown to a quality manager on a revision in force only.
        "issue_form": issue_form()
        if can_manage_documents(current_user) and rev.state == RevisionState.EFFECTIVE
        else None,
        "gone": rev.state in ops.GONE,
    }


@bp.app_context_processor
def _printing_helpers():
    return {"printing_panel": revision_panel}


@bp.get("/revisions/<int:rev_id>/print.pdf")
@login_required
def print_pdf(rev_id):
    rev = _rev(rev_id)
    mode = request.args.get("mode", "uncontrolled")
    try:
        data = ops.print_revision(current_user, rev, mode)
        db.session.commit()
    except DomainError as exc:
        undo(exc)
        raise
    return send_file(BytesIO(data), mimetype=PDF, download_name=_file_name(rev, f"-{mode}.pdf"))


@bp.get("/revisions/<int:rev_id>/export.docx")
@login_required
def export_docx(rev_id):
    rev = _rev(rev_id)
    data = ops.export_docx(current_user, rev)
    return send_file(
        BytesIO(data), mimetype=DOCX, as_attachment=True, download_name=_file_name(rev, ".docx")
    )


@bp.get("/revisions/<int:rev_id>/images/<sha>")
@login_required
def revision_image(rev_id, sha):
    rev = _rev(rev_id)
    if not any(
        b.get("type") == "image" and b.get("sha256") == sha for b in rev.body_blocks or []
    ) or sha not in storage.document_images(rev.document_id):
        raise NotFound(_("Not found."))
    return storage.send_revision_image(sha)


@bp.get("/revisions/<int:rev_id>/source/<int:source_id>")
@login_required
def download_source(rev_id, source_id):
    from docmgmt.printing.models import RevisionSource

    require(can_read_history(current_user))
    _rev(rev_id)
    src = db.session.get(RevisionSource, source_id)
    if src is None or src.revision_id != rev_id:
        raise NotFound(_("Not found."))
    return storage.send_stored(src.sha256, src.filename)


# ---------------------------------------------------------------- controlled copies


@bp.post("/revisions/<int:rev_id>/copies")
@login_required
def issue(rev_id):
    rev = _rev(rev_id)
    form = issue_form()
    if not form.validate_on_submit():
        flash(_("The form is not valid."), "error")
        return redirect(url_for("versioning.revision", doc_id=rev.document_id, rev_id=rev.id), 303)
    try:
        copy = ops.issue_copy(
            current_user,
            rev,
            holder_name=form.holder_name.data or "",
            holder=db.session.get(User, form.holder_id.data) if form.holder_id.data else None,
            department=db.session.get(Department, form.department_id.data)
            if form.department_id.data
            else None,
            medium=form.medium.data,
        )
        db.session.commit()
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
        return redirect(url_for("versioning.revision", doc_id=rev.document_id, rev_id=rev.id), 303)
    flash(_("Controlled copy %(c)s issued to %(h)s.", c=copy.label, h=copy.holder_name), "success")
    return redirect(url_for(".copy_detail", copy_id=copy.id), 303)


@bp.get("/copies/<int:copy_id>")
@login_required
def copy_detail(copy_id):
    copy = _copy(copy_id)
    return render_template(
        "printing/copy.html", copy=copy, form=CloseCopyForm(), due=ops.is_due_for_recall(copy)
    )


@bp.get("/copies/<int:copy_id>/copy.pdf")
@login_required
def copy_pdf(copy_id):
    copy = _copy(copy_id)
    data = ops.controlled_copy_pdf(current_user, copy)
    return send_file(BytesIO(data), mimetype=PDF, download_name=f"{copy.label}.pdf")


@bp.post("/copies/<int:copy_id>/<any(recall, lost):action>")
@login_required
def close(copy_id, action):
    copy = _copy(copy_id)
    form = CloseCopyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ops.close_copy(current_user, copy, lost=action == "lost", note=form.note.data or "")
        db.session.commit()
        flash(
            _("Copy %(c)s recorded as lost.", c=copy.label)
            if action == "lost"
            else _("Copy %(c)s recorded as returned.", c=copy.label),
            "success",
        )
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
    return redirect_back(request.form.get("next"), url_for(".copy_detail", copy_id=copy_id), 303)


@bp.get("/copies/")
@login_required
def register():
    require(
        can_read_history(current_user), _("Only quality managers and auditors see the register.")
    )
    view = request.args.get("view", "out")
    if view == "due":
        stmt = ops.copies_query(due_only=True)
    elif view == "all":
        stmt = ops.copies_query()
    else:
        view = "out"
        stmt = ops.copies_query(state=CopyState.ISSUED.value)
    return render_template(
        "printing/register.html",
        copies=db.session.scalars(scoped(stmt, current_user, ControlledCopy).limit(500)).all(),
        view=view,
        due_count=len(visible(current_user, ops.due_for_recall())),
        form=CloseCopyForm(),
        is_due=ops.is_due_for_recall,
    )


@bp.get("/copies/register.pdf")
@login_required
def register_pdf():
    from docmgmt.printing.register_pdf import register_pdf as build

    require(
        can_read_history(current_user), _("Only quality managers and auditors see the register.")
    )
    copies = db.session.scalars(scoped(ops.copies_query(), current_user, ControlledCopy)).all()
    return send_file(
        BytesIO(build(copies, current_app.config["COMPANY_NAME"], current_user.full_name)),
        mimetype=PDF,
        download_name="distribution-register.pdf",
    )


@bp.get("/copies/verify/<token>")
def verify(token):
    """What the QR code on a copy opens: status only, no content, no log-in needed."""
    copy = db.session.scalar(select(ControlledCopy).where(ControlledCopy.token == token))
    if copy is None:
        return render_template("printing/verify.html", copy=None), 404
    from docmgmt.versioning.queries import in_force_revision

    current = in_force_revision(copy.revision.document)
    return render_template(
        "printing/verify.html",
        copy=copy,
        in_force=current is not None and current.id == copy.revision_id,
        current=current,
        due=ops.is_due_for_recall(copy),
    )


# ---------------------------------------------------------------- Word import


@bp.route("/documents/<int:doc_id>/import", methods=["GET", "POST"])
@login_required
def import_docx(doc_id):
    require(can_manage_documents(current_user))
    doc = db.session.get(Document, doc_id)
    if doc is None:
        raise NotFound(_("No such document."))
    form = ImportForm()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            if upload is None or not getattr(upload, "filename", ""):
                from docmgmt.errors import ValidationFailed

                raise ValidationFailed(_("Choose a Word file (.docx)."), field="file")
            token, name, result = ops.preview_import(
                current_user, doc, upload.filename, upload.read()
            )
            return render_template(
                "printing/import_preview.html",
                doc=doc,
                token=token,
                name=name,
                report=result.report(),
                body=blocks_to_html(result.blocks),
                blocks=result.blocks,
                form=SaveImportForm(),
            )
        except DomainError as exc:
            undo(exc)
            flash(exc.message, "error")
            status = exc.status
    elif form.is_submitted():
        status = 422
    return render_template("printing/import.html", doc=doc, form=form), status


@bp.post("/documents/<int:doc_id>/import/<token>")
@login_required
def save_import(doc_id, token):
    doc = db.session.get(Document, doc_id)
    if doc is None:
        raise NotFound(_("No such document."))
    form = SaveImportForm()
    if request.form.get("discard"):
        ops.discard_staged(token)
        flash(_("The import was discarded; nothing was saved."), "success")
        return redirect(url_for("versioning.document", doc_id=doc.id), 303)
    if not form.validate_on_submit():
        abort(400)
    try:
        rev = ops.save_import(current_user, doc, token, change_summary=form.change_summary.data)
        db.session.commit()
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
        return redirect(url_for(".import_docx", doc_id=doc.id), 303)
    ops.discard_staged(token)
    flash(_("Draft %(v)s saved from the Word file.", v=rev.version), "success")
    return redirect(url_for("versioning.revision", doc_id=doc.id, rev_id=rev.id), 303)
