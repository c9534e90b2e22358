"""The demo company loads through the CLI, and the migrations match the models."""

import re

from sqlalchemy import select

from docmgmt.extensions import db
from docmgmt.versioning.models import Document, Revision, RevisionState


def test_demo_load_creates_the_manual_the_22_procedures_their_forms_and_the_sp04_history(
    runner, app
):
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "qm" in result.output and "demo-pass-1" in result.output
    everything = db.session.scalars(select(Document).order_by(Document.number)).all()
    externals = [d for d in everything if d.doc_type.value == "external"]
    assert sorted(d.external_edition for d in externals) == [
        "2013年修正",
        "GB/T 16868-2009",
        "GB/T 27922-2011",
    ]
    docs = [d for d in everything if d.doc_type.value != "external"]
    assert [d.number for d in docs][:2] == ["XX-SM-01", "XX-SP-01"] and len(docs) == 71
    assert [d.number for d in docs if d.doc_type.value == "record_form"] == [
        f"XX-SR-{n:02d}" for n in range(1, 49)
    ]
    from docmgmt.versioning.queries import in_force_map

    in_force = in_force_map([d.id for d in docs])
    assert len(in_force) == 71
    for doc in docs:
        body = " ".join(b.get("text", "") for b in in_force[doc.id].body_blocks)
        if doc.doc_type.value == "procedure":
            for heading in ("目的", "范围", "职责", "工作程序", "相关文件", "记录"):
                assert heading in body, (doc.number, heading)
    sp04 = next(d for d in docs if d.number == "XX-SP-04")
    states = {r.version: r.state for r in sp04.revisions}
    assert states == {
        "A0": RevisionState.SUPERSEDED,
        "A1": RevisionState.EFFECTIVE,
        "A2": RevisionState.IN_REVIEW,
    }
    a2 = next(r for r in sp04.revisions if r.version == "A2")
    assert set(a2.current_signatures()) == {"prepared", "reviewed"}
    assert (
        db.session.scalar(
            select(Revision).where(Revision.version == "A0", Revision.document_id == docs[0].id)
        ).effective_date.isoformat()
        == "2022-02-21"
    )
    # Every record form a procedure names is a document in force, issued with the procedure
    # that first names it: the same day, preparer, reviewer and approver; kept by the
    # department its entry names; the demo's record types are kept on their forms.
    by_number = {d.number: d for d in docs}
    for doc in docs:
        if doc.doc_type.value == "procedure":
            for number in re.findall(r"XX-SR-\d\d", in_force[doc.id].body_source):
                assert number in by_number, (doc.number, number)
    sr03, sp04_a0 = by_number["XX-SR-03"].revisions[0], sp04.revisions[0]
    assert (sr03.version, sr03.state, sr03.effective_date) == (
        "A0",
        RevisionState.EFFECTIVE,
        sp04_a0.effective_date,
    )
    signers = {
        rev.id: [(s.meaning.value, s.user.username, s.signed_dt) for s in rev.signatures]
        for rev in (sr03, sp04_a0)
    }
    assert signers[sr03.id] == signers[sp04_a0.id]
    assert [m for m, _u, _d in signers[sr03.id]] == ["prepared", "reviewed", "approved"]
    assert by_number["XX-SR-10"].department.code == "ENG"
    assert by_number["XX-SR-03"].title == "电话派工记录"
    from docmgmt.records.models import RecordType

    kept_on = {t.code: t.form_document.number for t in db.session.scalars(select(RecordType))}
    assert kept_on["PL"] == "XX-SR-03" and kept_on["WO"] == "XX-SR-04"
    assert kept_on["EQ"] == "XX-SR-22"
    # Loading again with --if-empty leaves the data alone.
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert "already has data" in result.output
    assert len(db.session.scalars(select(Document)).all()) == 74
    # Document control: a pending change request and overdue reviews wait on the desk.
    from docmgmt.control.models import ChangeRequest
    from docmgmt.control.operations import overdue_reviews

    assert [cr.state.value for cr in db.session.scalars(select(ChangeRequest))] == ["open"]
    assert {d.number for d, _due in overdue_reviews()} >= {"XX-SP-18", "XX-SP-19"}
    # Controlled copies: one copy of the superseded XX-SP-04 A0 is still out, due for recall.
    from docmgmt.printing.operations import due_for_recall

    assert [c.label for c in due_for_recall()] == ["XX-SP-04-A0-002"]


def test_the_migrations_create_exactly_the_schema_the_models_describe(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_the_demo_auditor_samples_and_downloads_an_evidence_pack(runner, app, client):
    """The demo as an auditor meets it: log in, see the schedule warning and the gaps, sample
    work orders, build and download a pack whose manifest checks out."""
    import hashlib
    import io
    import json
    import re
    import zipfile

    from tests.conftest import page_text

    assert runner.invoke(args=["demo", "load", "--if-empty"]).exit_code == 0
    r = client.post("/login", data={"username": "auditor", "password": "demo-pass-1"})
    assert r.status_code == 302
    text = page_text(client.get("/certification/"))
    assert "CSC-27922-2023-0158" in text and "days left" in text
    clauses = client.get("/certification/clauses").get_data(as_text=True)
    assert 'id="clause-5.1.7"' in clauses and "gap" in clauses
    wo = re.search(
        r'<option value="(\d+)"[^>]*>WO ',
        client.get("/certification/sample").get_data(as_text=True),
    )[1]
    text = page_text(
        client.get("/certification/sample", query_string={"type": wo, "size": 3, "seed": 42})
    )
    assert "Seed 42: 3 of" in text
    assert client.post("/documents/new", data={"title": "x"}).status_code == 403
    r = client.post(
        "/certification/packs",
        data={"sample_type": wo, "size": 3, "seed": 42},
        follow_redirects=True,
    )
    pack_url = re.search(
        r'href="(/certification/packs/\d+/evidence.zip)"', r.get_data(as_text=True)
    )[1]
    z = client.get(pack_url)
    archive = zipfile.ZipFile(io.BytesIO(z.data))
    z.close()
    manifest = json.loads(archive.read("manifest.json"))
    assert len([n for n in manifest["files"] if n.startswith("02-documents-in-force/")]) >= 23
    for name, meta in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == meta["sha256"]
    assert "INTACT" in archive.read("07-audit-trail/verification.txt").decode()
