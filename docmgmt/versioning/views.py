"""Pages of the register and the revision lifecycle: parse the form, call an operation, commit."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from docmgmt.auth.models import Department
from docmgmt.auth.permissions import can_manage_documents, can_read_history, require
from docmgmt.auth.scope import require_access, require_document_access, scope_documents
from docmgmt.control import operations as control_ops
from docmgmt.control.models import Withdrawal
from docmgmt.errors import DomainError, NotFound, PermissionDenied, undo
from docmgmt.extensions import db
from docmgmt.formtools import error_at_field, options
from docmgmt.templating import type_label
from docmgmt.versioning import (
    bp,
    documents,
    drafting,
    lifecycle,
    publishing,
    queries,
    signing,
    withdrawing,
)
from docmgmt.versioning.content import body_outline, rendered_body
from docmgmt.versioning.forms import (
    DocumentEditForm,
    DocumentForm,
    DraftEditForm,
    NewDraftForm,
    PublishForm,
    ReasonForm,
    RejectForm,
    SignForm,
    SubmitForm,
    UnscheduleForm,
    WithdrawalDecisionForm,
    WithdrawForm,
)
from docmgmt.versioning.models import (
    Document,
    DocumentType,
    Revision,
    RevisionState,
    SignatureMeaning,
)

# Templates of every feature show "the version in force" of a document.
bp.add_app_template_global(queries.in_force_revision, "in_force_of")
# The reading pages' outline (目录) of a revision's headings.
bp.add_app_template_global(body_outline, "outline_of")


def _department_choices():
    deps = db.session.scalars(select(Department).order_by(Department.code)).all()
    return options([(0, "—")] + [(d.id, d.shown_name) for d in deps])


def _department(dep_id):
    return db.session.get(Department, dep_id) if dep_id else None


def get_document(doc_id: int) -> Document:
    doc = db.session.get(Document, doc_id)
    if doc is None:
        raise NotFound(_("No such document."))
    return require_document_access(current_user, doc)


def get_revision(doc: Document, rev_id: int) -> Revision:
    rev = db.session.get(Revision, rev_id)
    if rev is None or rev.document_id != doc.id:
        raise NotFound(_("No such revision."))
    if not queries.can_read_revision(current_user, rev):
        raise PermissionDenied(
            _(
                "Revision %(v)s of %(n)s is not in force; only the revision in force can be read.",
                v=rev.version,
                n=doc.number,
            )
        )
    return rev


@bp.get("/")
@login_required
def register():
    doc_type = request.args.get("type") or None
    dep = request.args.get("department", type=int) or None
    q = request.args.get("q", "").strip() or None
    # Quality managers and auditors see withdrawn documents (marked 作废) unless they untick
    # the box: the form sends obsolete=0 always and obsolete=1 when ticked.
    wanted = request.args.getlist("obsolete")
    show_obsolete = can_read_history(current_user) and ("1" in wanted or not wanted)
    docs = db.session.scalars(
        scope_documents(
            queries.register_query(
                doc_type=doc_type
                if doc_type
                in {"manual", "procedure", "work_instruction", "record_form", "external"}
                else None,
                department_id=dep,
                q=q,
                include_obsolete=show_obsolete,
            ),
            current_user,
        )
    ).all()
    in_force = queries.in_force_among(docs)
    if not can_read_history(current_user):
        # Staff see the documents they can read: those with a revision in force, and the
        # external standards the company works to.
        docs = [d for d in docs if d.id in in_force or d.doc_type == DocumentType.EXTERNAL]
    pending = {}
    if can_read_history(current_user):
        # The revision in progress, if any.
        for d in docs:
            if (r := queries.open_revision(d)) is not None:
                pending[d.id] = r
    # Everybody sees the revision waiting for its effective date (待生效) and the next review.
    scheduled = {d.id: r for d in docs if (r := queries.scheduled_revision(d)) is not None}
    next_review = control_ops.review_due_dates(docs, in_force)
    departments = db.session.scalars(select(Department).order_by(Department.code)).all()
    return render_template(
        "versioning/register.html",
        docs=docs,
        in_force=in_force,
        pending=pending,
        scheduled=scheduled,
        next_review=next_review,
        departments=departments,
        # Each type's name once per page, not once per row.
        type_names={t.value: type_label(t) for t in DocumentType},
        # ... and each department's name in the reader's language.
        department_names={d.id: d.shown_name for d in departments},
        filters={"type": doc_type, "department": dep, "q": q or "", "obsolete": show_obsolete},
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_document():
    require(can_manage_documents(current_user))
    form = DocumentForm()
    form.department_id.choices = _department_choices()
    status = 200
    if form.validate_on_submit():
        try:
            doc = documents.create_document(
                current_user,
                form.title.data,
                form.doc_type.data,
                department=_department(form.department_id.data),
                number=form.number.data,
                review_interval_months=form.review_interval_months.data,
                external_edition=form.external_edition.data,
                external_source=form.external_source.data,
            )
            db.session.commit()
            flash(
                _("Document %(n)s registered. Write its first draft next.", n=doc.number), "success"
            )
            return redirect(url_for(".document", doc_id=doc.id))
        except DomainError as exc:
            undo(exc)
            flash(exc.message, "error")
            status = exc.status
    elif form.is_submitted():
        status = 422
    return render_template("versioning/document_form.html", form=form, doc=None), status


@bp.get("/<int:doc_id>")
@login_required
def document(doc_id):
    doc = get_document(doc_id)
    current = queries.in_force_revision(doc)
    if not can_read_history(current_user) and doc.doc_type != DocumentType.EXTERNAL:
        if current is None:
            raise PermissionDenied(_("Document %(n)s has no revision in force.", n=doc.number))
        return redirect(url_for(".revision", doc_id=doc.id, rev_id=current.id))
    return _render_document(doc)


def _render_document(doc, status=200, draft_form=None):
    return render_template(
        "versioning/document.html",
        doc=doc,
        current=queries.in_force_revision(doc),
        record=queries.revision_record(doc),
        scheduled=queries.scheduled_revision(doc),
        open_rev=queries.open_revision(doc),
        draft_form=draft_form or NewDraftForm(),
        withdraw_form=_withdraw_form(),
        pending_withdrawal=_pending_withdrawal(doc),
        withdrawal_decision_form=WithdrawalDecisionForm(),
    ), status


def _withdraw_form():
    form = WithdrawForm()
    form.approver_id.choices = _approver_choices()
    return form


def _pending_withdrawal(doc):
    return control_ops.pending_withdrawal(doc)


@bp.route("/<int:doc_id>/edit", methods=["GET", "POST"])
@login_required
def edit_document(doc_id):
    require(can_manage_documents(current_user))
    doc = get_document(doc_id)
    form = DocumentEditForm(obj=doc)
    form.department_id.choices = _department_choices()
    if request.method == "GET":
        form.department_id.data = doc.department_id or 0
    status = 200
    if form.validate_on_submit():
        try:
            documents.update_document(
                current_user,
                doc,
                title=form.title.data,
                department=_department(form.department_id.data),
                review_interval_months=form.review_interval_months.data,
                external_edition=form.external_edition.data,
                external_source=form.external_source.data,
            )
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for(".document", doc_id=doc.id))
        except DomainError as exc:
            undo(exc)
            flash(exc.message, "error")
            status = exc.status
    elif form.is_submitted():
        status = 422
    return render_template("versioning/document_form.html", form=form, doc=doc), status


@bp.post("/<int:doc_id>/withdraw")
@login_required
def withdraw(doc_id):
    """Propose the withdrawal; the named approver decides on the document page."""
    doc = get_document(doc_id)
    form = WithdrawForm()
    form.approver_id.choices = _approver_choices()

    def action():
        wd = control_ops.propose_withdrawal(
            current_user,
            doc,
            form.reason.data,
            form.approver_id.data,
            confirm_references=request.form.get("confirm") == "1",
        )
        return _(
            "The withdrawal of %(n)s now waits for %(a)s to approve it.",
            n=doc.number,
            a=wd.approver.full_name,
        )

    return _act_and_return(
        form,
        _("Give the reason for the withdrawal and choose an approver."),
        action,
        url_for(".document", doc_id=doc.id),
    )


def _act(form, action, *, done, failed, invalid_message: str):
    """Every lifecycle action posted from a page (draft, submit, sign, reject, publish, cancel,
    unschedule, propose or decide a withdrawal): check the form, call ``action`` (the
    operation; it returns the success message), commit, flash it and go to ``done()``. A form
    that does not validate (its message flashed) or a refusal (rolled back) is answered by
    ``failed(status, refusal)``; the refusal is None for the form."""
    if not form.validate_on_submit():
        flash(invalid_message, "error")
        return failed(422, None)
    try:
        message = action()
        db.session.commit()
    except DomainError as exc:
        undo(exc)
        return failed(exc.status, exc)
    flash(message, "success")
    return redirect(done(), 303)


def _act_and_return(form, invalid_message: str, action, back: str):
    """The withdrawal actions, answered on the page they came from (``back``)."""

    def failed(status, refusal):
        if refusal is not None:
            flash(refusal.message, "error")
        return redirect(back, 303)

    return _act(form, action, done=lambda: back, failed=failed, invalid_message=invalid_message)


@bp.get("/withdrawals/<int:wd_id>")
@login_required
def withdrawal(wd_id):
    wd = db.session.get(Withdrawal, wd_id)
    if wd is None or not (can_read_history(current_user) or wd.approver_id == current_user.id):
        raise NotFound(_("Not found."))
    require_access(current_user, wd)
    return render_template("versioning/withdrawal.html", wd=wd, form=WithdrawalDecisionForm())


@bp.post("/withdrawals/<int:wd_id>/<decision>")
@login_required
def decide_withdrawal(wd_id, decision):
    wd = db.session.get(Withdrawal, wd_id)
    if wd is None or decision not in ("approve", "reject"):
        raise NotFound(_("Not found."))
    form = WithdrawalDecisionForm()

    def action():
        control_ops.decide_withdrawal(
            current_user,
            wd,
            approve=decision == "approve",
            password=form.password.data,
            comment=form.comment.data or "",
        )
        if decision == "approve":
            return _("Document %(n)s is withdrawn (obsolete).", n=wd.document.number)
        return _("The withdrawal of %(n)s is rejected.", n=wd.document.number)

    return _act_and_return(
        form,
        _("Type your password to sign the decision."),
        action,
        url_for(".withdrawal", wd_id=wd_id),
    )


def _approver_choices():
    return options([(0, "—")] + [(u.id, u.full_name) for u in control_ops.withdrawal_approvers()])


@bp.post("/<int:doc_id>/drafts")
@login_required
def new_draft(doc_id):
    doc = get_document(doc_id)
    form = NewDraftForm()
    created = []

    def action():
        rev = drafting.create_draft(
            current_user,
            doc,
            reedition=form.kind.data == "reedition",
            version=form.version.data or None,
            change_summary=form.change_summary.data or "",
            change_number=form.change_number.data or "",
        )
        created.append(rev)
        return _(
            "Draft %(v)s created from the latest revision. Edit it, then submit it for review.",
            v=rev.version,
        )

    def failed(status, refusal):
        if refusal is None:
            return redirect(url_for(".document", doc_id=doc.id), 303)
        flash(refusal.message, "error")
        return _render_document(doc, refusal.status, draft_form=form)

    return _act(
        form,
        action,
        done=lambda: url_for(".edit_revision", doc_id=doc.id, rev_id=created[0].id),
        failed=failed,
        invalid_message=_("The form is not valid."),
    )


def _render_revision(doc, rev, status=200, failed=False, **forms):
    # The forms not posted start empty (a form binds the request's data by default).
    submit_form = forms.get("submit_form") or SubmitForm(formdata=None)
    # Only a draft shows the form to send it for review: the signers are listed for it alone.
    if rev.state == RevisionState.DRAFT:
        for fld, step in (
            (submit_form.reviewer_id, "review"),
            (submit_form.approver_id, "approve"),
        ):
            fld.choices = options(
                [(0, "—")]
                + [
                    (u.id, f"{u.full_name} ({u.job_title})" if u.job_title else u.full_name)
                    for u in queries.eligible_signers(doc.doc_type, step)
                    if u.id != current_user.id
                ]
            )
    signed = rev.current_signatures()
    return render_template(
        "versioning/revision.html",
        doc=doc,
        rev=rev,
        body=rendered_body(
            rev.body_blocks,
            image_url=lambda sha: url_for("printing.revision_image", rev_id=rev.id, sha=sha),
        ),
        signed=signed,
        in_force=queries.in_force_revision(doc),
        Meaning=SignatureMeaning,
        State=RevisionState,
        submit_form=submit_form,
        sign_form=forms.get("sign_form") or SignForm(formdata=None),
        reject_form=forms.get("reject_form") or RejectForm(formdata=None),
        publish_form=forms.get("publish_form") or PublishForm(formdata=None),
        cancel_form=forms.get("cancel_form") or ReasonForm(formdata=None),
        unschedule_form=forms.get("unschedule_form") or UnscheduleForm(formdata=None),
        revisions=doc.revisions if can_read_history(current_user) else [],
        # A form that failed is answered at its POST address: the page shows its own address
        # and only the form's message.
        failed=failed,
        page_url=url_for(".revision", doc_id=doc.id, rev_id=rev.id) if failed else None,
    ), status


@bp.get("/<int:doc_id>/revisions/<int:rev_id>")
@login_required
def revision(doc_id, rev_id):
    doc = get_document(doc_id)
    return _render_revision(doc, get_revision(doc, rev_id))


@bp.route("/<int:doc_id>/revisions/<int:rev_id>/edit", methods=["GET", "POST"])
@login_required
def edit_revision(doc_id, rev_id):
    doc = get_document(doc_id)
    rev = get_revision(doc, rev_id)
    require(can_manage_documents(current_user))
    form = DraftEditForm(obj=rev)
    if request.method == "GET":
        form.body.data = rev.body_source
    status = 200
    if not lifecycle.allows(rev, "edit"):
        flash(
            _("Revision %(v)s is no longer a draft: its content is frozen.", v=rev.version), "error"
        )
        return redirect(url_for(".revision", doc_id=doc.id, rev_id=rev.id))
    if form.validate_on_submit():
        try:
            drafting.update_draft(
                current_user,
                rev,
                title=form.title.data,
                body=form.body.data,
                change_summary=form.change_summary.data,
                change_number=form.change_number.data,
                pages_affected=form.pages_affected.data,
            )
            db.session.commit()
            flash(_("Draft saved."), "success")
            return redirect(url_for(".revision", doc_id=doc.id, rev_id=rev.id), 303)
        except DomainError as exc:
            undo(exc)
            flash(exc.message, "error")
            status = exc.status
    elif form.is_submitted():
        status = 422
    return render_template("versioning/revision_edit.html", form=form, doc=doc, rev=rev), status


def _lifecycle_action(doc_id, rev_id, form_cls, form_key, action):
    doc = get_document(doc_id)
    rev = get_revision(doc, rev_id)
    form = form_cls()
    if form_key == "submit_form":
        # Any user id is accepted here; the operation says clearly who may not sign.
        form.reviewer_id.validate_choice = form.approver_id.validate_choice = False

    def failed(status, refusal):
        if refusal is not None:
            db.session.refresh(rev)
            if not error_at_field(form, refusal):
                flash(refusal.message, "error")
        return _render_revision(doc, rev, status, failed=True, **{form_key: form})

    return _act(
        form,
        lambda: action(doc, rev, form),
        done=lambda: url_for(".revision", doc_id=doc.id, rev_id=rev.id),
        failed=failed,
        invalid_message=_("Please fill in every required field."),
    )


@bp.post("/<int:doc_id>/revisions/<int:rev_id>/submit")
@login_required
def submit(doc_id, rev_id):
    def action(doc, rev, form):
        signing.submit_for_review(
            current_user,
            rev,
            reviewer=form.reviewer_id.data,
            approver=form.approver_id.data,
            password=form.password.data,
            allow_placeholders=form.allow_placeholders.data,
        )
        return _("Revision %(v)s signed as prepared and sent for review.", v=rev.version)

    return _lifecycle_action(doc_id, rev_id, SubmitForm, "submit_form", action)


@bp.post("/<int:doc_id>/revisions/<int:rev_id>/sign/<meaning>")
@login_required
def sign(doc_id, rev_id, meaning):
    if meaning not in (SignatureMeaning.REVIEWED.value, SignatureMeaning.APPROVED.value):
        abort(404)

    def action(doc, rev, form):
        signing.sign_revision(
            current_user, rev, meaning, form.password.data, form.comment.data or ""
        )
        if meaning == SignatureMeaning.APPROVED.value:
            return _(
                "Revision %(v)s approved. The quality manager can now publish it.", v=rev.version
            )
        return _("Revision %(v)s reviewed; it now waits for approval.", v=rev.version)

    return _lifecycle_action(doc_id, rev_id, SignForm, "sign_form", action)


@bp.post("/<int:doc_id>/revisions/<int:rev_id>/reject")
@login_required
def reject(doc_id, rev_id):
    def action(doc, rev, form):
        signing.reject_revision(current_user, rev, form.comment.data)
        return _("Revision %(v)s returned to draft.", v=rev.version)

    return _lifecycle_action(doc_id, rev_id, RejectForm, "reject_form", action)


@bp.post("/<int:doc_id>/revisions/<int:rev_id>/publish")
@login_required
def publish(doc_id, rev_id):
    def action(doc, rev, form):
        publishing.publish_revision(current_user, rev, form.effective_date.data)
        if rev.state == RevisionState.EFFECTIVE:
            return _("Revision %(v)s is now in force.", v=rev.version)
        return _(
            "Revision %(v)s will take effect on %(d)s.",
            v=rev.version,
            d=rev.effective_date.isoformat(),
        )

    return _lifecycle_action(doc_id, rev_id, PublishForm, "publish_form", action)


@bp.post("/<int:doc_id>/revisions/<int:rev_id>/cancel")
@login_required
def cancel(doc_id, rev_id):
    def action(doc, rev, form):
        was_draft = rev.state == RevisionState.DRAFT
        withdrawing.cancel_revision(current_user, rev, form.reason.data)
        if was_draft:
            return _("Draft %(v)s cancelled.", v=rev.version)
        return _("Revision %(v)s cancelled; a new draft can start.", v=rev.version)

    return _lifecycle_action(doc_id, rev_id, ReasonForm, "cancel_form", action)


@bp.post("/<int:doc_id>/revisions/<int:rev_id>/unschedule")
@login_required
def unschedule(doc_id, rev_id):
    def action(doc, rev, form):
        withdrawing.unschedule_revision(current_user, rev, form.reason.data)
        return _(
            "Revision %(v)s is no longer scheduled; it is approved and waits to be published.",
            v=rev.version,
        )

    return _lifecycle_action(doc_id, rev_id, UnscheduleForm, "unschedule_form", action)


# The comparison of two revisions has its own module; its routes attach to bp on import.
from docmgmt.versioning import compare_views  # noqa: E402, F401
