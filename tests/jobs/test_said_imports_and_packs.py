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


def _said_in_both_languages(client, auth, token_for, people, page, api, chinese, english):
    """The message in Chinese on its page and the jobs page, in English on its page, and in the
    asker's language through its API."""
    auth.login("qm")
    client.post("/lang/zh_CN")
    text = page_text(client.get(page))
    assert chinese in text and english not in text
    text = page_text(client.get("/jobs/"))
    assert chinese in text and english not in text
    client.post("/lang/en")
    assert english in page_text(client.get(page))
    assert _api(client, token_for, people["qm"], api, "zh_CN")["message"] == chinese
    assert _api(client, token_for, people["qm"], api, "en")["message"] == english


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


def test_an_imports_message_is_said_in_the_readers_language(
    app, client, auth, people, token_for, wo_type
):
    rt = wo_type
    imp = _import(people, rt, [[f"W-{i}", f"客户{i}"] for i in range(3)])
    assert imp.status == "done"
    assert imp.message == "3 records imported, 0 already filed, 0 rows with errors."
    assert imp.message_id == "%(n)d records imported, %(d)d already filed, %(e)d rows with errors."
    assert imp.message_params == {"n": 3, "d": 0, "e": 0}
    job = _job(f"import:{imp.id}")
    assert job.message_id == imp.message_id and job.message_params == imp.message_params

    english = "3 records imported, 0 already filed, 0 rows with errors."
    chinese = "导入 3 份记录，0 份此前已归档，0 行有错误。"
    _said_in_both_languages(
        client,
        auth,
        token_for,
        people,
        f"/records/imports/{imp.id}",
        f"/api/v1/imports/{imp.id}",
        chinese,
        english,
    )
    got = _api(client, token_for, people["qm"], f"/api/v1/jobs/{job.id}", "zh_CN")
    assert got["message"] == chinese


def test_an_import_that_files_nothing_says_why_in_the_readers_language(
    app, client, auth, people, token_for, monkeypatch, wo_type
):
    from docmgmt.records import importing

    rt = wo_type
    # Rows in error with "block": nothing filed.
    imp = _import(people, rt, [["W-1", ""], ["W-2", "客户"]])
    assert imp.status == "failed" and imp.message_params == {"n": 1}
    auth.login("qm")
    client.post("/lang/zh_CN")
    text = page_text(client.get(f"/records/imports/{imp.id}"))
    assert "1 行有错误，未导入任何记录。" in text and "rows have errors" not in text

    # The import fails for a reason nobody foresaw: said in the reader's language, with where
    # the detail is (the server log), never the error's own English text.
    def broken(*a, **kw):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(importing, "load", broken)
    imp = _import(people, rt, [["W-3", "客户"]])
    assert imp.status == "failed" and "disk gone" not in imp.message
    generic = (
        "The import failed and nothing was filed; the administrator can see the detail in the log."
    )
    assert imp.message == generic
    text = page_text(client.get(f"/records/imports/{imp.id}"))
    assert "导入失败，未归档任何记录，管理员可在服务器日志中查看详情。" in text
    assert "disk gone" not in text and "The import failed" not in text
    got = _api(client, token_for, people["qm"], f"/api/v1/imports/{imp.id}", "en")
    assert got["message"] == generic


def test_an_import_from_before_shows_its_message_as_stored(
    app, client, auth, people, token_for, wo_type
):
    rt = wo_type
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
    _said_in_both_languages(
        client,
        auth,
        token_for,
        people,
        f"/certification/packs/{pack.id}",
        f"/api/v1/certification/packs/{pack.id}",
        chinese,
        english,
    )

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


def _fail_with(exc):
    def handler(*a, **kw):
        raise exc

    return handler


def test_a_failed_job_import_or_pack_says_why_in_the_readers_language_and_logs_the_detail(
    app, client, auth, people, token_for, today, monkeypatch, caplog, wo_type
):
    """A job whose handler raises OSError(28): the Chinese jobs page and the API say "the disk
    is full" in the reader's language, never "[Errno 28] No space left on device"; the server
    log keeps the error itself. An import that cannot read a file, and a pack whose database
    went away, say so on their own pages, and their job says the same."""
    import logging

    from sqlalchemy.exc import OperationalError

    from docmgmt.certification import operations as cops
    from docmgmt.jobs import operations as ops
    from docmgmt.jobs.models import Job
    from docmgmt.records import importing

    monkeypatch.setitem(ops.HANDLERS, "digest", _fail_with(OSError(28, "No space left on device")))
    job = Job(kind="digest", key="digest:2026-12-01", state="queued")
    db.session.add(job)
    db.session.commit()
    # (Alembic's fileConfig, run when the tests' database is made, disables the loggers that
    # exist by then; a server's log has it.)
    monkeypatch.setattr(logging.getLogger("docmgmt.jobs.operations"), "disabled", False)
    with caplog.at_level(logging.ERROR, logger="docmgmt.jobs.operations"):
        ops.start(job.id)
    db.session.expire_all()
    job = _job("digest:2026-12-01")
    assert job.state == "failed" and job.finished_dt is not None
    assert "[Errno 28] No space left on device" in caplog.text and job.key in caplog.text
    assert job.message == "The job failed: the server's disk is full."
    auth.login("qm")
    client.post("/lang/zh_CN")
    text = page_text(client.get("/jobs/?state=failed"))
    assert "任务失败：服务器磁盘已满。" in text and "失败" in text
    assert "Errno" not in text and "No space" not in text and "The job failed" not in text
    url = f"/api/v1/jobs/{job.id}"
    got = _api(client, token_for, people["qm"], url, "zh_CN")
    assert (got["state"], got["message"]) == ("failed", "任务失败：服务器磁盘已满。")
    got = _api(client, token_for, people["qm"], url, "en")
    assert got["message"] == "The job failed: the server's disk is full."

    # An import whose file cannot be read: its page and its job say so.
    rt = wo_type
    denied = PermissionError(13, "Permission denied", "/srv/docmgmt/storage/ab/cd")
    monkeypatch.setattr(importing, "load", _fail_with(denied))
    imp = _import(people, rt, [["W-1", "客户"]])
    assert imp.status == "failed"
    assert (
        imp.message
        == "The import failed and nothing was filed: a file could not be read or written."
    )
    job = _job(f"import:{imp.id}")
    assert (job.state, job.message_id) == ("failed", imp.message_id)
    client.post("/lang/zh_CN")
    text = page_text(client.get(f"/records/imports/{imp.id}"))
    assert "导入失败，未归档任何记录：有文件无法读取或写入。" in text and "Permission" not in text
    assert "有文件无法读取或写入" in page_text(client.get("/jobs/"))

    # An evidence pack whose database went away.
    gone = OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    monkeypatch.setattr(cops, "build_pack", _fail_with(gone))
    pack = cops.request_pack(people["qm"], today - timedelta(days=30), today)
    db.session.commit()
    job = cops.submit(pack, people["qm"].id)
    db.session.commit()
    ops.start(job)
    db.session.expire_all()
    job = _job(f"pack:{pack.id}")
    assert job.state == "failed"
    text = page_text(client.get(f"/certification/packs/{pack.id}"))
    assert "证据包生成失败：无法连接数据库。" in text and "server closed" not in text
    url = f"/api/v1/certification/packs/{pack.id}"
    got = _api(client, token_for, people["qm"], url, "en")
    assert (
        got["message"] == "The evidence pack could not be built: the database could not be reached."
    )
    assert _api(client, token_for, people["qm"], f"/api/v1/jobs/{job.id}", "zh_CN")["message"] == (
        "证据包生成失败：无法连接数据库。"
    )


def test_the_evidence_packs_listed_in_the_workspace_say_their_state_in_words(
    app, client, auth, people, today
):
    """The auditor's workspace lists the packs with their state in the reader's language
    (失败, 已完成 …), never the stored code (failed, done)."""
    import re

    from docmgmt.certification import operations as cops
    from tests.main.test_chinese_throughout import visible_text

    for state in ("queued", "running", "done", "failed"):
        pack = cops.request_pack(people["qm"], today - timedelta(days=30), today)
        pack.status = state
    db.session.commit()
    auth.login("qm")
    client.post("/lang/zh_CN")
    text = visible_text(client.get("/certification/").get_data(as_text=True))
    for words in ("等待中", "运行中", "已完成", "失败"):
        assert words in text, words
    assert re.findall(r"\b(?:queued|running|done|failed)\b", text) == []
    client.post("/lang/en")
    text = visible_text(client.get("/certification/").get_data(as_text=True))
    assert "Stopped with an error" in text and " failed " not in text


def test_a_finished_evidence_pack_job_shows_all_of_its_progress(
    app, client, auth, people, today, effective_doc
):
    """The jobs page showed a built pack's job at "23 / 28": the last step the pack reported was
    its last document, not its end. A pack that is built reports all of it."""
    from docmgmt.certification import operations as cops
    from docmgmt.jobs.operations import start

    effective_doc()
    pack = cops.request_pack(people["qm"], today - timedelta(days=30), today + timedelta(days=1))
    db.session.commit()
    job = cops.submit(pack, people["qm"].id)
    db.session.commit()
    start(job)
    db.session.expire_all()
    job = _job(f"pack:{pack.id}")
    assert job.state == "done" and job.total > 0
    assert job.done == job.total
    auth.login("qm")
    assert f"{job.total} / {job.total}" in page_text(client.get("/jobs/"))


def test_a_failed_import_or_pack_is_tried_again_from_its_own_page(
    app, client, auth, people, today, monkeypatch, wo_type
):
    """The jobs page says an import or a pack that failed is retried on its own page: the
    failed import's page leads to uploading the file again, the failed pack's page builds the
    same pack again (same period) with one button."""
    import re

    from docmgmt.certification import operations as cops
    from docmgmt.certification.models import EvidencePack
    from docmgmt.jobs.operations import start
    from docmgmt.records import importing

    rt = wo_type
    monkeypatch.setattr(importing, "load", _fail_with(RuntimeError("boom")))
    imp = _import(people, rt, [["W-1", "客户"]])
    assert imp.status == "failed"
    auth.login("qm")
    client.post("/lang/zh_CN")
    html = client.get(f"/records/imports/{imp.id}").get_data(as_text=True)
    assert f'href="/records/import/{rt.id}"' in html and "重新上传文件" in html

    real_build = cops.build_pack
    monkeypatch.setattr(cops, "build_pack", _fail_with(OSError(28, "No space left on device")))
    period = (today - timedelta(days=30), today)
    pack = cops.request_pack(people["qm"], *period)
    db.session.commit()
    job = cops.submit(pack, people["qm"].id)
    db.session.commit()
    start(job)
    db.session.expire_all()
    assert db.session.get(EvidencePack, pack.id).status == "failed"
    html = client.get(f"/certification/packs/{pack.id}").get_data(as_text=True)
    form = re.search(
        r'<form method="post" action="/certification/packs"[^>]*>(.*?)</form>', html, re.S
    )
    assert form and "重新生成证据包" in form[1]
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form[1]))
    monkeypatch.setattr(cops, "build_pack", real_build)
    r = client.post("/certification/packs", data=fields)
    assert r.status_code == 303
    again = db.session.scalars(select(EvidencePack).order_by(EvidencePack.id.desc())).first()
    assert again.id != pack.id and again.status == "done"
    assert (again.period_from, again.period_to) == period


def test_a_pack_being_built_shows_how_far_it_is_in_numbers_like_an_import(
    app, client, auth, people, today
):
    """Seen at 390 px: the import page says "2000 / 4500" under its bar, the pack page showed
    a bare bar. It says how far too."""
    from docmgmt.certification import operations as cops
    from docmgmt.jobs.models import Job

    pack = cops.request_pack(people["qm"], today - timedelta(days=30), today)
    pack.status = "running"
    db.session.flush()
    key = f"pack:{pack.id}"
    db.session.add(Job(kind="pack", key=key, state="running", phase="building", done=7, total=28))
    db.session.commit()
    auth.login("qm")
    client.post("/lang/zh_CN")
    text = page_text(client.get(f"/certification/packs/{pack.id}"))
    assert "7 / 28" in text and "正在生成" in text
