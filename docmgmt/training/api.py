"""Training through the API: the matrix, tasks and acknowledgements, sessions, evaluations,
completion, and each person's record."""

from io import BytesIO

from flask import current_app, request, send_file, url_for
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from docmgmt.api.auth import api_user, require_token
from docmgmt.auth.models import User
from docmgmt.auth.permissions import require
from docmgmt.auth.scope import require_access, scoped
from docmgmt.errors import NotFound, ValidationFailed
from docmgmt.extensions import db
from docmgmt.extract import web as text_web
from docmgmt.extract.web import AttachmentTextOut
from docmgmt.training import operations as ops
from docmgmt.training.export import record_pdf, record_xlsx
from docmgmt.training.models import (
    CompetenceEvaluation,
    TaskState,
    TrainingRequirement,
    TrainingSession,
)
from docmgmt.versioning.models import Document, Revision

blp = Blueprint(
    "training_api",
    __name__,
    url_prefix="/api/v1/training",
    description="Training matrix, read-and-understood tasks, sessions, competence evaluations",
)
blp.before_request(require_token)


def _commit():
    db.session.commit()


class RequirementSchema(Schema):
    id = fields.Int(dump_only=True)
    document_id = fields.Int(required=True)
    document_number = fields.Function(lambda r: r.document.number, dump_only=True)
    target_kind = fields.Str(
        required=True, validate=validate.OneOf(["role", "department", "job_title"])
    )
    target_value = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    due_days = fields.Int(load_default=14)


class TaskSchema(Schema):
    id = fields.Int()
    user_id = fields.Int()
    user = fields.Function(lambda t: t.user.full_name)
    department = fields.Function(lambda t: t.user.department.code if t.user.department else None)
    document_id = fields.Int()
    document_number = fields.Function(lambda t: t.document.number)
    revision_id = fields.Int()
    version = fields.Function(lambda t: t.revision.version)
    state = fields.Function(lambda t: t.state.value)
    due_date = fields.Date()
    overdue = fields.Function(
        lambda t: t.state == TaskState.OPEN and t.due_date < ops.local_today()
    )
    completed_dt = fields.DateTime(allow_none=True)
    completed_via = fields.Str()
    session_id = fields.Int(allow_none=True)
    signature_hash = fields.Str()


class TaskQuerySchema(Schema):
    user_id = fields.Int()
    state = fields.Str(validate=validate.OneOf([s.value for s in TaskState]))
    overdue = fields.Bool(load_default=False)


class PasswordSchema(Schema):
    password = fields.Str(required=True)


class AttendeeIn(Schema):
    user_id = fields.Int(required=True)
    result = fields.Str(
        load_default="attended", validate=validate.OneOf(["passed", "failed", "attended"])
    )
    score = fields.Int(load_default=None, allow_none=True)


class SessionIn(Schema):
    held_on = fields.Date(required=True)
    kind = fields.Str(
        load_default="classroom", validate=validate.OneOf(["classroom", "on_the_job"])
    )
    topic = fields.Str(required=True, validate=validate.Length(max=200))
    trainer_name = fields.Str(load_default="", validate=validate.Length(max=100))
    trainer_id = fields.Int(load_default=None, allow_none=True)
    duration_minutes = fields.Int(required=True)
    assessed = fields.Bool(load_default=False)
    revision_ids = fields.List(fields.Int(), load_default=list)
    attendees = fields.List(fields.Nested(AttendeeIn), load_default=list)
    notes = fields.Str(load_default="", validate=validate.Length(max=4000))


class SessionOut(Schema):
    id = fields.Int()
    held_on = fields.Date()
    kind = fields.Function(lambda s: s.kind.value)
    topic = fields.Str()
    trainer_name = fields.Str()
    duration_minutes = fields.Int()
    assessed = fields.Bool()
    revision_ids = fields.Function(lambda s: [r.id for r in s.revisions])
    revisions = fields.Function(
        lambda s: [
            {
                "id": r.id,
                "number": r.document.number,
                "version": r.version,
                "state": r.state.value,
                "effective_date": r.effective_date.isoformat() if r.effective_date else None,
            }
            for r in s.revisions
        ],
        metadata={
            "description": "the revisions covered, with their state now: a session held before "
            "a scheduled revision's date may cover one that was then cancelled (never in force)"
        },
    )
    attendees = fields.Function(
        lambda s: [
            {"user_id": a.user_id, "name": a.user.full_name, "result": a.result.value}
            for a in s.attendees
        ]
    )
    attachments = fields.Function(
        lambda s: [
            {
                "id": a.id,
                "filename": a.filename,
                "sha256": a.sha256,
                "size": a.size,
                "text_url": url_for("training_api.attachment_text", session_id=s.id, att_id=a.id),
            }
            for a in s.attachments
        ]
    )
    notes = fields.Str()


class FileUpload(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


class EvaluationIn(Schema):
    user_id = fields.Int(required=True)
    evaluated_on = fields.Date(required=True)
    criteria = fields.Str(required=True, validate=validate.Length(max=4000))
    result = fields.Str(
        required=True, validate=validate.OneOf(["competent", "needs_training", "not_competent"])
    )
    next_due = fields.Date(load_default=None, allow_none=True)
    notes = fields.Str(load_default="", validate=validate.Length(max=4000))


class EvaluationOut(Schema):
    id = fields.Int()
    user_id = fields.Int()
    user = fields.Function(lambda e: e.user.full_name)
    evaluator = fields.Function(lambda e: e.evaluator.full_name)
    evaluated_on = fields.Date()
    criteria = fields.Str()
    result = fields.Function(lambda e: e.result.value)
    next_due = fields.Date(allow_none=True)
    notes = fields.Str()


def _user(user_id) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


# ---------------------------------------------------------------- the matrix


@blp.get("/matrix")
@blp.response(200, RequirementSchema(many=True))
def list_matrix():
    require(ops.can_read_training(api_user()))
    return db.session.scalars(
        scoped(select(TrainingRequirement), api_user(), TrainingRequirement).order_by(
            TrainingRequirement.id
        )
    ).all()


@blp.post("/matrix")
@blp.arguments(RequirementSchema)
@blp.response(201, RequirementSchema)
def add_requirement(data):
    doc = db.session.get(Document, data["document_id"])
    if doc is None:
        raise NotFound(_("No such document."))
    req = ops.set_requirement(
        api_user(), doc, data["target_kind"], data["target_value"], data["due_days"]
    )
    _commit()
    return req


@blp.delete("/matrix/<int:req_id>")
@blp.response(204)
def delete_requirement(req_id):
    req = db.session.get(TrainingRequirement, req_id)
    if req is None:
        raise NotFound(_("Not found."))
    ops.remove_requirement(api_user(), req)
    _commit()


# ---------------------------------------------------------------- tasks


@blp.get("/tasks")
@blp.arguments(TaskQuerySchema, location="query")
@blp.response(200, TaskSchema(many=True))
def list_tasks(args):
    """Your tasks; quality managers and auditors may ask for anyone's (user_id) or all."""
    me = api_user()
    if "user_id" in args:
        user = _user(args["user_id"])
        require(ops.can_see_person(me, user))
    elif ops.can_read_training(me):
        user = None
    else:
        user = me
    state = TaskState(args["state"]) if args.get("state") else None
    return db.session.scalars(ops.tasks_query(user, state, args["overdue"], viewer=me)).all()


@blp.post("/tasks/<int:task_id>/acknowledge")
@blp.arguments(PasswordSchema)
@blp.response(200, TaskSchema)
def acknowledge(data, task_id):
    """Read and understood, signed with your password."""
    task = ops.acknowledge(api_user(), ops.get_task(task_id), data["password"])
    _commit()
    return task


@blp.get("/revisions/<int:rev_id>/completion")
@blp.response(200, TaskSchema(many=True))
def completion(rev_id):
    require(ops.can_read_training(api_user()))
    rev = db.session.get(Revision, rev_id)
    if rev is None:
        raise NotFound(_("No such revision."))
    require_access(api_user(), rev, _("No such revision."))
    return ops.completion(rev, api_user())


@blp.get("/overview")
def overview():
    """Per department: done / total on revisions in force, percent, overdue tasks."""
    require(ops.can_read_training(api_user()))
    return {
        "departments": [
            {
                "code": d["code"],
                "name": d["name"],
                "done": d["done"],
                "total": d["total"],
                "percent": d["percent"],
                "overdue": TaskSchema(many=True).dump(d["overdue"]),
            }
            for d in ops.by_department(api_user())
        ]
    }


# ---------------------------------------------------------------- sessions


@blp.get("/sessions")
@blp.response(200, SessionOut(many=True))
def list_sessions():
    require(ops.can_read_training(api_user()))
    return db.session.scalars(
        scoped(select(TrainingSession), api_user(), TrainingSession).order_by(
            TrainingSession.held_on.desc()
        )
    ).all()


@blp.post("/sessions")
@blp.arguments(SessionIn)
@blp.response(201, SessionOut)
def create_session(data):
    attendees = [(_user(a["user_id"]), a["result"], a["score"]) for a in data["attendees"]]
    revisions = []
    for rid in data["revision_ids"]:
        rev = db.session.get(Revision, rid)
        if rev is None:
            raise ValidationFailed(_("No such revision."), field="revision_ids")
        revisions.append(rev)
    session = ops.record_session(
        api_user(),
        held_on=data["held_on"],
        kind=data["kind"],
        topic=data["topic"],
        trainer_name=data["trainer_name"],
        trainer=_user(data["trainer_id"]) if data["trainer_id"] else None,
        duration_minutes=data["duration_minutes"],
        attendees=attendees,
        revisions=revisions,
        assessed=data["assessed"],
        notes=data["notes"],
    )
    _commit()
    return session


@blp.post("/sessions/<int:session_id>/attachments")
@blp.arguments(FileUpload, location="files")
@blp.response(201, SessionOut)
def upload_attachment(files, session_id):
    session = db.session.get(TrainingSession, session_id)
    if session is None:
        raise NotFound(_("Not found."))
    f = request.files.get("file")
    if f is None:
        raise ValidationFailed(_("Send the file as multipart field 'file'."), field="file")
    ops.attach_to_session(api_user(), session, f.filename, f.read(), f.mimetype or "")
    _commit()
    return session


def _attachment(session_id: int, att_id: int):
    require(ops.can_read_training(api_user()))
    session = require_access(api_user(), db.session.get(TrainingSession, session_id))
    return require_access(api_user(), ops.session_attachment(session, att_id))


def _text_out(session_id: int, text) -> dict:
    return text_web.text_json(
        text,
        url_for("training_api.searchable_pdf", session_id=session_id, att_id=text.attachment_id),
    )


@blp.get("/sessions/<int:session_id>/attachments/<int:att_id>/text")
@blp.response(200, AttachmentTextOut)
def attachment_text(session_id, att_id):
    """The text read from a session's attachment, with its state (pending, done, failed and
    why)."""
    return _text_out(session_id, ops.attachment_text(_attachment(session_id, att_id)))


@blp.post("/sessions/<int:session_id>/attachments/<int:att_id>/text/retry")
@blp.response(202, AttachmentTextOut)
def retry_text(session_id, att_id):
    """Read a failed attachment again (quality managers)."""
    att = _attachment(session_id, att_id)
    return text_web.retry_api(
        lambda: ops.retry_recognition(api_user(), att),
        lambda t: _text_out(session_id, t)["searchable_pdf_url"],
    )


@blp.get("/sessions/<int:session_id>/attachments/<int:att_id>/searchable.pdf")
@blp.response(200, description="The scan with its recognised text invisible over it")
def searchable_pdf(session_id, att_id):
    """The searchable PDF of a scanned attachment (the scan with its text invisible over it)."""
    return text_web.send_searchable(ops.attachment_text(_attachment(session_id, att_id)))


# ---------------------------------------------------------------- evaluations


@blp.get("/evaluations")
@blp.response(200, EvaluationOut(many=True))
def list_evaluations():
    require(ops.can_read_training(api_user()))
    return db.session.scalars(
        scoped(select(CompetenceEvaluation), api_user(), CompetenceEvaluation).order_by(
            CompetenceEvaluation.evaluated_on.desc()
        )
    ).all()


@blp.get("/evaluations/due")
@blp.response(200, EvaluationOut(many=True))
def due_evaluations():
    require(ops.can_read_training(api_user()))
    return [e for _u, e in ops.due_evaluations(viewer=api_user())]


@blp.post("/evaluations")
@blp.arguments(EvaluationIn)
@blp.response(201, EvaluationOut)
def create_evaluation(data):
    ev = ops.record_evaluation(
        api_user(),
        _user(data["user_id"]),
        evaluated_on=data["evaluated_on"],
        criteria=data["criteria"],
        result=data["result"],
        next_due=data["next_due"],
        notes=data["notes"],
    )
    _commit()
    return ev


# ---------------------------------------------------------------- a person's record


def _person(user_id) -> User:
    user = _user(user_id)
    require(ops.can_see_person(api_user(), user))
    return require_access(api_user(), user, _("No such user."))


@blp.get("/people/<int:user_id>")
def person(user_id):
    r = ops.person_record(_person(user_id), api_user())
    return {
        "user": {
            "id": r["user"].id,
            "name": r["user"].full_name,
            "active": r["user"].is_active_flag,
        },
        "tasks": TaskSchema(many=True).dump(r["tasks"]),
        "sessions": [
            {
                "session_id": a.session_id,
                "held_on": a.session.held_on.isoformat(),
                "topic": a.session.topic,
                "result": a.result.value,
            }
            for a in r["sessions"]
        ],
        "evaluations": EvaluationOut(many=True).dump(r["evaluations"]),
    }


@blp.get("/people/<int:user_id>/record.pdf")
def person_pdf(user_id):
    user = _person(user_id)
    data = record_pdf(
        ops.person_record(user, api_user()),
        current_app.config["COMPANY_NAME"],
        api_user().full_name,
    )
    return send_file(BytesIO(data), mimetype="application/pdf", download_name="training.pdf")


@blp.get("/people/<int:user_id>/record.xlsx")
def person_xlsx(user_id):
    user = _person(user_id)
    return send_file(
        BytesIO(record_xlsx(ops.person_record(user, api_user()))),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        download_name="training.xlsx",
    )
