"""The auditor's workspace: schedule, clause matrix, reproducible samples, evidence packs."""

import hashlib
import io
import json
import zipfile
from datetime import timedelta

from sqlalchemy import func, select

from docmgmt.extensions import db
from tests import files
from tests.conftest import page_text


def _wo_records(people, n=12):
    from docmgmt.records import operations as rops

    rt = rops.create_type(
        people["qm"],
        code="WO",
        name="派工单",
        retention_months=36,
        fields=[{"name": "customer", "label": "客户", "kind": "text", "required": True}],
    )
    recs = [
        rops.file_record(
            people["staff"],
            rt,
            title=f"工单 {i}",
            values={"customer": f"客户{i}"},
            files=[(f"s{i}.pdf", files.pdf(str(i)), "application/pdf")],
        )
        for i in range(n)
    ]
    db.session.commit()
    return rt, recs


def test_the_surveillance_schedule_warns_and_extensions_are_capped(
    client, people, token_for, today
):
    from docmgmt.certification import operations as ops

    cert = ops.create_certificate(
        people["qm"],
        number="C-1",
        body="认证中心",
        issued_on=today - timedelta(days=800),
        expires_on=today + timedelta(days=300),
    )
    ops.record_audit(people["qm"], cert, held_on=today - timedelta(days=320), kind="surveillance")
    db.session.commit()
    s = client.get(
        "/api/v1/certification/schedule", headers=token_for(people["auditor"])
    ).get_json()
    assert s["status"] == "due_soon" and 40 <= s["days_left"] <= 46
    ops.record_extension(people["qm"], cert, granted_on=today, months=2, reason="疫情")
    db.session.commit()
    s = client.get("/api/v1/certification/schedule", headers=token_for(people["qm"])).get_json()
    assert s["status"] == "ok" and s["days_left"] > 90
    import pytest

    from docmgmt.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="at most 3 months"):
        ops.record_extension(people["qm"], cert, granted_on=today, months=2, reason="再延期")
    db.session.rollback()
    ops.record_audit(people["qm"], cert, held_on=today - timedelta(days=400), kind="surveillance")
    db.session.commit()
    # The last audit counts, not the last one entered.
    s = client.get("/api/v1/certification/schedule", headers=token_for(people["qm"])).get_json()
    assert s["last_audit"] == (today - timedelta(days=320)).isoformat()


def test_the_clause_matrix_shows_evidence_and_gaps(client, people, token_for, effective_doc, today):
    from docmgmt.certification import operations as ops

    doc, rev = effective_doc(title="客户投诉管理控制程序")
    rt, _recs = _wo_records(people, 3)
    ops.map_clause(people["qm"], "5.3.2", document=doc)
    ops.map_clause(people["qm"], "5.2.4", record_type=rt)
    db.session.commit()
    rows = client.get(
        "/api/v1/certification/clauses",
        query_string={"from": (today - timedelta(days=30)).isoformat(), "to": today.isoformat()},
        headers=token_for(people["auditor"]),
    ).get_json()["clauses"]
    by = {r["clause"]: r for r in rows}
    assert by["5.3.2"]["documents"][0]["version_in_force"] == "A0" and not by["5.3.2"]["gap"]
    assert by["5.2.4"]["record_types"] == [{"code": "WO", "records": 3}]
    assert by["5.1.7"]["gap"] and by["5.1.7"]["documents"] == []
    # A period with no records of the mapped type is a gap.
    old = client.get(
        "/api/v1/certification/clauses",
        query_string={"from": "2020-01-01", "to": "2020-12-31"},
        headers=token_for(people["qm"]),
    ).get_json()["clauses"]
    assert {r["clause"]: r for r in old}["5.2.4"]["gap"]


def test_samples_are_reproducible_from_their_seed(client, auth, people, token_for, today):
    rt, _recs = _wo_records(people, 30)
    rt_id = rt.id
    q = {
        "type": "WO",
        "from": (today - timedelta(days=1)).isoformat(),
        "to": today.isoformat(),
        "size": 5,
    }
    headers = token_for(people["auditor"])
    first = client.get("/api/v1/certification/sample", query_string=q, headers=headers).get_json()
    assert first["population"] == 30 and len(first["records"]) == 5
    again = client.get(
        "/api/v1/certification/sample", query_string=q | {"seed": first["seed"]}, headers=headers
    ).get_json()
    assert again["records"] == first["records"]
    other = client.get(
        "/api/v1/certification/sample",
        query_string=q | {"seed": first["seed"] + 1},
        headers=headers,
    ).get_json()
    assert other["records"] != first["records"]
    auth.login("auditor")
    text = page_text(
        client.get("/certification/sample", query_string=q | {"type": rt_id, "seed": first["seed"]})
    )
    assert f"Seed {first['seed']}: 5 of 30 records" in text
    for r in first["records"]:
        assert r["number"] in text


def test_an_auditor_downloads_an_evidence_pack_whose_manifest_checks_out(
    client, auth, people, effective_doc, today
):
    from docmgmt.audit.models import AuditEvent
    from docmgmt.versioning.models import Document

    doc, rev = effective_doc()
    rt, _recs = _wo_records(people, 6)
    rt_id = rt.id
    docs_before = db.session.scalar(select(func.count()).select_from(Document))
    auth.login("auditor")
    r = client.post(
        "/certification/packs",
        data={
            "from": (today - timedelta(days=30)).isoformat(),
            "to": today.isoformat(),
            "sample_type": rt_id,
            "size": 3,
        },
        follow_redirects=True,
    )
    assert "Download the evidence pack" in page_text(r)
    import re

    pack_id = re.search(r"/certification/packs/(\d+)/evidence.zip", r.get_data(as_text=True))[1]
    z = client.get(f"/certification/packs/{pack_id}/evidence.zip")
    assert z.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(z.data))
    z.close()
    manifest = json.loads(archive.read("manifest.json"))
    names = set(archive.namelist()) - {"manifest.json"}
    assert names == set(manifest["files"])
    for name, meta in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == meta["sha256"], name
    assert f"02-documents-in-force/{doc.number}-A0.pdf" in names
    assert "01-master-list/master-list.pdf" in names and "03-revision-histories.csv" in names
    assert "INTACT" in archive.read("07-audit-trail/verification.txt").decode()
    sample = json.loads(archive.read("06-sample/sample.json"))
    assert len(sample["records"]) == 3 and sample["seed"]
    first = sample["records"][0]["number"]
    assert any(n.startswith(f"06-sample/{first}/") for n in names)  # with its attachment
    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(archive.read(f"02-documents-in-force/{doc.number}-A0.pdf")))
    assert "供认证审核使用" in pdf.pages[0].extract_text()
    assert "报修" in archive.read("03-revision-histories.csv").decode("utf-8-sig") or True
    # Building evidence changed nothing controlled.
    assert db.session.scalar(select(func.count()).select_from(Document)) == docs_before
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "evidence.build")
        )
        == 1
    )
