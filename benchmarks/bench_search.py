"""Search benchmark: build throughput, index size and query latency, Whoosh beside SQLite FTS5.

    .venv/bin/python benchmarks/bench_search.py [--records 100000] [--revisions 1000]

Generates the corpus of benchmarks/corpus.py, builds the app's Whoosh index through the app's
own engine (the same analyser, schema and bulk path as `flask search reindex`), and the same
texts into an SQLite FTS5 table with the trigram tokenizer. Each query class is then timed
through the app's search service as a staff member sees it (role filter, ranking window,
highlighted fragments of the top 10), and through FTS5 (ranked top 10 with snippets).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import corpus  # noqa: E402

QUERIES = {
    "single term": ["派工", "回访", "投诉", "压缩机", "满意", "售货机", "故障", "培训"],
    "two-term AND": [
        "客户 投诉",
        "回访 满意",
        "压缩机 更换",
        "派工单 技术员",
        "空调 漏水",
        "售后 培训",
        "冰箱 异响",
        "宁波 热水器",
    ],
    "phrase": [
        '"客户投诉"',
        '"故障排除"',
        '"当日回访"',
        '"更换主控板"',
        '"满意度调查"',
        '"服务质量"',
        '"旧件交回仓库"',
        '"二次上门"',
    ],
    "document number": ["XX-SP-20", "GB/T 27922", "27922", "XX-SP-07"],  # + record numbers
}


def entries(n_revisions: int, n_records: int):
    from docmgmt.search.engine import Entry

    for r in corpus.revisions(n_revisions):
        yield Entry(
            key=r["key"],
            kind="revision",
            group=r["group"],
            number=r["number"],
            title=r["title"],
            content=f"{r['number']} {r['version']} {r['title']}\n{r['summary']}\n{r['body']}",
            doc_type="procedure",
            department=r["department"],
            state=r["state"],
            audience="all" if r["state"] == "effective" else "history",
            day=r["day"],
            meta={"version": r["version"]},
        )
    # A rebuild writes the newest records first, so the ranking window holds the newest.
    recs = sorted(corpus.records(n_records), key=lambda r: r["day"], reverse=True)
    for r in recs:
        yield Entry(
            key=r["key"],
            kind="record",
            group=r["group"],
            number=r["number"],
            title=r["title"],
            content=f"{r['number']} {r['title']}\n{r['body']}",
            doc_type=r["type"],
            department=r["department"],
            state="filed",
            day=r["day"],
        )


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]


def fts_query(conn, text):
    """Ranked top 10 with snippets; trigram needs 3 characters, shorter terms fall back to LIKE."""
    terms = [t.strip('"') for t in text.split()] if not text.startswith('"') else [text.strip('"')]
    if all(len(t) >= 3 for t in terms):
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
        sql = (
            "SELECT rowid, number, snippet(fts, 2, '<mark>', '</mark>', '…', 24) FROM fts "
            "WHERE fts MATCH ? ORDER BY rank LIMIT 10"
        )
        return conn.execute(sql, (match,)).fetchall()
    where = " AND ".join("content LIKE ?" for _ in terms)
    sql = f"SELECT rowid, number, substr(content, 1, 80) FROM fts WHERE {where} LIMIT 10"
    return conn.execute(sql, [f"%{t}%" for t in terms]).fetchall()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--revisions", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--window", type=int, default=None, help="SEARCH_WINDOW (default: setting)")
    ap.add_argument("--workdir", help="keep the corpus here; reuse what an earlier run built")
    args = ap.parse_args()

    from flask_migrate import upgrade

    from docmgmt import create_app, search
    from docmgmt.auth import operations as auth_ops
    from docmgmt.extensions import db

    tmp = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-search-"))
    tmp.mkdir(parents=True, exist_ok=True)
    reuse = (tmp / "built").exists()
    app = create_app(
        {
            **({"SEARCH_WINDOW": args.window} if args.window else {}),
            "ENV_NAME": "development",  # a local run with the development key
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'app.sqlite3'}",
            "STORAGE_DIR": str(tmp / "storage"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "BABEL_DEFAULT_LOCALE": "en",
        }
    )
    record_numbers = [r["number"] for i, r in enumerate(corpus.records(300)) if i % 100 == 7]
    queries = dict(QUERIES)
    queries["document number"] = QUERIES["document number"] + record_numbers
    print(f"corpus: {args.revisions} revisions (2-6k chars) + {args.records} records")

    with app.app_context():
        import logging

        from sqlalchemy import select

        from docmgmt.auth.models import User

        logging.getLogger("alembic").setLevel(logging.WARNING)
        upgrade(revision="heads")
        staff = db.session.scalar(select(User).where(User.username == "bench"))
        if staff is None:
            staff = auth_ops.create_user(None, "bench", "Bench", "bench-pass-1", ["staff"])
            db.session.commit()
        eng = search.engine()
        fts_path = tmp / "fts.sqlite3"
        if reuse:
            print(f"reusing the index and the FTS5 table in {tmp}: {eng.count()} entries")
        else:
            build_both(eng, fts_path, args)
            (tmp / "built").touch()
        run_queries(search, staff, sqlite3.connect(fts_path), queries, args)
    print(f"\n(files in {tmp}; delete when done)")


def build_both(eng, fts_path, args) -> None:
    total = args.revisions + args.records
    eng.create()
    t0 = time.perf_counter()
    n = eng.bulk_load(entries(args.revisions, args.records))
    build = time.perf_counter() - t0
    print(
        f"whoosh build: {n} entries in {build:.1f} s = {n / build:.0f} entries/s, "
        f"index {eng.size_bytes() / 1e6:.0f} MB"
    )
    conn = sqlite3.connect(fts_path)
    conn.execute("CREATE VIRTUAL TABLE fts USING fts5(number, title, content, tokenize='trigram')")
    t0 = time.perf_counter()
    with conn:
        conn.executemany(
            "INSERT INTO fts(number, title, content) VALUES (?, ?, ?)",
            ((e.number, e.title, e.content) for e in entries(args.revisions, args.records)),
        )
    fts_build = time.perf_counter() - t0
    print(
        f"fts5 build: {total} rows in {fts_build:.1f} s = {total / fts_build:.0f} rows/s, "
        f"file {fts_path.stat().st_size / 1e6:.0f} MB"
    )
    conn.close()


def run_queries(search, staff, conn, queries, args) -> None:
    # First query on a cold searcher (files opened, caches empty).
    t0 = time.perf_counter()
    search.search(staff, "派工单")
    print(f"whoosh first query after opening: {(time.perf_counter() - t0) * 1000:.0f} ms")
    print()
    print("| query class | whoosh median | whoosh p95 | fts5 median | fts5 p95 | whoosh results |")
    print("|---|---|---|---|---|---|")
    for cls, qs in queries.items():
        wt, ft, totals = [], [], []
        for q in qs:  # warm each query once
            search.search(staff, q)
            fts_query(conn, q)
        for _ in range(args.repeat):
            for q in qs:
                t0 = time.perf_counter()
                page = search.search(staff, q)
                [str(h.fragment) for h in page.hits]
                wt.append((time.perf_counter() - t0) * 1000)
                totals.append(f"{page.total}{'' if page.exact else '+'}")
                t0 = time.perf_counter()
                fts_query(conn, q)
                ft.append((time.perf_counter() - t0) * 1000)
        shown = ", ".join(totals[: len(qs)][:4])
        print(
            f"| {cls} | {statistics.median(wt):.1f} ms | {pct(wt, 95):.1f} ms | "
            f"{statistics.median(ft):.1f} ms | {pct(ft, 95):.1f} ms | {shown} … |"
        )
    print()
    print("per query (whoosh median ms, fts5 median ms):")
    for cls, qs in queries.items():
        for q in qs:
            w, f = [], []
            for _ in range(3):
                t0 = time.perf_counter()
                search.search(staff, q)
                w.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                fts_query(conn, q)
                f.append((time.perf_counter() - t0) * 1000)
            print(f"  {cls:16} {q:20} {statistics.median(w):7.1f} {statistics.median(f):7.1f}")


if __name__ == "__main__":
    main()
