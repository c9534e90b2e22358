"""The background jobs page and API (issue 18): quality managers and administrators see the
newest jobs (kind, state, progress, attempts, message, times) in words, never codes, and run a
failed one again (audited); staff and auditors are refused."""

from datetime import timedelta

from sqlalchemy import func, select

from docmgmt.extensions import db
from tests.main.test_chinese_throughout import untranslated, visible_text


def _jobs():
    from docmgmt.clock import utcnow
    from docmgmt.jobs.models import Job

    now = utcnow()
    rows = {
        "digest": Job(
            kind="digest",
            key="digest:2026-11-30",
            state="failed",
            attempt=1,
            message="SMTP 服务器无应答",
            started_dt=now - timedelta(minutes=3),
            finished_dt=now - timedelta(minutes=2),
        ),
        "import": Job(
            kind="import",
            key="import:77",
            state="failed",
            attempt=2,
            message="文件无法读取",
            payload={"import_id": 77},
        ),
        "running": Job(
            kind="import",
            key="import:78",
            state="running",
            attempt=1,
            phase="validating",
            done=2000,
            total=4500,
            started_dt=now,
        ),
        "done": Job(kind="activate", key="activate:2026-12-01", state="done", attempt=1),
    }
    db.session.add_all(rows.values())
    db.session.commit()
    return {k: j.id for k, j in rows.items()}


def _job(job_id):
    from docmgmt.jobs.models import Job

    db.session.rollback()
    return db.session.get(Job, job_id)


def _reruns(job_id) -> int:
    from docmgmt.audit.models import AuditEvent

    return db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "job.rerun", AuditEvent.object_id == job_id)
    )


def test_the_quality_manager_sees_the_jobs_in_chinese_and_runs_a_failed_one_again(
    app, client, auth, people
):
    ids = _jobs()
    auth.login("qm")
    client.post("/lang/zh_CN")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/jobs/"' in html and "后台任务" in html  # linked from the menu
    r = client.get("/jobs/")
    assert r.status_code == 200
    text = visible_text(r.get_data(as_text=True))
    assert "不合格" not in text  # (an evaluation's "failed"; a job's is another word)
    shown = ("每日汇总邮件", "失败", "SMTP 服务器无应答", "记录导入", "运行中", "正在校验各行")
    for words in shown:
        assert words in text, words
    assert "2000 / 4500" in text and "版本按生效日期生效" in text and "已完成" in text
    codes = frozenset({"digest", "failed", "import", "running", "validating", "activate"})
    assert untranslated(text, codes) == []
    html = r.get_data(as_text=True)
    # A run-again button for the failed daily job only (an import is retried on its page).
    assert f"/jobs/{ids['digest']}/run-again" in html
    assert f"/jobs/{ids['import']}/run-again" not in html
    r = client.post(f"/jobs/{ids['digest']}/run-again")
    assert r.status_code == 303
    job = _job(ids["digest"])  # the tests' queue runs it at once: no mail server, no digest
    assert job.state == "done" and job.attempt == 2 and job.message == "已发送 0 封每日汇总邮件"
    assert _reruns(ids["digest"]) == 1
    assert "任务已重新排队" in visible_text(client.get("/jobs/").get_data(as_text=True))
    # Not failed (any more), or an import: refused with a reason, nothing changed.
    client.post(f"/jobs/{ids['digest']}/run-again")
    assert "只有失败的任务可以重新运行" in visible_text(client.get("/jobs/").get_data(as_text=True))
    client.post(f"/jobs/{ids['import']}/run-again")
    assert _job(ids["import"]).state == "failed" and _reruns(ids["import"]) == 0
    assert client.get("/jobs/?state=failed").get_data(as_text=True).count("run-again") == 0


def test_the_jobs_api_for_quality_managers_and_administrators_only(
    app, client, auth, people, token_for
):
    ids = _jobs()
    for who in ("qm", "admin"):
        r = client.get("/api/v1/jobs", headers=token_for(people[who]))
        assert r.status_code == 200
        got = {j["id"]: j for j in r.get_json()}
        assert set(got) == set(ids.values())
        assert [j["id"] for j in r.get_json()] == sorted(ids.values(), reverse=True)
    qm = token_for(people["qm"])
    one = client.get(f"/api/v1/jobs/{ids['running']}", headers=qm).get_json()
    assert (one["kind"], one["state"], one["phase"], one["done"], one["total"]) == (
        "import",
        "running",
        "validating",
        2000,
        4500,
    )
    assert client.get(f"/api/v1/jobs/{ids['digest']}", headers=qm).get_json()["state_label"] == (
        "Stopped with an error"
    )
    assert one["kind_label"] == "Record import" and one["state_label"] == "Running"
    assert one["phase_label"] == "Checking the rows" and one["can_run_again"] is False
    failed = client.get("/api/v1/jobs?state=failed", headers=qm).get_json()
    assert {j["id"] for j in failed} == {ids["digest"], ids["import"]}
    assert [j["can_run_again"] for j in failed] == [False, True]
    r = client.post(f"/api/v1/jobs/{ids['import']}/run-again", headers=qm)
    assert r.status_code == 409 and "page of what it works on" in r.get_json()["message"]
    r = client.post(f"/api/v1/jobs/{ids['digest']}/run-again", headers=qm)
    assert r.status_code == 200 and r.get_json()["state"] == "done", r.get_json()
    assert r.get_json()["attempt"] == 2 and _reruns(ids["digest"]) == 1
    assert client.get("/api/v1/jobs/999999", headers=qm).status_code == 404
    assert client.get("/api/v1/jobs?state=nonsense", headers=qm).status_code == 422
    # Staff and auditors: refused, page, API and the run-again alike.
    for who in ("staff", "auditor", "approver"):
        headers = token_for(people[who])
        assert client.get("/api/v1/jobs", headers=headers).status_code == 403
        assert client.get(f"/api/v1/jobs/{ids['digest']}", headers=headers).status_code == 403
        r = client.post(f"/api/v1/jobs/{ids['digest']}/run-again", headers=headers)
        assert r.status_code == 403
        auth.login(who)
        assert client.get("/jobs/").status_code == 403
        assert 'href="/jobs/"' not in client.get("/").get_data(as_text=True)
        assert client.post(f"/jobs/{ids['digest']}/run-again").status_code == 403
        auth.logout()
    assert _reruns(ids["digest"]) == 1


def test_a_jobs_message_is_said_in_the_readers_language(app, client, auth, people, token_for):
    """The worker writes in the server's language; the page and the API say a job's message in
    the reader's (kept as a msgid and its parameters); a message kept as text is shown as is."""
    from docmgmt.clock import utcnow
    from docmgmt.jobs.daily import submit_daily

    ids = _jobs()
    morning = utcnow().replace(hour=1)  # 09:00 in Shanghai: after the digest hour, whenever run
    job = submit_daily(now=morning, only="digest")[0]  # the tests' queue runs it at once
    job = _job(job.id)
    assert job.state == "done" and job.message_id == "%(n)d digest(s)"
    assert job.message_params == {"n": 0}
    auth.login("qm")
    client.post("/lang/en")
    text = visible_text(client.get("/jobs/").get_data(as_text=True))
    assert "0 digest(s)" in text and "已发送" not in text
    assert "SMTP 服务器无应答" in text  # stored as text: shown as stored
    people["qm"].locale = "en"
    db.session.commit()
    got = client.get(f"/api/v1/jobs/{job.id}", headers=token_for(people["qm"])).get_json()
    assert got["message"] == "0 digest(s)"
    client.post("/lang/zh_CN")
    text = visible_text(client.get("/jobs/").get_data(as_text=True))
    assert "已发送 0 封每日汇总邮件" in text and "0 digest(s)" not in text
    assert ids


def test_run_again_from_a_filtered_list_comes_back_to_the_same_list(app, client, auth, people):
    """ "Run again" on /jobs/?state=failed (and the refusal of it) returns to the failed jobs,
    not to every job; a return address off the site falls back to the jobs page."""
    import html as htmllib
    import re

    ids = _jobs()
    auth.login("qm")
    page = client.get("/jobs/?state=failed&page=1").get_data(as_text=True)
    form = re.search(
        rf'<form method="post" action="(/jobs/{ids["digest"]}/run-again)"[^>]*>(.*?)</form>',
        page,
        re.S,
    )
    fields = {
        k: htmllib.unescape(v) for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', form[2])
    }
    r = client.post(form[1], data=fields)
    assert r.status_code == 303
    assert r.headers["Location"] == "/jobs/?state=failed&page=1"
    assert _job(ids["digest"]).state == "done"
    r = client.post(form[1], data=fields)  # no longer failed: refused, back to the same list
    assert r.status_code == 303 and r.headers["Location"] == "/jobs/?state=failed&page=1"
    r = client.post(form[1], data=fields | {"next": "//evil.example/jobs/"})
    assert r.headers["Location"] == "/jobs/"
