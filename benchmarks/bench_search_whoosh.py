"""The embedded (Whoosh) engine's footprint: build time, disk, and a searching process's memory.

    .venv/bin/python benchmarks/bench_search_whoosh.py [--records 100000] [--revisions 1000]
        [--workdir DIR]  # keep the index; a later run with the same DIR only measures searching

Builds the corpus of benchmarks/corpus.py (1,000 procedure revisions + 100,000 service records
by default) through the app's own engine (`Engine.bulk_load`, the path `search reindex` and
restore use), watching the index folder while it is written to find the peak disk use
(segments, pool run files, merges). Then a fresh Python process opens the index and searches
it, reading its own /proc/self/smaps_rollup: RSS and USS (private clean + dirty: memory no other
process shares, the part that multiplies with every worker) before opening the index, after
the first search and after a round of searches of every query class; the first search's time
includes opening the index.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

QUERIES = [
    "派工单",
    "回访",
    "客户 投诉",
    '"旧件交回仓库"',
    "压缩机 更换",
    "XX-SP-20",
    "GB/T 27922",
    "宁波 热水器",
    "满意",
    "故障",
]


def entries(n_revisions: int, n_records: int):
    import corpus

    return corpus.search_entries(n_revisions, n_records)


def tree_size(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):  # removed while we looked
                total += os.stat(os.path.join(dirpath, f)).st_size
    return total


def memory() -> dict[str, int]:
    """kB from /proc/self/smaps_rollup: Rss, Pss, and USS = Private_Clean + Private_Dirty."""
    got = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            got[name] = int(rest.split()[0])
    return {
        "rss": got.get("Rss", 0),
        "pss": got.get("Pss", 0),
        "uss": got.get("Private_Clean", 0) + got.get("Private_Dirty", 0),
    }


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the build's workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def build(index: Path, n_revisions: int, n_records: int) -> dict:
    from docmgmt.search.engine import Engine

    eng = Engine(index)
    eng.create()
    peak = {"bytes": 0}
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak["bytes"] = max(peak["bytes"], tree_size(index))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    todo = list(entries(n_revisions, n_records))  # generated before the clock starts
    cpu0 = _cpu()
    t0 = time.perf_counter()
    n = eng.bulk_load(todo)
    seconds = time.perf_counter() - t0
    cpu = _cpu() - cpu0
    done.set()
    watcher.join()
    eng.close()
    final = tree_size(index)
    return {
        "entries": n,
        "seconds": seconds,
        "cpu": cpu,
        "index_bytes": final,
        "peak_bytes": max(peak["bytes"], final),
        "files": len([p for p in index.iterdir() if p.is_file()]),
    }


def child(index: str) -> None:
    """A fresh process: open the index, search, report memory and the first search's time."""
    before = memory()
    t0 = time.perf_counter()
    from docmgmt.search import query as qp
    from docmgmt.search.engine import Engine

    imported = memory()
    t1 = time.perf_counter()
    eng = Engine(index)

    def one(text: str):
        plan = qp.parse(text)
        built = qp.build(plan, lambda f, t: eng.doc_frequency(f, t) > 0)
        from whoosh import query as Q

        q = Q.AndMaybe(built.query, built.boost) if built.boost is not None else built.query
        return eng.run(
            q,
            keep=lambda v: v["audience"] == "all",
            window=500,
            contains=built.contains,
            excludes=built.excludes,
        )

    first_hits = one("派工单")
    first_ms = (time.perf_counter() - t1) * 1000
    after_first = memory()
    times = []
    for _ in range(3):
        for text in QUERIES:
            t = time.perf_counter()
            one(text)
            times.append((time.perf_counter() - t) * 1000)
    after_all = memory()
    times.sort()
    print(
        json.dumps(
            {
                "import_ms": (t1 - t0) * 1000,
                "first_search_ms": first_ms,
                "first_total": first_hits.total,
                "memory_start": before,
                "memory_imported": imported,
                "memory_after_first": after_first,
                "memory_after_all": after_all,
                "median_ms": times[len(times) // 2],
                "max_ms": times[-1],
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--revisions", type=int, default=1000)
    ap.add_argument("--workdir", help="keep the index here; reuse it if it was built")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return

    tmp = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-whoosh-"))
    index = tmp / "index"
    print(f"corpus: {args.revisions} revisions (2-6k chars) + {args.records} records")
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    if (tmp / "built").exists():
        print(f"reusing the index in {index}: {tree_size(index) / 1e6:.0f} MB")
    else:
        b = build(index, args.revisions, args.records)
        (tmp / "built").touch()
        print(
            f"build: {b['entries']} entries in {b['seconds']:.1f} s "
            f"({b['entries'] / b['seconds']:.0f} entries/s), {b['cpu']:.0f} CPU-seconds "
            f"(all processes), load average now {os.getloadavg()[0]:.2f}"
        )
        print(
            f"index: {b['index_bytes'] / 1e6:.0f} MB in {b['files']} files; peak disk use "
            f"while building {b['peak_bytes'] / 1e6:.0f} MB = "
            f"{b['peak_bytes'] / b['index_bytes']:.2f}x the final index"
        )
    for run in (1, 2):  # the second run shows the OS cache warm
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(index)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if out.returncode != 0:
            print(out.stderr)
            raise SystemExit(1)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        m0, m1, m2 = r["memory_imported"], r["memory_after_first"], r["memory_after_all"]
        print(
            f"fresh process {run}: first search (opening the index) {r['first_search_ms']:.0f} ms, "
            f"{r['first_total']} hits; then {len(QUERIES) * 3} searches median "
            f"{r['median_ms']:.1f} ms, max {r['max_ms']:.1f} ms"
        )
        print(
            f"  memory (MB) RSS/USS: before opening {m0['rss'] / 1024:.0f}/{m0['uss'] / 1024:.0f}, "
            f"after the first search {m1['rss'] / 1024:.0f}/{m1['uss'] / 1024:.0f}, "
            f"after all {m2['rss'] / 1024:.0f}/{m2['uss'] / 1024:.0f}; "
            f"USS grew {(m2['uss'] - m0['uss']) / 1024:.0f} MB from searching"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"(files in {tmp}; delete when done)")


if __name__ == "__main__":
    main()
