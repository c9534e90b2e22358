"""The PostgreSQL engine: the index is a table of the application's own database.

Each entry is a row of ``search_entry`` (docmgmt/search/models.py) whose ``terms`` column is a
``tsvector`` built with ``array_to_tsvector`` from the app's own analysis (CJK bigrams, letter
and digit grams: docmgmt/search/analysis.py), so PostgreSQL's text search configuration plays
no part, and a GIN index answers every term, two-character Chinese words included (pg_trgm
cannot use its index for patterns under three characters). The query is planned as for Whoosh
(docmgmt/search/query.py): the candidates hold every term, then the folded text is checked
exactly; access rules and filters are the WHERE clause; the ranking window, facets and
highlights work as in docmgmt/search/engine.py.

Writes happen in the transaction of the change (``write_groups`` from the session's
``before_commit``): the index can never lag behind, or run ahead of, the database, and every
app server sees the same index. Two transactions that re-index the same group are serialised
by an advisory lock per group taken *before* the group is read, so the later one reads what
the earlier one committed (READ COMMITTED takes a new snapshot per statement).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import (
    Integer,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    not_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY
from sqlalchemy.orm import Session

from docmgmt.extensions import db
from docmgmt.search.analysis import fold, term_set
from docmgmt.search.engine import FACETS, Entry, Hits
from docmgmt.search.models import SearchEntry
from docmgmt.search.query import Check, Plan, Term, neutral

T = SearchEntry.__table__
LOCK_CLASS = 27922  # advisory lock class of one group (objid: hashtext of the group)
GLOBAL_CLASS = 27923  # shared by group writers, exclusive for bulk writes and rebuilds
PER_GROUP_LOCKS = 200  # more groups than this in one transaction: take the exclusive lock
CHUNK = 500

_INSERT = insert(T).values(terms=func.array_to_tsvector(bindparam("lex", type_=ARRAY(Text))))


def row_of(e: Entry) -> dict:
    f = e.fields()
    return {
        "key": e.key,
        "grp": e.group,
        "kind": e.kind,
        "doc_type": e.doc_type,
        "department": e.department,
        "state": e.state,
        "audience": e.audience,
        "day": e.day,
        "number": e.number,
        "title": e.title,
        "content": e.content,
        "meta": e.meta,
        "fingerprint": f["fingerprint"],
        "text": f["text"].decode(),
        "ftitle": " ".join(fold(e.title).lower().split()),
        "fnumber": " ".join(fold(e.number).lower().split()),
        "lex": sorted(term_set(e.number, e.title, e.content)),
    }


def insert_entries(conn, entries: Iterable[Entry]) -> int:
    rows = [row_of(e) for e in entries]
    if rows:
        conn.execute(_INSERT, rows)
    return len(rows)


# ------------------------------------------------------------------ writing


def _lock(conn, groups: list[str]) -> None:
    if len(groups) > PER_GROUP_LOCKS:
        conn.execute(text("SELECT pg_advisory_xact_lock(:c, 0)"), {"c": GLOBAL_CLASS})
        return
    conn.execute(text("SELECT pg_advisory_xact_lock_shared(:c, 0)"), {"c": GLOBAL_CLASS})
    # In one order for everybody (OFFSET 0 keeps the sort below the locking), so two
    # transactions locking overlapping groups cannot deadlock.
    conn.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(:c, h)) FROM (SELECT DISTINCT hashtext(g) AS h "
            "FROM unnest(CAST(:gs AS text[])) AS g ORDER BY 1 OFFSET 0) AS s"
        ),
        {"c": LOCK_CLASS, "gs": groups},
    )


def take_outbox(conn) -> set[str]:
    """Groups other writers left in the outbox (bulk paths), taken over by this transaction."""
    rows = conn.execute(
        text(
            "DELETE FROM search_outbox WHERE id IN (SELECT id FROM search_outbox ORDER BY id "
            'FOR UPDATE SKIP LOCKED) RETURNING "group"'
        )
    )
    return {g for (g,) in rows}


def write_groups(conn, groups: Iterable[str], progress=None) -> int:
    """Re-index ``groups`` from the database, inside the transaction of ``conn``."""
    from docmgmt.search import _entries_for

    groups = sorted(set(groups))
    if not groups:
        return 0
    _lock(conn, groups)
    n = 0
    # A session of its own on the same connection: it reads this transaction's changes and
    # what others committed, never objects cached (and perhaps stale) in the caller's session.
    with Session(bind=conn, autoflush=False) as s:
        for i in range(0, len(groups), CHUNK):
            chunk = groups[i : i + CHUNK]
            entries = _entries_for(s, chunk)
            conn.execute(delete(T).where(T.c.grp.in_(chunk)))
            n += insert_entries(conn, entries)
            s.expunge_all()
            if progress:
                progress(len(chunk))
    return n


def in_transaction(session, groups: set[str]) -> int:
    """Called before ``session`` commits: index what it changed and what the outbox holds."""
    conn = session.connection()
    return write_groups(conn, set(groups) | take_outbox(conn))


def drain() -> int:
    """Groups left in the outbox, indexed in a transaction of their own."""
    with Session(db.engine) as s:
        n = write_groups(s.connection(), take_outbox(s.connection()))
        s.commit()
    return n


def rebuild(progress=None, total_cb=None) -> int:
    """Every entry again, in one transaction: searches read the old rows until it commits,
    writers wait for it (the exclusive advisory lock) and then index their own changes."""
    from docmgmt.search import all_groups

    with Session(db.engine) as s:
        conn = s.connection()
        conn.execute(text("SELECT pg_advisory_xact_lock(:c, 0)"), {"c": GLOBAL_CLASS})
        take_outbox(conn)  # covered by this rebuild
        conn.execute(delete(T))
        groups = list(all_groups(s))
        s.expunge_all()
        if total_cb:
            total_cb(len(groups))
        n = write_groups(conn, groups, progress)
        s.commit()
    with db.engine.connect() as conn:  # fresh statistics for the planner
        conn.execute(text("ANALYZE search_entry"))
        conn.commit()
    return n


def bulk_load(entries: Iterable[Entry], chunk: int = 2000) -> int:
    """Replace every entry by ``entries`` in one transaction (benchmarks, restores)."""
    n, batch = 0, []
    with db.engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:c, 0)"), {"c": GLOBAL_CLASS})
        conn.execute(delete(T))
        for e in entries:
            batch.append(e)
            if len(batch) >= chunk:
                n += insert_entries(conn, batch)
                batch = []
        n += insert_entries(conn, batch)
    with db.engine.connect() as conn:
        conn.execute(text("ANALYZE search_entry"))
        conn.commit()
    return n


# ------------------------------------------------------------------ reading


def _quote(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def _tsquery(terms: list[Term]) -> str:
    ands = []
    for t in terms:
        if t.negate:
            continue
        for need in t.needs:
            opts = ["(" + " & ".join(_quote(x) for x in option) + ")" for option in need.options]
            if need.prefix:
                opts.append(_quote(need.prefix) + ":*")
            ands.append("(" + " | ".join(opts) + ")")
    return " & ".join(ands)


def _check(column, c: Check):
    if c.regex:
        return column.op("~")(c.value)
    return func.strpos(column, c.value) > 0


def _all(column, checks: list[Check]):
    return and_(*[_check(column, c) for c in checks]) if checks else None


def _rules(rules) -> list:
    conds = [T.c.audience.in_(rules.audiences)]
    if rules.departments is not None:
        conds.append(T.c.department.in_(sorted(rules.departments)))
    for name, value in rules.wanted:
        conds.append(T.c[name] == value)
    if rules.day_from is not None:
        conds.append(T.c.day >= rules.day_from)
    if rules.day_to is not None:
        conds.append(T.c.day <= rules.day_to)
    return conds


class PostgresBackend:
    name = "postgres"
    transactional = True

    @staticmethod
    def _candidates(tsq, rules):
        """Entries holding the terms that the searcher may see, as a subquery whose rows the
        exact checks then test: the fence (OFFSET 0) keeps the planner from testing a long
        revision's text before the cheap access rules have turned it away."""
        cols = [T.c.key, T.c.day, T.c.number, *[T.c[n] for n in FACETS], T.c.audience]
        cols += [T.c.text, T.c.ftitle, T.c.fnumber, T.c.terms]
        return (
            select(*cols)
            .where(T.c.terms.op("@@")(tsq), *_rules(rules))
            .offset(0)
            .subquery("candidate")
        )

    @staticmethod
    def _checks(c, terms: list[Term]) -> list:
        column = {"content": c.text, "title": c.ftitle, "number": c.fnumber}
        conds = []
        for t in terms:
            cond = _all(column[t.field], t.checks)
            if cond is None:
                continue
            conds.append(not_(cond) if t.negate else cond)
        return conds

    @staticmethod
    def _score(c, positive: list[Term]):
        """Title and number matches first (as Whoosh's field boosts), a whole number before
        one found inside a longer run. No ts_rank: without positions it is all but constant,
        and it would read every candidate's term vector (16 kB for a long procedure)."""
        score = literal(0)
        for t in positive:
            if t.field != "content":
                continue
            bc = t.found
            score = score + 4 * cast(_all(c.fnumber, bc), Integer)
            score = score + 2 * cast(_all(c.ftitle, bc), Integer)
            for need in t.needs:
                if need.whole:
                    whole = cast(literal(_quote(need.whole)), TSQUERY)
                    score = score + cast(c.terms.op("@@")(whole), Integer)
        return score

    def _scan(self, conn, terms, tsq, rules, window):
        c = self._candidates(tsq, rules)
        positive = [t for t in terms if not t.negate]
        stmt = (
            select(
                c.c.key,
                c.c.day,
                c.c.number,
                self._score(c.c, positive).label("score"),
                *[c.c[n] for n in FACETS],
                c.c.audience,
            )
            .where(*self._checks(c.c, terms))
            .limit(window + 1)  # one more than ranked: exactly ``window`` matches are all
        )
        rows = [r._asdict() for r in conn.execute(stmt)]
        return rows[:window], len(rows) <= window

    def search(self, plan: Plan, rules, facet_rules, *, sort, offset, limit, window) -> Hits:
        terms = neutral(plan)
        positive = [t for t in terms if not t.negate]
        if not positive:
            return Hits(0, True, [], {})
        tsq = cast(literal(_tsquery(terms)), TSQUERY)
        with db.engine.connect() as conn:
            hits, exact = self._scan(conn, terms, tsq, rules, window)
            # Scores are small integers, so ties are many: without a rule of its own the order of
            # equal hits is the order PostgreSQL happened to read them in, and page 2 could repeat
            # a hit of page 1. Equal hits go in number order (then key); the sorts are stable.
            hits.sort(key=lambda h: (h["number"], h["key"]))
            if sort == "date":
                hits.sort(key=lambda h: (h["day"], h["score"]), reverse=True)
            else:
                hits.sort(key=lambda h: (h["score"], h["day"]), reverse=True)
            shown = hits[offset : offset + limit]
            full = {}
            if shown:
                cols = [c for c in T.c if c.name not in ("terms", "text", "ftitle", "fnumber")]
                stmt = select(*cols).where(T.c.key.in_([h["key"] for h in shown]))
                full = {r.key: r._asdict() for r in conn.execute(stmt)}
            rows = [full[h["key"]] | {"score": h["score"]} for h in shown if h["key"] in full]
            counted, counted_exact = hits, exact
            if facet_rules is not None:
                counted, counted_exact = self._scan(conn, terms, tsq, facet_rules, window)
        counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}
        for h in counted:
            for name in FACETS:
                c = counts[name]
                c[h[name]] = c.get(h[name], 0) + 1
        return Hits(len(hits), exact, rows, counts, counted_exact)

    # ------------------------------------------------------------ upkeep

    def exists(self) -> bool:
        return True

    def fingerprints(self) -> Iterator[tuple[str, str]]:
        with db.engine.connect() as conn:
            yield from conn.execute(select(T.c.key, T.c.fingerprint)).all()

    def put(self, entries, delete_groups=()) -> int:
        with db.engine.begin() as conn:
            groups = sorted(set(delete_groups))
            if groups:
                conn.execute(delete(T).where(T.c.grp.in_(groups)))
            return insert_entries(conn, entries)

    def remove(self, keys) -> None:
        keys = list(keys)
        if keys:
            with db.engine.begin() as conn:
                conn.execute(delete(T).where(T.c.key.in_(keys)))

    def repair(self, groups: Iterable[str], extra_keys: Iterable[str]) -> None:
        with Session(db.engine) as s:
            conn = s.connection()
            keys = list(extra_keys)
            if keys:
                conn.execute(delete(T).where(T.c.key.in_(keys)))
            write_groups(conn, groups)
            s.commit()

    def count(self) -> int:
        with db.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(T)) or 0

    def size_bytes(self) -> int:
        with db.engine.connect() as conn:
            return conn.scalar(text("SELECT pg_total_relation_size('search_entry')")) or 0
