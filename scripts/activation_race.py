"""The morning a scheduled revision falls due: 12 simultaneous reads must all be answered.

    .venv/bin/python scripts/activation_race.py
    RACE_DATABASE_URL=postgresql://…/db .venv/bin/python scripts/activation_race.py  # emptied

A fresh instance with the demo data; XX-SP-04 A2 approved and published for tomorrow; gunicorn
(2 workers x 4 threads) started under `faketime -f +1d`, so for the server tomorrow has come;
12 GETs sent at the same instant (the register, the document, an unrelated document, pages).
Prints how many got each status, and how often A2 was made effective and A1 superseded (both
must be exactly once). Exits non-zero when a read failed or the activation was not exactly once.
Needs faketime (apt-get install faketime).
"""

from __future__ import annotations

import collections
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = int(os.environ.get("RACE_PORT") or _free_port())
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "demo-pass-1"
REQUESTS = 12

PRELUDE = """
import json
from docmgmt import create_app
from docmgmt.extensions import db
from sqlalchemy import select, func
app = create_app()
ctx = app.app_context(); ctx.push()
from docmgmt.auth.models import User
from docmgmt.auth import operations as aops
from docmgmt.versioning.models import Document, Revision
def user(n): return db.session.scalar(select(User).where(User.username == n))
def token(n):
    _t, secret = aops.create_token(user(n), "activation race"); db.session.commit(); return secret
"""

SETUP = (
    PRELUDE
    + """
from datetime import timedelta
from docmgmt.clock import local_today
from docmgmt.versioning import publishing, signing
doc = db.session.scalar(select(Document).where(Document.number == "XX-SP-04"))
other = db.session.scalar(select(Document).where(Document.number == "XX-SP-01"))
rev = [r for r in doc.revisions if r.version == "A2"][0]
signing.sign_revision(user("mr"), rev, "approved", "demo-pass-1")
publishing.publish_revision(user("qm"), rev, local_today() + timedelta(days=1))
db.session.commit()
print(json.dumps({"doc": doc.id, "other": other.id, "rev": rev.id,
                  "staff": token("dispatcher"), "qm": token("qm")}))
"""
)

CHECK = (
    PRELUDE
    + """
from docmgmt.audit.models import AuditEvent
rev = db.session.get(Revision, {rev})
previous = [r for r in rev.document.revisions if r.version == "A1"][0]
def n(action, obj):
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.object_type == "revision",
        AuditEvent.object_id == obj.id))
effective = db.session.scalar(select(func.count()).select_from(Revision).where(
    Revision.document_id == {doc}, Revision.state == "effective"))
print(json.dumps({{"A2": rev.state.value, "A1": previous.state.value,
                  "effective revisions": effective,
                  "A2 activations": n("revision.activate", rev),
                  "A1 supersessions": n("revision.supersede", previous)}}))
"""
)


def in_app(env, code: str) -> str:
    run = subprocess.run([PY, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-3000:])
    return run.stdout.strip().splitlines()[-1]


def flask(env, *args):
    run = subprocess.run(
        [PY, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-3000:])


def serve(env, log):
    gunicorn = str(Path(PY).parent / "gunicorn")
    p = subprocess.Popen(
        ["faketime", "-f", "+1d", gunicorn, "--workers", "2", "--threads", "4"]
        + ["--bind", f"127.0.0.1:{PORT}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=log,
        stderr=log,
    )
    for _ in range(100):
        try:  # /healthz activates nothing
            urllib.request.urlopen(f"{BASE}/healthz", timeout=1)
            return p
        except OSError:
            time.sleep(0.2)
    os.killpg(p.pid, signal.SIGTERM)
    raise RuntimeError("gunicorn did not start")


def main() -> int:
    if not shutil.which("faketime"):
        print("faketime is not installed (apt-get install faketime)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="activation-race-"))
    env = dict(
        os.environ,
        DATABASE_URL=os.environ.get("RACE_DATABASE_URL") or f"sqlite:///{tmp / 'db.sqlite3'}",
        DOCMGMT_STORAGE_DIR=str(tmp / "storage"),
        # gunicorn refuses a short key in every environment; development keeps cookies plain
        # HTTP for the log-in over loopback.
        SECRET_KEY=secrets.token_hex(32),
        DOCMGMT_ENV="development",
        DOCMGMT_PASSWORD_HASH="pbkdf2:sha256:1000",
    )
    if env["DATABASE_URL"].startswith("postgresql"):
        subprocess.run([PY, str(ROOT / "scripts" / "empty_postgres.py"), env["DATABASE_URL"]])
    flask(env, "db", "upgrade", "heads")
    flask(env, "demo", "load")
    info = json.loads(in_app(env, SETUP))
    with open(tmp / "gunicorn.log", "w") as log:
        server = serve(env, log)
        try:
            paths = [
                "/api/v1/documents",
                f"/api/v1/documents/{info['doc']}",
                f"/api/v1/documents/{info['other']}",
                f"/api/v1/documents/{info['doc']}/revision-record",
                "/api/v1/me",
                f"/api/v1/documents/{info['other']}/revisions",
            ] * 2  # half as the quality manager, half as staff
            barrier = threading.Barrier(REQUESTS)
            statuses: list[int] = []
            lock = threading.Lock()

            def get(n, path):
                who = info["qm"] if n < REQUESTS // 2 else info["staff"]
                headers = {"Authorization": f"Bearer {who}"}
                req = urllib.request.Request(BASE + path, headers=headers)
                barrier.wait()
                try:
                    with urllib.request.urlopen(req, timeout=60) as r:
                        code = r.status
                except urllib.error.HTTPError as exc:
                    code = exc.code
                except OSError:
                    code = 0
                with lock:
                    statuses.append(code)

            threads = [threading.Thread(target=get, args=(n, p)) for n, p in enumerate(paths)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait()
    after = json.loads(in_app(env, CHECK.format(**info)))
    counts = collections.Counter(statuses)
    print(
        f"{REQUESTS} simultaneous GETs on the day A2 falls due ("
        + ("PostgreSQL" if env["DATABASE_URL"].startswith("postgresql") else "SQLite")
        + "): "
        + ", ".join(f"{code}: {n}" for code, n in sorted(counts.items()))
    )
    print("after: " + ", ".join(f"{k}: {v}" for k, v in after.items()))
    ok = (
        counts == {200: REQUESTS}
        and after["A2"] == "effective"
        and after["A1"] == "superseded"
        and after["effective revisions"] == 1
        and after["A2 activations"] == 1
        and after["A1 supersessions"] == 1
    )
    if ok:
        print("OK: every read answered, activated exactly once")
        shutil.rmtree(tmp, ignore_errors=True)
        return 0
    print(f"FAILED (the instance and the server's log are kept in {tmp})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
