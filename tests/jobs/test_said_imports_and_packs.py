"""A record import's and an evidence pack's message is kept as a msgid and its parameters, like
a job's (docmgmt/jobs/said.py): the worker writes in the server's language (English in the
tests), the import page, the pack page, the API and the jobs page say it in the reader's. Rows
from before (text only) are shown as stored."""

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from docmgmt.extensions import db
from tests.conftest import page_text


def _wo_type(people):
    from docmgmt.records import operations as rops

    rt = rops.create_type(
        people["qm"],
        code="WO",
        name="派工单",
        retention_months=36,
        fields=[{"name": "customer", "label": "客户", "kind": "text", "required": True}],
    )
    db.session.commit()
    return rt


def _import(people, rt, rows):
    """Upload ``rows`` (external ID, customer) and run the import as the worker does."""
    from docmgmt.jobs.operations import start
    from docmgmt.records import importing
    from docmgmt.records.models import RecordImport

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["工单号", "客户"])
    w.writerows(rows)
    imp, _parsed = importing.upload(people["qm"], rt, "wo.csv", buf.getvalue().encode())
    imp.external_id_column = "工单号"
    db.session.commit()
    job = importing.submit(imp, people["qm"].id, "block")
    db.session.commit()
    start(job)  # the tests' queue runs it at once, in a session of its own
    db.session.expire_all()
    return db.session.get(RecordImport, imp.id)


def _job(key):
    from docmgmt.jobs.models import Job

    return db.session.scalars(select(Job).where(Job.key == key)).one()


def _api(client, token_for, user, url, locale):
    """The API in the language of the token's user (a client of its own: no page session)."""
    user.locale = locale
    db.session.commit()
    r = client.application.test_client().get(url, headers=token_for(user))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_an_imports_message_is_said_in_the_readers_language(app, client, auth, people, token_for):
    rt = _wo_type(people)
    imp = _import(people, rt, [[f"W-{i}", f"客户{i}"] for i in range(3)])
    assert imp.status == "done"
    assert imp.message == "3 records imported, 0 already filed, 0 rows with errors."
    assert imp.message_id == "%(n)d records imported, %(d)d already filed, %(e)d rows with errors."
    assert imp.message_params == {"n": 3, "d": 0, "e": 0}
    job = _job(f"import:{imp.id}")
    assert job.message_id == imp.message_id and job.message_params == imp.message_params

    english = "3 records imported, 0 already filed, 0 rows with errors."
    chinese = "导入 3 份记录，0 份此前已归档，0 行有错误。"
    auth.login("qm")
    client.post("/lang/zh_CN")
    text = page_text(client.get(f"/records/imports/{imp.id}"))
    assert chinese in text and english not in text
    text = page_text(client.get("/jobs/"))
    assert chinese in text and english not in text
    client.post("/lang/en")
    assert english in page_text(client.get(f"/records/imports/{imp.id}"))
    url = f"/api/v1/imports/{imp.id}"
    assert _api(client, token_for, people["qm"], url, "zh_CN")["message"] == chinese
    assert _api(client, token_for, people["qm"], url, "en")["message"] == english
    got = _api(client, token_for, people["qm"], f"/api/v1/jobs/{job.id}", "zh_CN")
    assert got["message"] == chinese


def test_an_import_that_files_nothing_says_why_in_the_readers_language(
    app, client, auth, people, token_for, monkeypatch
):
    from docmgmt.records import importing

    rt = _wo_type(people)
    # Rows in error with "block": nothing filed.
    imp = _import(people, rt, [["W-1", ""], ["W-2", "客户"]])
    assert imp.status == "failed" and imp.message_params == {"n": 1}
    auth.login("qm")
    client.post("/lang/zh_CN")
    text = page_text(client.get(f"/records/imports/{imp.id}"))
    assert "1 行有错误，未导入任何记录。" in text and "rows have errors" not in text

    # The import fails: the frame is said in the reader's language, the error as it was.
    def broken(*a, **kw):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(importing, "load", broken)
    imp = _import(people, rt, [["W-3", "客户"]])
    assert imp.status == "failed"
    assert imp.message == "The import failed and nothing was filed: disk gone"
    assert imp.message_params == {"reason": "disk gone"}
    text = page_text(client.get(f"/records/imports/{imp.id}"))
    assert "导入失败，未归档任何记录：disk gone" in text and "The import failed" not in text
    got = _api(client, token_for, people["qm"], f"/api/v1/imports/{imp.id}", "en")
    assert got["message"] == "The import failed and nothing was filed: disk gone"


def test_an_import_from_before_shows_its_message_as_stored(app, client, auth, people, token_for):
    rt = _wo_type(people)
    imp = _import(people, rt, [["W-1", "客户"]])
    imp.message, imp.message_id, imp.message_params = "1 records imported (old text)", "", None
    db.session.commit()
    auth.login("qm")
    client.post("/lang/zh_CN")
    assert "1 records imported (old text)" in page_text(client.get(f"/records/imports/{imp.id}"))
    got = _api(client, token_for, people["qm"], f"/api/v1/imports/{imp.id}", "zh_CN")
    assert got["message"] == "1 records imported (old text)"


def test_an_evidence_packs_message_is_said_in_the_readers_language(
    app, client, auth, people, token_for, today
):
    from docmgmt.certification import operations as cops
    from docmgmt.certification.models import EvidencePack
    from docmgmt.jobs.operations import start

    pack = cops.request_pack(people["qm"], today - timedelta(days=30), today)
    db.session.commit()
    job = cops.submit(pack, people["qm"].id)
    db.session.commit()
    start(job)
    db.session.expire_all()
    pack = db.session.get(EvidencePack, pack.id)
    assert pack.status == "done" and pack.files > 0
    assert pack.message == f"{pack.files} files."
    assert (pack.message_id, pack.message_params) == ("%(n)d files.", {"n": pack.files})
    job = _job(f"pack:{pack.id}")
    assert job.message_id == "%(n)d files."

    chinese, english = f"共 {pack.files} 个文件。", f"{pack.files} files."
    auth.login("qm")
    client.post("/lang/zh_CN")
    text = page_text(client.get(f"/certification/packs/{pack.id}"))
    assert chinese in text and english not in text
    text = page_text(client.get("/jobs/"))
    assert chinese in text and english not in text
    client.post("/lang/en")
    assert english in page_text(client.get(f"/certification/packs/{pack.id}"))
    url = f"/api/v1/certification/packs/{pack.id}"
    assert _api(client, token_for, people["qm"], url, "zh_CN")["message"] == chinese
    assert _api(client, token_for, people["qm"], url, "en")["message"] == english

    # A pack from before: its text, shown as stored.
    pack.message, pack.message_id, pack.message_params = "7 files (old text).", "", None
    db.session.commit()
    client.post("/lang/zh_CN")
    assert "7 files (old text)." in page_text(client.get(f"/certification/packs/{pack.id}"))


def test_a_message_is_stored_one_way_on_a_job_an_import_and_a_pack(app, people):
    """``finish`` (a job), ``keep`` (an import, a pack) and ``rerun`` (a job cleared) store a
    message through the one function of said.py: the same text, msgid and parameters, and the
    same limit on the text, whichever row keeps it."""
    from docmgmt.certification.models import EvidencePack
    from docmgmt.jobs import operations as ops
    from docmgmt.jobs.models import Job
    from docmgmt.jobs.said import keep, said
    from docmgmt.records.models import RecordImport

    long = said("The import failed and nothing was filed: %(reason)s", reason="行" * 3000)
    plain = "x" * 2500  # a message kept as text only
    for message in (long, plain):
        job = Job(kind="digest", key=f"digest:{len(message)}", state="queued")
        db.session.add(job)
        db.session.commit()
        attempt = ops.claim(job.id)
        ops.finish(job.id, attempt, "done", message)
        db.session.commit()
        db.session.expire_all()
        job = db.session.get(Job, job.id)
        imp, pack = RecordImport(), EvidencePack()
        keep(imp, message)
        keep(pack, message)
        stored = [(r.message, r.message_id, r.message_params) for r in (job, imp, pack)]
        assert stored[0] == stored[1] == stored[2], message[:40]
        assert 0 < len(job.message) <= 2000
    job.state = "failed"
    db.session.commit()
    ops.rerun(people["qm"], job)
    db.session.commit()
    job = db.session.get(Job, job.id)
    assert (job.message, job.message_id, job.message_params) == ("", "", None)
