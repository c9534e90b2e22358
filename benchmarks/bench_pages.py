"""Fast pages: CPU time per request in-process and wall time through gunicorn, on the demo.

    .venv/bin/python benchmarks/bench_pages.py [--reps 200] [--wall-reps 200]
        [--database-url postgresql://.../db] [--compare DIR ...] [--profile PAGE]

One user (the quality manager, who sees every section of the desk) asks, one request at a
time, for the register, the documents API (his token), a procedure page (the revision in force
of the demo's longest procedure), the desk, a search, and the bare route `/ping` (the session's
user read and a small template: the floor every page pays).

For each source tree (this one and each `--compare` directory, e.g. an older checkout made with
`git worktree add /tmp/before <commit>`), in the same run and in turns:

- **CPU**: a child process loads the demo into a fresh database, creates the app and sends the
  requests through the Flask test client; `time.process_time()` around each request (the CPU
  of this process: Python, templates, the database driver and, on SQLite, the database itself)
  is what a busy shared machine cannot inflate; median and p95 per page.
- **Wall**: gunicorn with 2 workers on loopback over the same database; the same requests in
  turn, timed with `time.perf_counter()`; median and p95 per page.

`--profile PAGE` prints cProfile's top functions for one page instead (this tree only).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "demo-pass-1"
USER = "qm"
PAGES = ["bare", "register", "documents API", "procedure page", "desk", "search"]


def _env(src: Path, work: Path, database_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(src),
        DOCMGMT_ENV="development",  # plain HTTP on loopback: cookies without Secure
        SECRET_KEY=secrets.token_hex(32),
        DOCMGMT_STORAGE_DIR=str(work / "storage"),
        DOCMGMT_LOGIN_MAX_FAILURES="1000",
        # No page measured checks a password; the demo's 218 signatures each do, and with
        # scrypt they were half a minute of every tree's preparation.
        DOCMGMT_PASSWORD_HASH="pbkdf2:sha256:1000",
        DATABASE_URL=database_url or f"sqlite:///{work / 'db.sqlite3'}",
    )
    return env


def _flask(src: Path, env: dict, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed in {src}:\n{out.stderr[-3000:]}")
    return out.stdout


def prepare(src: Path, work: Path, database_url: str) -> dict:
    """A fresh database with the demo, and the quality manager's API token."""
    env = _env(src, work, database_url)
    if database_url:
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "empty_postgres.py"), database_url], check=True
        )
    _flask(src, env, "db", "upgrade", "heads")
    _flask(src, env, "demo", "load", "--if-empty")
    token = re.search(
        r"dm_[A-Za-z0-9_-]+", _flask(src, env, "tokens", "create", USER, "--name", "bench")
    )
    env["BENCH_TOKEN"] = token.group(0)
    return env


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    return m.group(1) if m else ""


def _procedure_path() -> str:
    """The in-force revision of the demo's procedure with the longest body."""
    from sqlalchemy import select

    from docmgmt.extensions import db
    from docmgmt.versioning.models import Revision, RevisionState

    revs = db.session.scalars(select(Revision).where(Revision.state == RevisionState.EFFECTIVE))
    rev = max(revs, key=lambda r: len(json.dumps(r.body_blocks or [])))
    return f"/documents/{rev.document_id}/revisions/{rev.id}"


def targets(proc_path: str) -> dict:
    return {
        "bare": ("/ping", False),
        "register": ("/documents/", False),
        "documents API": ("/api/v1/documents", True),
        "procedure page": (proc_path, False),
        "desk": ("/desk", False),
        "search": ("/search/?q=%E6%B4%BE%E5%B7%A5", False),  # 派工
    }


def _stats(xs: list[float]) -> dict:
    xs = sorted(xs)
    return {
        "median": statistics.median(xs) * 1000,
        "p95": xs[min(len(xs) - 1, int(round(0.95 * len(xs))) - 1)] * 1000,
    }


def child_cpu(reps: int, profile: str | None) -> None:
    """Runs inside the tree measured (its PYTHONPATH): CPU time per request, as JSON."""
    from docmgmt import create_app

    app = create_app()
    token = os.environ["BENCH_TOKEN"]
    with app.app_context():
        proc = _procedure_path()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    r = client.post(
        "/login", data={"username": USER, "password": PASSWORD, "csrf_token": _csrf(page)}
    )
    assert r.status_code in (302, 303), r.status_code
    pages = targets(proc)

    def get(name):
        path, api = pages[name]
        r = client.get(path, headers={"Authorization": f"Bearer {token}"} if api else {})
        assert r.status_code == 200, (name, path, r.status_code)
        return r

    for name in pages:  # warm up: templates compiled, caches filled, connections opened
        for _ in range(3):
            get(name)
    if profile:
        from sqlalchemy import event

        from docmgmt.extensions import db

        sql = []
        with app.app_context():
            engine = db.engine

        def seen(conn, cursor, statement, *args):
            sql.append(statement)

        event.listen(engine, "before_cursor_execute", seen)
        get(profile)
        event.remove(engine, "before_cursor_execute", seen)
        print(f"{len(sql)} statements for one request:")
        for st in sql:
            print("  ", " ".join(st.split())[:160])
        import cProfile
        import pstats

        pr = cProfile.Profile()
        pr.enable()
        for _ in range(reps):
            get(profile)
        pr.disable()
        pr.dump_stats(os.environ.get("BENCH_PROFILE_OUT", "/tmp/bench_pages.prof"))
        pstats.Stats(pr).sort_stats("cumulative").print_stats(45)
        pstats.Stats(pr).sort_stats("tottime").print_stats(25)
        return
    times = {name: [] for name in pages}
    for _ in range(reps):
        for name in pages:  # in turns, so a busy moment hits every page alike
            t = time.process_time()
            get(name)
            times[name].append(time.process_time() - t)
    print(
        json.dumps(
            {
                "paths": {k: v[0] for k, v in pages.items()},
                "cpu": {k: _stats(v) for k, v in times.items()},
            }
        )
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wall(src: Path, env: dict, paths: dict, reps: int) -> dict:
    import requests

    port = _free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=src,
        env=env,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(base + "/healthz", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.1)
        s = requests.Session()
        page = s.get(base + "/login").text
        s.post(
            base + "/login",
            data={"username": USER, "password": PASSWORD, "csrf_token": _csrf(page)},
        )
        api = {"Authorization": f"Bearer {env['BENCH_TOKEN']}"}
        pages = targets(paths["procedure page"])

        def get(name):
            path, is_api = pages[name]
            r = s.get(base + path, headers=api if is_api else {}, allow_redirects=False)
            assert r.status_code == 200, (name, r.status_code)

        for name in pages:  # warm both workers
            for _ in range(6):
                get(name)
        times = {name: [] for name in pages}
        for _ in range(reps):
            for name in pages:
                t = time.perf_counter()
                get(name)
                times[name].append(time.perf_counter() - t)
        return {k: _stats(v) for k, v in times.items()}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def measure(src: Path, args) -> dict:
    with tempfile.TemporaryDirectory(prefix="docmgmt-pages-") as tmp:
        work = Path(tmp)
        env = prepare(src, work, args.database_url)
        out = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", "--reps", str(args.reps)],
            cwd=src,
            env=env,
            capture_output=True,
            text=True,
        )
        if out.returncode:
            raise SystemExit(f"CPU run failed in {src}:\n{out.stderr[-3000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["wall"] = wall(src, env, result["paths"], args.wall_reps)
        return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--wall-reps", type=int, default=200)
    ap.add_argument("--database-url", default="", help="PostgreSQL (emptied!); default SQLite")
    ap.add_argument("--compare", nargs="*", default=[], help="other source trees, e.g. before")
    ap.add_argument("--profile", choices=PAGES)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        sys.path.insert(0, os.getcwd())
        child_cpu(args.reps, args.profile)
        return
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="docmgmt-pages-") as tmp:
            env = prepare(ROOT, Path(tmp), args.database_url)
            subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--child",
                    "--reps",
                    str(args.reps),
                    "--profile",
                    args.profile,
                ],
                cwd=ROOT,
                env=env,
                check=True,
            )
        return
    trees = [("this tree", ROOT)] + [(d, Path(d).resolve()) for d in args.compare]
    results = {label: measure(src, args) for label, src in trees}
    db = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"\nOne user ({USER}), {db}, demo; ms, median / p95; CPU = process time in-process "
        f"({args.reps} reps), wall = gunicorn 2 workers ({args.wall_reps} reps)"
    )
    head = f"{'page':16}" + "".join(
        f" | {label[-16:]:>16} CPU | {'wall':>13}" for label, _ in trees
    )
    print(head)
    for name in PAGES:
        row = f"{name:16}"
        for label, _ in trees:
            c, w = results[label]["cpu"][name], results[label]["wall"][name]
            row += f" | {c['median']:7.1f} / {c['p95']:6.1f} | {w['median']:5.1f} / {w['p95']:5.1f}"
        print(row)


if __name__ == "__main__":
    main()
