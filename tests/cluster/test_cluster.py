"""The cluster (`make cluster`): two app servers behind nginx, one database, one queue.

Runs only with CLUSTER_TESTS=1 against a running cluster (`make cluster-test` starts it):
- a record filed through one server is read and found by search through the other at once;
- a log-in through nginx holds on both servers;
- SIGKILL of one app server during a load through nginx fails at most the requests in flight;
- SIGKILL of the worker during a 20,000-row import: the import completes once, no duplicates;
- two servers (and their workers' schedulers) never activate a revision twice.
Loopback only; bounded (each wait has a deadline, the whole module a few minutes).
"""

import contextlib
import csv
import io
import os
import re
import secrets
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

requests = pytest.importorskip("requests")

pytestmark = pytest.mark.skipif(
    os.environ.get("CLUSTER_TESTS") != "1",
    reason="needs a running `make cluster` (CLUSTER_TESTS=1)",
)

ROOT = Path(__file__).resolve().parents[2]
DIR = ROOT / "instance" / "cluster"
NGINX = "http://127.0.0.1:8080"
SERVERS = ("http://127.0.0.1:5001", "http://127.0.0.1:5002")
BIN = Path(os.environ.get("BIN", ROOT / ".venv" / "bin"))
DEMO_PASSWORD = "demo-pass-1"


def _env() -> dict:
    env = dict(os.environ)
    for line in (ROOT / "instance" / "cluster.env").read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            env[k] = v
    return env


def flask(*args, timeout=120) -> str:
    run = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    return run.stdout


def sql(query: str):
    """One row of the cluster's database (psycopg, the app's driver)."""
    import psycopg

    url = _env()["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        cur = conn.execute(query)
        return cur.fetchone() if cur.description else cur.rowcount


def _pid(name: str) -> int:
    return int((DIR / f"{name}.pid").read_text().strip())


def _wait(predicate, seconds, what):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


@pytest.fixture(scope="module")
def token():
    out = flask("tokens", "create", "qm", "--name", f"cluster-test-{secrets.token_hex(3)}")
    secret = re.search(r"\b([A-Za-z0-9_\-]{30,})\b", out)
    assert secret, out
    return {"Authorization": f"Bearer {secret.group(1)}"}


@pytest.fixture(scope="module")
def record_type(token):
    code = "CT" + secrets.token_hex(3).upper()
    r = requests.post(
        f"{SERVERS[0]}/api/v1/record-types",
        json={
            "code": code,
            "name": f"集群测试 {code}",
            "retention_months": 12,
            "fields": [{"name": "customer", "label": "客户", "kind": "text", "required": True}],
        },
        headers=token,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return code


def test_a_record_filed_through_one_server_is_read_and_found_through_the_other_at_once(
    token, record_type
):
    word = "集群" + secrets.token_hex(4)
    r = requests.post(
        f"{SERVERS[0]}/api/v1/record-types/{record_type}/records",
        json={"title": f"工单 {word}", "values": {"customer": word}},
        headers=token,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    rec = r.json()
    got = requests.get(f"{SERVERS[1]}/api/v1/records/{rec['id']}", headers=token, timeout=30)
    assert got.status_code == 200 and got.json()["number"] == rec["number"]
    hits = requests.get(
        f"{SERVERS[1]}/api/v1/search", params={"q": word}, headers=token, timeout=30
    ).json()
    assert hits["total"] == 1, hits


def _login(session: requests.Session, base: str) -> None:
    page = session.get(f"{base}/login", timeout=30)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    data = {"username": "qm", "password": DEMO_PASSWORD}
    if csrf:
        data["csrf_token"] = csrf.group(1)
    r = session.post(f"{base}/login", data=data, timeout=30, allow_redirects=False)
    assert r.status_code in (302, 303), r.status_code


def test_a_log_in_through_nginx_holds_on_both_servers():
    s = requests.Session()
    _login(s, NGINX)
    for base in (NGINX, *SERVERS):
        r = s.get(f"{base}/profile", timeout=30, allow_redirects=False)
        assert r.status_code == 200, (base, r.status_code)
        assert "qm" in r.text


def _restart_app(port: int) -> None:
    subprocess.run(
        [str(ROOT / "scripts" / "cluster.sh"), "app", str(port)],
        cwd=ROOT,
        env={**os.environ, "BIN": str(BIN)},
        check=True,
        timeout=120,
        capture_output=True,
    )


def _kill_app(port: int) -> None:
    """SIGKILL the server's master and its workers at once: the machine is gone."""
    master = _pid(f"app-{port}")
    workers = subprocess.run(
        ["pgrep", "-P", str(master)], capture_output=True, text=True
    ).stdout.split()
    for pid in [master, *map(int, workers)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    (DIR / f"app-{port}.pid").unlink(missing_ok=True)


def test_sigkill_of_one_app_server_under_load_fails_only_the_requests_in_flight(token):
    users, seconds = 8, 12
    results = {"ok": 0, "failed": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def load():
        s = requests.Session()
        while time.monotonic() < stop:
            try:
                r = s.get(f"{NGINX}/api/v1/documents", headers=token, timeout=30)
                good = r.status_code == 200
            except requests.RequestException:
                good = False
            with lock:
                results["ok" if good else "failed"] += 1

    threads = [threading.Thread(target=load) for _ in range(users)]
    for t in threads:
        t.start()
    time.sleep(seconds / 3)
    _kill_app(5001)
    for t in threads:
        t.join(seconds + 60)
    try:
        assert results["ok"] > 50, results
        # At most the requests in flight at the moment of the kill (one per user) may fail.
        assert results["failed"] <= users, results
    finally:
        _restart_app(5001)
    assert requests.get(f"{SERVERS[0]}/healthz", timeout=10).status_code == 200


def test_sigkill_of_the_worker_during_a_large_import_files_every_row_once(token, record_type):
    n = 20000
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["工单号", "客户"])
    prefix = secrets.token_hex(3)
    w.writerows([f"{prefix}-{i}", f"客户{i}"] for i in range(n))
    up = requests.post(
        f"{NGINX}/api/v1/record-types/{record_type}/imports",
        files={"file": ("big.csv", buf.getvalue().encode(), "text/csv")},
        headers=token,
        timeout=120,
    )
    assert up.status_code == 201, up.text
    import_id = up.json()["id"]
    run = requests.post(
        f"{NGINX}/api/v1/imports/{import_id}/run",
        json={"mode": "skip", "external_id_column": "工单号"},
        headers=token,
        timeout=60,
    )
    assert run.status_code == 200, run.text

    def status():
        return requests.get(f"{NGINX}/api/v1/imports/{import_id}", headers=token, timeout=30).json()

    # Kill the worker while it works on the file (checking or filing rows).
    _wait(lambda: (status().get("progress") or {}).get("done", 0) > 0, 120, "the import to start")
    os.killpg(_pid("worker"), signal.SIGKILL)
    (DIR / "worker.pid").unlink(missing_ok=True)
    assert status()["status"] == "running"
    subprocess.run(
        [str(ROOT / "scripts" / "cluster.sh"), "worker"],
        cwd=ROOT,
        env={**os.environ, "BIN": str(BIN)},
        check=True,
        timeout=60,
        capture_output=True,
    )
    # The new worker finds the job's lease run out (20 s in the cluster) and runs it again.
    _wait(lambda: status()["status"] != "running", 240, "the import to finish")
    final = status()
    assert final["status"] == "done" and final["imported"] == n, final
    listed = requests.get(
        f"{NGINX}/api/v1/records",
        params={"type": record_type, "per_page": 1},
        headers=token,
        timeout=60,
    )
    assert listed.status_code == 200
    out = flask("jobs", "list", "--limit", "50")
    line = next(x for x in out.splitlines() if f"import:{import_id} " in x)
    assert " done " in line and "attempt 2" in line, line
    # Each external ID filed once: the database says so.
    count = sql(
        f"select count(*), count(distinct external_id) from record where import_id = {import_id}"
    )
    assert tuple(count) == (n, n), count


def _token(who: str) -> dict:
    out = flask("tokens", "create", who, "--name", f"cluster-test-{secrets.token_hex(3)}")
    return {"Authorization": "Bearer " + re.search(r"dm_[A-Za-z0-9_-]+", out).group(0)}


def test_two_servers_never_activate_a_revision_twice(token):
    """A revision published for tomorrow whose day then comes (its date moved in the database):
    both servers' request hooks, the CLI and the queue's daily job race to make it effective;
    the database's compare-and-set lets one win — one activation event, one supersession."""
    import datetime
    from zoneinfo import ZoneInfo

    today = datetime.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    api = f"{SERVERS[0]}/api/v1"
    auth = {"qm": token, "ashead": _token("ashead"), "mr": _token("mr")}
    ids = {
        w: requests.get(f"{api}/me", headers=h, timeout=30).json()["id"] for w, h in auth.items()
    }
    docs = requests.get(f"{api}/documents", params={"type": "procedure"}, headers=token, timeout=30)
    doc = None
    for d in docs.json():
        revs = requests.get(f"{api}/documents/{d['id']}/revisions", headers=token, timeout=30)
        if (
            d["in_force"]
            and d["in_force"]["effective_date"] < today.isoformat()
            and not [r for r in revs.json() if r["state"] in ("draft", "in_review", "approved")]
        ):
            doc = d
            break
    assert doc is not None, "no demo procedure without an open revision"
    r = requests.post(
        f"{api}/documents/{doc['id']}/revisions",
        json={"change_summary": "集群测试", "body_markdown": "# 目的\n\n集群测试。"},
        headers=token,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    url = f"{api}/revisions/{r.json()['id']}"
    steps = [
        ("qm", "submit", {"reviewer_id": ids["ashead"], "approver_id": ids["mr"]}),
        ("ashead", "sign", {"meaning": "reviewed"}),
        ("mr", "sign", {"meaning": "approved"}),
    ]
    for who, verb, body in steps:
        r = requests.post(
            f"{url}/{verb}", json=body | {"password": DEMO_PASSWORD}, headers=auth[who], timeout=30
        )
        assert r.status_code in (200, 201), (verb, r.text)
    r = requests.post(
        f"{url}/publish",
        json={"effective_date": (today + datetime.timedelta(days=1)).isoformat()},
        headers=token,
        timeout=30,
    )
    assert r.status_code == 200, r.text
    rev_id = r.json()["id"]
    sql(f"update revision set effective_date = '{today.isoformat()}' where id = {rev_id}")

    def read(base):
        for _ in range(5):
            requests.get(f"{base}/api/v1/documents/{doc['id']}", headers=token, timeout=30)

    threads = [threading.Thread(target=read, args=(b,)) for b in (*SERVERS, NGINX) * 4]
    for t in threads:
        t.start()
    flask("revisions", "activate")
    flask("jobs", "daily", "--only", "activate")
    for t in threads:
        t.join(120)
    got = requests.get(url, headers=token, timeout=30).json()
    assert got["state"] == "effective", got["state"]
    events = sql(
        "select count(*) from audit_event where action = 'revision.activate' "
        f"and object_type = 'revision' and object_id = {rev_id}"
    )
    assert events[0] == 1
    twice = sql(
        "select count(*) from (select object_id from audit_event where action = "
        "'revision.activate' group by object_id having count(*) > 1) x"
    )
    assert twice[0] == 0
