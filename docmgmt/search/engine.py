"""The Whoosh index behind a small interface (``Engine``): put, delete, query, list.

Nothing outside this module imports Whoosh, so a server engine (OpenSearch, PostgreSQL's own
full-text search) can replace it for a large deployment by implementing the same methods.

One index holds every kind of entry (document revisions today; records and training entries
as they arrive). Every entry is a flat dict (see :class:`Entry`); ``content`` is the text that
is matched and highlighted, ``title`` and ``number`` also rank on their own.

Lean by construction:

- **No private copy of the index per process.** Whoosh's default storage opens each file of a
  compound segment as ``BufferFile(memoryview(mmap)[…])``, which copies the file into a
  ``BytesIO``: every process that has searched a 948 MB index held about 1 GB of private
  memory. The index is opened without mmap and read with ``os.pread`` from its files (one
  handle per file, shared by the segment's readers and threads): the operating system's page
  cache holds the index once for every worker. Segments are
  written non-compound (no copy of every segment into one file at commit).
- **A rebuild in parallel segments, no giant sort.** ``rebuild``/``bulk_load`` cut the entries
  into chunks of ``CHUNK`` entries; each chunk becomes its own segment, sorted in memory by a
  worker process (``procs``), so there are no multi-gigabyte pool run files and the CPU cores
  share the work. One commit under the write lock then replaces (or extends) the segment list:
  searches keep answering from the old index until that moment.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import sys
import threading
import time
import weakref
from array import array
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as windex
from whoosh import query as Q
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, NUMERIC, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import LockError
from whoosh.writing import IndexWriter, SegmentWriter

from docmgmt.search.analysis import analyzer, fold

INDEX_NAME = "docmgmt"
SCHEMA_VERSION = 3  # bump when the schema or the analysis changes: the index is rebuilt
CHUNK = 12_000  # entries per segment of a rebuild (sorted in memory by one worker)
CHUNK_LIMITMB = 384  # a worker's in-memory posting pool before it spills to disk


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


class _PreadFile(StructFile):
    """An index file read with ``os.pread``: reads at a position share no file offset, so the
    threads of one worker may search through the same open file at once (Whoosh's own
    ``get`` is a seek and a read), and each is one system call."""

    def __init__(self, fileobj, name=None, **kwargs):
        super().__init__(fileobj, name=name, **kwargs)
        self._fd = fileobj.fileno()

    def get(self, position: int, length: int) -> bytes:
        return os.pread(self._fd, length, position)

    def get_array(self, position: int, typecode: str, length: int):
        a = array(typecode)
        a.frombytes(os.pread(self._fd, length * a.itemsize, position))
        if sys.byteorder == "little":
            a.byteswap()
        return a


class _Storage(FileStorage):
    """The index folder, its files opened for positional reads, never mapped into memory."""

    def open_file(self, name, **kwargs):
        return _PreadFile(open(self._fpath(name), "rb"), name=name, **kwargs)  # noqa: SIM115


def open_index(path: str | Path):
    """The index, read without mmap: no per-process copy of its files (see the module doc)."""
    return _Storage(str(path), supports_mmap=False).open_index(INDEX_NAME)


def _column(searcher, reader, name: str):
    """A column reader of one segment, made once per searcher: making one reads the column's
    table of offsets (for the ``text`` column, 8 bytes per entry), which per query and
    segment cost more than the search itself."""
    cache = searcher.__dict__.setdefault("_docmgmt_columns", {})
    key = (id(reader), name)
    if key not in cache:
        cache[key] = reader.column_reader(name)
    return cache[key]


def _closing(searcher):
    """The searcher, whose open files are closed once nobody uses it any more (the index is
    read through plain file handles, see the module doc)."""
    weakref.finalize(searcher, _close_reader, searcher.ixreader)
    return searcher


def _close_reader(reader) -> None:
    if not getattr(reader, "is_closed", False):
        with contextlib.suppress(Exception):  # already closed by Engine.close
            reader.close()


def build_procs() -> int:
    """Worker processes for a rebuild when not told: one per CPU core, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def _report(pending, reported: int, progress) -> int:
    """Tell ``progress`` of the chunks finished, in order, not yet told; returns how many are."""
    while reported < len(pending) and pending[reported][0].done():
        if progress:
            progress(pending[reported][1])
        reported += 1
    return reported


class _ChunkWriter(SegmentWriter):
    """A segment writer that keeps each document's field lengths in memory for the flush.

    Whoosh's flush looks up the length of the document of every posting (for the ranking
    statistics of each block) by reading the segment's length column back from the file, a
    seek and a read per posting: about an eighth of a rebuild's CPU. The lengths are the
    same bytes, remembered as they are written."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from whoosh.util.numeric import byte_to_length, length_to_byte

        pdw = self.perdocwriter
        write = pdw.add_field
        self._lengths: dict[str, dict[int, int]] = {}

        def add_field(fieldname, fieldobj, value, length):
            if length:
                self._lengths.setdefault(fieldname, {})[pdw._docnum] = byte_to_length(
                    length_to_byte(length)
                )
            write(fieldname, fieldobj, value, length)

        pdw.add_field = add_field

    def _flush_segment(self):
        self.perdocwriter.close()
        lengths = self._lengths

        class Lengths:
            @staticmethod
            def doc_field_length_reader(fieldname, default=0):
                return lengths.get(fieldname, {}).get

        self.fieldwriter.add_postings(self.schema, Lengths, self.pool.iter_postings())
        self.fieldwriter.close()


def _write_segment(path: str, chunk: list[Entry]):
    """One chunk of entries as a new segment of the index at ``path`` (not yet in its list).

    The pool's run files (if a chunk ever outgrows ``CHUNK_LIMITMB``) go to a folder of this
    writer's own: Whoosh's default temporary folder is shared and removed by whichever writer
    finishes first."""
    from whoosh.util import random_name
    from whoosh.writing import PostingPool

    w = _ChunkWriter(open_index(path), _lk=False, limitmb=CHUNK_LIMITMB, compound=False)
    w._tempstorage = w.storage.temp_storage(f"{INDEX_NAME}.{random_name()}.tmp")
    w.pool = PostingPool(w._tempstorage, w.newsegment, limitmb=CHUNK_LIMITMB)
    try:
        for e in chunk:
            w.add_document(**e.fields())
        segment = w._finalize_segment()
    except BaseException:
        w.cancel()
        raise
    w._finish()
    return segment


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
            self._ix = open_index(self.path)
        return self._ix

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
            self._searcher, self._ix = None, None

    def searcher(self):
        """A searcher kept open between queries and refreshed when another writer committed."""
        with self._lock:
            if self._searcher is None or not self._searcher.up_to_date():
                # A new searcher, not Searcher.refresh(): whoosh3's refresh can keep a segment
                # whose deletions changed, and fails on an empty index. The old one closes its
                # files when the last search using it lets go of it.
                self._searcher = _closing(self.ix().searcher())
            return self._searcher

    # ------------------------------------------------------------ writing
    def writer(self, timeout: float = 10.0, bulk: bool = False) -> IndexWriter:
        """The write lock, waited for up to ``timeout`` seconds (another worker may be writing)."""
        deadline = time.monotonic() + timeout
        kwargs = {"limitmb": 256} if bulk else {}
        while True:
            try:
                return self.ix().writer(timeout=0.0, compound=False, **kwargs)
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

    def bulk_load(self, entries: Iterable[Entry], progress=None, procs: int | None = None) -> int:
        """Add entries (no deletes, no uniqueness checks), in parallel segments, one commit."""
        return self._build(entries, progress, procs, replace=False)

    def rebuild(
        self, entries: Iterable[Entry], progress=None, procs: int | None = None, timeout=60.0
    ) -> int:
        """Replace everything in the index with ``entries``, in one commit at the end."""
        return self._build(entries, progress, procs, replace=True, timeout=timeout)

    def _build(self, entries, progress, procs, replace: bool, timeout: float = 60.0) -> int:
        """Entries in chunks of ``CHUNK``, each written as its own segment by a worker process
        (in this process when there is a single chunk or ``procs`` is 1), then one commit.

        The chunks come in the order the caller gives (newest records first); the segment list
        puts the first chunk last, because searches read the newest segments first."""
        procs = procs or build_procs()
        w = self.writer(timeout=timeout)  # held to the end: no other commit meanwhile
        pool = None
        try:
            it = iter(entries)
            segments, pending, n, reported = [], [], 0, 0
            while True:
                chunk = list(itertools.islice(it, CHUNK))
                if not chunk:
                    break
                n += len(chunk)
                if pool is None and (procs <= 1 or len(chunk) < CHUNK):
                    segments.append(_write_segment(str(self.path), chunk))
                else:
                    if pool is None:
                        import multiprocessing

                        pool = ProcessPoolExecutor(
                            procs, mp_context=multiprocessing.get_context("spawn")
                        )
                    # One chunk queued beyond the busy workers, so none waits while this
                    # process reads the next chunk; no more, to bound memory.
                    while sum(not f.done() for f, _k in pending) > procs:
                        wait([f for f, _k in pending if not f.done()], return_when=FIRST_COMPLETED)
                        reported = _report(pending, reported, progress)
                    pending.append((pool.submit(_write_segment, str(self.path), chunk), len(chunk)))
                    continue
                if progress:
                    progress(len(chunk))
            for i, (f, k) in enumerate(pending):
                segments.append(f.result())
                if progress and i >= reported:
                    progress(k)
            keep = [] if replace else list(w.segments)
            w._close_segment()  # this writer's own (empty) segment is not kept
            w._commit_toc(keep + segments[::-1])
            w._finish()
        except BaseException:
            w.cancel()  # files of segments not in the index are cleaned at the next commit
            raise
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        return n

    # ------------------------------------------------------------ reading
    def doc_frequency(self, fieldname: str, text: str) -> int:
        return self.searcher().doc_frequency(fieldname, text)

    def fingerprints(self, with_group: bool = False) -> Iterator[tuple]:
        """(key, fingerprint) of every entry; with ``with_group``, (key, fingerprint, group)."""
        s = self.searcher()
        for fields in s.all_stored_fields():
            if with_group:
                yield fields["key"], fields.get("fingerprint", ""), fields.get("group", "")
            else:
                yield fields["key"], fields.get("fingerprint", "")

    def count(self) -> int:
        return self.searcher().doc_count()

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.glob("*") if p.is_file())

    def scan(
        self, q: Q.Query, keep, window: int, contains=(), excludes=(), searcher=None
    ) -> tuple[list[tuple[float, int, dict]], bool]:
        """Matches of ``q`` that ``keep`` accepts, newest segment first, at most ``window``.

        Returns [(score, docnum, columns)] and whether the scan saw every match. ``keep`` reads
        the filter columns of each candidate, so role limits and filters apply while matching,
        before any ranking or paging; ``contains``/``excludes`` are exact checks of the text."""
        s = searcher if searcher is not None else self.searcher()
        out: list[tuple[float, int, dict]] = []
        check = bool(contains or excludes)
        for sub, offset in reversed(s.leaf_searchers()):
            reader = sub.reader()
            if reader.doc_count_all() == 0:  # an empty index has no columns to read
                continue
            m = q.matcher(sub, sub.context())
            cols = [(n, _column(s, reader, n)) for n in COLUMNS]
            tcol = _column(s, reader, "text") if check else None
            while m.is_active():
                d = m.id()
                # The exact check first: it turns away most of a number's candidates, each
                # for one read instead of one per column.
                if not check or self._text_ok(tcol[d], contains, excludes):
                    values = {n: c[d] for n, c in cols}
                    if keep(values):
                        if len(out) >= window:  # one more than ranked: not all are in
                            return out, False
                        out.append((m.score(), d + offset, values))
                m.next()
        return out, True

    def matching(self, q: Q.Query, entries: list[Entry], keep, contains=(), excludes=()) -> set:
        """Keys of ``entries`` (read from the database just now) that ``q`` matches and
        ``keep`` accepts, judged exactly as the index would: used for hits whose index entry
        is stale, so what is shown is what the database says today."""
        if not entries:
            return set()
        from whoosh.filedb.filestore import RamStorage

        ix = RamStorage().create_index(make_schema())
        w = ix.writer()
        for e in entries:
            w.add_document(**e.fields())
        w.commit()
        with ix.searcher() as s:
            found, _exact = self.scan(q, keep, len(entries), contains, excludes, searcher=s)
            return {s.stored_fields(d)["key"] for _score, d, _v in found}

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
