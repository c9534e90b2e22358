"""A disposal counts each record once, is bounded in size, and its certificate shows the
company's dates with numbers and dates never broken across lines."""

import io
from datetime import UTC, datetime, time, timedelta

from pypdf import PdfReader
from sqlalchemy import func, select

from docmgmt.extensions import db
from tests.conftest import PASSWORD, page_text


def _due(people, rt, at: datetime, title="到期工单"):
    from docmgmt.records import operations as rops

    r = rops.file_record(people["staff"], rt, title=title, values={"customer": "老客户"}, now=at)
    db.session.commit()
    return r


def _late_evening_utc(days_ago: int) -> datetime:
    """20:00 UTC: already the next day in Shanghai (04:00)."""
    from docmgmt.clock import local_today

    return datetime.combine(local_today() - timedelta(days=days_ago), time(20, 0), tzinfo=UTC)


def _disposals():
    from docmgmt.records.models import Disposal

    return db.session.scalar(select(func.count()).select_from(Disposal))


def test_one_record_named_three_times_is_disposed_of_and_certified_once(
    client, people, token_for, wo_type
):
    from docmgmt.clock import to_local

    at = _late_evening_utc(4 * 365)
    rec = _due(people, wo_type, at)
    local_day = to_local(at).date().isoformat()
    assert local_day != at.date().isoformat()  # the case the certificate used to get wrong
    qm, approver = token_for(people["qm"]), token_for(people["approver"])
    r = client.post(
        "/api/v1/disposals",
        json={
            "record_ids": [rec.id, rec.id, rec.id],
            "reason": "保存期满",
            "approver_id": people["approver"].id,
        },
        headers=qm,
    )
    assert r.status_code == 201, r.get_json()
    d = r.get_json()
    assert [it["record_id"] for it in d["items"]] == [rec.id]
    r = client.post(
        f"/api/v1/disposals/{d['id']}/approve", json={"password": PASSWORD}, headers=approver
    )
    assert r.status_code == 200, r.get_json()
    assert len(r.get_json()["items"]) == 1
    pdf = client.get(f"/api/v1/disposals/{d['id']}/certificate.pdf", headers=qm)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    pdf.close()
    assert "共 1 份记录" in text
    lines = text.splitlines()
    # Numbers and dates are whole on one line (not cut by a narrow column).
    assert any(rec.number in line for line in lines), lines
    assert any(local_day in line for line in lines), (local_day, lines)
    assert any(rec.dispose_after.isoformat() in line for line in lines)
    assert at.date().isoformat() not in text  # the UTC date is not the filing date
    compact = "".join(text.split())
    assert rec.content_hash in compact


def test_a_disposal_is_bounded_in_size_through_the_api_and_the_page(
    app, client, auth, people, token_for, wo_type
):
    recs = [_due(people, wo_type, _late_evening_utc(4 * 365), f"工单{i}") for i in range(3)]
    ids = [r.id for r in recs]
    app.config["DISPOSAL_MAX_RECORDS"] = 2
    qm = token_for(people["qm"])
    body = {"reason": "保存期满", "approver_id": people["approver"].id}
    r = client.post("/api/v1/disposals", json=body | {"record_ids": ids}, headers=qm)
    assert r.status_code == 422
    assert r.get_json()["field"] == "record_ids"
    assert "at most 2 records; 3 were chosen" in r.get_json()["message"]
    assert _disposals() == 0
    auth.login("qm")
    r = client.post(
        "/records/disposition",
        data={"record_id": ids, "reason": "保存期满", "approver_id": people["approver"].id},
        follow_redirects=True,
    )
    assert "at most 2 records; 3 were chosen" in page_text(r)
    assert _disposals() == 0
    # Repeats do not count against the limit, and the page drops them too.
    r = client.post(
        "/records/disposition",
        data={
            "record_id": [ids[0], ids[0], ids[1], ids[0]],
            "reason": "保存期满",
            "approver_id": people["approver"].id,
        },
        follow_redirects=True,
    )
    assert "waits for" in page_text(r)
    from docmgmt.records.models import Disposal

    d = db.session.scalar(select(Disposal))
    assert [it["record_id"] for it in d.items] == ids[:2]
    # An id that cannot exist is an unknown record, not a server error.
    r = client.post("/api/v1/disposals", json=body | {"record_ids": [2**40]}, headers=qm)
    assert r.status_code == 404
