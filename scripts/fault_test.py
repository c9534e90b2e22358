"""Kill the server in the middle of a publish, an import and a disposal; after a restart
nothing is half-done.

    .venv/bin/python scripts/fault_test.py
    FAULT_DATABASE_URL=postgresql://…/db .venv/bin/python scripts/fault_test.py  # schema emptied

For each operation: a fresh instance with the demo data, gunicorn started with a failpoint
(docmgmt/faults.py) so the request pauses inside its transaction after all its writes and
files, SIGKILL to the whole server while it waits, a restart, then the checks: the operation
left no trace in the database, `storage check --fix` removes the files it had written,
`search check` and `audit verify` pass, and the server answers again.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PORT = 5133
PASSWORD = "demo-pass-1"


def flask(env, *args):
    return subprocess.run(
        [PY, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def serve(env, failpoint=None):
    env = dict(env)
    if failpoint:
        env["DOCMGMT_FAILPOINT"] = failpoint
    p = subprocess.Popen(
        [
            str(Path(PY).parent / "gunicorn"),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(50):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
            return p
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def post(path, token, body):
    req = urllib.request.Request(
        f"http://127.0.0.1:{PORT}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with contextlib.suppress(OSError):  # the server is killed while this waits
        urllib.request.urlopen(req, timeout=60)


def in_app(env, code: str) -> str:
    """Run Python against the instance (its own process, its own connections)."""
    run = subprocess.run([PY, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-2000:])
    return run.stdout.strip()


PRELUDE = """
from docmgmt import create_app
from docmgmt.extensions import db
from sqlalchemy import select, func
app = create_app()
ctx = app.app_context(); ctx.push()
from docmgmt.auth.models import User
from docmgmt.auth import operations as aops
def user(n): return db.session.scalar(select(User).where(User.username == n))
def token(n):
    _t, secret = aops.create_token(user(n), "fault test"); db.session.commit(); return secret
"""

SETUP = {
    "publish": PRELUDE
    + """
from docmgmt.versioning.models import Document
from docmgmt.versioning import signing
doc = db.session.scalar(select(Document).where(Document.number == "XX-SP-04"))
rev = [r for r in doc.revisions if r.version == "A2"][0]
signing.sign_revision(user("mr"), rev, "approved", "demo-pass-1"); db.session.commit()
from docmgmt.clock import local_today
print(json.dumps({"path": f"/api/v1/revisions/{rev.id}/publish", "token": token("qm"),
                  "body": {"effective_date": local_today().isoformat()}, "rev": rev.id}))
""",
    "import": PRELUDE
    + """
from docmgmt.records import importing
from docmgmt.records.models import RecordType
rt = db.session.scalar(select(RecordType).where(RecordType.code == "RV"))
rows = "客户,是否满意\\n" + "".join(f"客户{i},满意\\n" for i in range(200))
imp, _p = importing.upload(user("qm"), rt, "rv.csv", rows.encode())
db.session.commit()
print(json.dumps({"path": f"/api/v1/imports/{imp.id}/run", "token": token("qm"),
                  "body": {"mode": "skip"}, "import": imp.id}))
""",
    "disposal": PRELUDE
    + """
from docmgmt.records import operations as rops
due = [r for r in db.session.scalars(rops.due_query()) if not rops.holds_on(r)]
d = rops.propose_disposal(user("qm"), due, "保存期满", user("mr")); db.session.commit()
print(json.dumps({"path": f"/api/v1/disposals/{d.id}/approve", "token": token("mr"),
                  "body": {"password": "demo-pass-1"}, "disposal": d.id,
                  "records": [r.id for r in due]}))
""",
}

CHECK = {
    "publish": """
from docmgmt.versioning.models import Revision
rev = db.session.get(Revision, {rev})
assert rev.state.value == "approved" and rev.effective_date is None, (rev.state, rev.effective_date)
""",
    "import": """
from docmgmt.records.models import Record, RecordImport
assert db.session.get(RecordImport, {import}).status == "uploaded"
n = select(func.count()).select_from(Record).where(Record.import_id == {import})
assert db.session.scalar(n) == 0
""",
    "disposal": """
from docmgmt.records.models import Disposal, Record
assert db.session.get(Disposal, {disposal}).state.value == "pending"
for rid in {records}:
    r = db.session.get(Record, rid)
    assert r.state.value == "active" and r.values, rid
""",
}


def scenario(name: str) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"fault-{name}-"))
    env = dict(
        os.environ,
        DATABASE_URL=os.environ.get("FAULT_DATABASE_URL") or f"sqlite:///{tmp / 'db.sqlite3'}",
        DOCMGMT_STORAGE_DIR=str(tmp / "storage"),
        # Served by gunicorn: production, with a key it accepts (32 bytes or more).
        DOCMGMT_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        DOCMGMT_PASSWORD_HASH="pbkdf2:sha256:1000",
    )
    if env["DATABASE_URL"].startswith("postgresql"):
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "empty_postgres.py"), env["DATABASE_URL"]],
            check=True,
        )
    assert flask(env, "db", "upgrade", "heads").returncode == 0
    assert flask(env, "demo", "load").returncode == 0
    info = json.loads(in_app(env, "import json\n" + SETUP[name]).splitlines()[-1])
    server = serve(env, failpoint=name)
    t = threading.Thread(target=post, args=(info["path"], info["token"], info["body"]))
    t.start()
    time.sleep(3)  # the request is now paused inside its transaction
    os.killpg(server.pid, signal.SIGKILL)
    server.wait()
    t.join(timeout=10)
    server = serve(env)  # restart, no failpoint
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{PORT}/login", timeout=5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
    in_app(env, PRELUDE + CHECK[name].format(**info))
    storage = flask(env, "storage", "check")
    orphans = storage.stdout.count("orphans (")
    # Age the files past the grace period so `storage check --fix` may remove orphans.
    aged = time.time() - 2 * 3600
    for path in (tmp / "storage").rglob("*"):
        if path.is_file():
            os.utime(path, (aged, aged))
    fixed = flask(env, "storage", "check", "--fix")
    clean = flask(env, "storage", "check")
    search = flask(env, "search", "check")
    audit = flask(env, "audit", "verify")
    result = {
        "operation": name,
        "left half-done": "no",
        "orphan files after the kill": "yes" if orphans else "none",
        "storage check --fix": "removed" if "removed" in fixed.stdout else "nothing to remove",
        "storage clean after": clean.returncode == 0 and "orphans" not in clean.stdout,
        "search check": search.returncode == 0,
        "audit verify": audit.returncode == 0,
    }
    assert all(v for v in result.values()), result
    return result


def main() -> None:
    for name in ("publish", "import", "disposal"):
        started = time.perf_counter()
        r = scenario(name)
        print(
            f"{name:9} {time.perf_counter() - started:5.1f} s  "
            + "  ".join(f"{k}: {v}" for k, v in r.items() if k != "operation")
        )
    print("every operation killed mid-transaction left nothing half-done")


if __name__ == "__main__":
    main()
