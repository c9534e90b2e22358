"""Search benchmark: both engines beside SQLite FTS5 (trigram), on one corpus, in one run.

    .venv/bin/python benchmarks/bench_search.py [--records 100000] [--revisions 1000]
        [--pg-url postgresql://user:pass@host/db] [--engines whoosh,postgres,fts5]

Generates the corpus of benchmarks/corpus.py and builds it three times: the Whoosh index
through the app's engine (the analyser, schema and bulk path of `flask search reindex`); the
PostgreSQL engine's table (``search_entry`` in schema ``--pg-schema`` of the database of
``--pg-url`` or $BENCH_DATABASE_URL, created and emptied here; skipped without a URL; not a
test database: tests/main/test_backup.py dumps and restores a whole database); an
SQLite FTS5 table with the trigram tokenizer. Each engine is then searched in a fresh process
of its own, so its resident memory (RSS) is its own: the first query of that process (cold),
then every query class through the app's search service as a staff member sees it (role
filter, ranking window, highlighted fragments of the top 10); FTS5 as ranked top 10 with
snippets (a scan with instr() for terms under three characters, which trigram cannot
index). Hit counts are of everything that matches (quality manager with history, unlimited
window) beside FTS5's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import corpus  # noqa: E402

QUERIES = {
    "2-char": ["派工", "回访", "投诉", "满意", "故障", "培训", "空调", "冰箱"],
    "3-4 char": [
        "压缩机",
        "售货机",
        "派工单",
        "热水器",
        "服务质量",
        "回访记录",
        "主控板",
        "客户投诉",
    ],
    "substring": ["工单号", "务质", "控板", "访记", "户投", "修人", "冷媒", "水不畅"],
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
    "glued number": ["7922-201", "SP-02", "T27922"],  # + parts of record numbers
}
ENGINES = ("whoosh", "postgres", "fts5")


def queries() -> dict[str, list[str]]:
    picked = [r for i, r in enumerate(corpus.records(300)) if i % 100 == 7]
    out = {k: list(v) for k, v in QUERIES.items()}
    out["document number"] += [r["number"] for r in picked]
    out["glued number"] += [r["number"][6:14] for r in picked]  # "2303-000" of PG-202303-000107
    out["glued number"] += ["J-" + r["number"][-6:-1] for r in picked]  # BJ-000107 begins so
    return out


def entries(n_revisions: int, n_records: int):
    return corpus.search_entries(n_revisions, n_records)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ------------------------------------------------------------------ apps


def make_app(engine: str, tmp: Path, args):
    from docmgmt import create_app

    config = {
        "ENV_NAME": "development",  # a local run with the development key
        "STORAGE_DIR": str(tmp / "storage"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "BABEL_DEFAULT_LOCALE": "en",
        "SEARCH_BACKEND": engine,
        # The corpus is indexed without rows behind it: the page-of-hits check against the
        # database (docmgmt/search/service.verified) would drop every hit.
        "SEARCH_VERIFY_HITS": False,
        **({"SEARCH_WINDOW": args.window} if args.window else {}),
    }
    if engine == "postgres":
        url = args.pg_url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        config["SQLALCHEMY_DATABASE_URI"] = url
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "connect_args": {"options": f"-csearch_path={args.pg_schema}"}
        }
    else:
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp / 'app.sqlite3'}"
    return create_app(config)


def prepare(app, engine: str, args):
    """Migrated schema and the two searching users; returns (staff, quality manager)."""
    import logging

    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from docmgmt.auth import operations as auth_ops
    from docmgmt.auth.models import User
    from docmgmt.extensions import db

    logging.getLogger("alembic").setLevel(logging.WARNING)
    if engine == "postgres":
        with db.engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{args.pg_schema}"'))
    upgrade(revision="heads")
    users = []
    for name, role in (("bench", "staff"), ("benchqm", "quality_manager")):
        u = db.session.scalar(select(User).where(User.username == name))
        if u is None:
            u = auth_ops.create_user(None, name, name.title(), "bench-pass-1", [role])
            db.session.commit()
        users.append(u)
    return users


# ------------------------------------------------------------------ building


def build(engine: str, tmp: Path, args) -> dict:
    if engine == "fts5":
        return build_fts(tmp / "fts.sqlite3", args)
    from docmgmt import search

    app = make_app(engine, tmp, args)
    with app.app_context():
        prepare(app, engine, args)
        t0 = time.perf_counter()
        if engine == "whoosh":
            eng = search.engine()
            eng.create()
            n = eng.bulk_load(entries(args.revisions, args.records))
        else:
            from docmgmt.search import pg

            n = pg.bulk_load(entries(args.revisions, args.records))
        seconds = time.perf_counter() - t0
        size = search.backend().size_bytes()
    return {"entries": n, "seconds": seconds, "bytes": size}


def build_fts(path: Path, args) -> dict:
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE VIRTUAL TABLE fts USING fts5(number, title, content, tokenize='trigram')")
    t0 = time.perf_counter()
    with conn:
        conn.executemany(
            "INSERT INTO fts(number, title, content) VALUES (?, ?, ?)",
            ((e.number, e.title, e.content) for e in entries(args.revisions, args.records)),
        )
    seconds = time.perf_counter() - t0
    conn.close()
    return {
        "entries": args.revisions + args.records,
        "seconds": seconds,
        "bytes": path.stat().st_size,
    }


# ------------------------------------------------------------------ searching (own process)


def fts_terms(text: str) -> list[str]:
    return [text.strip('"')] if text.startswith('"') else text.split()


def fts_query(conn, text):
    """Ranked top 10 with snippets; trigram needs 3 characters, shorter terms: a scan."""
    terms = fts_terms(text)
    if all(len(t) >= 3 for t in terms):
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
        sql = (
            "SELECT rowid, number, snippet(fts, 2, '<mark>', '</mark>', '…', 24) FROM fts "
            "WHERE fts MATCH ? ORDER BY rank LIMIT 10"
        )
        return conn.execute(sql, (match,)).fetchall()
    # instr(), not LIKE: FTS5 takes LIKE over and finds nothing under three characters.
    where = " AND ".join("instr(content, ?) > 0" for _ in terms)
    sql = f"SELECT rowid, number, substr(content, 1, 80) FROM fts WHERE {where} LIMIT 10"
    return conn.execute(sql, terms).fetchall()


def fts_count(conn, text) -> int:
    terms = fts_terms(text)
    if all(len(t) >= 3 for t in terms):
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
        return conn.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (match,)).fetchone()[0]
    where = " AND ".join("instr(content, ?) > 0" for _ in terms)
    return conn.execute(f"SELECT count(*) FROM fts WHERE {where}", terms).fetchone()[0]


# Both engines find a number written with other separators, or none, between its parts
# (GB/T27922 ~ GB/T 27922, XX-SP-20 ~ XX SP 20: up to three ASCII separators or spaces, the
# rule of docmgmt/search/query.py); FTS5 takes the query literally. For the number classes
# the FTS5 count under that same rule is computed too (a scan of its content), and the
# engines are compared with it.
NUMBER_CLASSES = ("document number", "glued number")
_SEP = r"[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]{0,3}"
_FULL = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def same_rule(q: str) -> list[re.Pattern]:
    """One pattern per term of ``q``: its letter/digit parts with optional separators."""
    out = []
    for term in fts_terms(q.translate(_FULL).lower()):
        pieces = re.findall(r"[0-9]+|[a-z]+|[^0-9a-z]+", term)
        body = ""
        for i, piece in enumerate(pieces):
            if re.fullmatch(r"[0-9a-z]+", piece):
                if i and re.fullmatch(r"[0-9a-z]+", pieces[i - 1]):
                    body += _SEP  # a letter/digit boundary: T27922 ~ T 27922
                body += piece
            elif 0 < i < len(pieces) - 1 and re.fullmatch(r"[\x20-\x7e]+", piece):
                body += _SEP  # separators between two parts: any, or none
            else:
                body += re.escape(piece)
        out.append(re.compile(body))
    return out


def same_rule_counts(conn, qs) -> list[int]:
    texts = [
        " ".join(c.translate(_FULL).lower().split())
        for (c,) in conn.execute("SELECT content FROM fts")
    ]
    counts = []
    for q in qs:
        pats = same_rule(q)
        counts.append(sum(1 for t in texts if all(p.search(t) for p in pats)))
    return counts


def search_phase(engine: str, tmp: Path, args) -> dict:
    """Run in a process of its own: cold first query, RSS, latency and counts per class."""
    qs = queries()
    out: dict = {"rss_start_mb": rss_mb(), "classes": {}, "counts": {}}
    if engine == "fts5":
        conn = sqlite3.connect(tmp / "fts.sqlite3")
        run = lambda q: fts_query(conn, q)  # noqa: E731
        count = lambda q: fts_count(conn, q)  # noqa: E731
        t0 = time.perf_counter()
        run("派工单")
        out["cold_ms"] = (time.perf_counter() - t0) * 1000
        out = _measure(out, qs, run, count, args)
        out["same_rule"] = {c: same_rule_counts(conn, qs[c]) for c in NUMBER_CLASSES}
        return out

    from docmgmt.search.service import Filters, search

    app = make_app(engine, tmp, args)
    with app.app_context():
        staff, qm = prepare(app, engine, args)
        out["rss_start_mb"] = rss_mb()
        t0 = time.perf_counter()
        page = search(staff, "派工单")
        [str(h.fragment) for h in page.hits]
        out["cold_ms"] = (time.perf_counter() - t0) * 1000

        def run(q):
            page = search(staff, q)
            return [str(h.fragment) for h in page.hits]  # highlights are part of the work

        def count(q):
            page = search(qm, q, Filters(history=True), facets=False, window=10**7)
            return page.total

        return _measure(out, qs, run, count, args)


def _measure(out, qs, run, count, args) -> dict:
    for cls, items in qs.items():
        for q in items:  # warm each query once
            run(q)
        times, cpu = [], []
        for _ in range(args.repeat):
            for q in items:
                t0, c0 = time.perf_counter(), time.process_time()
                run(q)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
        out["classes"][cls] = {
            "median": statistics.median(times),
            "p95": pct(times, 95),
            "cpu_median": statistics.median(cpu),
            "cpu_p95": pct(cpu, 95),
        }
    out["rss_end_mb"] = rss_mb()
    for cls, items in qs.items():
        out["counts"][cls] = [count(q) for q in items]
    return out


# ------------------------------------------------------------------ the run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--revisions", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--window", type=int, default=None, help="SEARCH_WINDOW (default: setting)")
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    ap.add_argument("--pg-schema", default="bench_search", help="created and emptied here")
    # (drop it afterwards: DROP SCHEMA bench_search CASCADE)
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--workdir", help="keep the corpus here; reuse what an earlier run built")
    ap.add_argument("--search-only", help=argparse.SUPPRESS)  # the child process of one engine
    args = ap.parse_args()
    tmp = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-search-"))
    tmp.mkdir(parents=True, exist_ok=True)

    if args.search_only:
        print(json.dumps(search_phase(args.search_only, tmp, args)))
        return

    engines = [e for e in args.engines.split(",") if e]
    if "postgres" in engines and not args.pg_url:
        print("postgres: skipped (give --pg-url or BENCH_DATABASE_URL)")
        engines.remove("postgres")
    print(
        f"corpus: {args.revisions} revisions (2-6k chars) + {args.records} records; "
        f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    built = {}
    marker = tmp / f"built-{args.revisions}-{args.records}.json"
    if marker.exists():
        built = json.loads(marker.read_text())
    for e in engines:
        if e not in built:
            built[e] = build(e, tmp, args)
            marker.write_text(json.dumps(built))
        b = built[e]
        print(
            f"{e:8} build: {b['entries']} entries in {b['seconds']:.1f} s "
            f"({b['entries'] / b['seconds']:.0f}/s), size {b['bytes'] / 1e6:.0f} MB"
        )
    results = {}
    for e in engines:
        cmd = [sys.executable, __file__, "--search-only", e, "--workdir", str(tmp)]
        for flag in ("records", "revisions", "repeat", "window", "pg_url", "pg_schema"):
            value = getattr(args, flag)
            if value not in (None, ""):
                cmd += ["--" + flag.replace("_", "-"), str(value)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            print(f"{e}: search phase failed\n{proc.stderr[-3000:]}")
            continue
        results[e] = json.loads(proc.stdout.strip().splitlines()[-1])
    report(engines, built, results)
    print(f"\n(files in {tmp}; delete when done; load now {os.getloadavg()[0]:.1f})")


def report(engines, built, results) -> None:
    shown = [e for e in engines if e in results]
    print()
    print("| | " + " | ".join(shown) + " |")
    print("|---|" + "---|" * len(shown))
    print("| build | " + " | ".join(f"{built[e]['seconds']:.1f} s" for e in shown) + " |")
    print("| size | " + " | ".join(f"{built[e]['bytes'] / 1e6:.0f} MB" for e in shown) + " |")
    print(
        "| RSS before → after searching | "
        + " | ".join(
            f"{results[e]['rss_start_mb']:.0f} → {results[e]['rss_end_mb']:.0f} MB" for e in shown
        )
        + " |"
    )
    print(
        "| first query (cold) | "
        + " | ".join(f"{results[e]['cold_ms']:.0f} ms" for e in shown)
        + " |"
    )
    print()
    print("median / p95 per query class, top 10 with highlights:")
    print()
    print("| query class | " + " | ".join(shown) + " |")
    print("|---|" + "---|" * len(shown))
    classes = list(results[shown[0]]["classes"]) if shown else []
    for cls in classes:
        cells = []
        for e in shown:
            c = results[e]["classes"][cls]
            cells.append(f"{c['median']:.1f} / {c['p95']:.1f} ms")
        print(f"| {cls} | " + " | ".join(cells) + " |")
    print()
    # On a shared machine the wall times above grow with its load; the CPU time of the
    # searching process does not (Whoosh and FTS5 search inside it; PostgreSQL's work is in
    # its server, so its column is the client's share only).
    print(f"CPU time of the searching process, median / p95 (load {os.getloadavg()[0]:.1f}):")
    print()
    print("| query class | " + " | ".join(shown) + " |")
    print("|---|" + "---|" * len(shown))
    for cls in classes:
        cells = []
        for e in shown:
            c = results[e]["classes"][cls]
            cells.append(f"{c['cpu_median']:.1f} / {c['cpu_p95']:.1f} ms")
        print(f"| {cls} | " + " | ".join(cells) + " |")
    print()
    print("hits per query (everything that matches), engine beside FTS5:")
    qs = queries()
    for cls in classes:
        diffs = []
        for i, q in enumerate(qs[cls]):
            counts = {e: results[e]["counts"][cls][i] for e in shown}
            line = "  ".join(f"{e} {c}" for e, c in counts.items())
            same = results.get("fts5", {}).get("same_rule", {}).get(cls)
            if same is not None:  # compare with FTS5 under the engines' separator rule
                counts["fts5"] = same[i]
                line += f" (same separator rule: {same[i]})"
            mark = "" if len(set(counts.values())) == 1 else "  ≠"
            diffs.append(f"  {q:22} {line}{mark}")
        print(f"{cls}:")
        print("\n".join(diffs))


if __name__ == "__main__":
    main()
