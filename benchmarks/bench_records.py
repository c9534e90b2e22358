"""Records benchmark: a 100,000-row CSV import, and the disposal queue among 1,000,000 records.

    .venv/bin/python benchmarks/bench_records.py [--rows 100000] [--total 1000000]
                                                 [--database-url postgresql://...]

The import goes through the app's own path (upload: decode, parse, keep the file; run:
validate every row, allocate numbers, insert, queue for search), timed end to end with the
commit. The search index is fed afterwards from the outbox, as in production, and not timed
here (see the search benchmark for index throughput). The disposal queue is then timed with
1,000,000 records in the table, and its query plan printed to show the index is used.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import corpus  # noqa: E402


def make_csv(n: int) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["工单号", "客户", "产品", "上门日期", "响应小时", "处理情况"])
    rnd = random.Random(5)
    products = ["空调", "冰箱", "售货机"]
    for i, r in enumerate(corpus.records(n)):
        d = date(2024, 1, 1) + timedelta(days=rnd.randint(0, 600))
        w.writerow(
            [
                f"T-{i:07d}",
                r["title"].split()[1],
                rnd.choice(products),
                d.isoformat(),
                rnd.choice([1, 2, 4]),
                r["body"],
            ]
        )
    return buf.getvalue().encode("gbk", errors="replace")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--total", type=int, default=1_000_000)
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()

    import logging

    from flask_migrate import upgrade
    from sqlalchemy import func, insert, select, text

    from docmgmt import create_app
    from docmgmt.auth import operations as auth_ops
    from docmgmt.extensions import db
    from docmgmt.records import importing
    from docmgmt.records import operations as ops
    from docmgmt.records.models import Record, RecordState

    tmp = Path(tempfile.mkdtemp(prefix="bench-records-"))
    url = args.database_url or f"sqlite:///{tmp / 'app.sqlite3'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    app = create_app(
        {
            "ENV_NAME": "development",  # a local run with the development key
            "SQLALCHEMY_DATABASE_URI": url,
            "STORAGE_DIR": str(tmp / "storage"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "SEARCH_SYNC": False,  # the index is fed from the outbox afterwards
            "UPLOAD_MAX_MB": 200,
        }
    )
    with app.app_context():
        logging.getLogger("alembic").setLevel(logging.WARNING)
        if url.startswith("postgresql"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade(revision="heads")
        qm = auth_ops.create_user(None, "qm", "Bench QM", "bench-pass-1", ["quality_manager"])
        rt = ops.create_type(
            qm,
            code="WO",
            name="派工单",
            retention_months=36,
            fields=[
                {"name": "customer", "label": "客户", "kind": "text", "required": True},
                {
                    "name": "product",
                    "label": "产品",
                    "kind": "choice",
                    "required": True,
                    "choices": ["空调", "冰箱", "售货机"],
                },
                {"name": "visit_date", "label": "上门日期", "kind": "date", "required": True},
                {"name": "hours", "label": "响应小时", "kind": "number"},
                {"name": "notes", "label": "处理情况", "kind": "text"},
            ],
        )
        db.session.commit()

        data = make_csv(args.rows)
        print(
            f"database: {db.engine.dialect.name}; CSV: {args.rows} rows, "
            f"{len(data) / 1e6:.1f} MB, GBK"
        )
        t0 = time.perf_counter()
        imp, _parsed = importing.upload(qm, rt, "export.csv", data)
        imp.external_id_column = "工单号"
        db.session.commit()
        t1 = time.perf_counter()
        importing.run(qm, imp, "skip")
        db.session.commit()
        t2 = time.perf_counter()
        print(
            f"import: upload+parse {t1 - t0:.1f} s, validate+insert+commit {t2 - t1:.1f} s, "
            f"total {t2 - t0:.1f} s = {args.rows / (t2 - t0):.0f} rows/s "
            f"({imp.imported} imported, {imp.error_rows} errors)"
        )

        # Fill the table to ``total`` with records of every age (fast bulk insert).
        have = db.session.scalar(select(func.count()).select_from(Record))
        rnd = random.Random(9)
        today = date.today()
        t0 = time.perf_counter()
        batch = []
        n = have
        from docmgmt.clock import utcnow

        now = utcnow()
        while n < args.total:
            trigger = today - timedelta(days=rnd.randint(0, 1460))
            batch.append(
                {
                    "number": f"BULK-{n:08d}",
                    "type_id": rt.id,
                    "external_id": None,
                    "title": "bulk",
                    "values": {},
                    "department_id": None,
                    "form_revision_id": None,
                    "filed_by_id": qm.id,
                    "filed_dt": now,
                    "trigger_date": trigger,
                    "dispose_after": ops.add_months(trigger, 36),
                    "corrects_id": None,
                    "import_id": None,
                    "content_hash": "0" * 64,
                    "state": RecordState.ACTIVE,
                }
            )
            n += 1
            if len(batch) == 20000:
                db.session.execute(insert(Record), batch)
                batch = []
        if batch:
            db.session.execute(insert(Record), batch)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE record"))
        else:
            db.session.execute(text("ANALYZE"))
        db.session.commit()
        total = db.session.scalar(select(func.count()).select_from(Record))
        print(f"filled to {total} records in {time.perf_counter() - t0:.0f} s")

        q = ops.due_query(limit=500)
        compiled = q.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan_sql = (
            "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
        ) + str(compiled)
        print("plan:", " | ".join(str(r[-1]) for r in db.session.execute(text(plan_sql))))
        times = []
        for _ in range(21):
            t0 = time.perf_counter()
            rows = db.session.scalars(ops.due_query(limit=500)).all()
            times.append((time.perf_counter() - t0) * 1000)
            db.session.expunge_all()
        due_total = db.session.scalar(
            select(func.count())
            .select_from(Record)
            .where(Record.state == RecordState.ACTIVE, Record.dispose_after <= today)
        )
        print(
            f"disposal queue (first 500 of {due_total} due among {total}): median "
            f"{statistics.median(times):.1f} ms, max {max(times):.1f} ms ({len(rows)} rows)"
        )
    print(f"(files in {tmp}; delete when done)")


if __name__ == "__main__":
    main()
