"""Training through the app: matrix rules, tasks on revisions in force, replacement, role
changes, acknowledgement in the browser form, sessions, evaluations, records, bad input."""

from datetime import timedelta
from io import BytesIO

import pytest

from docmgmt.extensions import db
from tests import files
from tests.conftest import PASSWORD, page_text


@pytest.fixture
def dept(app):
    from docmgmt.auth.models import Department

    d = {c: Department(code=c, name=n) for c, n in (("AS", "售后服务部"), ("ADM", "行政部"))}
    db.session.add_all(d.values())
    db.session.commit()
    return d


@pytest.fixture
def techs(create_user, dept):
    return {
        "tech": create_user("tech", ["staff"], "孙强", department=dept["AS"], job_title="维修人员"),
        "clerk": create_user("clerk", ["staff"], "吴芳", department=dept["ADM"]),
    }


def _require(client, headers, doc, kind, value, days=14):
    r = client.post(
        "/api/v1/training/matrix",
        json={"document_id": doc.id, "target_kind": kind, "target_value": value, "due_days": days},
        headers=headers,
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _publish(people, rev, day, days_ago=0):
    """Publish ``rev`` effective ``day``; ``days_ago`` publishes it back then (A0 before A1)."""
    from docmgmt.clock import utcnow
    from docmgmt.versioning import publishing

    publishing.publish_revision(
        people["qm"], rev, day - timedelta(days=days_ago), now=utcnow() - timedelta(days=days_ago)
    )
    db.session.commit()


def _tasks(client, headers, **q):
    r = client.get("/api/v1/training/tasks", query_string=q, headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_publishing_creates_tasks_for_whom_the_matrix_covers_never_for_drafts(
    client, people, techs, create_document, draft_of, approve, token_for, today
):
    qm = token_for(people["qm"])
    doc = create_document()
    _require(client, qm, doc, "department", "AS", days=10)
    a0 = approve(draft_of(doc))
    assert _tasks(client, qm) == []  # approved, not yet in force: nothing to read
    _publish(people, a0, today)
    tasks = _tasks(client, qm)
    assert [(t["user"], t["version"], t["state"]) for t in tasks] == [("孙强", "A0", "open")]
    assert tasks[0]["due_date"] == (today + timedelta(days=10)).isoformat()
    # Staff see their own only.
    assert _tasks(client, token_for(techs["clerk"])) == []
    assert len(_tasks(client, token_for(techs["tech"]))) == 1


def test_a_newer_revision_replaces_an_open_task_and_keeps_done_ones(
    client, people, techs, create_document, draft_of, approve, token_for, today
):
    qm = token_for(people["qm"])
    doc = create_document()
    _require(client, qm, doc, "role", "staff")
    _publish(people, approve(draft_of(doc)), today, days_ago=10)  # A0: tech and clerk
    tech_task = _tasks(client, token_for(techs["tech"]))[0]
    r = client.post(
        f"/api/v1/training/tasks/{tech_task['id']}/acknowledge",
        json={"password": PASSWORD},
        headers=token_for(techs["tech"]),
    )
    assert r.status_code == 200 and r.get_json()["state"] == "done"
    a1 = approve(draft_of(doc, change_summary="响应时限改为 30 分钟"))
    _publish(people, a1, today)
    rows = {(t["user"], t["version"]): t["state"] for t in _tasks(client, qm)}
    assert rows == {
        ("孙强", "A0"): "done",  # history kept
        ("孙强", "A1"): "open",
        ("吴芳", "A0"): "replaced",  # never read A0, now reads A1
        ("吴芳", "A1"): "open",
        ("赵敏", "A0"): "replaced",  # the people fixture's staff member
        ("赵敏", "A1"): "open",
    }
    # Acknowledging the replaced task is refused with the reason.
    old = next(t for t in _tasks(client, token_for(techs["clerk"])) if t["version"] == "A0")
    r = client.post(
        f"/api/v1/training/tasks/{old['id']}/acknowledge",
        json={"password": PASSWORD},
        headers=token_for(techs["clerk"]),
    )
    assert r.status_code == 409 and "revision in force" in r.get_json()["message"]


def test_new_people_and_role_changes_get_the_tasks_that_now_apply(
    client, people, techs, dept, create_document, draft_of, approve, token_for, today, create_user
):
    from docmgmt.auth import operations as auth_ops

    qm = token_for(people["qm"])
    doc = create_document()
    _publish(people, approve(draft_of(doc)), today, days_ago=10)
    _require(client, qm, doc, "job_title", "维修人员")  # the matrix changes after publishing
    assert [t["user"] for t in _tasks(client, qm)] == ["孙强"]
    newcomer = create_user(
        "newtech", ["staff"], "郑新", department=dept["AS"], job_title="维修人员"
    )
    assert {t["user"] for t in _tasks(client, qm)} == {"孙强", "郑新"}
    # The clerk becomes a technician: a task; the newcomer changes job: the open task goes.
    clerk = techs["clerk"]
    auth_ops.update_user(
        people["admin"],
        clerk,
        full_name=clerk.full_name,
        email="",
        job_title="维修人员",
        department=dept["AS"],
        roles=["staff"],
        access_expires_dt=None,
    )
    auth_ops.update_user(
        people["admin"],
        newcomer,
        full_name=newcomer.full_name,
        email="",
        job_title="调度员",
        department=dept["AS"],
        roles=["staff"],
        access_expires_dt=None,
    )
    db.session.commit()
    rows = {t["user"]: t["state"] for t in _tasks(client, qm)}
    assert rows == {"孙强": "open", "吴芳": "open", "郑新": "cancelled"}
    # Deactivated people keep their history and get no new tasks.
    auth_ops.set_active(people["admin"], techs["tech"], False)
    db.session.commit()
    _publish(people, approve(draft_of(doc, change_summary="修订")), today)
    a1 = {(t["user"], t["version"]) for t in _tasks(client, qm)}
    assert ("吴芳", "A1") in a1 and ("孙强", "A1") not in a1 and ("孙强", "A0") in a1


def test_a_staff_member_acknowledges_in_the_browser_and_completion_moves(
    client, auth, people, techs, create_document, draft_of, approve, token_for, today
):
    from pypdf import PdfReader

    doc = create_document()
    _require(client, token_for(people["qm"]), doc, "role", "staff")
    rev = approve(draft_of(doc))
    _publish(people, rev, today)
    task = _tasks(client, token_for(techs["tech"]))[0]

    auth.login("tech")
    page = page_text(client.get("/training/"))
    assert doc.number in page and "Read and acknowledge" in page
    page = client.get(f"/training/tasks/{task['id']}").get_data(as_text=True)
    assert "调度员开具派工单" in page  # the revision itself is shown to read
    # Without ticking the statement nothing is signed.
    r = client.post(f"/training/tasks/{task['id']}/acknowledge", data={"password": PASSWORD})
    assert r.status_code == 303
    assert _tasks(client, token_for(techs["tech"]))[0]["state"] == "open"
    r = client.post(
        f"/training/tasks/{task['id']}/acknowledge",
        data={"password": "wrong-password", "confirm": "y"},
        follow_redirects=True,
    )
    assert "The password is wrong" in page_text(r)
    r = client.post(
        f"/training/tasks/{task['id']}/acknowledge",
        data={"password": PASSWORD, "confirm": "y"},
        follow_redirects=True,
    )
    assert "Signed: you have read and understood" in page_text(r)
    done = _tasks(client, token_for(techs["tech"]))[0]
    assert done["state"] == "done" and len(done["signature_hash"]) == 64
    # Twice is refused.
    r = client.post(
        f"/api/v1/training/tasks/{task['id']}/acknowledge",
        json={"password": PASSWORD},
        headers=token_for(techs["tech"]),
    )
    assert r.status_code == 409 and "already acknowledged" in r.get_json()["message"]

    auth.logout()
    auth.login("qm")
    text = page_text(client.get(f"/training/revisions/{rev.id}"))
    assert "1 of 3 done" in text and "孙强" in text and "吴芳" in text
    overview = page_text(client.get("/training/overview"))
    assert "100 % (1/1)" in overview and "0 % (0/1)" in overview  # 售后服务部 done, 行政部 not
    from openpyxl import load_workbook

    # Prints for people follow the reader's language: English here, then Chinese.
    for lang, title, done, sheet in (
        ("en", "Personnel training record", "Done", "Read and understood"),
        ("zh_CN", "人员培训档案", "已完成", "阅读确认"),
    ):
        client.post(f"/lang/{lang}")
        pdf = client.get(f"/training/people/{techs['tech'].id}/record.pdf")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        text = "".join(p.extract_text() for p in PdfReader(BytesIO(pdf.data)).pages)
        assert title in text and doc.number in text and done in text
        xlsx = client.get(f"/training/people/{techs['tech'].id}/record.xlsx")
        ws = load_workbook(BytesIO(xlsx.data))[sheet]
        assert [c.value for c in ws[2]][:3] == [doc.number, rev.title, "A0"]


def test_someone_elses_task_and_reading_rights(
    client, people, techs, create_document, draft_of, approve, token_for, today
):
    doc = create_document()
    _require(client, token_for(people["qm"]), doc, "role", "staff")
    _publish(people, approve(draft_of(doc)), today)
    task = _tasks(client, token_for(techs["tech"]))[0]
    r = client.post(
        f"/api/v1/training/tasks/{task['id']}/acknowledge",
        json={"password": PASSWORD},
        headers=token_for(techs["clerk"]),
    )
    assert r.status_code == 403
    assert _tasks(client, token_for(techs["tech"]))[0]["state"] == "open"
    r = client.get(f"/api/v1/training/people/{techs['tech'].id}", headers=token_for(techs["clerk"]))
    assert r.status_code == 403
    r = client.post(
        "/api/v1/training/matrix",
        json={"document_id": doc.id, "target_kind": "role", "target_value": "auditor"},
        headers=token_for(techs["clerk"]),
    )
    assert r.status_code == 403
    # Auditors read everything, change nothing.
    assert len(_tasks(client, token_for(people["auditor"]))) == 3


def test_a_session_with_an_assessment_completes_the_matching_tasks(
    client, people, techs, create_document, draft_of, approve, token_for, today
):
    qm = token_for(people["qm"])
    doc = create_document()
    _require(client, qm, doc, "role", "staff")
    rev = approve(draft_of(doc))
    _publish(people, rev, today)
    r = client.post(
        "/api/v1/training/sessions",
        json={
            "held_on": today.isoformat(),
            "kind": "classroom",
            "topic": "报修流程培训",
            "trainer_name": "陈立华",
            "duration_minutes": 90,
            "assessed": True,
            "revision_ids": [rev.id],
            "attendees": [
                {"user_id": techs["tech"].id, "result": "passed", "score": 92},
                {"user_id": techs["clerk"].id, "result": "failed", "score": 40},
            ],
        },
        headers=qm,
    )
    assert r.status_code == 201, r.get_json()
    session = r.get_json()
    states = {t["user"]: (t["state"], t["completed_via"]) for t in _tasks(client, qm)}
    assert states == {"孙强": ("done", "session"), "吴芳": ("open", ""), "赵敏": ("open", "")}
    # The sign-in sheet is kept with its SHA-256.
    r = client.post(
        f"/api/v1/training/sessions/{session['id']}/attachments",
        data={"file": (BytesIO(files.pdf("sign-in")), "签到表.pdf")},
        headers=qm,
        content_type="multipart/form-data",
    )
    assert r.status_code == 201 and r.get_json()["attachments"][0]["filename"] == "签到表.pdf"
    r = client.post(
        f"/api/v1/training/sessions/{session['id']}/attachments",
        data={"file": (BytesIO(b"MZ"), "setup.exe")},
        headers=qm,
        content_type="multipart/form-data",
    )
    assert r.status_code == 422


def _session(client, headers, **over):
    body = {
        "held_on": over.pop("held_on"),
        "topic": "培训",
        "trainer_name": "陈立华",
        "duration_minutes": 60,
        "attendees": [],
    }
    body.update(over)
    return client.post("/api/v1/training/sessions", json=body, headers=headers)


def test_bad_input_is_refused_with_a_message_and_changes_nothing(
    client, people, techs, create_document, draft_of, token_for, today
):
    qm = token_for(people["qm"])
    doc = create_document()
    draft = draft_of(doc)
    r = _session(client, qm, held_on=today.isoformat())
    assert r.status_code == 422 and "at least one attendee" in r.get_json()["message"]
    attendee = [{"user_id": techs["tech"].id}]
    r = _session(client, qm, held_on=(today + timedelta(days=3)).isoformat(), attendees=attendee)
    assert r.status_code == 422 and "future" in r.get_json()["message"]
    r = _session(client, qm, held_on=today.isoformat(), attendees=attendee, revision_ids=[draft.id])
    assert r.status_code == 422 and "not drafts" in r.get_json()["message"]
    r = _session(
        client,
        qm,
        held_on=today.isoformat(),
        attendees=[{"user_id": techs["tech"].id, "result": "passed"}],
    )
    assert r.status_code == 422 and "assessment" in r.get_json()["message"]
    assert client.get("/api/v1/training/sessions", headers=qm).get_json() == []

    r = client.post(
        "/api/v1/training/evaluations",
        json={
            "user_id": techs["tech"].id,
            "evaluated_on": (today + timedelta(days=1)).isoformat(),
            "criteria": "故障诊断",
            "result": "competent",
        },
        headers=qm,
    )
    assert r.status_code == 422 and "future" in r.get_json()["message"]
    r = client.post(
        "/api/v1/training/matrix",
        json={"document_id": doc.id, "target_kind": "department", "target_value": "NOPE"},
        headers=qm,
    )
    assert r.status_code == 422 and "Unknown department" in r.get_json()["message"]
    assert client.get("/api/v1/training/evaluations", headers=qm).get_json() == []
    assert client.get("/api/v1/training/matrix", headers=qm).get_json() == []


def test_evaluations_and_those_due(client, people, techs, token_for, today, auth):
    qm = token_for(people["qm"])
    r = client.post(
        "/api/v1/training/evaluations",
        json={
            "user_id": techs["tech"].id,
            "evaluated_on": (today - timedelta(days=350)).isoformat(),
            "criteria": "故障诊断、客户沟通、安全操作",
            "result": "competent",
            "next_due": (today + timedelta(days=15)).isoformat(),
        },
        headers=qm,
    )
    assert r.status_code == 201, r.get_json()
    due = client.get("/api/v1/training/evaluations/due", headers=qm).get_json()
    assert [e["user"] for e in due] == ["孙强"]
    auth.login("qm")
    assert "孙强" in page_text(client.get("/training/evaluations"))
    r = client.post(
        "/training/evaluations",
        data={
            "user_id": techs["clerk"].id,
            "evaluated_on": today.isoformat(),
            "criteria": "档案管理",
            "result": "needs_training",
            "next_due": (today - timedelta(days=1)).isoformat(),
        },
        follow_redirects=True,
    )
    assert "The next evaluation comes after this one." in page_text(r)


def test_the_matrix_page_and_a_session_through_the_form(
    client, auth, people, techs, create_document, draft_of, approve, today
):
    doc = create_document()
    rev = approve(draft_of(doc))
    _publish(people, rev, today)
    auth.login("qm")
    r = client.post(
        "/training/matrix",
        data={"document_id": doc.id, "target_kind": "role", "target_value": "staff", "due_days": 7},
        follow_redirects=True,
    )
    text = page_text(r)
    assert "Training requirement saved." in text and "7 days" in text
    r = client.post(
        "/training/sessions/new",
        data={
            "held_on": today.isoformat(),
            "kind": "on_the_job",
            "topic": "上门服务规范",
            "trainer_name": "刘洋",
            "duration_minutes": 45,
            "revisions": [rev.id],
            "attendees": [techs["tech"].id, techs["clerk"].id],
            "assessed": "y",
            "failed": [techs["clerk"].id],
            "files": (BytesIO(files.pdf("x")), "sign-in.pdf"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    text = page_text(r)
    assert "Training session recorded." in text and "sign-in.pdf" in text
    assert "Passed" in text and "Failed" in text
    r = client.get(f"/training/revisions/{rev.id}")
    assert "1 of 3 done" in page_text(r)


def test_deactivating_a_person_cancels_their_open_tasks_and_keeps_the_done_ones(
    client, runner, people, techs, create_document, draft_of, approve, token_for, today
):
    qm = token_for(people["qm"])
    done_doc, open_doc = create_document(), create_document()
    for doc in (done_doc, open_doc):
        _require(client, qm, doc, "department", "AS")
        _publish(people, approve(draft_of(doc)), today)
    done = [t for t in _tasks(client, qm) if t["document_id"] == done_doc.id][0]
    r = client.post(
        f"/api/v1/training/tasks/{done['id']}/acknowledge",
        json={"password": PASSWORD},
        headers=token_for(techs["tech"]),
    )
    assert r.status_code == 200, r.get_json()
    result = runner.invoke(args=["users", "deactivate", "tech"])
    assert result.exit_code == 0, result.output
    states = {t["document_id"]: t["state"] for t in _tasks(client, qm, user_id=techs["tech"].id)}
    assert states == {done_doc.id: "done", open_doc.id: "cancelled"}
    assert _tasks(client, qm, state="open") == []


def test_a_session_on_a_scheduled_revision_that_is_cancelled_says_so_and_trains_nobody_on_it(
    client, auth, people, techs, create_document, draft_of, approve, token_for, today
):
    """Staff are trained on A1 before its date; then A1 is cancelled and never comes into
    force. The session stays as the record of what was held, but names A1 as cancelled (page,
    API, both languages); no task points at A1, the tasks on A0 in force stay open, and the
    next A1 is a new revision the session did not cover."""
    qm = token_for(people["qm"])
    doc = create_document()
    _require(client, qm, doc, "role", "staff")
    a0 = approve(draft_of(doc))
    _publish(people, a0, today, days_ago=10)
    a1 = approve(draft_of(doc, change_summary="缩短响应时限"))
    _publish(people, a1, today + timedelta(days=5))
    r = client.post(
        "/api/v1/training/sessions",
        json={
            "held_on": today.isoformat(),
            "kind": "classroom",
            "topic": "A1 宣贯",
            "trainer_name": "陈立华",
            "duration_minutes": 60,
            "assessed": True,
            "revision_ids": [a1.id],
            "attendees": [{"user_id": techs["tech"].id, "result": "passed", "score": 90}],
        },
        headers=qm,
    )
    assert r.status_code == 201, r.get_json()
    session_id = r.get_json()["id"]
    auth.login("qm")
    page = page_text(client.get(f"/training/sessions/{session_id}"))
    in_five = (today + timedelta(days=5)).isoformat()
    assert f"{doc.number} A1 (takes effect on {in_five})" in page

    r = client.post(f"/api/v1/revisions/{a1.id}/cancel", json={"reason": "重新评审"}, headers=qm)
    assert r.status_code == 200, r.get_json()

    page = page_text(client.get(f"/training/sessions/{session_id}"))
    assert f"{doc.number} A1 (cancelled, never in force)" in page
    listed = [s for s in client.get("/api/v1/training/sessions", headers=qm).get_json()]
    assert listed[0]["revision_ids"] == [a1.id]
    assert listed[0]["revisions"] == [
        {
            "id": a1.id,
            "number": doc.number,
            "version": "A1",
            "state": "cancelled",
            "effective_date": None,
        }
    ]
    tasks = _tasks(client, qm, user_id=techs["tech"].id)
    assert [(t["revision_id"], t["state"]) for t in tasks] == [(a0.id, "open")]

    # The next A1, published today: a new revision, which the session did not cover.
    new_a1 = approve(draft_of(doc, change_summary="重新修订"))
    assert new_a1.version == "A1" and new_a1.id != a1.id
    _publish(people, new_a1, today)
    states = {t["revision_id"]: t["state"] for t in _tasks(client, qm, user_id=techs["tech"].id)}
    assert states == {a0.id: "replaced", new_a1.id: "open"}
    page = page_text(client.get(f"/training/sessions/{session_id}"))
    assert f"{doc.number} A1 (cancelled, never in force)" in page

    client.post("/lang/zh_CN")
    page = page_text(client.get(f"/training/sessions/{session_id}"))
    assert f"{doc.number} A1（已取消，从未生效）" in page and "cancelled" not in page


def test_a_session_on_a_scheduled_revision_whose_document_is_withdrawn_says_it_never_took_effect(
    client, auth, people, techs, create_document, draft_of, approve, token_for, today
):
    """A1 is scheduled, staff are trained on it, then the document is withdrawn before A1's
    date: A1 becomes obsolete with its date kept, but it was never in force. The session's page
    says so (both languages); A0, in force until the withdrawal, gets no note."""
    qm = token_for(people["qm"])
    doc = create_document()
    a0 = approve(draft_of(doc))
    _publish(people, a0, today, days_ago=10)
    a1 = approve(draft_of(doc, change_summary="缩短响应时限"))
    _publish(people, a1, today + timedelta(days=5))
    r = client.post(
        "/api/v1/training/sessions",
        json={
            "held_on": today.isoformat(),
            "kind": "classroom",
            "topic": "A0/A1 宣贯",
            "trainer_name": "陈立华",
            "duration_minutes": 60,
            "assessed": True,
            "revision_ids": [a0.id, a1.id],
            "attendees": [{"user_id": techs["tech"].id, "result": "passed", "score": 90}],
        },
        headers=qm,
    )
    assert r.status_code == 201, r.get_json()
    session_id = r.get_json()["id"]
    r = client.post(
        f"/api/v1/documents/{doc.id}/withdraw",
        json={"reason": "业务取消", "approver_id": people["approver"].id},
        headers=qm,
    )
    assert r.status_code == 201, r.get_json()
    r = client.post(
        f"/api/v1/withdrawals/{r.get_json()['id']}/approve",
        json={"password": PASSWORD},
        headers=token_for(people["approver"]),
    )
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    assert (a1.state, a1.effective_date) == ("obsolete", today + timedelta(days=5))

    auth.login("qm")
    page = page_text(client.get(f"/training/sessions/{session_id}"))
    assert f"{doc.number} A1 (withdrawn before it took effect)" in page
    assert f"{doc.number} A0 (" not in page
    client.post("/lang/zh_CN")
    page = page_text(client.get(f"/training/sessions/{session_id}"))
    assert f"{doc.number} A1（生效前已作废，从未生效）" in page and "withdrawn" not in page
    assert f"{doc.number} A0（" not in page


def test_passing_a_session_before_a_scheduled_revision_takes_effect_counts_on_its_day(
    client, auth, people, techs, create_document, draft_of, approve, token_for, today
):
    """Training ahead of the date is what scheduling is for: on the day A1 takes effect, a
    person who passed an assessed session on it has the task done (via the session); one who
    failed, or was not there, has it open."""
    from sqlalchemy import select

    from docmgmt.clock import utcnow
    from docmgmt.training.models import TrainingTask
    from docmgmt.versioning import scheduling

    qm = token_for(people["qm"])
    doc = create_document()
    _require(client, qm, doc, "role", "staff")
    a0 = approve(draft_of(doc))
    _publish(people, a0, today, days_ago=10)
    a1 = approve(draft_of(doc, change_summary="缩短响应时限"))
    _publish(people, a1, today + timedelta(days=5))
    r = client.post(
        "/api/v1/training/sessions",
        json={
            "held_on": today.isoformat(),
            "kind": "classroom",
            "topic": "A1 宣贯",
            "trainer_name": "陈立华",
            "duration_minutes": 60,
            "assessed": True,
            "revision_ids": [a1.id],
            "attendees": [
                {"user_id": techs["tech"].id, "result": "passed", "score": 90},
                {"user_id": techs["clerk"].id, "result": "failed", "score": 40},
            ],
        },
        headers=qm,
    )
    assert r.status_code == 201, r.get_json()
    session_id = r.get_json()["id"]
    assert scheduling.apply_due_revisions(utcnow() + timedelta(days=5)) == [a1]
    tasks = {
        t["user"]: (t["state"], t["completed_via"])
        for t in _tasks(client, qm)
        if t["revision_id"] == a1.id
    }
    assert tasks == {"孙强": ("done", "session"), "吴芳": ("open", ""), "赵敏": ("open", "")}
    done = db.session.scalar(
        select(TrainingTask).where(
            TrainingTask.revision_id == a1.id, TrainingTask.user_id == techs["tech"].id
        )
    )
    assert done.session_id == session_id
