"""Full-text search: the index follows the database, never leads it.

Interface used by the rest of the app:

- ``service.search(user, text, ...)`` → ``service.Page`` (access-aware, filters, facets,
  highlights); ``sources.hit_url`` and ``sources.kind_label`` present its hits;
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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, current_app, has_app_context
from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.orm import Session

from docmgmt.extensions import db
from docmgmt.search import sources
from docmgmt.search.engine import Engine, IndexBusy
from docmgmt.search.models import BULK, CHANGE, REMOVAL, SearchOutbox

log = logging.getLogger(__name__)
_QUEUED = "search_queued"
_DIRTY = "search_dirty"
_BULK = "search_bulk"
_INDEXED = "search_indexed"
_WROTE = "search_wrote"
BATCH = 500  # outbox rows per index commit
BULK_BATCH = 1000  # rows per commit when indexing a bulk import (the lock is held meanwhile)
BULK_STEP = 100  # bulk rows an ordinary commit takes along when a backlog waits


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
    sources.register_change_requests()


# ------------------------------------------------------------------ the outbox


@event.listens_for(Session, "after_flush")
def _queue(session, flush_context):
    watched = sources.watched()
    if not watched:
        return
    queued = session.info.setdefault(_QUEUED, {})
    groups: dict[str, int] = {}
    deleted = set(session.deleted)
    for obj in list(session.new) + list(session.dirty) + list(deleted):
        if isinstance(obj, watched):
            for src in sources.SOURCES:
                if isinstance(obj, src.watches):
                    removal = obj in deleted or bool(src.removes and src.removes(obj))
                    priority = REMOVAL if removal else CHANGE
                    for g in src.groups_of(obj):
                        groups[g] = min(priority, groups.get(g, CHANGE))
    session.info[_WROTE] = True
    # A group already queued in this transaction is queued again only to raise its priority.
    groups = {g: p for g, p in groups.items() if p < queued.get(g, BULK + 1)}
    if groups and _transactional() and not session.info.get(_INDEXED):
        queued.update(groups)  # indexed by _index_before_commit, in this transaction
        return
    if groups:
        session.connection().execute(
            insert(SearchOutbox), [{"group": g, "priority": p} for g, p in sorted(groups.items())]
        )
        queued.update(groups)


def queue_bulk(session, groups: Iterable[str], chunk: int = 5000) -> None:
    """Queue the groups of a bulk change (an import): indexed in large batches after every
    other waiting change, so thousands of new rows never hold up a removal. (The PostgreSQL
    engine takes them over before the commit, like every outbox row: one transaction.)"""
    batch: list[dict] = []
    for g in groups:
        batch.append({"group": g, "priority": BULK})
        if len(batch) >= chunk:
            session.execute(insert(SearchOutbox), batch)
            batch = []
    if batch:
        session.execute(insert(SearchOutbox), batch)
    session.info[_BULK] = True
    session.info[_WROTE] = True


@event.listens_for(Session, "before_commit")
def _index_before_commit(session):
    if session.in_nested_transaction() or not _transactional():
        return
    from docmgmt.search import pg

    session.flush()
    if session.info.pop(_WROTE, False):  # a read-only transaction costs nothing
        # What this transaction changed and what the outbox holds (bulk rows included).
        pg.in_transaction(session, set(session.info.pop(_QUEUED, {})))
        session.info.pop(_BULK, None)
    # A change flushed after this point (another before_commit hook) goes to the outbox,
    # applied right after the commit.
    session.info[_INDEXED] = True


@event.listens_for(Session, "after_commit")
def _committed(session):
    if session.in_nested_transaction():  # a savepoint: the outer transaction decides
        return
    session.info.pop(_INDEXED, None)
    session.info.pop(_WROTE, None)
    queued = session.info.pop(_QUEUED, None)
    bulk = session.info.pop(_BULK, None)
    if queued or bulk:
        session.info[_DIRTY] = True
        if has_app_context() and current_app.config.get("SEARCH_SYNC", True):
            timeout = current_app.config.get("SEARCH_LOCK_TIMEOUT", 10.0)
            try:
                if _transactional():  # the PostgreSQL engine: one take of the outbox
                    drain(timeout=timeout)
                    return
                # Removals and changes first, all of them; a bulk import's own rows after
                # (by whoever committed them); otherwise one small batch of any waiting bulk
                # rows, so a backlog left by a stopped import drains with ordinary use.
                drain(timeout=timeout, bulk=False)
                drain(
                    timeout=timeout,
                    rounds=10**6 if bulk else 1,
                    bulk=True,
                    batch=BULK_BATCH if bulk else BULK_STEP,
                )
            except IndexBusy:
                log.warning("search index busy; changes stay in the outbox for the next drain")
            except Exception:  # the commit stands; `search check` / the next drain repairs
                log.exception("search index update failed; changes stay in the outbox")


@event.listens_for(Session, "after_rollback")
def _rolled_back(session):
    session.info.pop(_QUEUED, None)
    session.info.pop(_BULK, None)
    session.info.pop(_INDEXED, None)
    session.info.pop(_WROTE, None)


def pending(urgent_only: bool = False) -> int:
    with Session(db.engine) as s:
        q = select(func.count()).select_from(SearchOutbox)
        if urgent_only:
            q = q.where(SearchOutbox.priority < BULK)
        return s.scalar(q) or 0


def drain(
    timeout: float = 10.0, rounds: int = 20, bulk: bool = True, batch: int | None = None
) -> int:
    """Apply outbox rows to the index, most urgent first (removals, then other changes, then
    bulk rows); returns how many groups were re-indexed. ``bulk=False`` leaves bulk rows.
    The PostgreSQL engine takes every waiting row in one transaction of its own."""
    if _transactional():
        from docmgmt.search import pg

        return pg.drain()
    eng = engine()
    done = 0
    waiting = select(SearchOutbox.id, SearchOutbox.group, SearchOutbox.priority)
    if not bulk:
        waiting = waiting.where(SearchOutbox.priority < BULK)
    for _ in range(rounds):
        with Session(db.engine) as s:
            if not s.scalar(waiting.with_only_columns(SearchOutbox.id).limit(1)):
                return done
            # End the read transaction before waiting for the index lock: on SQLite an open
            # reader would keep the lock holder from deleting its outbox rows (a deadlock).
            s.rollback()
            writer_lock = eng.writer(timeout=timeout)  # held while the database is read
            try:
                rows = s.execute(
                    waiting.order_by(SearchOutbox.priority, SearchOutbox.id).limit(1)
                ).all()
                size = batch or (BULK_BATCH if rows and rows[0].priority >= BULK else BATCH)
                rows = s.execute(
                    waiting.order_by(SearchOutbox.priority, SearchOutbox.id).limit(size)
                ).all()
                groups = sorted({r.group for r in rows})
                # Other rows of the same groups (queued again later, or at another priority)
                # are covered by this read of the database too.
                ids = {r.id for r in rows}
                for i in range(0, len(groups), 500):
                    ids.update(
                        s.scalars(
                            select(SearchOutbox.id).where(
                                SearchOutbox.group.in_(groups[i : i + 500])
                            )
                        )
                    )
                entries = _entries_for(s, groups)
                for g in groups:
                    writer_lock.delete_by_term("group", g)
                for e in entries:
                    writer_lock.add_document(**e.fields())
            except BaseException:
                writer_lock.cancel()
                raise
            writer_lock.commit()
            ids = sorted(ids)
            for i in range(0, len(ids), 500):
                s.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(ids[i : i + 500])))
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


def current_entries(groups: Iterable[str]) -> dict:
    """The entries these groups have in the database now, by key."""
    with Session(db.engine) as s:
        return {e.key: e for e in _entries_for(s, sorted(set(groups)))}


# ------------------------------------------------------------------ rebuild and check


def all_groups(session: Session):
    for src in sources.SOURCES:
        yield from src.all_groups(session)


def reindex(progress: Callable[[int], None] | None = None, total_cb=None) -> int:
    """Rebuild the whole index from the database, replacing what is there in one commit.

    Whoosh: entries are read in batches and written as segments by worker processes in
    parallel (``Engine.rebuild``); searches keep answering from the old index until the new
    one is committed, and writers wait for the lock (or leave their changes in the outbox,
    which this rebuild then covers). PostgreSQL: one transaction (docmgmt/search/pg.py).
    ``progress`` hears of groups indexed (``total_cb``: of all)."""
    if _transactional():
        from docmgmt.search import pg

        return pg.rebuild(progress, total_cb)
    eng = engine()
    if not eng.exists():
        eng.create()
    with Session(db.engine) as s:
        last = s.scalar(select(func.max(SearchOutbox.id))) or 0
        groups = list(all_groups(s))
        s.rollback()  # no read transaction held open while the index is built
        if total_cb:
            total_cb(len(groups))
        groups_after: list[int] = []  # groups read when the n-th entry was yielded
        told = {"groups": 0}

        def entries():
            for i in range(0, len(groups), 200):
                chunk = groups[i : i + 200]
                for e in _entries_for(s, chunk):
                    groups_after.append(i + len(chunk))
                    yield e
                s.expunge_all()

        def entries_done(k: int, _n=[0]) -> None:  # noqa: B006 (a counter)
            _n[0] += k
            now = groups_after[_n[0] - 1] if _n[0] else 0
            if progress and now > told["groups"]:
                progress(now - told["groups"])
                told["groups"] = now

        procs = current_app.config.get("SEARCH_BUILD_PROCS") or None
        n = eng.rebuild(entries(), progress=entries_done, procs=procs, timeout=60.0)
        if progress and told["groups"] < len(groups):
            progress(len(groups) - told["groups"])
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
    """Compare every entry the database implies with the index; optionally repair.

    ``fix`` repairs every difference found, directly (not through the outbox, where it could
    wait behind other rows): under the index lock each group concerned is read again from
    the database and replaced, and entries of no group the database knows are deleted."""
    b = backend()
    rep = CheckReport()
    indexed: dict[str, str] = {}
    indexed_groups: dict[str, str] = {}
    if b.transactional:
        indexed = dict(b.fingerprints())
    elif b.engine.exists():
        for key, fp, group in b.engine.fingerprints(with_group=True):
            indexed[key] = fp
            indexed_groups[key] = group
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
        bad = {groups_by_key[k] for k in rep.missing + rep.stale}
        bad |= {indexed_groups[k] for k in rep.extra if indexed_groups.get(k)}
        repair(sorted(bad), extra_keys=rep.extra)
    return rep


def repair(groups: list[str], extra_keys: Iterable[str] = (), timeout: float = 60.0) -> int:
    """Replace these groups in the index with what the database holds now (and delete the
    given keys), in batches, each under the index lock while the database is read."""
    eng = engine()
    extra_keys = list(extra_keys)
    done = 0
    for i in range(0, max(len(groups), 1), BULK_BATCH):
        chunk = groups[i : i + BULK_BATCH]
        with Session(db.engine) as s:
            w = eng.writer(timeout=timeout)
            try:
                for g in chunk:
                    w.delete_by_term("group", g)
                if i == 0:
                    for k in extra_keys:
                        w.delete_by_term("key", k)
                for e in _entries_for(s, chunk):
                    w.add_document(**e.fields())
            except BaseException:
                w.cancel()
                raise
            w.commit()
        done += len(chunk)
    return done


bp = Blueprint("search", __name__, url_prefix="/search")
