"""Text recognition benchmark: every engine on the same scans of service forms.

    .venv/bin/python benchmarks/bench_ocr.py [--engines tesseract,rapidocr] [--keep DIR]

The scans come from tests/scans.py: a work order with a table, a scribbled signature and a red
stamp, clean (PNG) and spoilt (2° rotation, blur, noise, JPEG quality 60) at 150 and 300 dpi,
two forms each, and a two-page scanned PDF. For each engine and kind of scan: character
accuracy (1 − edit distance / length of the printed text, white space ignored) and seconds
per page, through docmgmt.extract.extract (what the product runs), without and with the
searchable PDF. Goals (issue 19): ≥ 97 % on clean 300 dpi pages, ≥ 90 % on noisy ones, a
page in ≤ 3 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import scans  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engines", default="tesseract,rapidocr")
    ap.add_argument("--keep", help="write the scans and what each engine read here")
    args = ap.parse_args()

    from docmgmt import create_app
    from docmgmt.extract import extract
    from docmgmt.extract.ocr import engine

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    test_set = scans.test_set()
    keep = Path(args.keep) if args.keep else None
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        for s in test_set:
            (keep / f"{s.name}-{s.filename}").write_bytes(s.data)
    print(
        f"{len(test_set)} scans ({sum(2 if s.filename.endswith('.pdf') else 1 for s in test_set)}"
        f" pages); load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    results = {}
    for name in [e for e in args.engines.split(",") if e]:
        if not engine(name).available():
            print(f"{name}: not installed, skipped")
            continue
        app.config["OCR_ENGINE"] = name
        by_kind = defaultdict(lambda: {"acc": [], "spp": [], "spp_pdf": [], "cpu": []})
        with app.app_context():
            extract(test_set[0].data, test_set[0].filename, searchable=False)  # load models
            for s in test_set:
                kind = "pdf, 2 pages" if s.filename.endswith(".pdf") else s.name
                t0, c0 = time.perf_counter(), _cpu()
                got = extract(s.data, s.filename, searchable=False)
                seconds, cpu = time.perf_counter() - t0, _cpu() - c0
                t0 = time.perf_counter()
                with_pdf = extract(s.data, s.filename, searchable=True)
                seconds_pdf = time.perf_counter() - t0
                k = by_kind[kind]
                k["acc"].append(scans.accuracy(s.truth, got.text))
                k["spp"].append(seconds / got.pages)
                k["cpu"].append(cpu / got.pages)
                k["spp_pdf"].append(seconds_pdf / with_pdf.pages)
                if keep:
                    (keep / f"{s.name}-{s.filename}.{name}.txt").write_text(got.text)
                    if with_pdf.searchable_pdf:
                        (keep / f"{s.name}-{s.filename}.{name}.pdf").write_bytes(
                            with_pdf.searchable_pdf
                        )
        results[name] = by_kind
    report(results)
    print(f"\n(load now {os.getloadavg()[0]:.1f})")


def _cpu() -> float:
    """CPU seconds of this process (all its threads) and of the children it waited for
    (Tesseract runs as a child): unlike wall time, it does not follow the machine's load."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def report(results) -> None:
    names = list(results)
    if not names:
        return
    kinds = list(next(iter(results.values())))
    print()
    print("character accuracy; seconds per page, wall (with the searchable PDF) / CPU:")
    print()
    print("| scan | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for kind in kinds:
        cells = []
        for n in names:
            k = results[n][kind]
            cells.append(
                f"{100 * statistics.mean(k['acc']):.1f} %; {statistics.mean(k['spp']):.2f} s "
                f"({statistics.mean(k['spp_pdf']):.2f} s) / {statistics.mean(k['cpu']):.2f} s CPU"
            )
        print(f"| {kind} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
