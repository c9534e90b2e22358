"""The file store against the database: missing, corrupt and orphan files (a crash between
writing a file and committing its row leaves an orphan; `storage check --fix` removes it)."""

import hashlib
import os
import time


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
            "files": [(io.BytesIO(b"%PDF-1.4 kept"), "kept.pdf")],
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    kept = r.get_json()["attachments"][0]["sha256"]
    # A file written by a request that died before its commit.
    orphan_data = b"%PDF-1.4 orphan"
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
