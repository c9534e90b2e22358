"""Full-text search: the index follows the database, never leads it.

Interface used by the rest of the app:

- ``search(user, text, ...)`` → :class:`Page` (access-aware, filters, facets, highlights);
- ``drain()`` applies committed changes waiting in the outbox (called after every commit);
- ``reindex(progress)`` rebuilds from the database; ``check()`` compares database and index.

How consistency works: a flush that touches a watched row (a document, a revision …) writes
the entry *groups* it affects to ``search_outbox`` in the same transaction. After the commit,
``drain`` takes the index's write lock, reads the outbox and the current rows, updates the
index, and only then deletes the outbox rows it applied. Holding the lock while reading the
database serialises workers: the last writer always indexes the latest state. A worker that
cannot get the lock in time leaves its rows for the next drain; the user never sees a lock
error and no update is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, current_app, has_app_context
from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.orm import Session

from docmgmt.extensions import db
from docmgmt.search import sources
from docmgmt.search.engine import Engine, IndexBusy
from docmgmt.search.models import SearchOutbox

log = logging.getLogger(__name__)
_QUEUED = "search_queued"
_DIRTY = "search_dirty"
_INDEXED = "search_indexed"
_WROTE = "search_wrote"
BATCH = 500


def index_dir(app=None) -> Path:
    app = app or current_app
    return Path(app.config.get("SEARCH_INDEX_DIR") or Path(app.config["STORAGE_DIR"]) / "search")


def engine(app=None) -> Engine:
    app = app or current_app
    path = index_dir(app)
    engines = app.extensions.setdefault("docmgmt_search", {})
    if str(path) not in engines:
        engines[str(path)] = Engine(path)
    return engines[str(path)]


def backend(app=None):
    """The engine chosen for ``app`` (docmgmt/search/backends.py)."""
    from docmgmt.search.backends import backend as _backend

    return _backend(app)


def _transactional() -> bool:
    """The PostgreSQL engine: the index is written in the transaction of the change."""
    from docmgmt.search.backends import choice

    return has_app_context() and choice() == "postgres"


def init_app(app) -> None:
    from docmgmt.search.backends import choice

    choice(app)  # a wrong DOCMGMT_SEARCH_BACKEND stops the start, with the reason
    sources.register_revisions()
    sources.register_training()
    sources.register_records()


# ------------------------------------------------------------------ the outbox


@event.listens_for(Session, "after_flush")
def _queue(session, flush_context):
    watched = sources.watched()
    if not watched:
        return
    queued = session.info.setdefault(_QUEUED, set())
    groups = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, watched):
            for src in sources.SOURCES:
                if isinstance(obj, src.watches):
                    groups.update(src.groups_of(obj))
    session.info[_WROTE] = True
    groups -= queued
    if groups and _transactional() and not session.info.get(_INDEXED):
        queued.update(groups)  # indexed by _index_before_commit, in this transaction
        return
    if groups:
        session.connection().execute(insert(SearchOutbox), [{"group": g} for g in sorted(groups)])
        queued.update(groups)


@event.listens_for(Session, "before_commit")
def _index_before_commit(session):
    if session.in_nested_transaction() or not _transactional():
        return
    from docmgmt.search import pg

    session.flush()
    if session.info.pop(_WROTE, False):  # a read-only transaction costs nothing
        pg.in_transaction(session, session.info.pop(_QUEUED, set()))
    # A change flushed after this point (another before_commit hook) goes to the outbox,
    # applied right after the commit.
    session.info[_INDEXED] = True


@event.listens_for(Session, "after_commit")
def _committed(session):
    if session.in_nested_transaction():  # a savepoint: the outer transaction decides
        return
    session.info.pop(_INDEXED, None)
    session.info.pop(_WROTE, None)
    if session.info.pop(_QUEUED, None):
        session.info[_DIRTY] = True
        if has_app_context() and current_app.config.get("SEARCH_SYNC", True):
            try:
                drain(timeout=current_app.config.get("SEARCH_LOCK_TIMEOUT", 10.0))
            except IndexBusy:
                log.warning("search index busy; changes stay in the outbox for the next drain")
            except Exception:  # the commit stands; `search check` / the next drain repairs
                log.exception("search index update failed; changes stay in the outbox")


@event.listens_for(Session, "after_rollback")
def _rolled_back(session):
    session.info.pop(_QUEUED, None)
    session.info.pop(_INDEXED, None)
    session.info.pop(_WROTE, None)


def pending() -> int:
    with Session(db.engine) as s:
        return s.scalar(select(func.count()).select_from(SearchOutbox)) or 0


def drain(timeout: float = 10.0, rounds: int = 20) -> int:
    """Apply outbox rows to the index; returns how many groups were re-indexed."""
    if _transactional():
        from docmgmt.search import pg

        return pg.drain()
    eng = engine()
    done = 0
    for _ in range(rounds):
        with Session(db.engine) as s:
            if not s.scalar(select(SearchOutbox.id).limit(1)):
                return done
            # End the read transaction before waiting for the index lock: on SQLite an open
            # reader would keep the lock holder from deleting its outbox rows (a deadlock).
            s.rollback()
            writer_lock = eng.writer(timeout=timeout)  # held while the database is read
            try:
                rows = s.execute(
                    select(SearchOutbox.id, SearchOutbox.group)
                    .order_by(SearchOutbox.id)
                    .limit(BATCH)
                ).all()
                groups = sorted({g for _, g in rows})
                entries = _entries_for(s, groups)
                for g in groups:
                    writer_lock.delete_by_term("group", g)
                for e in entries:
                    writer_lock.add_document(**e.fields())
            except BaseException:
                writer_lock.cancel()
                raise
            writer_lock.commit()
            s.execute(delete(SearchOutbox).where(SearchOutbox.id.in_([i for i, _ in rows])))
            s.commit()
            done += len(groups)
    return done


def _entries_for(session: Session, groups: list[str]):
    by_source: dict[str, list[str]] = {}
    for g in groups:
        src = sources.source_for(g)
        if src is not None:
            by_source.setdefault(src.prefix, []).append(g)
    out = []
    for prefix, gs in by_source.items():
        src = sources.source_for(prefix + ":")
        out.extend(src.entries(session, gs))
    return out


# ------------------------------------------------------------------ rebuild and check


def all_groups(session: Session):
    for src in sources.SOURCES:
        yield from src.all_groups(session)


def reindex(progress: Callable[[int], None] | None = None, total_cb=None) -> int:
    """Rebuild the whole index from the database, replacing what is there in one commit.

    Searches keep answering from the old index until the new one is committed; writers wait
    for the lock (or leave their changes in the outbox, which this rebuild then covers)."""
    if _transactional():
        from docmgmt.search import pg

        return pg.rebuild(progress, total_cb)
    eng = engine()
    if not eng.exists():
        eng.create()
    from whoosh.writing import CLEAR

    n = 0
    with Session(db.engine) as s:
        w = eng.writer(timeout=60.0, bulk=True)
        try:
            last = s.scalar(select(func.max(SearchOutbox.id))) or 0
            groups = list(all_groups(s))
            if total_cb:
                total_cb(len(groups))
            for i in range(0, len(groups), 200):
                chunk = groups[i : i + 200]
                for e in _entries_for(s, chunk):
                    w.add_document(**e.fields())
                    n += 1
                s.expunge_all()
                if progress:
                    progress(len(chunk))
        except BaseException:
            w.cancel()
            raise
        w.commit(mergetype=CLEAR)
        s.execute(delete(SearchOutbox).where(SearchOutbox.id <= last))
        s.commit()
    return n


@dataclass
class CheckReport:
    entries: int = 0
    indexed: int = 0
    missing: list[str] = field(default_factory=list)  # in the database, not in the index
    extra: list[str] = field(default_factory=list)  # in the index, not in the database
    stale: list[str] = field(default_factory=list)  # in both, content differs
    pending: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.stale)


def check(fix: bool = False) -> CheckReport:
    """Compare every entry the database implies with the index; optionally repair."""
    b = backend()
    rep = CheckReport()
    indexed = dict(b.fingerprints())
    groups_by_key: dict[str, str] = {}
    want: dict[str, str] = {}
    with Session(db.engine) as s:
        rep.pending = s.scalar(select(func.count()).select_from(SearchOutbox)) or 0
        groups = list(all_groups(s))
        for i in range(0, len(groups), 200):
            for e in _entries_for(s, groups[i : i + 200]):
                fields = e.fields()
                want[e.key] = fields["fingerprint"]
                groups_by_key[e.key] = e.group
            s.expunge_all()
    rep.entries, rep.indexed = len(want), len(indexed)
    rep.missing = sorted(k for k in want if k not in indexed)
    rep.extra = sorted(k for k in indexed if k not in want)
    rep.stale = sorted(k for k in want if k in indexed and indexed[k] != want[k])
    if fix and not rep.ok and b.transactional:
        b.repair({groups_by_key[k] for k in rep.missing + rep.stale}, rep.extra)
    elif fix and not rep.ok:
        eng = b.engine
        bad_groups = {groups_by_key[k] for k in rep.missing + rep.stale}
        if bad_groups:
            with Session(db.engine) as s:
                s.execute(insert(SearchOutbox), [{"group": g} for g in sorted(bad_groups)])
                s.commit()
        w = eng.writer()
        for k in rep.extra:
            w.delete_by_term("key", k)
        w.commit()
        drain()
    return rep


def kind_label(kind: str) -> str:
    from flask_babel import gettext as _

    return {
        "revision": _("Document revisions"),
        "record": _("Records"),
        "training": _("Training"),
    }.get(kind, kind)


def hit_url(hit) -> str | None:
    """Where a hit opens, decided by the source that indexed it."""
    src = next((s for s in sources.SOURCES if s.kind == hit.kind and s.url), None)
    return src.url(hit.meta) if src is not None else None


bp = Blueprint("search", __name__, url_prefix="/search")

from docmgmt.search import views  # noqa: E402,F401
from docmgmt.search.service import Page, search  # noqa: E402,F401
