"""Backup and restore: an archive of the demo, restored into an emptied instance, compared."""

import shutil
import zipfile
from pathlib import Path

from sqlalchemy import select, text

from docmgmt.extensions import db
from tests import files


def _snapshot():
    from docmgmt.records.models import Record, RecordAttachment
    from docmgmt.versioning.models import Revision, Signature

    return {
        "revisions": sorted(
            (r.document.number, r.version, r.state.value, r.content_hash or "")
            for r in db.session.scalars(select(Revision))
        ),
        "signatures": sorted(
            (s.signer_name, s.meaning.value, s.content_hash)
            for s in db.session.scalars(select(Signature))
        ),
        "records": sorted((r.number, r.content_hash) for r in db.session.scalars(select(Record))),
        "blobs": sorted(a.sha256 for a in db.session.scalars(select(RecordAttachment))),
    }


def _wipe(app):
    """An empty instance: no database, no files."""
    db.session.remove()
    engine = db.engine
    if engine.dialect.name == "sqlite":
        engine.dispose()
        Path(engine.url.database).unlink()
    else:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    shutil.rmtree(app.config["STORAGE_DIR"])


def test_backup_then_restore_into_an_empty_instance_gives_back_everything(app, runner, tmp_path):
    from docmgmt import search, storage
    from docmgmt.records import operations as rops
    from docmgmt.records.models import RecordType

    assert runner.invoke(args=["demo", "load", "--if-empty"]).exit_code == 0
    from docmgmt.auth.models import User

    qm = db.session.scalar(select(User).where(User.username == "qm"))
    wo = db.session.scalar(select(RecordType).where(RecordType.code == "WO"))
    rops.file_record(
        qm,
        wo,
        title="带附件的工单",
        values={"customer": "郑先生", "product": "空调", "visit_date": "2026-11-01"},
        files=[("签字单.pdf", files.pdf("backup test"), "application/pdf")],
    )
    db.session.commit()
    before = _snapshot()
    assert before["blobs"]

    archive = tmp_path / "backup.zip"
    result = runner.invoke(args=["backup", "--output", str(archive)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
    assert "manifest.json" in names and any(n.startswith("database/") for n in names)
    assert any(n.startswith("storage/blobs/") for n in names)
    assert not any(n.startswith("storage/search/") for n in names)  # rebuilt, not copied

    # Refused into an instance that has data.
    result = runner.invoke(args=["restore", str(archive)])
    assert result.exit_code != 0 and "already has data" in result.output

    _wipe(app)
    result = runner.invoke(args=["restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert "every count and hash checked" in result.output
    assert _snapshot() == before
    assert all(storage.verify(sha) for sha in before["blobs"])
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    assert search.check().ok


def test_a_damaged_archive_is_refused_before_anything_changes(app, runner, tmp_path, people):
    archive = tmp_path / "backup.zip"
    assert runner.invoke(args=["backup", "-o", str(archive)]).exit_code == 0
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("database/"):
                data = data[:-10] + b"0123456789"
            dst.writestr(item, data)
    result = runner.invoke(args=["restore", "--force", str(damaged)])
    assert result.exit_code != 0 and "does not match its SHA-256" in result.output
    from docmgmt.auth.models import User

    assert db.session.scalar(select(User).where(User.username == "qm")) is not None


def _with_member(archive, out, name, data):
    """A copy of the archive with one more file, listed with its right hash in the manifest."""
    import hashlib
    import json

    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(out, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for item in src.infolist():
            if item.filename != "manifest.json":
                dst.writestr(item, src.read(item))
        dst.writestr(name, data)
        dst.writestr("manifest.json", json.dumps(manifest))


def test_an_archive_naming_files_outside_the_storage_folder_is_refused(
    app, runner, tmp_path, people
):
    import warnings

    archive = tmp_path / "backup.zip"
    assert runner.invoke(args=["backup", "-o", str(archive)]).exit_code == 0
    storage = Path(app.config["STORAGE_DIR"]).resolve()
    outside = storage.parent / "escaped.txt"
    names = [
        "storage/../escaped.txt",
        "storage/blobs/../../escaped.txt",
        f"storage/{outside}",  # an absolute path after the prefix
        "storage/",
    ]
    for i, name in enumerate(names):
        evil = tmp_path / f"evil{i}.zip"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about the duplicate-looking names
            _with_member(archive, evil, name, b"written where it must not be")
        result = runner.invoke(args=["restore", "--force", str(evil)])
        assert result.exit_code != 0, (name, result.output)
        assert "outside the storage folder" in result.output, (name, result.output)
        assert not outside.exists(), name
        # Refused before anything changed: the data is still there.
        from docmgmt.auth.models import User

        db.session.remove()
        assert db.session.scalar(select(User).where(User.username == "qm")) is not None
