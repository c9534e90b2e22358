"""What goes into the index, read from the database: one ``Source`` per kind of entry.

An entry belongs to a *group* (``doc:12``: every revision of document 12). A change to any
row a source watches re-indexes the whole group from the database, so the index never needs
to know what changed, only where. Records, training sessions and change requests add their own
sources; the text read from their attachments goes into their entries (``with_files``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from docmgmt.clock import local_date, local_today
from docmgmt.search.engine import Entry


@dataclass
class Source:
    prefix: str  # group prefix, e.g. "doc"
    kind: str  # entry kind shown as a filter, e.g. "revision"
    watches: tuple[type, ...]
    groups_of: Callable[[object], Iterable[str]]  # groups a changed row touches
    all_groups: Callable[[Session], Iterator[str]]
    entries: Callable[[Session, list[str]], list[Entry]]  # current entries of these groups
    url: Callable[[dict], str] | None = None  # where a hit opens, from its meta
    # Whether a changed row takes something out of search (or out of some readers' view): its
    # group is then re-indexed before any other waiting change. Deleted rows always are.
    removes: Callable[[object], bool] | None = None


SOURCES: list[Source] = []


def register(source: Source) -> None:
    SOURCES[:] = [s for s in SOURCES if s.prefix != source.prefix] + [source]


def source_for(group: str) -> Source | None:
    prefix = group.partition(":")[0]
    return next((s for s in SOURCES if s.prefix == prefix), None)


def watched() -> tuple[type, ...]:
    return tuple(t for s in SOURCES for t in s.watches)


def day_number(d: date | None) -> int:
    return d.year * 10000 + d.month * 100 + d.day if d else 0


# ------------------------------------------------------------------ document revisions

_INLINE = re.compile(r"\*\*|\+\+|(?<!\w)_(?!\w)|^#+ ", re.MULTILINE)


def _revision_groups(obj) -> Iterable[str]:
    from docmgmt.versioning.models import Document, Revision

    if isinstance(obj, Document) and obj.id is not None:
        yield f"doc:{obj.id}"
    elif isinstance(obj, Revision):
        doc_id = obj.document_id or (obj.document.id if obj.document is not None else None)
        if doc_id is not None:
            yield f"doc:{doc_id}"


def _revision_removes(obj) -> bool:
    from docmgmt.versioning.models import Document, Revision, RevisionState

    if isinstance(obj, Document):
        return bool(obj.is_obsolete)
    return isinstance(obj, Revision) and obj.state in (
        RevisionState.SUPERSEDED,  # staff no longer see it
        RevisionState.OBSOLETE,
        RevisionState.CANCELLED,
    )


def _all_documents(session: Session) -> Iterator[str]:
    from docmgmt.versioning.models import Document

    for (doc_id,) in session.execute(select(Document.id).order_by(Document.id)):
        yield f"doc:{doc_id}"


def in_force_of(document, today: date):
    """The revision in force today, from the loaded revisions (same rule as versioning)."""
    from docmgmt.versioning.queries import IN_FORCE_STATES

    if document.is_obsolete and (document.obsolete_date is None or document.obsolete_date <= today):
        return None
    started = [
        r
        for r in document.revisions
        if r.state in IN_FORCE_STATES and r.effective_date and r.effective_date <= today
    ]
    return max(started, key=lambda r: r.effective_date, default=None)


def revision_text(rev) -> str:
    from docmgmt.versioning.content import blocks_to_lines

    lines = blocks_to_lines(rev.body_blocks or []) if rev.body_blocks else [rev.body_source]
    return _INLINE.sub("", "\n".join(lines))


def _revision_entries(session: Session, groups: list[str]) -> list[Entry]:
    from docmgmt.versioning.models import Document, RevisionState

    ids = [int(g.partition(":")[2]) for g in groups]
    docs = session.scalars(
        select(Document)
        .where(Document.id.in_(ids))
        .options(
            selectinload(Document.revisions).undefer_group("body"),
            selectinload(Document.department),
        )
    ).all()
    today = local_today()
    out = []
    for doc in docs:
        current = in_force_of(doc, today)
        for rev in doc.revisions:
            if rev.state == RevisionState.CANCELLED:
                continue
            in_force = current is not None and rev.id == current.id
            dept = doc.department.code if doc.department else ""
            out.append(
                Entry(
                    key=f"rev:{rev.id}",
                    kind="revision",
                    group=f"doc:{doc.id}",
                    number=doc.number,
                    title=rev.title,
                    content="\n".join(
                        [f"{doc.number} {rev.version} {rev.title}", rev.change_summary or ""]
                        + [revision_text(rev)]
                    ),
                    doc_type=doc.doc_type.value,
                    department=dept,
                    state=rev.state.value,
                    audience="all" if in_force else "history",
                    day=day_number(rev.effective_date or local_date(rev.created_dt)),
                    meta={
                        "revision_id": rev.id,
                        "document_id": doc.id,
                        "version": rev.version,
                        "effective_date": rev.effective_date.isoformat()
                        if rev.effective_date
                        else None,
                    },
                )
            )
    return out


def register_revisions() -> None:
    from docmgmt.versioning.models import Document, Revision

    register(
        Source(
            prefix="doc",
            kind="revision",
            watches=(Document, Revision),
            groups_of=_revision_groups,
            all_groups=_all_documents,
            entries=_revision_entries,
            removes=_revision_removes,
            url=lambda meta: url_for(
                "versioning.revision", doc_id=meta["document_id"], rev_id=meta["revision_id"]
            ),
        )
    )


# ------------------------------------------------------------------ training sessions


def _document_shown(obj) -> bool:
    """Whether a flushed document changed what other entries show of it (its department, which
    decides who finds them, its number or its title)."""
    from sqlalchemy import inspect as sa_inspect

    state = sa_inspect(obj)
    if state.pending or obj.id is None:
        return False
    return any(
        state.attrs[name].history.has_changes() for name in ("department_id", "number", "title")
    )


def _ids_of(obj, query) -> list[int]:
    """Ids from ``query`` on the flushing session's connection (no autoflush in a flush)."""
    from sqlalchemy.orm import object_session

    session = object_session(obj)
    if session is None:
        return []
    return [row[0] for row in session.connection().execute(query)]


def _session_groups(obj) -> Iterable[str]:
    from docmgmt.extract.models import AttachmentText
    from docmgmt.training.models import SessionAttendee, TrainingSession, session_revision
    from docmgmt.versioning.models import Document, Revision

    if isinstance(obj, Document):
        if _document_shown(obj):  # the sessions that covered it show its department
            query = (
                select(session_revision.c.session_id)
                .join(Revision, Revision.id == session_revision.c.revision_id)
                .where(Revision.document_id == obj.id)
                .distinct()
            )
            yield from (f"trs:{i}" for i in _ids_of(obj, query))
    elif isinstance(obj, TrainingSession) and obj.id is not None:
        yield f"trs:{obj.id}"
    elif isinstance(obj, SessionAttendee) and obj.session_id is not None:
        yield f"trs:{obj.session_id}"
    elif isinstance(obj, AttachmentText) and obj.attachment_table == "training_attachment":
        yield f"trs:{obj.owner_id}"  # the text read from one of its files


def _all_sessions(session: Session) -> Iterator[str]:
    from docmgmt.training.models import TrainingSession

    for (sid,) in session.execute(
        select(TrainingSession.id).order_by(TrainingSession.held_on.desc())
    ):
        yield f"trs:{sid}"


def _only_department(departments) -> str:
    codes = {d.code if d is not None else "" for d in departments}
    return codes.pop() if len(codes) == 1 else ""


def _session_entries(session: Session, groups: list[str]) -> list[Entry]:
    from docmgmt.training.models import TrainingSession

    ids = [int(g.partition(":")[2]) for g in groups]
    rows = session.scalars(
        select(TrainingSession)
        .where(TrainingSession.id.in_(ids))
        .options(selectinload(TrainingSession.attendees), selectinload(TrainingSession.revisions))
    ).all()
    texts = _attachment_texts(session, ids, "training_attachment")
    out = []
    for s in rows:
        names = " ".join(a.user.full_name for a in s.attendees)
        covered = " ".join(f"{r.document.number} {r.version}" for r in s.revisions)
        content, files = with_files(
            "\n".join([s.topic, s.trainer_name, covered, names, s.notes or ""]),
            texts.get(s.id, ()),
        )
        out.append(
            Entry(
                key=f"trs:{s.id}",
                kind="training",
                group=f"trs:{s.id}",
                number="",
                title=s.topic,
                content=content,
                audience="restricted",  # quality managers and auditors only
                # The one department it touches, if only one (docmgmt/auth/scope.py); a
                # session of several departments is not found by a department-limited reader.
                department=_only_department(
                    [r.document.department for r in s.revisions]
                    + [a.user.department for a in s.attendees]
                ),
                day=day_number(s.held_on),
                meta={"session_id": s.id, "files": files} if files else {"session_id": s.id},
            )
        )
    return out


def register_training() -> None:
    from docmgmt.extract.models import AttachmentText
    from docmgmt.training.models import SessionAttendee, TrainingSession
    from docmgmt.versioning.models import Document

    register(
        Source(
            prefix="trs",
            kind="training",
            watches=(TrainingSession, SessionAttendee, AttachmentText, Document),
            groups_of=_session_groups,
            all_groups=_all_sessions,
            entries=_session_entries,
            url=lambda meta: url_for("training.session_detail", session_id=meta["session_id"]),
        )
    )


# ------------------------------------------------------------------ records


def _record_groups(obj) -> Iterable[str]:
    from docmgmt.extract.models import AttachmentText
    from docmgmt.records.models import Record

    if isinstance(obj, Record) and obj.id is not None:
        yield f"rec:{obj.id}"
    elif isinstance(obj, AttachmentText) and obj.attachment_table == "record_attachment":
        yield f"rec:{obj.owner_id}"  # the text read from one of its attachments


def _record_removes(obj) -> bool:
    from docmgmt.records.models import Record, RecordState

    return isinstance(obj, Record) and obj.state == RecordState.DISPOSED


def _all_records(session: Session) -> Iterator[str]:
    from docmgmt.records.models import Record

    # Newest first: a rebuild puts the newest records where the ranking window looks first.
    for (rid,) in session.execute(
        select(Record.id).order_by(Record.filed_dt.desc(), Record.id.desc())
    ):
        yield f"rec:{rid}"


def _record_entries(session: Session, groups: list[str]) -> list[Entry]:
    from docmgmt.records.models import Record

    ids = [int(g.partition(":")[2]) for g in groups]
    rows = session.scalars(
        select(Record)
        .where(Record.id.in_(ids))
        .options(selectinload(Record.type), selectinload(Record.department))
    ).all()
    texts = _attachment_texts(session, ids)
    out = []
    for r in rows:
        values = " ".join(str(v) for v in (r.values or {}).values())
        content, files = with_files(
            "\n".join([f"{r.number} {r.external_id or ''} {r.type.name}", r.title, values]),
            texts.get(r.id, ()),
        )
        out.append(
            Entry(
                key=f"rec:{r.id}",
                kind="record",
                group=f"rec:{r.id}",
                number=r.number,
                title=r.title,
                content=content,
                doc_type=r.type.code,
                department=r.department.code if r.department else "",
                state=r.state.value,
                audience="all",
                day=day_number(local_date(r.filed_dt)),
                meta={"record_id": r.id, "files": files} if files else {"record_id": r.id},
            )
        )
    return out


def _attachment_texts(
    session: Session, owner_ids: list[int], table: str = "record_attachment"
) -> dict[int, list]:
    """owner id -> [(attachment name, its recognised text)] of the attachments it keeps, in
    filing order: a record's (less those removed), a training session's, a change request's."""
    from docmgmt.extract.models import DONE, AttachmentText
    from docmgmt.records.models import RecordAttachment

    out: dict[int, list] = {}
    q = (
        select(AttachmentText.owner_id, AttachmentText.filename, AttachmentText.text)
        .where(
            AttachmentText.attachment_table == table,
            AttachmentText.owner_id.in_(owner_ids),
            AttachmentText.state == DONE,
            AttachmentText.text != "",
        )
        .order_by(AttachmentText.attachment_id)
    )
    if table == "record_attachment":
        q = q.join(RecordAttachment, RecordAttachment.id == AttachmentText.attachment_id).where(
            RecordAttachment.removed.is_(False)
        )
    for owner, name, text in session.execute(q):
        out.setdefault(owner, []).append((name, text))
    return out


def with_files(content: str, texts: Iterable[tuple[str, str]]) -> tuple[str, list]:
    """``content`` followed by each attachment's text after its name, and where each is:
    [[name, start, end]] (the hit names the attachment whose text matched: ``file_of``)."""
    files = []
    for name, text in texts:
        content += f"\n{name}: "
        files.append([name, len(content), len(content) + len(text)])
        content += text
    return content, files


def file_of(meta: dict, offset: int) -> str:
    """The attachment whose text holds ``offset`` of the entry's content ("" if none)."""
    for name, start, end in meta.get("files") or ():
        if start <= offset <= end:
            return name
    return ""


def register_records() -> None:
    from docmgmt.extract.models import AttachmentText
    from docmgmt.records.models import Record

    register(
        Source(
            prefix="rec",
            kind="record",
            watches=(Record, AttachmentText),
            groups_of=_record_groups,
            all_groups=_all_records,
            entries=_record_entries,
            removes=_record_removes,
            url=lambda meta: url_for("records.detail", record_id=meta["record_id"]),
        )
    )


# ------------------------------------------------------------------ change requests
# Who may see a request (docmgmt/control/views.py ``_request``): quality managers, auditors and
# administrators (audience "restricted"), and whoever asked for it. A request has one entry
# for each: ``cr:<id>`` for the first, ``cr:<id>:own`` for the requester (audience
# ``user:<id>``, which only a searcher without the history's view asks for: nobody finds the
# same request twice). Both carry the document's department (docmgmt/auth/scope.py).


def requester_audience(user_id: int) -> str:
    return f"user:{user_id}"


def _request_groups(obj) -> Iterable[str]:
    from docmgmt.control.models import ChangeRequest
    from docmgmt.extract.models import AttachmentText
    from docmgmt.versioning.models import Document

    if isinstance(obj, Document):
        if _document_shown(obj):  # its requests show its number, title and department
            query = select(ChangeRequest.id).where(ChangeRequest.document_id == obj.id)
            yield from (f"cr:{i}" for i in _ids_of(obj, query))
    elif isinstance(obj, ChangeRequest) and obj.id is not None:
        yield f"cr:{obj.id}"
    elif isinstance(obj, AttachmentText) and obj.attachment_table == "change_request_attachment":
        yield f"cr:{obj.owner_id}"


def _all_requests(session: Session) -> Iterator[str]:
    from docmgmt.control.models import ChangeRequest

    for (cr_id,) in session.execute(select(ChangeRequest.id).order_by(ChangeRequest.id.desc())):
        yield f"cr:{cr_id}"


def _request_entries(session: Session, groups: list[str]) -> list[Entry]:
    from docmgmt.control.models import ChangeRequest
    from docmgmt.versioning.models import Document

    ids = [int(g.partition(":")[2]) for g in groups]
    rows = session.scalars(
        select(ChangeRequest)
        .where(ChangeRequest.id.in_(ids))
        .options(selectinload(ChangeRequest.document).selectinload(Document.department))
    ).all()
    texts = _attachment_texts(session, ids, "change_request_attachment")
    out = []
    for cr in rows:
        doc = cr.document
        content, files = with_files(
            "\n".join(
                [
                    f"{cr.number} {doc.number} {doc.title}",
                    cr.reason,
                    cr.proposed_change,
                    cr.decision_comment or "",
                ]
            ),
            texts.get(cr.id, ()),
        )
        meta = {"change_request_id": cr.id} | ({"files": files} if files else {})
        for key, audience in (
            (f"cr:{cr.id}", "restricted"),
            (f"cr:{cr.id}:own", requester_audience(cr.requester_id)),
        ):
            out.append(
                Entry(
                    key=key,
                    kind="change_request",
                    group=f"cr:{cr.id}",
                    number=cr.number,
                    title=f"{doc.number} {doc.title}",
                    content=content,
                    department=doc.department.code if doc.department else "",
                    state=cr.state.value,
                    audience=audience,
                    day=day_number(local_date(cr.created_dt)),
                    meta=meta,
                )
            )
    return out


def register_change_requests() -> None:
    from docmgmt.control.models import ChangeRequest
    from docmgmt.extract.models import AttachmentText
    from docmgmt.versioning.models import Document

    register(
        Source(
            prefix="cr",
            kind="change_request",
            watches=(ChangeRequest, AttachmentText, Document),
            groups_of=_request_groups,
            all_groups=_all_requests,
            entries=_request_entries,
            url=lambda meta: url_for("control.request_detail", cr_id=meta["change_request_id"]),
        )
    )


def kind_label(kind: str) -> str:
    from flask_babel import gettext as _

    return {
        "revision": _("Document revisions"),
        "record": _("Records"),
        "training": _("Training"),
        "change_request": _("Change requests"),
    }.get(kind, kind)


def hit_url(hit) -> str | None:
    """Where a hit opens, decided by the source that indexed it."""
    src = next((s for s in SOURCES if s.kind == hit.kind and s.url), None)
    return src.url(hit.meta) if src is not None else None
