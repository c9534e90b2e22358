"""The day a scheduled revision falls due: it takes effect exactly once, and no read fails.

The first requests of that day race to make it effective. Whoever loses simply reads; the
revision is activated once (one supersession, one set of training tasks, one audit event)."""

import logging
import os
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.serving import WSGIRequestHandler, make_server

from docmgmt.audit.models import AuditEvent
from docmgmt.extensions import db
from docmgmt.versioning.models import Revision, RevisionState

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 12


class _Quiet(WSGIRequestHandler):
    def log(self, *args, **kwargs):
        pass


def _events(action, obj_id):
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == action, AuditEvent.object_id == obj_id)
    )


def _move_clock(monkeypatch, days):
    from docmgmt import clock
    from docmgmt.versioning import documents, drafting, publishing, signing, withdrawing

    later = clock.utcnow() + timedelta(days=days)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    for verbs in (documents, drafting, signing, publishing, withdrawing):
        monkeypatch.setattr(verbs, "utcnow", lambda: later)


def _race(app, paths_and_headers):
    """Send every request at the same instant to a threaded server; return the statuses."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    base = f"http://127.0.0.1:{server.server_port}"
    barrier = threading.Barrier(len(paths_and_headers))
    statuses, bodies = [], []

    def get(path, headers):
        request = urllib.request.Request(base + path, headers=headers)
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                statuses.append(r.status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)
            bodies.append(exc.read().decode(errors="replace")[:300])

    threads = [threading.Thread(target=get, args=ph) for ph in paths_and_headers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    server.shutdown()
    serving.join(timeout=5)
    return statuses, bodies


def test_the_day_a_scheduled_revision_falls_due_every_concurrent_read_is_answered(
    app, people, effective_doc, draft_of, approve, today, token_for, monkeypatch
):
    from docmgmt.training.models import TrainingTask
    from docmgmt.versioning import publishing

    doc, a0 = effective_doc()
    other, _other_a0 = effective_doc(title="客户投诉管理控制程序")
    a1 = approve(draft_of(doc, change_summary="调整响应时间"))
    publishing.publish_revision(people["qm"], a1, today + timedelta(days=1))
    db.session.commit()
    tasks_before = db.session.scalar(select(func.count()).select_from(TrainingTask))
    qm, staff = token_for(people["qm"]), token_for(people["staff"])
    db.session.commit()

    _move_clock(monkeypatch, 1)
    paths = [
        "/api/v1/documents",
        f"/api/v1/documents/{doc.id}",
        f"/api/v1/documents/{other.id}",  # an unrelated document
        f"/api/v1/documents/{doc.id}/revision-record",
        "/api/v1/me",
        f"/api/v1/documents/{other.id}/revisions",
    ]
    requests = [(p, qm) for p in paths] + [(p, staff) for p in paths]
    statuses, bodies = _race(app, requests)

    assert Counter(statuses) == {200: REQUESTS}, bodies
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Revision, a1.id).state == RevisionState.EFFECTIVE
    assert db.session.get(Revision, a0.id).state == RevisionState.SUPERSEDED
    in_force = db.session.scalar(
        select(func.count())
        .select_from(Revision)
        .where(Revision.document_id == doc.id, Revision.state == RevisionState.EFFECTIVE)
    )
    assert in_force == 1
    assert _events("revision.activate", a1.id) == 1
    assert _events("revision.supersede", a0.id) == 1
    # Training tasks for the new revision are made once, not once per racing request.
    made = db.session.scalar(select(func.count()).select_from(TrainingTask)) - tasks_before
    tasks_for_a1 = db.session.scalar(
        select(func.count()).select_from(TrainingTask).where(TrainingTask.revision_id == a1.id)
    )
    assert made == tasks_for_a1


def test_a_failed_activation_does_not_fail_the_read_and_is_tried_again(
    client, auth, people, effective_doc, draft_of, approve, today, monkeypatch
):
    """Whatever goes wrong while activating, the page is served; the next request retries."""
    from docmgmt.versioning import publishing

    doc, a0 = effective_doc()
    a1 = approve(draft_of(doc, change_summary="调整"))
    publishing.publish_revision(people["qm"], a1, today + timedelta(days=1))
    db.session.commit()
    auth.login("staff")
    _move_clock(monkeypatch, 1)
    real = publishing._activate

    def broken(*args, **kwargs):
        raise RuntimeError("receiver failed")

    monkeypatch.setattr(publishing, "_activate", broken)
    r = client.get(f"/documents/{doc.id}")
    assert r.status_code == 302  # staff are sent to the revision in force
    assert client.get(r.headers["Location"]).status_code == 200
    db.session.expire_all()
    assert db.session.get(Revision, a1.id).state == RevisionState.APPROVED

    monkeypatch.setattr(publishing, "_activate", real)
    assert client.get(f"/documents/{doc.id}/revisions/{a1.id}").status_code == 200
    db.session.expire_all()
    assert db.session.get(Revision, a1.id).state == RevisionState.EFFECTIVE
    assert _events("revision.activate", a1.id) == 1


@pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="the script runs its own SQLite instance; the PostgreSQL run covers the test above",
)
def test_activation_race_script_under_faketime_and_gunicorn():
    """scripts/activation_race.py: gunicorn (2 workers x 4 threads) under faketime -f +1d."""
    if not shutil.which("faketime"):
        if os.environ.get("CI"):
            pytest.fail("faketime is not installed; .ci/run must install it")
        pytest.skip("faketime not installed (apt-get install faketime)")
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "activation_race.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    assert f"200: {REQUESTS}" in run.stdout
