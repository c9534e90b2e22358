"""Verbs of training: the matrix, tasks on every revision in force, acknowledgements, sessions,
evaluations; and the views of completion. Operations flush, log and never commit."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from docmgmt import storage
from docmgmt.audit.operations import log_event
from docmgmt.auth.models import Department, Role, User
from docmgmt.auth.permissions import can_manage_documents, can_read_history
from docmgmt.auth.scope import scoped
from docmgmt.clock import local_today, utcnow
from docmgmt.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from docmgmt.extensions import db
from docmgmt.notify import Event, notify
from docmgmt.training.models import (
    AttendeeResult,
    CompetenceEvaluation,
    EvaluationResult,
    SessionAttachment,
    SessionAttendee,
    SessionKind,
    TargetKind,
    TaskState,
    TrainingRequirement,
    TrainingSession,
    TrainingTask,
    session_revision,
)
from docmgmt.versioning.content import content_hash
from docmgmt.versioning.models import Document, Revision, RevisionState

ATTACHMENT_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".docx", ".xlsx"}


def require_manager(actor) -> None:
    if not can_manage_documents(actor):
        raise PermissionDenied(_("Only a quality manager can change training records."))


def can_read_training(actor) -> bool:
    return can_read_history(actor)


# ---------------------------------------------------------------- who must know what


def covers(req: TrainingRequirement, user: User) -> bool:
    if req.target_kind == TargetKind.ROLE:
        return req.target_value in {r.value for r in user.roles}
    if req.target_kind == TargetKind.DEPARTMENT:
        return user.department is not None and user.department.code == req.target_value
    return bool(user.job_title) and user.job_title == req.target_value


def requirements_for(user: User) -> list[TrainingRequirement]:
    reqs = db.session.scalars(select(TrainingRequirement)).all()
    return [r for r in reqs if covers(r, user)]


def _due_days(user: User, document_id: int) -> int | None:
    days = [r.due_days for r in requirements_for(user) if r.document_id == document_id]
    return min(days) if days else None


def _in_force(document: Document) -> Revision | None:
    from docmgmt.versioning.queries import in_force_revision

    return in_force_revision(document)


def _ensure_task(user: User, rev: Revision, due_days: int, now: datetime) -> TrainingTask | None:
    """Give ``user`` a task for ``rev`` unless they have one; replace an open task for an older
    revision of the same document. Never for inactive people."""
    if not user.is_active_flag:
        return None
    existing = db.session.scalar(
        select(TrainingTask).where(
            TrainingTask.user_id == user.id, TrainingTask.revision_id == rev.id
        )
    )
    if existing is not None:
        return existing
    older = db.session.scalars(
        select(TrainingTask).where(
            TrainingTask.user_id == user.id,
            TrainingTask.document_id == rev.document_id,
            TrainingTask.state == TaskState.OPEN,
        )
    ).all()
    for t in older:
        t.state = TaskState.REPLACED
        t.closed_reason = f"{rev.document.number} {rev.version}"
    db.session.flush()
    start = max(rev.effective_date or local_today(now), local_today(now))
    task = TrainingTask(
        user_id=user.id,
        document_id=rev.document_id,
        revision_id=rev.id,
        state=TaskState.OPEN,
        assigned_dt=now,
        due_date=start + timedelta(days=due_days),
    )
    db.session.add(task)
    db.session.flush()
    trained_in = _passed_session(user, rev)
    if trained_in is not None:
        # Trained ahead of the revision's date (a session on a scheduled revision): done.
        task.state = TaskState.DONE
        task.completed_dt = now
        task.completed_via = "session"
        task.session_id = trained_in
        db.session.flush()
        return task
    notify(
        user,
        Event.TRAINING,
        lambda: _(
            "Training: read %(n)s %(v)s by %(d)s",
            n=rev.document.number,
            v=rev.version,
            d=task.due_date.isoformat(),
        ),
        lambda: _(
            "%(n)s %(t)s, revision %(v)s, concerns your work. Read it and confirm with your "
            "signature that you have understood it, by %(d)s.",
            n=rev.document.number,
            t=rev.title,
            v=rev.version,
            d=task.due_date.isoformat(),
        ),
        link=("training.task", {"task_id": task.id}),
    )
    return task


def _passed_session(user: User, rev: Revision) -> int | None:
    """The latest assessed session on ``rev`` that ``user`` passed (held before the revision
    took effect: a session completes the open tasks there are when it is recorded)."""
    return db.session.scalar(
        select(TrainingSession.id)
        .join(session_revision, session_revision.c.session_id == TrainingSession.id)
        .join(SessionAttendee, SessionAttendee.session_id == TrainingSession.id)
        .where(
            session_revision.c.revision_id == rev.id,
            TrainingSession.assessed.is_(True),
            SessionAttendee.user_id == user.id,
            SessionAttendee.result == AttendeeResult.PASSED,
        )
        .order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())
        .limit(1)
    )


def assign_for_revision(rev: Revision, actor=None, now: datetime | None = None) -> list:
    """A revision took effect: everyone the matrix covers for its document gets a task."""
    now = now or utcnow()
    reqs = db.session.scalars(
        select(TrainingRequirement).where(TrainingRequirement.document_id == rev.document_id)
    ).all()
    if not reqs:
        return []
    created = []
    users = db.session.scalars(select(User).where(User.is_active_flag.is_(True))).all()
    for user in users:
        days = [r.due_days for r in reqs if covers(r, user)]
        if days:
            before = db.session.scalar(
                select(func.count())
                .select_from(TrainingTask)
                .where(TrainingTask.user_id == user.id, TrainingTask.revision_id == rev.id)
            )
            task = _ensure_task(user, rev, min(days), now)
            if task is not None and not before:
                created.append(task)
    if created:
        log_event(
            actor,
            "training.assign",
            rev,
            summary=f"{rev.document.number} {rev.version}: {len(created)}",
            now=now,
        )
    return created


def sync_user(user: User, actor=None, now: datetime | None = None) -> list:
    """A new person, or one whose role, department or job title changed: tasks for the
    revisions in force that now apply to them; open tasks that no longer apply are cancelled."""
    now = now or utcnow()
    created = []
    if not user.is_active_flag:
        # A person who left (deactivated here, or by the directory sync) owes no more reading;
        # the tasks they completed stay as their history.
        for t in db.session.scalars(
            select(TrainingTask).where(
                TrainingTask.user_id == user.id, TrainingTask.state == TaskState.OPEN
            )
        ):
            t.state = TaskState.CANCELLED
            t.closed_reason = "deactivated"
        db.session.flush()
        return created
    wanted: dict[int, int] = {}
    for r in requirements_for(user):
        wanted[r.document_id] = min(r.due_days, wanted.get(r.document_id, r.due_days))
    for doc_id, days in wanted.items():
        doc = db.session.get(Document, doc_id)
        rev = _in_force(doc) if doc is not None else None
        if rev is None:
            continue
        had = db.session.scalar(
            select(func.count())
            .select_from(TrainingTask)
            .where(TrainingTask.user_id == user.id, TrainingTask.revision_id == rev.id)
        )
        task = _ensure_task(user, rev, days, now)
        if task is not None and not had:
            created.append(task)
    for t in db.session.scalars(
        select(TrainingTask).where(
            TrainingTask.user_id == user.id, TrainingTask.state == TaskState.OPEN
        )
    ):
        if t.document_id not in wanted:
            t.state = TaskState.CANCELLED
            t.closed_reason = "no longer required"
    db.session.flush()
    if created:
        log_event(
            actor, "training.assign", user, summary=f"{user.username}: {len(created)}", now=now
        )
    return created


def on_revision_effective(rev, superseded=(), actor=None, now=None, **_kw):
    assign_for_revision(rev, actor, now)


def on_document_withdrawn(doc, revisions=(), actor=None, now=None, reason="", **_kw):
    for t in db.session.scalars(
        select(TrainingTask).where(
            TrainingTask.document_id == doc.id, TrainingTask.state == TaskState.OPEN
        )
    ):
        t.state = TaskState.CANCELLED
        t.closed_reason = "withdrawn"
    db.session.flush()


def on_user_saved(user, actor=None, **_kw):
    sync_user(user, actor)


# ---------------------------------------------------------------- the matrix


def set_requirement(
    actor, document: Document, target_kind, target_value: str, due_days: int, now=None
) -> TrainingRequirement:
    require_manager(actor)
    now = now or utcnow()
    try:
        kind = TargetKind(target_kind)
    except ValueError:
        raise ValidationFailed(_("Unknown kind of target."), field="target_kind") from None
    value = (target_value or "").strip()
    if not value:
        raise ValidationFailed(_("Say who must be trained."), field="target_value")
    if kind == TargetKind.ROLE and value not in {r.value for r in Role}:
        raise ValidationFailed(_("Unknown role."), field="target_value")
    if kind == TargetKind.DEPARTMENT and not db.session.scalar(
        select(func.count()).select_from(Department).where(Department.code == value)
    ):
        raise ValidationFailed(_("Unknown department."), field="target_value")
    try:
        due_days = int(due_days)
    except (TypeError, ValueError):
        raise ValidationFailed(_("The due period is a number of days."), field="due_days") from None
    if not 1 <= due_days <= 365:
        raise ValidationFailed(_("The due period is 1 to 365 days."), field="due_days")
    if document.is_obsolete:
        raise InvalidState(_("Document %(n)s is withdrawn.", n=document.number))
    req = db.session.scalar(
        select(TrainingRequirement).where(
            TrainingRequirement.document_id == document.id,
            TrainingRequirement.target_kind == kind,
            TrainingRequirement.target_value == value,
        )
    )
    if req is None:
        req = TrainingRequirement(
            document_id=document.id,
            target_kind=kind,
            target_value=value,
            due_days=due_days,
            created_by_id=actor.id,
            created_dt=now,
        )
        db.session.add(req)
    else:
        req.due_days = due_days
    db.session.flush()
    log_event(
        actor,
        "training.requirement",
        document,
        summary=f"{document.number}: {kind.value}={value}, {due_days} d",
        now=now,
    )
    rev = _in_force(document)
    if rev is not None:
        for user in db.session.scalars(select(User).where(User.is_active_flag.is_(True))):
            if covers(req, user):
                _ensure_task(user, rev, _due_days(user, document.id) or due_days, now)
    return req


def remove_requirement(actor, req: TrainingRequirement, now=None) -> None:
    require_manager(actor)
    doc = req.document
    affected = [
        u
        for u in db.session.scalars(select(User).where(User.is_active_flag.is_(True)))
        if covers(req, u)
    ]
    db.session.delete(req)
    db.session.flush()
    for u in affected:
        if _due_days(u, doc.id) is None:
            for t in db.session.scalars(
                select(TrainingTask).where(
                    TrainingTask.user_id == u.id,
                    TrainingTask.document_id == doc.id,
                    TrainingTask.state == TaskState.OPEN,
                )
            ):
                t.state = TaskState.CANCELLED
                t.closed_reason = "no longer required"
    db.session.flush()
    log_event(
        actor,
        "training.requirement_removed",
        doc,
        summary=f"{doc.number}: {req.target_kind.value}={req.target_value}",
        now=now,
    )


def matrix(viewer=None):
    """(documents, targets, cells): the grid the quality manager edits."""
    reqs = db.session.scalars(scoped(select(TrainingRequirement), viewer, TrainingRequirement))
    reqs = reqs.all()
    targets = sorted({(r.target_kind.value, r.target_value) for r in reqs})
    docs = sorted({r.document for r in reqs}, key=lambda d: d.number)
    cells = {(r.document_id, r.target_kind.value, r.target_value): r for r in reqs}
    return docs, targets, cells


# ---------------------------------------------------------------- acknowledging


def get_task(task_id: int) -> TrainingTask:
    task = db.session.get(TrainingTask, task_id)
    if task is None:
        raise NotFound(_("No such training task."))
    return task


def open_tasks_of(user: User) -> list[TrainingTask]:
    """The person's open read-and-understood tasks, the most urgent (overdue) first."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return db.session.scalars(tasks_query(user=user, state=TaskState.OPEN)).all()


def open_task_for(user: User, rev: Revision) -> TrainingTask | None:
    """The person's open task for this revision: the reading page carries its signature."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(TrainingTask).where(
            TrainingTask.user_id == user.id,
            TrainingTask.revision_id == rev.id,
            TrainingTask.state == TaskState.OPEN,
        )
    )


def acknowledge(actor, task: TrainingTask, password: str, now: datetime | None = None):
    """Read and understood, signed with the password (an electronic signature)."""
    from docmgmt.auth.operations import verify_signing_password
    from docmgmt.versioning.queries import is_in_force

    now = now or utcnow()
    if task.user_id != actor.id:
        raise PermissionDenied(_("This task is someone else's; only they can acknowledge it."))
    if task.state == TaskState.DONE:
        raise InvalidState(_("You have already acknowledged this revision."))
    if task.state != TaskState.OPEN:
        from docmgmt.templating import task_state_label

        raise InvalidState(
            _(
                "This task was closed (%(r)s); acknowledge the revision in force.",
                r=task_state_label(task.state.value),
            )
        )
    if not is_in_force(task.revision):
        raise InvalidState(
            _(
                "%(n)s %(v)s is no longer in force; acknowledge the revision in force.",
                n=task.document.number,
                v=task.revision.version,
            )
        )
    verify_signing_password(actor, password)
    task.state = TaskState.DONE
    task.completed_dt = now
    task.completed_via = "acknowledged"
    task.signature_hash = content_hash(
        {
            "task": task.id,
            "user": actor.username,
            "revision": task.revision_id,
            "revision_hash": task.revision.content_hash,
            "signed": now.isoformat(),
            "meaning": "read and understood",
        }
    )
    db.session.flush()
    log_event(
        actor,
        "training.acknowledge",
        task.revision,
        summary=f"{task.document.number} {task.revision.version}: {actor.full_name}",
        now=now,
    )
    return task


def tasks_query(
    user: User | None = None, state: TaskState | None = None, overdue=False, viewer=None
):
    q = scoped(select(TrainingTask), viewer, TrainingTask).join(
        User, TrainingTask.user_id == User.id
    )
    if user is not None:
        q = q.where(TrainingTask.user_id == user.id)
    if state is not None:
        q = q.where(TrainingTask.state == state)
    if overdue:
        q = q.where(
            TrainingTask.state == TaskState.OPEN,
            TrainingTask.due_date < local_today(),
            User.is_active_flag.is_(True),
        )
    return q.order_by(TrainingTask.due_date, TrainingTask.id)


# ---------------------------------------------------------------- sessions


def record_session(
    actor,
    *,
    held_on: date,
    kind,
    topic: str,
    trainer_name: str,
    duration_minutes: int,
    attendees: list[tuple[User, str, int | None]],
    revisions: list[Revision] = (),
    assessed: bool = False,
    notes: str = "",
    trainer: User | None = None,
    now: datetime | None = None,
) -> TrainingSession:
    require_manager(actor)
    now = now or utcnow()
    topic = (topic or "").strip()
    if not topic:
        raise ValidationFailed(_("The topic is required."), field="topic")
    trainer_name = (trainer_name or (trainer.full_name if trainer else "")).strip()
    if not trainer_name:
        raise ValidationFailed(_("Name the trainer."), field="trainer_name")
    try:
        kind = SessionKind(kind)
    except ValueError:
        raise ValidationFailed(_("Unknown kind of session."), field="kind") from None
    if held_on is None:
        raise ValidationFailed(_("The date is required."), field="held_on")
    if held_on > local_today(now):
        raise ValidationFailed(
            _("A session is recorded after it was held; the date is in the future."),
            field="held_on",
        )
    if not duration_minutes or not 1 <= int(duration_minutes) <= 24 * 60:
        raise ValidationFailed(_("The duration is 1 to 1440 minutes."), field="duration_minutes")
    if not attendees:
        raise ValidationFailed(_("A session needs at least one attendee."), field="attendees")
    seen = set()
    for user, result, score in attendees:
        if user.id in seen:
            raise ValidationFailed(_("%(n)s is listed twice.", n=user.full_name), field="attendees")
        seen.add(user.id)
        try:
            AttendeeResult(result)
        except ValueError:
            raise ValidationFailed(_("Unknown result."), field="attendees") from None
        if score is not None and not 0 <= int(score) <= 100:
            raise ValidationFailed(_("A score is 0 to 100."), field="attendees")
        if not assessed and result != AttendeeResult.ATTENDED:
            raise ValidationFailed(
                _("Results other than 'attended' need a session with an assessment."),
                field="attendees",
            )
    for rev in revisions:
        if rev.effective_date is None:
            raise ValidationFailed(
                _(
                    "Training covers revisions in force, not drafts (%(n)s %(v)s).",
                    n=rev.document.number,
                    v=rev.version,
                ),
                field="revisions",
            )
    session = TrainingSession(
        held_on=held_on,
        kind=kind,
        topic=topic[:200],
        trainer_name=trainer_name[:100],
        trainer_id=trainer.id if trainer else None,
        duration_minutes=int(duration_minutes),
        assessed=bool(assessed),
        notes=(notes or "").strip(),
        created_by_id=actor.id,
        created_dt=now,
        revisions=list(revisions),
    )
    for user, result, score in attendees:
        session.attendees.append(
            SessionAttendee(user_id=user.id, result=AttendeeResult(result), score=score)
        )
    db.session.add(session)
    db.session.flush()
    completed = 0
    if assessed:
        for att in session.attendees:
            if att.result != AttendeeResult.PASSED:
                continue
            for rev in revisions:
                task = db.session.scalar(
                    select(TrainingTask).where(
                        TrainingTask.user_id == att.user_id,
                        TrainingTask.revision_id == rev.id,
                        TrainingTask.state == TaskState.OPEN,
                    )
                )
                if task is not None:
                    task.state = TaskState.DONE
                    task.completed_dt = now
                    task.completed_via = "session"
                    task.session_id = session.id
                    completed += 1
    db.session.flush()
    log_event(
        actor,
        "training.session",
        session,
        summary=f"{held_on} {topic}: {len(attendees)} attendees, {completed} tasks completed",
        object_type="training_session",
        object_id=session.id,
        now=now,
    )
    return session


# ---------------------------------------------------------------- text of the attachments
# Read as jobs like every attachment (docmgmt/extract/recognition.py); who may read the session
# may read the text; a quality manager (who keeps training records) may ask again.


def attachment_texts(session: TrainingSession) -> dict:
    """attachment id -> its AttachmentText (the text read from it)."""
    from docmgmt.extract import recognition

    return recognition.texts_of("training_attachment", [a.id for a in session.attachments])


def session_attachment(session: TrainingSession, att_id: int) -> SessionAttachment:
    att = next((a for a in session.attachments if a.id == att_id), None)
    if att is None:
        raise NotFound(_("Not found."))
    return att


def attachment_text(att: SessionAttachment):
    from docmgmt.extract import recognition

    return recognition.text_of("training_attachment", att)


def can_retry_recognition(actor) -> bool:
    return can_manage_documents(actor)


def retry_recognition(actor, att: SessionAttachment):
    """Read a failed attachment of a session again: (text, job); the caller commits and starts
    the job."""
    from docmgmt.extract import recognition

    return recognition.retry_attachment(
        actor,
        "training_attachment",
        att,
        allowed=can_retry_recognition(actor),
        refusal=_("Only a quality manager can change training records."),
    )


def covered_revision_note(rev: Revision) -> str:
    """What a session's page says after a revision it covered that is not (or was never) in
    force: a session may be held before a scheduled revision's date, and the revision then
    cancelled or its date taken back, or the document withdrawn before that date (the
    withdrawal makes the scheduled revision obsolete and keeps its date; it came into force only
    if that date was on or before the day of the withdrawal). Empty for a revision that came
    into force."""
    if rev.state == RevisionState.CANCELLED:
        return _("cancelled, never in force")
    if rev.state == RevisionState.OBSOLETE:
        withdrawn_on = rev.document.obsolete_date if rev.document.is_obsolete else None
        if withdrawn_on and rev.effective_date and rev.effective_date > withdrawn_on:
            return _("withdrawn before it took effect")
        return ""
    if rev.state == RevisionState.APPROVED:
        if rev.effective_date is None:
            return _("not in force: its date was taken back")
        return _("takes effect on %(d)s", d=rev.effective_date.isoformat())
    return ""


def attach_to_session(actor, session: TrainingSession, filename, data, content_type="", now=None):
    require_manager(actor)
    now = now or utcnow()
    return storage.attach(
        SessionAttachment,
        (filename, data),
        allowed_suffixes=ATTACHMENT_SUFFIXES,
        audit=lambda att: log_event(
            actor,
            "training.attach",
            session,
            summary=f"{session.topic}: {att.filename}",
            after={"filename": att.filename, "sha256": att.sha256},
            object_type="training_session",
            object_id=session.id,
            now=now,
        ),
        session=session,
        uploaded_by_id=actor.id,
        uploaded_dt=now,
    )


# ---------------------------------------------------------------- evaluations


def record_evaluation(
    actor,
    user: User,
    *,
    evaluated_on: date,
    criteria: str,
    result,
    next_due: date | None,
    notes: str = "",
    evaluator: User | None = None,
    now=None,
) -> CompetenceEvaluation:
    require_manager(actor)
    now = now or utcnow()
    if evaluated_on is None:
        raise ValidationFailed(_("The date is required."), field="evaluated_on")
    if evaluated_on > local_today(now):
        raise ValidationFailed(
            _("An evaluation cannot be dated in the future."), field="evaluated_on"
        )
    if not (criteria or "").strip():
        raise ValidationFailed(_("Say what was evaluated (the criteria)."), field="criteria")
    try:
        result = EvaluationResult(result)
    except ValueError:
        raise ValidationFailed(_("Unknown result."), field="result") from None
    if next_due is not None and next_due <= evaluated_on:
        raise ValidationFailed(_("The next evaluation comes after this one."), field="next_due")
    ev = CompetenceEvaluation(
        user_id=user.id,
        evaluator_id=(evaluator or actor).id,
        evaluated_on=evaluated_on,
        criteria=criteria.strip(),
        result=result,
        next_due=next_due,
        notes=(notes or "").strip(),
        created_dt=now,
    )
    db.session.add(ev)
    db.session.flush()
    log_event(
        actor,
        "training.evaluation",
        user,
        summary=f"{user.full_name} {evaluated_on}: {result.value}",
        now=now,
    )
    return ev


def due_evaluations(within_days: int = 30, viewer=None) -> list[tuple[User, CompetenceEvaluation]]:
    """Active people whose latest evaluation's next date falls within ``within_days``."""
    horizon = local_today() + timedelta(days=within_days)
    users = db.session.scalars(
        scoped(select(User), viewer, User)
        .where(User.is_active_flag.is_(True))
        .order_by(User.full_name)
    ).all()
    # Each person's latest evaluation, all in one query (the first per person, newest first).
    latest: dict[int, CompetenceEvaluation] = {}
    for ev in db.session.scalars(
        select(CompetenceEvaluation)
        .where(CompetenceEvaluation.user_id.in_([u.id for u in users]))
        .order_by(
            CompetenceEvaluation.user_id,
            CompetenceEvaluation.evaluated_on.desc(),
            CompetenceEvaluation.id.desc(),
        )
    ):
        latest.setdefault(ev.user_id, ev)
    out = []
    for user in users:
        ev = latest.get(user.id)
        if ev is not None and ev.next_due is not None and ev.next_due <= horizon:
            out.append((user, ev))
    return out


# ---------------------------------------------------------------- views of completion


def completion(rev: Revision, viewer=None) -> list[TrainingTask]:
    return db.session.scalars(
        scoped(select(TrainingTask), viewer, TrainingTask)
        .join(User, TrainingTask.user_id == User.id)
        .where(TrainingTask.revision_id == rev.id)
        .order_by(TrainingTask.state, User.full_name)
    ).all()


def completion_counts(revision_ids, viewer=None) -> dict[int, tuple[int, int]]:
    """Revision id -> (done, open + done) of the training tasks ``viewer`` may see, for a
    whole page of revisions in one query; revisions without tasks are left out."""
    ids = list(revision_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        scoped(
            select(TrainingTask.revision_id, TrainingTask.state, func.count(TrainingTask.id)),
            viewer,
            TrainingTask,
        )
        .join(User, TrainingTask.user_id == User.id)
        .where(
            TrainingTask.revision_id.in_(ids),
            TrainingTask.state.in_([TaskState.OPEN, TaskState.DONE]),
        )
        .group_by(TrainingTask.revision_id, TrainingTask.state)
    ).all()
    out: dict[int, list[int]] = {}
    for rev_id, state, n in rows:
        done_total = out.setdefault(rev_id, [0, 0])
        done_total[1] += n
        if state == TaskState.DONE:
            done_total[0] += n
    return {k: (v[0], v[1]) for k, v in out.items()}


def by_department(viewer=None) -> list[dict]:
    """Per department: tasks on revisions in force (done / total) and overdue open tasks."""
    today = local_today()
    rows: dict[str, dict] = {}
    tasks = db.session.scalars(
        scoped(select(TrainingTask), viewer, TrainingTask)
        .join(User, TrainingTask.user_id == User.id)
        .where(
            User.is_active_flag.is_(True),
            TrainingTask.state.in_([TaskState.OPEN, TaskState.DONE]),
        )
    ).all()
    for t in tasks:
        dept = t.user.department
        key = dept.code if dept else "—"
        row = rows.setdefault(
            key,
            {
                "code": key,
                "name": dept.shown_name if dept else "—",
                "done": 0,
                "total": 0,
                "overdue": [],
            },
        )
        row["total"] += 1
        if t.state == TaskState.DONE:
            row["done"] += 1
        elif t.due_date < today:
            row["overdue"].append(t)
    out = sorted(rows.values(), key=lambda r: r["code"])
    for r in out:
        r["percent"] = round(100 * r["done"] / r["total"]) if r["total"] else 0
    return out


def person_record(user: User, viewer=None) -> dict:
    tasks = db.session.scalars(
        scoped(select(TrainingTask), viewer, TrainingTask)
        .where(TrainingTask.user_id == user.id)
        .order_by(TrainingTask.assigned_dt.desc(), TrainingTask.id.desc())
    ).all()
    sessions = db.session.scalars(
        scoped(select(SessionAttendee).join(TrainingSession), viewer, TrainingSession)
        .where(SessionAttendee.user_id == user.id)
        .order_by(TrainingSession.held_on.desc())
    ).all()
    evaluations = db.session.scalars(
        select(CompetenceEvaluation)
        .where(CompetenceEvaluation.user_id == user.id)
        .order_by(CompetenceEvaluation.evaluated_on.desc())
    ).all()
    return {"user": user, "tasks": tasks, "sessions": sessions, "evaluations": evaluations}


def can_see_person(actor, user: User) -> bool:
    return actor.id == user.id or can_read_training(actor)
