"""The search engines behind one interface, and the setting that chooses one.

Two engines answer the same searches with the same analysis (docmgmt/search/analysis.py),
the same planning (docmgmt/search/query.py), the same access rules (:class:`Rules`) and the
same ranking window:

- ``whoosh`` (docmgmt/search/engine.py): an embedded index in a folder on the app server's
  disk, kept up to date after each commit through the outbox. The default on SQLite.
- ``postgres`` (docmgmt/search/pg.py): a table of the application's own PostgreSQL database,
  written in the same transaction as the change it reflects: no outbox wait, nothing on local
  disk, shared by every app server. The default when the database is PostgreSQL.

``DOCMGMT_SEARCH_BACKEND=whoosh|postgres`` (setting ``SEARCH_BACKEND``) overrides the default.
A server engine (OpenSearch, whose ``cjk_bigram`` filter is this analysis) would implement
:class:`Backend` too: ``search`` receives the parsed query and the access rules as data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from flask import current_app

from docmgmt.search.engine import Entry, Hits
from docmgmt.search.query import Plan

NAMES = ("whoosh", "postgres")


@dataclass(frozen=True)
class Rules:
    """What one searcher may see and asked for, as data: each engine applies it while
    matching (before ranking, counting or paging), Whoosh as a test of each candidate's
    columns (:meth:`keep`), PostgreSQL in the WHERE clause."""

    audiences: tuple[str, ...]  # "all"; "restricted" for QM/auditors; "history" on request
    departments: frozenset[str] | None = None  # None: not limited (docmgmt/auth/scope.py)
    wanted: tuple[tuple[str, str], ...] = ()  # (column, value): kind, doc_type, …
    day_from: int | None = None
    day_to: int | None = None

    def keep(self) -> Callable[[dict], bool]:
        audiences, limited, wanted = set(self.audiences), self.departments, self.wanted
        lo, hi = self.day_from, self.day_to

        def keep(v: dict) -> bool:
            if v["audience"] not in audiences:
                return False
            if limited is not None and v["department"] not in limited:
                return False
            for name, value in wanted:
                if v[name] != value:
                    return False
            return (lo is None or v["day"] >= lo) and (hi is None or v["day"] <= hi)

        return keep


class Backend(Protocol):
    name: str
    # True: the index is written in the transaction of the change (no outbox, no lag).
    transactional: bool

    def search(
        self,
        plan: Plan,
        rules: Rules,
        facet_rules: Rules | None,
        *,
        sort: str,
        offset: int,
        limit: int,
        window: int,
    ) -> Hits:
        """One page of rows (dicts with the entry's fields and ``score``), the total within
        the ranking window and counts per facet (of ``facet_rules`` when given)."""
        ...

    def exists(self) -> bool: ...

    def fingerprints(self) -> Iterator[tuple[str, str]]:
        """(key, fingerprint) of every entry held, to compare with the database."""
        ...

    def put(self, entries: Iterable[Entry], delete_groups: Iterable[str] = ()) -> int:
        """Replace whole groups by ``entries`` (outside any request: repairs, tests)."""
        ...

    def remove(self, keys: Iterable[str]) -> None: ...

    def count(self) -> int: ...

    def size_bytes(self) -> int: ...


class WhooshBackend:
    """The embedded engine: docmgmt/search/engine.py, fed through the outbox."""

    name = "whoosh"
    transactional = False

    def __init__(self, engine):
        self.engine = engine

    def search(self, plan, rules, facet_rules, *, sort, offset, limit, window) -> Hits:
        import contextlib

        from whoosh import query as Q

        from docmgmt.search import drain
        from docmgmt.search import query as qp
        from docmgmt.search.engine import IndexBusy
        from docmgmt.search.service import verified, without_gone

        with contextlib.suppress(IndexBusy):  # changes committed elsewhere, still waiting
            # One batch of removals and changes at most (never a bulk import's rows): a
            # search never waits long.
            drain(timeout=0.5, rounds=1, bulk=False)
        eng = self.engine
        known = eng.doc_frequency  # (fieldname, term) → entries holding it
        built = qp.build(plan, known)
        if built.query is None:
            return Hits(0, True, [], {})
        query = Q.AndMaybe(built.query, built.boost) if built.boost is not None else built.query
        keep = rules.keep()
        hits = eng.run(
            query,
            keep=keep,
            keep_for_facets=facet_rules.keep() if facet_rules is not None else None,
            sort=sort,
            offset=offset,
            limit=limit,
            window=window,
            contains=built.contains,
            excludes=built.excludes,
        )
        # The index may lag behind the database (the outbox): the page is checked against
        # it, so a hit is never shown from a stale entry.
        if not current_app.config.get("SEARCH_VERIFY_HITS", True):
            return hits
        shown, gone = verified(eng, query, hits.rows, keep, built)
        return without_gone(hits, shown, gone)

    def exists(self) -> bool:
        return self.engine.exists()

    def fingerprints(self):
        return self.engine.fingerprints() if self.engine.exists() else iter(())

    def put(self, entries, delete_groups=()) -> int:
        return self.engine.apply(entries, delete_groups)

    def remove(self, keys) -> None:
        w = self.engine.writer()
        for k in keys:
            w.delete_by_term("key", k)
        w.commit()

    def count(self) -> int:
        return self.engine.count()

    def size_bytes(self) -> int:
        return self.engine.size_bytes()


def choice(app=None) -> str:
    """The engine in use: the setting, else postgres on PostgreSQL and whoosh otherwise."""
    app = app or current_app
    name = (app.config.get("SEARCH_BACKEND") or "").strip().lower()
    is_pg = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgres")
    if not name:
        return "postgres" if is_pg else "whoosh"
    if name not in NAMES:
        raise RuntimeError(
            f"DOCMGMT_SEARCH_BACKEND={name!r}: choose one of {', '.join(NAMES)} (or leave it empty)"
        )
    if name == "postgres" and not is_pg:
        raise RuntimeError(
            "DOCMGMT_SEARCH_BACKEND=postgres needs DATABASE_URL to be a PostgreSQL database"
        )
    return name


def backend(app=None) -> Backend:
    """The engine of ``app`` (one object per app and engine)."""
    app = app or current_app
    name = choice(app)
    cache = app.extensions.setdefault("docmgmt_search_backend", {})
    if name == "postgres":
        if "postgres" not in cache:
            from docmgmt.search.pg import PostgresBackend

            cache["postgres"] = PostgresBackend()
        return cache["postgres"]
    from docmgmt.search import engine

    eng = engine(app)
    b = cache.get("whoosh")
    if b is None or b.engine is not eng:
        b = cache["whoosh"] = WhooshBackend(eng)
    return b
