"""What a department-limited reader may see: one rule for every read path.

A certification auditor may be limited to some departments (``User.audit_departments``). Then
every page, API answer, print, export, search hit, sample, evidence pack and queue shows only
what belongs to those departments:

- an object belongs to the departments it touches: a document (and its revisions, signatures,
  prints, Word exports, controlled copies, change requests, reviews, withdrawals and training)
  to the document's owning department; a record (and its attachments) to the record's
  department; a link to both documents' departments; a disposal to the departments of all its
  records; a training session to those of every revision it covered; a person (their training
  record, evaluations) to their department; an import and a legal hold to their record type's
  (or record's) department;
- it is in scope when it touches at least one department and every department it touches is
  allowed. So a document or record without a department (company-wide, or not yet assigned),
  including an external document without one, is out of scope for a limited reader: access is
  granted by naming departments, never by their absence;
- an evidence pack is in scope only for the person who built it (it was built with their
  scope);
- a single object out of scope answers 404, exactly like one that does not exist; lists are
  filtered.

Everyone else (``department_scope(user) is None``) is not limited by this module; their roles
decide as before. Use :func:`require_access` for one object, :func:`scoped` (or
:func:`scope_documents` / :func:`scope_records`) to filter a query, :func:`visible` to filter
objects already loaded.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import and_, exists, false, or_, select
from sqlalchemy.orm import aliased

from docmgmt.errors import NotFound
from docmgmt.extensions import db


def department_scope(user) -> frozenset[int] | None:
    """The ids of the departments ``user`` is limited to, or None when not limited.

    A limit naming only unknown codes gives an empty set: nothing departmental is visible."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    codes = user.allowed_departments() if hasattr(user, "allowed_departments") else None
    if not codes:
        return None
    key = (user.id, tuple(sorted(codes)))
    cache = g.setdefault("_department_scope", {}) if has_app_context() else {}
    if key not in cache:
        from docmgmt.auth.models import Department

        cache[key] = frozenset(
            db.session.scalars(select(Department.id).where(Department.code.in_(codes)))
        )
    return cache[key]


def department_codes(user) -> frozenset[str] | None:
    """The codes of :func:`department_scope`, for what stores codes (the search index)."""
    allowed = department_scope(user)
    if allowed is None:
        return None
    from docmgmt.auth.models import Department

    ids = sorted(allowed)
    return frozenset(db.session.scalars(select(Department.code).where(Department.id.in_(ids))))


def is_limited(user) -> bool:
    return department_scope(user) is not None


# ---------------------------------------------------------------- one object


def departments_of(obj) -> set[int | None] | None:
    """The departments an object touches (None stands for "no department"), or None when the
    object is not departmental data at all (a record type, a certificate)."""
    from docmgmt.auth.models import User
    from docmgmt.certification.models import ClauseMapping
    from docmgmt.control.models import (
        ChangeRequest,
        ChangeRequestAttachment,
        DocumentLink,
        PeriodicReview,
        Withdrawal,
    )
    from docmgmt.printing.models import ControlledCopy, RevisionSource
    from docmgmt.records.models import (
        Disposal,
        LegalHold,
        Record,
        RecordAttachment,
        RecordImport,
        RecordType,
    )
    from docmgmt.training.models import (
        CompetenceEvaluation,
        SessionAttachment,
        TrainingRequirement,
        TrainingSession,
        TrainingTask,
    )
    from docmgmt.versioning.models import Document, Revision, RevisionEvent, Signature

    if isinstance(obj, Document | Record | User):
        return {obj.department_id}
    if isinstance(obj, Revision):
        return {obj.document.department_id}
    if isinstance(obj, Signature | RevisionEvent | RevisionSource | ControlledCopy):
        return departments_of(obj.revision)
    if isinstance(obj, ChangeRequest | PeriodicReview | Withdrawal | TrainingRequirement):
        return {obj.document.department_id}
    if isinstance(obj, TrainingTask):
        return {obj.document.department_id, obj.user.department_id}
    if isinstance(obj, ChangeRequestAttachment):
        return departments_of(obj.change_request)
    if isinstance(obj, DocumentLink):
        return {obj.source.department_id, obj.target.department_id}
    if isinstance(obj, RecordAttachment):
        return {obj.record.department_id}
    if isinstance(obj, Disposal):
        ids = [item["record_id"] for item in obj.items or []]
        rows = db.session.scalars(select(Record.department_id).where(Record.id.in_(ids))).all()
        # A record gone from the table counts as outside every department.
        return set(rows) | ({None} if len(rows) < len(set(ids)) else set())
    if isinstance(obj, TrainingSession):
        return {r.document.department_id for r in obj.revisions} | {
            a.user.department_id for a in obj.attendees
        }
    if isinstance(obj, SessionAttachment):
        return departments_of(obj.session)
    if isinstance(obj, CompetenceEvaluation):
        return {obj.user.department_id}
    if isinstance(obj, RecordImport):
        return {obj.type.department_id}
    if isinstance(obj, LegalHold):
        if obj.record is not None:
            return {obj.record.department_id}
        return {obj.type.department_id} if obj.type is not None else {None}
    if isinstance(obj, ClauseMapping):
        if obj.document is not None:
            return {obj.document.department_id}
        return None  # a record type: configuration
    if isinstance(obj, RecordType):
        return None
    raise TypeError(f"no department rule for {type(obj).__name__}")


def in_scope(user, obj) -> bool:
    """Whether ``user`` may see ``obj`` as far as departments go (roles are checked apart)."""
    allowed = department_scope(user)
    if allowed is None or obj is None:
        return True
    from docmgmt.certification.models import EvidencePack

    if isinstance(obj, EvidencePack):
        return obj.created_by_id == user.id
    touched = departments_of(obj)
    if touched is None:
        return True
    return bool(touched) and touched <= allowed


def require_access(user, obj, message: str | None = None):
    """``obj`` when ``user`` may see it; otherwise 404, the answer for a missing object, so a
    limited reader cannot tell another department's object from one that does not exist."""
    if obj is None or not in_scope(user, obj):
        raise NotFound(message or _("Not found."))
    return obj


def require_document_access(user, document):
    return require_access(user, document, _("No such document."))


def require_record_access(user, record):
    return require_access(user, record, _("No such record."))


def visible(user, objects: Iterable):
    """The objects ``user`` may see, in their order (for lists already loaded)."""
    if department_scope(user) is None:
        return list(objects)
    return [o for o in objects if in_scope(user, o)]


# ---------------------------------------------------------------- queries


def _documents(ids):
    from docmgmt.versioning.models import Document

    return select(Document.id).where(Document.department_id.in_(ids))


def _revisions(ids):
    from docmgmt.versioning.models import Revision

    return select(Revision.id).where(Revision.document_id.in_(_documents(ids)))


def _people(ids):
    from docmgmt.auth.models import User

    return select(User.id).where(User.department_id.in_(ids))


def scope_clause(user, model):
    """A WHERE clause keeping the rows of ``model`` that ``user`` may see, or None when the
    user is not limited. The same rule as :func:`in_scope`, for a query."""
    allowed = department_scope(user)
    if allowed is None:
        return None
    ids = sorted(allowed)
    from docmgmt.audit.models import AuditEvent
    from docmgmt.auth.models import User
    from docmgmt.certification.models import EvidencePack
    from docmgmt.control.models import ChangeRequest, DocumentLink, PeriodicReview, Withdrawal
    from docmgmt.printing.models import ControlledCopy
    from docmgmt.records.models import LegalHold, Record, RecordAttachment, RecordImport, RecordType
    from docmgmt.training.models import (
        CompetenceEvaluation,
        SessionAttendee,
        TrainingRequirement,
        TrainingSession,
        TrainingTask,
        session_revision,
    )
    from docmgmt.versioning.models import Document, Revision, Signature

    if model in (Document, Record, User):
        return model.department_id.in_(ids)
    if model is Revision:
        return Revision.document_id.in_(_documents(ids))
    if model in (Signature, ControlledCopy):
        return model.revision_id.in_(_revisions(ids))
    if model in (ChangeRequest, PeriodicReview, Withdrawal, TrainingRequirement):
        return model.document_id.in_(_documents(ids))
    if model is TrainingTask:
        return and_(
            TrainingTask.document_id.in_(_documents(ids)),
            TrainingTask.user_id.in_(_people(ids)),
        )
    if model is DocumentLink:
        return and_(
            DocumentLink.from_document_id.in_(_documents(ids)),
            DocumentLink.to_document_id.in_(_documents(ids)),
        )
    if model is RecordAttachment:
        return RecordAttachment.record_id.in_(
            select(Record.id).where(Record.department_id.in_(ids))
        )
    if model is CompetenceEvaluation:
        return CompetenceEvaluation.user_id.in_(_people(ids))
    if model is RecordImport:
        return RecordImport.type_id.in_(
            select(RecordType.id).where(RecordType.department_id.in_(ids))
        )
    if model is LegalHold:
        return or_(
            LegalHold.record_id.in_(select(Record.id).where(Record.department_id.in_(ids))),
            and_(
                LegalHold.record_id.is_(None),
                LegalHold.type_id.in_(
                    select(RecordType.id).where(RecordType.department_id.in_(ids))
                ),
            ),
        )
    if model is TrainingSession:
        # Aliases, so the subqueries keep their own FROM inside a query that joins these.
        sr, sa = session_revision.alias(), aliased(SessionAttendee)
        covered = sr.c.session_id == TrainingSession.id
        return and_(
            exists().where(covered),
            ~exists().where(covered, sr.c.revision_id.not_in(_revisions(ids))),
            ~exists().where(sa.session_id == TrainingSession.id, sa.user_id.not_in(_people(ids))),
        )
    if model is EvidencePack:
        return EvidencePack.created_by_id == user.id
    if model is AuditEvent:
        return _audit_clause(user)
    raise TypeError(f"no department rule for {model.__name__}")


def scoped(stmt, user, model):
    """``stmt`` keeping only the rows of ``model`` that ``user`` may see."""
    clause = scope_clause(user, model)
    return stmt if clause is None else stmt.where(clause)


def scope_documents(stmt, user):
    from docmgmt.versioning.models import Document

    return scoped(stmt, user, Document)


def scope_records(stmt, user):
    from docmgmt.records.models import Record

    return scoped(stmt, user, Record)


def _audit_clause(user):
    """Audit events about objects in scope; an event about anything else (a person, a
    certificate, a log-in) is left out for a limited reader."""
    from docmgmt.audit.models import AuditEvent
    from docmgmt.control.models import ChangeRequest, DocumentLink, PeriodicReview, Withdrawal
    from docmgmt.printing.models import ControlledCopy
    from docmgmt.records.models import LegalHold, Record, RecordImport
    from docmgmt.training.models import TrainingRequirement, TrainingSession, TrainingTask
    from docmgmt.versioning.models import Document, Revision

    models = (
        Document,
        Revision,
        ControlledCopy,
        ChangeRequest,
        PeriodicReview,
        Withdrawal,
        DocumentLink,
        Record,
        RecordImport,
        LegalHold,
        TrainingRequirement,
        TrainingTask,
        TrainingSession,
    )
    parts = [
        and_(
            AuditEvent.object_type == m.__tablename__,
            AuditEvent.object_id.in_(scoped(select(m.id), user, m)),
        )
        for m in models
    ]
    return or_(*parts) if parts else false()
