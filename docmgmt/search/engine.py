"""The Whoosh index behind a small interface (``Engine``): put, delete, query, list.

Nothing outside this module imports Whoosh, so a server engine (OpenSearch, PostgreSQL's own
full-text search) can replace it for a large deployment by implementing the same methods.

One index holds every kind of entry (document revisions today; records and training entries
as they arrive). Every entry is a flat dict (see :class:`Entry`); ``content`` is the text that
is matched and highlighted, ``title`` and ``number`` also rank on their own.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as windex
from whoosh import query as Q
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, NUMERIC, STORED, TEXT, Schema
from whoosh.index import LockError
from whoosh.writing import IndexWriter

from docmgmt.search.analysis import analyzer, fold

INDEX_NAME = "docmgmt"
SCHEMA_VERSION = 3  # bump when the schema or the analysis changes: the index is rebuilt


def make_schema() -> Schema:
    ana = analyzer()
    return Schema(
        key=ID(unique=True, stored=True),
        kind=ID(stored=True, sortable=True),
        group=ID(stored=True),
        number=TEXT(analyzer=ana, stored=True, field_boost=4.0),
        title=TEXT(analyzer=ana, stored=True, field_boost=2.0),
        content=TEXT(analyzer=ana, stored=True),
        doc_type=ID(stored=True, sortable=True),
        department=ID(stored=True, sortable=True),
        state=ID(stored=True, sortable=True),
        audience=ID(
            stored=True, sortable=True
        ),  # "all": anybody who may search; "history": QM/auditor
        day=NUMERIC(int, bits=32, stored=True, sortable=True, signed=False),
        meta=STORED,
        fingerprint=STORED,
        # Folded, lower-cased content as UTF-8, read per candidate for exact substring checks.
        text=COLUMN(VarBytesColumn()),
    )


FACETS = ("kind", "doc_type", "department", "state")
COLUMNS = FACETS + ("audience", "day")


@dataclass
class Entry:
    key: str
    kind: str
    group: str
    number: str
    title: str
    content: str
    doc_type: str = ""
    department: str = ""
    state: str = ""
    audience: str = "all"
    day: int = 0  # yyyymmdd, the date results sort by
    meta: dict = field(default_factory=dict)

    def fields(self) -> dict:
        d = {
            "key": self.key,
            "kind": self.kind,
            "group": self.group,
            "number": self.number,
            "title": self.title,
            "content": self.content,
            "doc_type": self.doc_type,
            "department": self.department,
            "state": self.state,
            "audience": self.audience,
            "day": self.day,
            "meta": self.meta,
        }
        d["fingerprint"] = fingerprint(d)
        d["text"] = " ".join(fold(self.content).lower().split()).encode()
        return d


def fingerprint(d: dict) -> str:
    # The analysis version too: after a change of analysis every entry reads as stale, so
    # `search check --fix` rebuilds them (on either engine).
    body = {k: v for k, v in d.items() if k != "fingerprint"} | {"_analysis": SCHEMA_VERSION}
    return hashlib.sha1(
        json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def _has(text: bytes, needle) -> bool:
    """A substring (bytes) or a compiled pattern (numbers, separators optional: query.latin)."""
    return needle in text if isinstance(needle, bytes) else needle.search(text) is not None


class IndexBusy(Exception):
    """Another process holds the write lock for longer than we are prepared to wait."""


@dataclass
class Hits:
    total: int
    exact: bool
    rows: list[dict]
    facets: dict[str, dict[str, int]]
    facets_exact: bool = True


class Engine:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._ix = None
        self._searcher = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------ lifecycle
    def _version_file(self) -> Path:
        return self.path / "SCHEMA_VERSION"

    def exists(self) -> bool:
        return (
            windex.exists_in(str(self.path), indexname=INDEX_NAME)
            and self._version_file().exists()
            and self._version_file().read_text().strip() == str(SCHEMA_VERSION)
        )

    def create(self) -> None:
        """A new, empty index (replacing any index of an older schema)."""
        self.close()
        self.path.mkdir(parents=True, exist_ok=True)
        windex.create_in(str(self.path), make_schema(), indexname=INDEX_NAME)
        self._version_file().write_text(str(SCHEMA_VERSION))

    def ix(self):
        if self._ix is None:
            if not self.exists():
                self.create()
            self._ix = windex.open_dir(str(self.path), indexname=INDEX_NAME)
        return self._ix

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
            self._searcher, self._ix = None, None

    def searcher(self):
        """A searcher kept open between queries and refreshed when another writer committed."""
        with self._lock:
            if self._searcher is None:
                self._searcher = self.ix().searcher()
            elif not self._searcher.up_to_date():
                # A new searcher, not Searcher.refresh(): whoosh3's refresh can keep a segment
                # whose deletions changed, and fails on an empty index. The old one closes when
                # the last search using it lets go of it.
                self._searcher = self.ix().searcher()
            return self._searcher

    # ------------------------------------------------------------ writing
    def writer(self, timeout: float = 10.0, bulk: bool = False) -> IndexWriter:
        """The write lock, waited for up to ``timeout`` seconds (another worker may be writing)."""
        deadline = time.monotonic() + timeout
        kwargs = {"limitmb": 256} if bulk else {}
        while True:
            try:
                return self.ix().writer(timeout=0.0, **kwargs)
            except LockError:
                if time.monotonic() >= deadline:
                    raise IndexBusy() from None
                time.sleep(0.05)

    def apply(
        self, puts: Iterable[Entry], delete_groups: Iterable[str] = (), timeout: float = 10.0
    ) -> int:
        """Replace whole groups: delete every entry of each group, then add ``puts``."""
        w = self.writer(timeout=timeout)
        n = 0
        try:
            for g in delete_groups:
                w.delete_by_term("group", g)
            for e in puts:
                w.update_document(**e.fields())
                n += 1
        except BaseException:
            w.cancel()
            raise
        w.commit()
        return n

    def bulk_load(self, entries: Iterable[Entry], progress=None) -> int:
        """Add entries to an index just created (no deletes, no uniqueness checks)."""
        w = self.writer(bulk=True)
        n = 0
        try:
            for e in entries:
                w.add_document(**e.fields())
                n += 1
                if progress:
                    progress(1)
        except BaseException:
            w.cancel()
            raise
        w.commit()
        return n

    # ------------------------------------------------------------ reading
    def doc_frequency(self, fieldname: str, text: str) -> int:
        return self.searcher().doc_frequency(fieldname, text)

    def fingerprints(self) -> Iterator[tuple[str, str]]:
        s = self.searcher()
        for fields in s.all_stored_fields():
            yield fields["key"], fields.get("fingerprint", "")

    def count(self) -> int:
        return self.searcher().doc_count()

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.glob("*") if p.is_file())

    def scan(
        self, q: Q.Query, keep, window: int, contains=(), excludes=()
    ) -> tuple[list[tuple[float, int, dict]], bool]:
        """Matches of ``q`` that ``keep`` accepts, newest segment first, at most ``window``.

        Returns [(score, docnum, columns)] and whether the scan saw every match. ``keep`` reads
        the filter columns of each candidate, so role limits and filters apply while matching,
        before any ranking or paging; ``contains``/``excludes`` are exact checks of the text."""
        s = self.searcher()
        out: list[tuple[float, int, dict]] = []
        check = bool(contains or excludes)
        for sub, offset in reversed(s.leaf_searchers()):
            reader = sub.reader()
            if reader.doc_count_all() == 0:  # an empty index has no columns to read
                continue
            m = q.matcher(sub, sub.context())
            cols = [(n, reader.column_reader(n)) for n in COLUMNS]
            tcol = reader.column_reader("text") if check else None
            while m.is_active():
                d = m.id()
                values = {n: c[d] for n, c in cols}
                if keep(values) and (not check or self._text_ok(tcol[d], contains, excludes)):
                    out.append((m.score(), d + offset, values))
                    if len(out) >= window:
                        return out, False
                m.next()
        return out, True

    @staticmethod
    def _text_ok(text: bytes, contains, excludes) -> bool:
        return all(_has(text, n) for n in contains) and not any(_has(text, n) for n in excludes)

    def run(
        self,
        q: Q.Query,
        *,
        keep,
        keep_for_facets=None,
        sort: str = "relevance",
        offset: int = 0,
        limit: int = 10,
        window: int = 1000,
        contains=(),
        excludes=(),
    ) -> Hits:
        """One page of results, the total and counts per facet.

        Whoosh is pure Python: ranking every one of 100,000 matches of a common word takes
        seconds. So the scan stops after ``window`` matches (newest segments first, and a full
        rebuild writes the newest entries first); ranking, sorting, paging and counts work on
        that window, and ``exact`` says whether it held every match. Narrowing the query or a
        filter brings the rest into view."""
        hits, exact = self.scan(q, keep, window, contains, excludes)
        if sort == "date":
            hits.sort(key=lambda h: (h[2]["day"], h[0]), reverse=True)
        else:
            hits.sort(key=lambda h: (h[0], h[2]["day"]), reverse=True)
        s = self.searcher()
        rows = [
            dict(s.stored_fields(docnum)) | {"score": score}
            for score, docnum, _v in hits[offset : offset + limit]
        ]
        counted, counted_exact = hits, exact
        if keep_for_facets is not None:
            counted, counted_exact = self.scan(q, keep_for_facets, window, contains, excludes)
        counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}
        for _score, _d, values in counted:
            for name in FACETS:
                c = counts[name]
                c[values[name]] = c.get(values[name], 0) + 1
        return Hits(
            total=len(hits), exact=exact, rows=rows, facets=counts, facets_exact=counted_exact
        )
