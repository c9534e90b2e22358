"""The JSON API: tokens, the register, the whole lifecycle, errors as JSON, OpenAPI."""

from sqlalchemy import func, select

from docmgmt.extensions import db
from docmgmt.versioning.models import Revision
from tests.conftest import PASSWORD


def test_api_requires_a_valid_token(client, people):
    r = client.get("/api/v1/documents")
    assert r.status_code == 401
    assert "Bearer" in r.get_json()["message"]
    r = client.get("/api/v1/documents", headers={"Authorization": "Bearer dm_nonsense"})
    assert r.status_code == 401


def test_revoked_and_deactivated_tokens_stop_working(client, people, token_for):
    from docmgmt.auth import operations as auth_ops
    from docmgmt.auth.models import ApiToken

    headers = token_for(people["staff"])
    assert client.get("/api/v1/me", headers=headers).get_json()["username"] == "staff"
    token = db.session.scalar(select(ApiToken))
    auth_ops.revoke_token(people["staff"], token)
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    headers = token_for(people["qm"])
    auth_ops.set_active(people["admin"], people["qm"], False)
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_full_lifecycle_through_the_api(client, people, token_for, today):
    qm, rv, ap = (
        token_for(people["qm"]),
        token_for(people["reviewer"]),
        token_for(people["approver"]),
    )
    r = client.post(
        "/api/v1/documents", json={"title": "文件控制程序", "doc_type": "procedure"}, headers=qm
    )
    assert r.status_code == 201, r.get_json()
    doc = r.get_json()
    assert doc["number"] == "XX-SP-01" and doc["in_force"] is None

    r = client.post(
        f"/api/v1/documents/{doc['id']}/revisions",
        headers=qm,
        json={
            "body_markdown": "# 1 目的\n控制文件的编制、审核和核准。",
            "change_summary": "新制订",
        },
    )
    assert r.status_code == 201
    rev = r.get_json()
    assert rev["version"] == "A0" and rev["state"] == "draft"
    assert rev["blocks"] == [
        {"type": "heading", "level": 1, "text": "1 目的"},
        {"type": "paragraph", "text": "控制文件的编制、审核和核准。"},
    ]

    r = client.patch(f"/api/v1/revisions/{rev['id']}", headers=qm, json={"pages_affected": "1-2"})
    assert r.status_code == 200 and r.get_json()["pages_affected"] == "1-2"

    r = client.post(
        f"/api/v1/revisions/{rev['id']}/submit",
        headers=qm,
        json={
            "reviewer_id": people["reviewer"].id,
            "approver_id": people["approver"].id,
            "password": PASSWORD,
        },
    )
    assert r.status_code == 200 and r.get_json()["state"] == "in_review"
    assert [i["meaning"] for i in client.get("/api/v1/inbox", headers=rv).get_json()] == [
        "reviewed"
    ]

    r = client.post(
        f"/api/v1/revisions/{rev['id']}/sign",
        headers=rv,
        json={"meaning": "reviewed", "password": PASSWORD},
    )
    assert r.status_code == 201 and r.get_json()["signer_name"] == "刘洋"
    r = client.post(
        f"/api/v1/revisions/{rev['id']}/sign",
        headers=ap,
        json={"meaning": "approved", "password": PASSWORD},
    )
    assert r.status_code == 201
    r = client.post(
        f"/api/v1/revisions/{rev['id']}/publish",
        headers=qm,
        json={"effective_date": today.isoformat()},
    )
    assert r.status_code == 200 and r.get_json()["state"] == "effective"

    r = client.get(f"/api/v1/documents/{doc['id']}", headers=qm)
    assert r.get_json()["in_force"]["version"] == "A0"
    record = client.get(f"/api/v1/documents/{doc['id']}/revision-record", headers=qm).get_json()
    assert record == [
        {
            "no": 1,
            "date": today.isoformat(),
            "change_number": "-",
            "change_requests": [],
            "change_summary": "新制订",
            "version": "A0",
            "pages_affected": "1-2",
            "prepared_by": "李明",
            "reviewed_by": "刘洋",
            "approved_by": "陈静",
        }
    ]
    sigs = client.get(f"/api/v1/revisions/{rev['id']}/signatures", headers=qm).get_json()
    assert [s["meaning"] for s in sigs] == ["prepared", "reviewed", "approved"]
    assert len({s["content_hash"] for s in sigs}) == 1


def test_api_errors_are_json_with_clear_messages_and_change_nothing(
    client, people, token_for, effective_doc
):
    doc, a0 = effective_doc()
    qm = token_for(people["qm"])
    count = db.session.scalar(select(func.count()).select_from(Revision))
    r = client.post(f"/api/v1/documents/{doc.id}/revisions", headers=qm, json={"version": "A10"})
    assert r.status_code == 422
    assert r.get_json()["field"] == "version" and "A10" in r.get_json()["message"]
    r = client.post("/api/v1/documents", headers=qm, json={"title": "", "doc_type": "nonsense"})
    assert r.status_code == 422 and "doc_type" in r.get_json()["errors"]["json"]
    r = client.patch(f"/api/v1/revisions/{a0.id}", headers=qm, json={"title": "改"})
    assert r.status_code == 409 and "frozen" in r.get_json()["message"]
    r = client.post(
        f"/api/v1/revisions/{a0.id}/sign",
        headers=token_for(people["reviewer"]),
        json={"meaning": "reviewed", "password": PASSWORD},
    )
    assert r.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Revision)) == count


def test_staff_cannot_read_a_draft_through_the_api(
    client, people, token_for, effective_doc, draft_of
):
    doc, a0 = effective_doc()
    a1 = draft_of(doc)
    staff = token_for(people["staff"])
    assert client.get(f"/api/v1/revisions/{a0.id}", headers=staff).status_code == 200
    r = client.get(f"/api/v1/revisions/{a1.id}", headers=staff)
    assert r.status_code == 403 and "not in force" in r.get_json()["message"]
    listed = client.get(f"/api/v1/documents/{doc.id}/revisions", headers=staff).get_json()
    assert [x["version"] for x in listed] == ["A0"]
    auditor = token_for(people["auditor"])
    listed = client.get(f"/api/v1/documents/{doc.id}/revisions", headers=auditor).get_json()
    assert [x["version"] for x in listed] == ["A0", "A1"]
    r = client.post(f"/api/v1/documents/{doc.id}/revisions", headers=auditor, json={})
    assert r.status_code == 403


def test_register_filters(client, people, token_for, effective_doc, create_document):
    effective_doc(title="记录控制程序")
    create_document(title="服务手册", doc_type="manual")  # no revision in force yet
    staff = token_for(people["staff"])
    qm = token_for(people["qm"])
    assert [d["title"] for d in client.get("/api/v1/documents", headers=staff).get_json()] == [
        "记录控制程序"
    ]
    assert len(client.get("/api/v1/documents", headers=qm).get_json()) == 2
    r = client.get("/api/v1/documents?type=manual", headers=qm).get_json()
    assert [d["number"] for d in r] == ["XX-SM-01"]
    assert client.get("/api/v1/documents?type=bogus", headers=qm).status_code == 422


def test_openapi_document_and_health(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/documents",
        "/api/v1/revisions/{rev_id}/sign",
        "/api/v1/revisions/{rev_id}/publish",
    ):
        assert path in spec["paths"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json()["database"] == "ok"
