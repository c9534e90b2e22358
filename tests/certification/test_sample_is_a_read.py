"""Drawing a record sample is a read (GET): it changes nothing, not even the audit trail.
An auditor's reads are logged by the app as auditor.view with the path, which holds the seed."""

from datetime import timedelta

from sqlalchemy import func, select

from docmgmt.extensions import db
from tests.certification.test_certification import _wo_records


def _events(action=None):
    from docmgmt.audit.models import AuditEvent

    q = select(func.count()).select_from(AuditEvent)
    if action:
        q = q.where(AuditEvent.action == action)
    return db.session.scalar(q)


def test_drawing_a_sample_writes_nothing(client, auth, people, token_for, today):
    rt, _recs = _wo_records(people, 8)
    rt_id = rt.id
    q = {"type": "WO", "from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
    headers = token_for(people["qm"])
    before = _events()
    r = client.get("/api/v1/certification/sample", query_string=q, headers=headers)
    assert r.status_code == 200 and r.get_json()["population"] == 8
    seed = r.get_json()["seed"]
    auth.login("qm")
    r = client.get("/certification/sample", query_string=q | {"type": rt_id, "seed": seed})
    assert r.status_code == 200 and f"Seed {seed}" in r.get_data(as_text=True)
    db.session.expire_all()
    assert _events() == before + 1  # the log-in, nothing else


def test_a_drawn_seed_goes_into_the_address_and_the_auditors_view_log(client, auth, people, today):
    from docmgmt.audit.models import AuditEvent

    rt, _recs = _wo_records(people, 8)
    rt_id = rt.id
    auth.login("auditor")
    q = {"type": rt_id, "from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
    r = client.get("/certification/sample", query_string=q)
    assert r.status_code == 303 and "seed=" in r.headers["Location"]
    seed = r.headers["Location"].split("seed=")[1].split("&")[0]
    r = client.get(r.headers["Location"])
    assert f"Seed {seed}" in r.get_data(as_text=True)
    db.session.expire_all()
    assert _events("record.sample") == 0
    views = db.session.scalars(
        select(AuditEvent.summary).where(AuditEvent.action == "auditor.view")
    ).all()
    assert any(f"seed={seed}" in v for v in views)
