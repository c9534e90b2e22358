"""A background import's outcome is its transaction: committed means done, whatever the search
index does afterwards; a failure always says why; progress covers validation and filing."""

import csv
import io

import pytest
from sqlalchemy import func, select

from docmgmt.extensions import db
from tests.conftest import page_text


@pytest.fixture
def wo_type(people):
    from docmgmt.records import operations as rops

    rt = rops.create_type(
        people["qm"],
        code="WO",
        name="派工单",
        retention_months=36,
        fields=[
            {"name": "customer", "label": "客户", "kind": "text", "required": True},
            {"name": "hours", "label": "响应小时", "kind": "number"},
        ],
    )
    db.session.commit()
    return rt


def _upload(people, rt, n, prefix="B"):
    from docmgmt.records import importing

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["工单号", "客户", "响应小时"])
    w.writerows([f"{prefix}-{i}", f"客户{prefix}{i}", "1"] for i in range(n))
    imp, _parsed = importing.upload(people["qm"], rt, "big.csv", buf.getvalue().encode())
    imp.external_id_column = "工单号"
    db.session.commit()
    return imp.id


def _run(import_id, user, mode="skip"):
    """What the page does for a large file: the import becomes a job, the queue runs it (in
    the tests at once, in a session of its own)."""
    from docmgmt.jobs.operations import start
    from docmgmt.records import importing
    from docmgmt.records.models import RecordImport

    job = importing.submit(db.session.get(RecordImport, import_id), user.id, mode)
    db.session.commit()
    start(job)
    db.session.expire_all()


def _filed(import_id):
    from docmgmt.records.models import Record

    return db.session.scalar(
        select(func.count()).select_from(Record).where(Record.import_id == import_id)
    )


def test_an_import_is_done_when_it_commits_even_while_the_index_is_locked(
    whoosh_engine, app, client, people, token_for, wo_type
):
    from docmgmt import search
    from docmgmt.records.models import RecordImport

    app.config["SEARCH_LOCK_TIMEOUT"] = 0.5
    import_id = _upload(people, wo_type, 60)
    held = search.engine().writer(timeout=5)  # another worker is writing the index
    try:
        _run(import_id, people["qm"])
        db.session.expire_all()
        imp = db.session.get(RecordImport, import_id)
        assert imp.status == "done", imp.message
        assert imp.imported == 60 and _filed(import_id) == 60
        assert "60 records imported" in imp.message
        assert search.pending() >= 60  # waiting in the outbox, not lost
    finally:
        held.cancel()
    search.drain()
    qm = token_for(people["qm"])
    hits = client.get("/api/v1/search", query_string={"q": "客户B59"}, headers=qm).get_json()
    assert hits["total"] == 1


def test_a_failed_background_import_says_why_and_files_nothing(app, people, wo_type, monkeypatch):
    from docmgmt.records import importing
    from docmgmt.records.models import RecordImport

    import_id = _upload(people, wo_type, 30)

    def broken(*a, **kw):
        raise RuntimeError()  # an error with no text at all

    monkeypatch.setattr(importing, "load", broken)
    _run(import_id, people["qm"])
    db.session.expire_all()
    imp = db.session.get(RecordImport, import_id)
    assert imp.status == "failed"
    assert imp.message == (  # never empty, never the error's own text: the log has that
        "The import failed and nothing was filed; the administrator can see the detail in the log."
    )
    assert _filed(import_id) == 0


def test_progress_is_reported_while_rows_are_validated_and_then_filed(
    app, client, auth, people, wo_type, monkeypatch
):
    from docmgmt.records import importing
    from docmgmt.records import operations as rops
    from docmgmt.records.models import RecordImport

    n = 4500
    import_id = _upload(people, wo_type, n)
    readings = []
    real = rops.clean_values
    calls = {"n": 0}

    def watched(*a, **kw):
        calls["n"] += 1
        if calls["n"] in (1, 2500, n):  # what the progress page would read at that moment
            readings.append(importing.read_progress(import_id))
        return real(*a, **kw)

    monkeypatch.setattr(rops, "clean_values", watched)
    _run(import_id, people["qm"])
    db.session.expire_all()
    assert db.session.get(RecordImport, import_id).status == "done"
    assert readings == [("validating", 0, n), ("validating", 2000, n), ("validating", 4000, n)]
    assert importing.read_progress(import_id) == ("filing", n, n)
    # The page says which phase it is in.
    imp = db.session.get(RecordImport, import_id)
    imp.status = "running"
    db.session.commit()
    _progress(import_id, "validating", 2000, n)
    auth.login("qm")
    text = page_text(client.get(f"/records/imports/{import_id}"))
    assert "Checking the rows" in text and "2000 / 4500" in text
    _progress(import_id, "filing", 2000, n)
    text = page_text(client.get(f"/records/imports/{import_id}"))
    assert "Filing the valid rows" in text


def _progress(import_id, phase, done, total):
    from sqlalchemy import update

    from docmgmt.jobs.models import Job

    db.session.execute(
        update(Job)
        .where(Job.key == f"import:{import_id}")
        .values(phase=phase, done=done, total=total)
    )
    db.session.commit()
