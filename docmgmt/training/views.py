"""Training pages: my tasks and acknowledgement, the matrix, completion, sessions, evaluations,
each person's record (page, PDF, .xlsx)."""

from io import BytesIO

from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from docmgmt.auth.models import Department, Role, User
from docmgmt.auth.permissions import can_manage_documents, require
from docmgmt.auth.scope import require_access, scope_documents, scoped, visible
from docmgmt.errors import DomainError, NotFound, undo
from docmgmt.extensions import db
from docmgmt.extract import web as text_web
from docmgmt.extract.web import RetryTextForm
from docmgmt.formtools import options
from docmgmt.redirects import redirect_back
from docmgmt.templating import role_label
from docmgmt.training import bp
from docmgmt.training import operations as ops
from docmgmt.training.export import record_pdf, record_xlsx
from docmgmt.training.forms import (
    AcknowledgeForm,
    EvaluationForm,
    RequirementForm,
    SessionForm,
)
from docmgmt.training.models import (
    AttendeeResult,
    CompetenceEvaluation,
    SessionAttachment,
    TaskState,
    TrainingRequirement,
    TrainingSession,
)
from docmgmt.versioning.content import rendered_body
from docmgmt.versioning.models import Document, Revision, RevisionState

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The reading page of a revision carries the person's open read-and-understood task for it.
bp.add_app_template_global(ops.open_task_for, "reading_task_of")
bp.add_app_template_global(lambda: AcknowledgeForm(formdata=None), "acknowledge_form")


def _people():
    return db.session.scalars(
        select(User).where(User.is_active_flag.is_(True)).order_by(User.full_name)
    ).all()


def _in_force_revisions():
    return db.session.scalars(
        select(Revision)
        .join(Document)
        .options(contains_eager(Revision.document))
        .where(Revision.state.in_([RevisionState.EFFECTIVE, RevisionState.APPROVED]))
        .where(Revision.effective_date.is_not(None))
        .order_by(Document.number)
    ).all()


@bp.get("/")
@login_required
def index():
    mine = db.session.scalars(ops.tasks_query(user=current_user)).all()
    return render_template(
        "training/index.html",
        open_tasks=[t for t in mine if t.state == TaskState.OPEN],
        done_tasks=[t for t in mine if t.state == TaskState.DONE],
        today=ops.local_today(),
    )


@bp.get("/tasks/<int:task_id>")
@login_required
def task(task_id):
    t = require_access(current_user, ops.get_task(task_id))
    require(ops.can_see_person(current_user, t.user))
    rev = t.revision
    body = rendered_body(
        rev.body_blocks,
        image_url=lambda sha: url_for("printing.revision_image", rev_id=rev.id, sha=sha),
    )
    return render_template("training/task.html", task=t, body=body, form=AcknowledgeForm())


@bp.post("/tasks/<int:task_id>/acknowledge")
@login_required
def acknowledge(task_id):
    """Sign read and understood, from the task page or from the revision's reading page (the
    form names the page in ``next``: the answer, good or bad, goes back there)."""
    t = ops.get_task(task_id)
    form = AcknowledgeForm()
    back = request.form.get("next")
    if not form.validate_on_submit():
        flash(_("Tick the statement and give your password to sign."), "error")
        return redirect_back(back, url_for(".task", task_id=task_id), 303)
    try:
        ops.acknowledge(current_user, t, form.password.data)
        db.session.commit()
        flash(
            _(
                "Signed: you have read and understood %(n)s %(v)s.",
                n=t.document.number,
                v=t.revision.version,
            ),
            "success",
        )
        return redirect_back(back, url_for(".index"), 303)
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
        return redirect_back(back, url_for(".task", task_id=task_id), 303)


# ---------------------------------------------------------------- the matrix


@bp.route("/matrix", methods=["GET", "POST"])
@login_required
def matrix():
    require(ops.can_read_training(current_user))
    form = RequirementForm()
    docs_all = db.session.scalars(
        scope_documents(
            select(Document).where(Document.is_obsolete.is_(False)).order_by(Document.number),
            current_user,
        )
    ).all()
    form.document_id.choices = options([(d.id, f"{d.number} {d.title}") for d in docs_all])
    if request.method == "POST":
        require(can_manage_documents(current_user))
        if form.validate_on_submit():
            try:
                doc = db.session.get(Document, form.document_id.data)
                if doc is None:
                    raise NotFound(_("No such document."))
                value = form.target_value.data.strip()
                if form.target_kind.data == "role":
                    # The form names roles as people read them (质量经理); the rule stores the code.
                    value = {role_label(r.value): r.value for r in Role}.get(value, value)
                ops.set_requirement(
                    current_user,
                    doc,
                    form.target_kind.data,
                    value,
                    form.due_days.data,
                )
                db.session.commit()
                flash(_("Training requirement saved."), "success")
                return redirect(url_for(".matrix"), 303)
            except DomainError as exc:
                undo(exc)
                flash(exc.message, "error")
    docs, targets, cells = ops.matrix(current_user)
    departments = db.session.scalars(select(Department).order_by(Department.code)).all()
    return render_template(
        "training/matrix.html",
        form=form,
        docs=docs,
        targets=targets,
        cells=cells,
        roles=[role_label(r.value) for r in Role],
        departments=departments,
        can_edit=can_manage_documents(current_user),
    )


@bp.post("/matrix/<int:req_id>/delete")
@login_required
def remove_requirement(req_id):
    req = db.session.get(TrainingRequirement, req_id)
    if req is None:
        raise NotFound(_("Not found."))
    try:
        ops.remove_requirement(current_user, req)
        db.session.commit()
        flash(_("Training requirement removed."), "success")
    except DomainError as exc:
        undo(exc)
        flash(exc.message, "error")
    return redirect(url_for(".matrix"), 303)


# ---------------------------------------------------------------- completion


@bp.get("/revisions/<int:rev_id>")
@login_required
def revision_completion(rev_id):
    require(ops.can_read_training(current_user))
    rev = db.session.get(Revision, rev_id)
    if rev is None:
        raise NotFound(_("No such revision."))
    require_access(current_user, rev, _("No such revision."))
    tasks = ops.completion(rev, current_user)
    return render_template(
        "training/completion.html",
        rev=rev,
        tasks=tasks,
        done=sum(1 for t in tasks if t.state == TaskState.DONE),
        today=ops.local_today(),
    )


@bp.get("/overview")
@login_required
def overview():
    require(ops.can_read_training(current_user))
    revisions = visible(current_user, _in_force_revisions())
    counts = ops.completion_counts([r.id for r in revisions], current_user)
    per_rev = [(rev, *counts[rev.id]) for rev in revisions if rev.id in counts]
    return render_template(
        "training/overview.html",
        departments=ops.by_department(current_user),
        per_rev=per_rev,
        due=ops.due_evaluations(viewer=current_user),
        today=ops.local_today(),
    )


# ---------------------------------------------------------------- sessions


@bp.get("/sessions")
@login_required
def sessions():
    require(ops.can_read_training(current_user))
    rows = db.session.scalars(
        scoped(select(TrainingSession), current_user, TrainingSession).order_by(
            TrainingSession.held_on.desc(), TrainingSession.id.desc()
        )
    ).all()
    return render_template("training/sessions.html", sessions=rows)


def _session_form():
    form = SessionForm()
    people = [(u.id, u.full_name) for u in _people()]
    form.attendees.choices = options(people)
    form.failed.choices = options(people)
    form.revisions.choices = options(
        [(r.id, f"{r.document.number} {r.version} {r.title}") for r in _in_force_revisions()]
    )
    return form


@bp.route("/sessions/new", methods=["GET", "POST"])
@login_required
def new_session():
    require(can_manage_documents(current_user))
    form = _session_form()
    if form.validate_on_submit():
        try:
            failed = set(form.failed.data or [])
            attendees = []
            for uid in form.attendees.data or []:
                user = db.session.get(User, uid)
                if user is None:
                    raise NotFound(_("No such user."))
                if form.assessed.data:
                    result = AttendeeResult.FAILED if uid in failed else AttendeeResult.PASSED
                else:
                    result = AttendeeResult.ATTENDED
                attendees.append((user, result, None))
            revisions = [db.session.get(Revision, rid) for rid in form.revisions.data or []]
            session = ops.record_session(
                current_user,
                held_on=form.held_on.data,
                kind=form.kind.data,
                topic=form.topic.data,
                trainer_name=form.trainer_name.data,
                duration_minutes=form.duration_minutes.data,
                attendees=attendees,
                revisions=[r for r in revisions if r is not None],
                assessed=form.assessed.data,
                notes=form.notes.data,
            )
            for f in request.files.getlist(form.files.name):
                if f and f.filename:
                    ops.attach_to_session(
                        current_user, session, f.filename, f.read(), f.mimetype or ""
                    )
            db.session.commit()
            flash(_("Training session recorded."), "success")
            return redirect(url_for(".session_detail", session_id=session.id), 303)
        except DomainError as exc:
            undo(exc)
            flash(exc.message, "error")
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render_template("training/session_form.html", form=form)


@bp.get("/sessions/<int:session_id>")
@login_required
def session_detail(session_id):
    require(ops.can_read_training(current_user))
    s = require_access(current_user, db.session.get(TrainingSession, session_id))
    notes = {r.id: ops.covered_revision_note(r) for r in s.revisions}
    return render_template(
        "training/session.html",
        s=s,
        notes=notes,
        texts=ops.attachment_texts(s),
        can_retry=ops.can_retry_recognition(current_user),
        retry_form=RetryTextForm(),
    )


def _attachment(att_id) -> SessionAttachment:
    require(ops.can_read_training(current_user))
    return require_access(current_user, db.session.get(SessionAttachment, att_id))


@bp.get("/attachments/<int:att_id>")
@login_required
def attachment(att_id):
    from docmgmt import storage

    att = _attachment(att_id)
    return storage.send_stored(att.sha256, att.filename)


@bp.get("/attachments/<int:att_id>/searchable.pdf")
@login_required
def searchable_pdf(att_id):
    return text_web.send_searchable(ops.attachment_text(_attachment(att_id)))


@bp.post("/attachments/<int:att_id>/retry-text")
@login_required
def retry_text(att_id):
    att = _attachment(att_id)
    return text_web.retry_page(
        lambda: ops.retry_recognition(current_user, att),
        url_for(".session_detail", session_id=att.session_id),
    )


# ---------------------------------------------------------------- evaluations


@bp.route("/evaluations", methods=["GET", "POST"])
@login_required
def evaluations():
    require(ops.can_read_training(current_user))
    form = EvaluationForm()
    form.user_id.choices = options([(u.id, u.full_name) for u in _people()])
    if request.method == "POST":
        require(can_manage_documents(current_user))
        if form.validate_on_submit():
            try:
                user = db.session.get(User, form.user_id.data)
                if user is None:
                    raise NotFound(_("No such user."))
                ops.record_evaluation(
                    current_user,
                    user,
                    evaluated_on=form.evaluated_on.data,
                    criteria=form.criteria.data,
                    result=form.result.data,
                    next_due=form.next_due.data,
                    notes=form.notes.data,
                )
                db.session.commit()
                flash(_("Evaluation recorded."), "success")
                return redirect(url_for(".evaluations"), 303)
            except DomainError as exc:
                undo(exc)
                flash(exc.message, "error")
        else:
            flash(_("Please correct the marked fields."), "error")
    rows = db.session.scalars(
        scoped(select(CompetenceEvaluation), current_user, CompetenceEvaluation)
        .order_by(CompetenceEvaluation.evaluated_on.desc())
        .limit(200)
    ).all()
    return render_template(
        "training/evaluations.html",
        form=form,
        rows=rows,
        due=ops.due_evaluations(viewer=current_user),
        can_edit=can_manage_documents(current_user),
    )


# ---------------------------------------------------------------- a person's record


def _person(user_id) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    require(ops.can_see_person(current_user, user))
    return require_access(current_user, user, _("No such user."))


@bp.get("/people/<int:user_id>")
@login_required
def person(user_id):
    return render_template(
        "training/person.html", r=ops.person_record(_person(user_id), current_user)
    )


@bp.get("/people/<int:user_id>/record.pdf")
@login_required
def person_pdf(user_id):
    user = _person(user_id)
    data = record_pdf(
        ops.person_record(user, current_user),
        current_app.config["COMPANY_NAME"],
        current_user.full_name,
    )
    return send_file(
        BytesIO(data), mimetype="application/pdf", download_name=f"training-{user.username}.pdf"
    )


@bp.get("/people/<int:user_id>/record.xlsx")
@login_required
def person_xlsx(user_id):
    user = _person(user_id)
    return send_file(
        BytesIO(record_xlsx(ops.person_record(user, current_user))),
        mimetype=XLSX,
        download_name=f"training-{user.username}.xlsx",
    )
