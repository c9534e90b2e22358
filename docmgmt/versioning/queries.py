"""Reads on documents and revisions: which revision is in force, which is open, the
revision record, who may read or sign, the register's query. Nothing here changes a row."""

from datetime import date

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from docmgmt.auth.models import Role, User
from docmgmt.clock import local_today
from docmgmt.extensions import db
from docmgmt.versioning import versions
from docmgmt.versioning.models import Document, DocumentType, Revision, RevisionState

S = RevisionState
IN_FORCE_STATES = (S.EFFECTIVE, S.SUPERSEDED, S.APPROVED)


def _skip() -> str:
    return current_app.config["VERSION_SKIP_LETTERS"]


def in_force_revision(document: Document, day: date | None = None) -> Revision | None:
    """The revision in force on ``day``: the latest one to have started by then."""
    day = day or local_today()
    if document.is_obsolete and (document.obsolete_date is None or document.obsolete_date <= day):
        return None
    return db.session.scalar(
        select(Revision)
        .where(
            Revision.document_id == document.id,
            Revision.state.in_(IN_FORCE_STATES),
            Revision.effective_date.is_not(None),
            Revision.effective_date <= day,
        )
        .order_by(Revision.effective_date.desc())
        .limit(1)
    )


def in_force_map(document_ids, day: date | None = None) -> dict[int, Revision]:
    """In-force revision per document for a whole page of the register, in one query."""
    day = day or local_today()
    latest = (
        select(Revision.document_id, func.max(Revision.effective_date).label("d"))
        .where(
            Revision.document_id.in_(list(document_ids)),
            Revision.state.in_(IN_FORCE_STATES),
            Revision.effective_date.is_not(None),
            Revision.effective_date <= day,
        )
        .group_by(Revision.document_id)
        .subquery()
    )
    rows = db.session.scalars(
        select(Revision).join(
            latest,
            and_(
                Revision.document_id == latest.c.document_id, Revision.effective_date == latest.c.d
            ),
        )
    )
    return {r.document_id: r for r in rows}


def in_force_among(documents, day: date | None = None) -> dict[int, Revision]:
    """:func:`in_force_map` of documents whose revisions are already loaded (the register's
    query loads them with the documents): the same rule, without asking the database again
    and building every in-force revision a second time."""
    day = day or local_today()
    found = {}
    for d in documents:
        best = None
        for r in d.revisions:
            if (
                r.state in IN_FORCE_STATES
                and r.effective_date is not None
                and r.effective_date <= day
                and (best is None or r.effective_date > best.effective_date)
            ):
                best = r
        if best is not None:
            found[d.id] = best
    return found


def in_force_revisions(documents, day: date | None = None) -> dict[int, Revision | None]:
    """:func:`in_force_revision` of several documents in one query, by document id."""
    day = day or local_today()
    found = in_force_map([d.id for d in documents], day) if documents else {}
    return {
        d.id: None
        if d.is_obsolete and (d.obsolete_date is None or d.obsolete_date <= day)
        else found.get(d.id)
        for d in documents
    }


def is_in_force(revision: Revision, day: date | None = None) -> bool:
    current = in_force_revision(revision.document, day)
    return current is not None and current.id == revision.id


def open_revision(document: Document) -> Revision | None:
    for r in document.revisions:
        if r.state in (S.DRAFT, S.IN_REVIEW) or (
            r.state == S.APPROVED and r.effective_date is None
        ):
            return r
    return None


def latest_version(document: Document) -> str | None:
    codes = [r.version for r in document.revisions if r.state != S.CANCELLED]
    if not codes:
        return None
    return max(codes, key=lambda c: versions.sort_key(c, _skip()))


def can_read_revision(user, revision: Revision, day: date | None = None) -> bool:
    from docmgmt.auth.permissions import can_read_history
    from docmgmt.auth.scope import in_scope

    if not in_scope(user, revision):
        return False
    if can_read_history(user):
        return True
    if (
        user.is_authenticated
        and user.id in (revision.reviewer_id, revision.approver_id)
        and (revision.state in (S.IN_REVIEW, S.APPROVED))
    ):
        return True
    return is_in_force(revision, day)


def revision_record(
    document: Document, upto: Revision | None = None, day: date | None = None
) -> list[Revision]:
    """Rows of the revision record table (文件制修订记录), oldest first: every revision that has
    taken effect by ``day`` (the company's today). A revision scheduled for a later date is not
    in it until that date; one withdrawn before its date never is. With ``upto`` (the print or
    export of one revision) only the rows up to that revision, which itself is listed as soon
    as it is published. Pages, API, PDF, Word and the evidence pack all take their rows here."""
    day = day or local_today()
    withdrawn_on = document.obsolete_date if document.is_obsolete else None
    limit = versions.sort_key(upto.version, _skip()) if upto is not None else None

    def issued(r: Revision) -> bool:
        if r.effective_date is None or r.state not in (*IN_FORCE_STATES, S.OBSOLETE):
            return False
        if withdrawn_on is not None and r.effective_date > withdrawn_on:
            return False  # withdrawn before its date: never in force
        return r.effective_date <= day or (upto is not None and r.id == upto.id)

    rows = [r for r in document.revisions if issued(r)]
    if limit is not None:
        rows = [r for r in rows if versions.sort_key(r.version, _skip()) <= limit]
    return sorted(rows, key=lambda r: versions.sort_key(r.version, _skip()))


def scheduled_revision(document: Document, day: date | None = None) -> Revision | None:
    """The published revision waiting for its effective date (待生效), if any."""
    day = day or local_today()
    for r in document.revisions:
        if r.is_scheduled and r.effective_date > day:
            return r
    return None


def eligible_signers(doc_type: DocumentType, step: str) -> list[User]:
    roles = [Role(r) for r in current_app.config["APPROVAL_ROUTES"][doc_type.value][step]]
    users = db.session.scalars(select(User).order_by(User.full_name)).all()
    return [u for u in users if u.is_active and u.has_role(*roles)]


def _may_sign_step(user: User, doc_type: DocumentType, step: str) -> bool:
    roles = [Role(r) for r in current_app.config["APPROVAL_ROUTES"][doc_type.value][step]]
    return user.has_role(*roles)


def register_query(*, doc_type=None, department_id=None, q=None, include_obsolete=True):
    # A page of the register shows each document's department and revisions: loaded with
    # the documents in two more queries, never one per row. The revisions' signatures are not
    # shown: they are not loaded (three or more rows per revision to build for nothing).
    stmt = (
        select(Document)
        .options(
            selectinload(Document.department),
            selectinload(Document.revisions).lazyload(Revision.signatures),
        )
        .order_by(Document.number)
    )
    if doc_type:
        stmt = stmt.where(Document.doc_type == DocumentType(doc_type))
    if department_id:
        stmt = stmt.where(Document.department_id == int(department_id))
    if q and q.strip():
        from docmgmt.sqltext import contains

        stmt = stmt.where(
            or_(contains(Document.number, q.strip()), contains(Document.title, q.strip()))
        )
    if not include_obsolete:
        stmt = stmt.where(Document.is_obsolete.is_(False))
    return stmt
