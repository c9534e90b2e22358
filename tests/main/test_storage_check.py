"""The file store against the database: missing, corrupt and orphan files (a crash between
writing a file and committing its row leaves an orphan; `storage check --fix` removes it)."""

import hashlib
import os
import time

from tests import files


def test_storage_check_finds_orphans_and_damage(app, runner, client, people, token_for):
    from docmgmt import storage

    headers = token_for(people["qm"])
    client.post(
        "/api/v1/record-types",
        json={
            "code": "WO",
            "name": "派工单",
            "retention_months": 12,
            "fields": [{"name": "customer", "label": "客户", "required": True}],
        },
        headers=headers,
    )
    import io

    r = client.post(
        "/api/v1/record-types/WO/records/with-files",
        data={
            "data": '{"title": "x", "values": {"customer": "x"}}',
            "files": [(io.BytesIO(files.pdf("kept")), "kept.pdf")],
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    kept = r.get_json()["attachments"][0]["sha256"]
    # A file written by a request that died before its commit.
    orphan_data = files.pdf("orphan")
    orphan = hashlib.sha256(orphan_data).hexdigest()
    path = storage.blob_path(orphan)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orphan_data)
    result = runner.invoke(args=["storage", "check"])
    assert result.exit_code == 0 and f"orphans (1): {orphan[:12]}" in result.output
    # A fresh orphan may be an upload in flight: kept; an old one is removed.
    runner.invoke(args=["storage", "check", "--fix"])
    assert path.exists()
    old = time.time() - 7200
    os.utime(path, (old, old))
    result = runner.invoke(args=["storage", "check", "--fix"])
    assert "removed (1)" in result.output and not path.exists()
    assert storage.exists(kept)
    # A referenced file that changed is reported, and the command fails.
    storage.blob_path(kept).write_bytes(b"tampered")
    result = runner.invoke(args=["storage", "check"])
    assert result.exit_code == 1 and f"corrupt (1): {kept[:12]}" in result.output


def _in_other_transaction(app, data, steps):
    """A second request, in its own thread and session, storing the same bytes and rolling back
    when told: steps is [(event to set, event to wait for), ...] around put and rollback."""
    import threading

    from docmgmt import storage
    from docmgmt.extensions import db

    def run():
        with app.app_context():
            from sqlalchemy import text

            db.session.execute(text("SELECT 1"))  # a request has its transaction open
            blob = storage.put(data)
            assert blob.created
            steps["stored"].set()
            steps["roll_back"].wait(10)
            db.session.rollback()
            db.session.remove()
            steps["rolled_back"].set()

    t = threading.Thread(target=run)
    t.start()
    return t


def _record_type(people):
    from docmgmt.extensions import db
    from docmgmt.records import operations as rops

    rt = rops.create_type(
        people["qm"],
        code="WO",
        name="派工单",
        retention_months=12,
        fields=[{"name": "customer", "label": "客户", "required": True}],
    )
    db.session.commit()
    return rt


def test_shared_content_survives_the_other_upload_rolling_back_in_either_order(app, people):
    """Two people file the same bytes at once and one request fails: the file the other's
    committed record refers to stays, whichever finishes first."""
    import threading

    from docmgmt import storage
    from docmgmt.extensions import db
    from docmgmt.records import operations as rops

    rt = _record_type(people)
    for n, rollback_first in enumerate((False, True)):
        data = files.pdf(f"现场签字单 {n}")
        digest = hashlib.sha256(data).hexdigest()
        steps = {k: threading.Event() for k in ("stored", "roll_back", "rolled_back")}
        other = _in_other_transaction(app, data, steps)
        assert steps["stored"].wait(10)
        # this request stores the same bytes (already there: shared) and files its record
        record = rops.file_record(
            people["staff"],
            rt,
            title=f"回访 {n}",
            values={"customer": "张先生"},
            files=[("签字单.pdf", data, "application/pdf")],
        )
        if rollback_first:  # the other request fails before this one commits
            steps["roll_back"].set()
            assert steps["rolled_back"].wait(10)
            db.session.commit()
        else:  # this one commits first, then the other fails
            db.session.commit()
            steps["roll_back"].set()
            assert steps["rolled_back"].wait(10)
        other.join(10)
        assert storage.exists(digest), rollback_first
        assert storage.read(digest) == data
        assert record.attachments[0].sha256 == digest


def test_disposal_keeps_a_file_that_a_change_request_also_holds(
    app, client, people, token_for, effective_doc
):
    """Disposing a record removes its attachments' files only when nothing else refers to the
    same content: here a change request carries the identical PDF."""
    from io import BytesIO

    from docmgmt import storage

    doc, _rev = effective_doc()
    pdf = files.pdf("the same scanned form")
    digest = hashlib.sha256(pdf).hexdigest()
    staff = token_for(people["staff"])
    r = client.post(
        f"/api/v1/documents/{doc.id}/change-requests",
        json={"reason": "表格改版", "proposed_change": "增加签字栏"},
        headers=staff,
    )
    assert r.status_code == 201, r.get_json()
    cr = r.get_json()["id"]
    r = client.post(
        f"/api/v1/change-requests/{cr}/attachments",
        data={"file": (BytesIO(pdf), "scan.pdf")},
        headers=staff,
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    # a record holding the same bytes is filed and, once past retention, disposed of
    from docmgmt.records import operations as rops

    rt = _record_type(people)
    record = rops.file_record(
        people["staff"],
        rt,
        title="回访",
        values={"customer": "张先生"},
        files=[("scan.pdf", pdf, "application/pdf")],
    )
    from docmgmt.extensions import db

    db.session.commit()
    assert storage.exists(digest)
    storage.delete_after_commit(digest)  # what disposal asks for once the record is gone
    db.session.commit()
    assert storage.exists(digest)  # the change request still refers to it
    r = client.get(f"/api/v1/change-requests/{cr}/attachments", headers=staff)
    att = r.get_json()[0]["id"]
    r = client.get(f"/api/v1/change-requests/{cr}/attachments/{att}", headers=staff)
    assert r.status_code == 200 and r.data == pdf
    r.close()
    assert record.id
