"""Document control: change requests, periodic review, related and external documents, the
desk, the master list and e-mail notices."""

import threading
from datetime import date, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from docmgmt.control.models import ChangeRequest, DocumentLink, PeriodicReview, RequestState
from docmgmt.control.rules import add_months, next_review_date
from docmgmt.extensions import db
from docmgmt.versioning.models import Revision, RevisionState
from tests.conftest import PASSWORD, page_text


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 11, 15), 12, date(2026, 11, 15)),
        (date(2025, 12, 1), 2, date(2026, 2, 1)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(day, months, expected):
    assert add_months(day, months) == expected


def test_next_review_counts_from_the_later_of_review_and_issue():
    assert next_review_date(12, date(2025, 3, 1), date(2025, 6, 1)) == date(2026, 6, 1)
    assert next_review_date(12, date(2025, 8, 1), date(2025, 6, 1)) == date(2026, 8, 1)
    assert next_review_date(12, None, None) is None


# ---------------------------------------------------------------- change requests


def test_staff_request_a_change_and_acceptance_opens_the_draft_with_its_number(
    client, auth, people, effective_doc, approve, today, monkeypatch
):
    doc, a0 = effective_doc()
    auth.login("staff")
    r = client.post(
        f"/documents/{doc.id}/change-requests/new",
        data={
            "reason": "派工单缺少到场时间栏",
            "proposed_change": "增加到场时间",
            "urgency": "high",
        },
    )
    assert r.status_code == 303
    cr = db.session.scalar(select(ChangeRequest))
    assert cr.number == f"CR-{today.year}-001" and cr.state == RequestState.OPEN
    auth.logout()

    auth.login("qm")
    assert cr.number in page_text(client.get("/desk"))
    r = client.post(f"/change-requests/{cr.id}/accept", data={"comment": "同意"})
    assert r.status_code == 303
    db.session.expire_all()
    draft = db.session.scalar(select(Revision).where(Revision.state == RevisionState.DRAFT))
    assert draft.version == "A1" and draft.change_number == cr.number
    assert db.session.get(ChangeRequest, cr.id).revision_id == draft.id
    auth.logout()

    auth.login("staff")
    page = page_text(client.get("/"))
    assert cr.number in page and ("Accepted" in page or "已接受" in page)


def test_rejection_needs_a_reason_the_requester_then_sees(client, auth, people, effective_doc):
    from docmgmt.control import operations as ops

    doc, _a0 = effective_doc()
    cr = ops.create_request(people["staff"], doc, reason="r", proposed_change="p")
    db.session.commit()
    auth.login("qm")
    r = client.post(f"/change-requests/{cr.id}/reject", data={"comment": ""})
    assert r.status_code == 422
    assert db.session.get(ChangeRequest, cr.id).state == RequestState.OPEN
    client.post(f"/change-requests/{cr.id}/reject", data={"comment": "现行规定已覆盖此情况"})
    auth.logout()
    auth.login("staff")
    assert "现行规定已覆盖此情况" in page_text(client.get(f"/change-requests/{cr.id}"))
    auth.logout()
    # Nobody else on the staff sees someone else's request.
    auth.login("reviewer")
    assert client.get(f"/change-requests/{cr.id}").status_code == 404


def test_a_request_on_an_obsolete_document_cannot_be_accepted(client, auth, people, effective_doc):
    from docmgmt.control import operations as ops

    doc, _a0 = effective_doc()
    cr = ops.create_request(people["staff"], doc, reason="r", proposed_change="p")
    wd = ops.propose_withdrawal(people["qm"], doc, "不再使用", people["approver"])
    ops.decide_withdrawal(people["approver"], wd, approve=True, password=PASSWORD)
    db.session.commit()
    revisions = _count(Revision)
    auth.login("qm")
    r = client.post(f"/change-requests/{cr.id}/accept", data={"comment": ""})
    assert r.status_code == 409 and "obsolete" in page_text(r)
    assert _count(Revision) == revisions
    assert db.session.get(ChangeRequest, cr.id).state == RequestState.OPEN


def test_two_quality_managers_accepting_at_once_open_one_draft(
    app, people, create_user, effective_doc
):
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    from docmgmt.auth.models import User
    from docmgmt.control import operations as ops

    create_user("qm2", ["quality_manager"], "王芳")
    doc, _a0 = effective_doc()
    cr = ops.create_request(people["staff"], doc, reason="r", proposed_change="p")
    db.session.commit()
    cr_id = cr.id
    db.session.remove()
    barrier, results = threading.Barrier(2), []

    def accept(username):
        with app.app_context():
            actor = db.session.scalar(User.by_username(username))
            request = db.session.get(ChangeRequest, cr_id)
            _ = request.document.revisions
            barrier.wait()
            try:
                ops.accept_request(actor, request)
                db.session.commit()
                results.append("ok")
            except (StaleDataError, IntegrityError):
                db.session.rollback()
                results.append("conflict")
            except Exception as exc:  # SQLite may report the lock instead
                db.session.rollback()
                results.append(type(exc).__name__)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=accept, args=(u,)) for u in ("qm", "qm2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    assert _count(Revision) == 2  # A0 and one draft


def test_change_requests_through_the_api(client, people, token_for, effective_doc):
    doc, _a0 = effective_doc()
    staff, qm = token_for(people["staff"]), token_for(people["qm"])
    r = client.post(
        f"/api/v1/documents/{doc.id}/change-requests",
        headers=staff,
        json={"reason": "原因", "proposed_change": "建议"},
    )
    assert r.status_code == 201
    cr = r.get_json()
    r = client.post(f"/api/v1/change-requests/{cr['id']}/accept", headers=staff, json={})
    assert r.status_code == 403
    r = client.post(f"/api/v1/change-requests/{cr['id']}/accept", headers=qm, json={})
    assert r.status_code == 200 and r.get_json()["state"] == "accepted"
    r = client.post(f"/api/v1/change-requests/{cr['id']}/reject", headers=qm, json={"comment": "x"})
    assert r.status_code == 409
    assert [
        c["number"] for c in client.get("/api/v1/change-requests", headers=staff).get_json()
    ] == [cr["number"]]


# ---------------------------------------------------------------- periodic review


def test_reviews_are_recorded_move_the_due_date_and_cannot_be_in_the_future(
    client, auth, people, create_document, draft_of, approve, today
):
    from docmgmt.control import operations as ops
    from docmgmt.versioning import publishing

    doc = create_document()
    rev = approve(draft_of(doc))
    publishing.publish_revision(people["qm"], rev, today)
    db.session.commit()
    assert ops.review_due_date(doc) == add_months(today, 12)
    auth.login("qm")
    r = client.post(
        f"/documents/{doc.id}/reviews",
        data={"review_date": (today + timedelta(days=1)).isoformat(), "finding": "ok"},
    )
    assert "future" in page_text(client.get(f"/documents/{doc.id}"))
    assert _count(PeriodicReview) == 0
    r = client.post(
        f"/documents/{doc.id}/reviews",
        data={
            "review_date": today.isoformat(),
            "finding": "需要补充节假日安排",
            "change_needed": "y",
            "proposed_change": "补充节假日安排",
        },
    )
    assert r.status_code == 303
    review = db.session.scalar(select(PeriodicReview))
    assert review.change_request is not None and review.change_request.state == RequestState.OPEN
    assert "需要补充节假日安排" in page_text(client.get(f"/documents/{doc.id}"))


def test_overdue_reviews_are_listed_on_the_desk(
    client, auth, people, create_document, draft_of, approve, monkeypatch
):
    from docmgmt import clock
    from docmgmt.versioning import publishing

    doc = create_document(review_interval_months=1)
    rev = approve(draft_of(doc))
    publishing.publish_revision(people["qm"], rev, clock.local_today())
    db.session.commit()
    auth.login("qm")
    assert doc.number not in page_text(client.get("/desk")).split("overdue")[-1]
    later = clock.utcnow() + timedelta(days=40)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    html = client.get("/desk").get_data(as_text=True)
    overdue = html.split('id="desk-overdue"', 1)[1].split("</section>", 1)[0]
    assert doc.number in overdue and f"/documents/{doc.id}#reviews" in overdue


# ---------------------------------------------------------------- links and external documents


def test_links_refuse_circles_and_wrong_types(client, auth, people, effective_doc, create_document):
    a, _ = effective_doc(title="甲")
    b, _ = effective_doc(title="乙")
    c, _ = effective_doc(title="丙")
    auth.login("qm")
    for src, dst in ((a, b), (b, c)):
        client.post(f"/documents/{src.id}/links", data={"kind": "refers_to", "target_id": dst.id})
    assert _count(DocumentLink) == 2
    r = client.post(
        f"/documents/{c.id}/links",
        data={"kind": "refers_to", "target_id": a.id},
        follow_redirects=True,
    )
    assert "circular" in page_text(r)
    r = client.post(
        f"/documents/{a.id}/links",
        data={"kind": "uses_form", "target_id": c.id},
        follow_redirects=True,
    )
    assert "right type" in page_text(r)
    assert _count(DocumentLink) == 2
    page = page_text(client.get(f"/documents/{a.id}"))
    assert b.number in page and "A0" in page


def ops_pending(doc):
    from docmgmt.control.operations import pending_withdrawal

    db.session.expire_all()
    return pending_withdrawal(doc)


def test_withdrawing_a_referenced_document_warns_first(client, auth, people, effective_doc):
    a, _ = effective_doc(title="甲")
    b, _ = effective_doc(title="乙")
    auth.login("qm")
    client.post(f"/documents/{a.id}/links", data={"kind": "refers_to", "target_id": b.id})
    approver_id = people["approver"].id
    r = client.post(
        f"/documents/{b.id}/withdraw",
        data={"reason": "合并", "approver_id": approver_id},
        follow_redirects=True,
    )
    assert a.number in page_text(r) and "referred to by" in page_text(r)
    assert ops_pending(b) is None
    client.post(
        f"/documents/{b.id}/withdraw",
        data={"reason": "合并", "confirm": "1", "approver_id": approver_id},
    )
    wd = ops_pending(b)
    assert wd is not None and a.number in wd.confirmed_references


def test_external_documents_carry_their_edition_and_staff_see_them(client, auth, people, token_for):
    auth.login("qm")
    r = client.post(
        "/documents/new",
        data={"doc_type": "external", "title": "商品售后服务评价体系", "department_id": 0},
    )
    assert r.status_code == 422 and "edition" in page_text(r)
    r = client.post(
        "/documents/new",
        data={
            "doc_type": "external",
            "title": "商品售后服务评价体系",
            "department_id": 0,
            "external_edition": "GB/T 27922-2011",
            "external_source": "国家标准化管理委员会",
        },
    )
    assert r.status_code == 302
    auth.logout()
    auth.login("staff")
    assert "商品售后服务评价体系" in page_text(client.get("/documents/"))
    docs = client.get("/api/v1/documents", headers=token_for(people["staff"])).get_json()
    assert [(d["number"], d["external_edition"]) for d in docs] == [("XX-EX-01", "GB/T 27922-2011")]


# ---------------------------------------------------------------- desk, master list, mail


def test_the_desk_is_for_quality_managers(client, auth, people, token_for):
    auth.login("staff")
    assert client.get("/desk").status_code == 403
    assert client.get("/api/v1/desk", headers=token_for(people["staff"])).status_code == 403
    r = client.get("/api/v1/desk", headers=token_for(people["qm"]))
    assert r.status_code == 200 and r.get_json()["change_requests"] == []


def test_master_list_exports_as_xlsx(client, auth, people, effective_doc, create_document):
    effective_doc(title="报修控制程序")
    create_document(title="未发布的程序")
    auth.login("staff")
    r = client.get("/register/master-list.xlsx")
    assert r.status_code == 200
    ws = load_workbook(BytesIO(r.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows[0]) == 7
    assert [row[:4] for row in rows[1:]] == [("XX-SP-01", "报修控制程序", rows[1][2], "A0")]
    assert rows[1][6] is not None  # next review date


def test_notices_are_mailed_through_smtp_after_commit(
    app, client, auth, people, create_document, draft_of
):
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        people["reviewer"].email = "reviewer@example.com"
        db.session.commit()
        doc = create_document()
        rev = draft_of(doc)
        auth.login("qm")
        # A failed submission (wrong password) sends nothing.
        client.post(
            f"/documents/{doc.id}/revisions/{rev.id}/submit",
            data={
                "reviewer_id": people["reviewer"].id,
                "approver_id": people["approver"].id,
                "password": "wrong",
            },
        )
        assert received == []
        client.post(
            f"/documents/{doc.id}/revisions/{rev.id}/submit",
            data={
                "reviewer_id": people["reviewer"].id,
                "approver_id": people["approver"].id,
                "password": PASSWORD,
            },
        )
    finally:
        controller.stop()
    assert len(received) == 1
    rcpt, content = received[0]
    assert rcpt == ["reviewer@example.com"] and doc.number in content
