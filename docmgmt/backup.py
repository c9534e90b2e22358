"""Backup and restore: one archive with a consistent copy of the database and of the files.

The database copy is SQLite's online backup (a consistent snapshot while the app runs) or
``pg_dump`` (one transaction, consistent by construction). The files are everything the app
keeps under ``STORAGE_DIR`` except what can be rebuilt (the search index, staging areas).
``manifest.json`` lists the SHA-256 of every member and the row count of every table; restore
checks the archive against it before touching anything, then checks the restored instance
against it, and rebuilds the search index.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, text

from docmgmt.extensions import db

SKIP_DIRS = {"search", "staging", "imports", "packs"}


class BackupError(Exception):
    """An archive that cannot be written or restored; the message says why."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _pg_url(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def table_counts() -> dict[str, int]:
    return {
        t.name: db.session.scalar(select(func.count()).select_from(t))
        for t in db.metadata.sorted_tables
    }


def backup(output: Path) -> dict:
    """Write the archive; returns the manifest."""
    engine = db.engine
    storage = Path(current_app.config["STORAGE_DIR"])
    output = Path(output)
    # The audit seal before the copy: every event it names is in the copy, so the manifest
    # anchors the trail (`audit verify --anchor backup.zip`).
    from docmgmt.audit.chain import seal_to_anchor

    seal = seal_to_anchor(db.session)
    db.session.rollback()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if engine.dialect.name == "sqlite":
            dump = tmp / "database.sqlite3"
            src = sqlite3.connect(engine.url.database)
            dst = sqlite3.connect(dump)
            with dst:
                src.backup(dst)  # the online backup API: consistent while others write
            src.close()
            dst.close()
        elif engine.dialect.name == "postgresql":
            dump = tmp / "database.pgdump"
            run = subprocess.run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--file={dump}",
                    _pg_url(engine.url),
                ],
                capture_output=True,
                text=True,
            )
            if run.returncode != 0:
                raise BackupError(f"pg_dump failed: {run.stderr.strip()}")
        else:
            raise BackupError(f"no backup method for {engine.dialect.name}")
        members: dict[str, Path] = {f"database/{dump.name}": dump}
        if storage.exists():
            for path in sorted(storage.rglob("*")):
                rel = path.relative_to(storage)
                if path.is_file() and rel.parts[0] not in SKIP_DIRS and path.name != ".gitkeep":
                    members[f"storage/{rel.as_posix()}"] = path
        revision = (
            db.session.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        )
        manifest = {
            "created": datetime.now(UTC).isoformat(),
            "dialect": engine.dialect.name,
            "alembic": sorted(revision),
            "tables": table_counts(),
            "audit_seal": seal,
            "files": {
                name: {"sha256": _sha256(p), "size": p.stat().st_size}
                for name, p in members.items()
            },
        }
        partial = output.with_suffix(output.suffix + ".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as z:
            for name, path in members.items():
                z.write(path, name)
            z.writestr("manifest.json", json.dumps(manifest, indent=1))
        os.replace(partial, output)  # never a half-written archive under the final name
    return manifest


def check_archive(archive: Path) -> dict:
    with zipfile.ZipFile(archive) as z:
        try:
            manifest = json.loads(z.read("manifest.json"))
        except KeyError:
            raise BackupError("not a docmgmt backup: no manifest.json") from None
        for name, meta in manifest["files"].items():
            h = hashlib.sha256()
            with z.open(name) as f:
                for chunk in iter(lambda f=f: f.read(1 << 20), b""):
                    h.update(chunk)
            if h.hexdigest() != meta["sha256"]:
                raise BackupError(f"{name} does not match its SHA-256 in the manifest")
    return manifest


def storage_destinations(manifest: dict, storage: Path) -> dict[str, Path]:
    """Where each file of the archive goes: every one resolved, and the whole archive refused
    when any would land outside the storage folder ("..", an absolute path, a link leading
    out), before anything is written."""
    root = storage.resolve()
    destinations = {}
    for name in manifest["files"]:
        if not name.startswith("storage/"):
            continue
        rel = name[len("storage/") :]
        dest = (root / rel).resolve()
        if "\\" in rel or rel.startswith("/") or dest == root or not dest.is_relative_to(root):
            raise BackupError(f"{name} would be written outside the storage folder; refused")
        destinations[name] = dest
    return destinations


def instance_is_empty() -> bool:
    from docmgmt.auth.models import User

    try:
        return not db.session.scalar(select(func.count()).select_from(User))
    except Exception:
        db.session.rollback()
        return True  # no schema yet


def restore(archive: Path, force: bool = False, progress=None) -> dict:
    """Rebuild this instance from the archive: database, files, search index."""
    archive = Path(archive)
    manifest = check_archive(archive)
    engine = db.engine
    if manifest["dialect"] != engine.dialect.name:
        raise BackupError(
            f"the archive holds a {manifest['dialect']} database; this instance uses "
            f"{engine.dialect.name}"
        )
    storage = Path(current_app.config["STORAGE_DIR"])
    destinations = storage_destinations(manifest, storage)
    if not force and not instance_is_empty():
        raise BackupError("this instance already has data; restore into an empty one (or --force)")
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(archive) as z:
        tmp = Path(tmp)
        db.session.remove()
        engine.dispose()
        if engine.dialect.name == "sqlite":
            z.extract("database/database.sqlite3", tmp)
            target = Path(engine.url.database)
            target.parent.mkdir(parents=True, exist_ok=True)
            staged = target.with_suffix(target.suffix + ".restoring")
            shutil.copyfile(tmp / "database" / "database.sqlite3", staged)
            os.replace(staged, target)
        else:
            z.extract("database/database.pgdump", tmp)
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            engine.dispose()
            run = subprocess.run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    f"--dbname={_pg_url(engine.url)}",
                    str(tmp / "database" / "database.pgdump"),
                ],
                capture_output=True,
                text=True,
            )
            if run.returncode != 0:
                raise BackupError(f"pg_restore failed: {run.stderr.strip()}")
        if progress:
            progress("database")
        for name, dest in destinations.items():
            dest.parent.mkdir(parents=True, exist_ok=True)
            with z.open(name) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
        if progress:
            progress("files")
    db.session.remove()
    counts = table_counts()
    wrong = {t: (n, counts.get(t)) for t, n in manifest["tables"].items() if counts.get(t) != n}
    if wrong:
        raise BackupError(f"row counts differ after restore: {wrong}")
    from docmgmt import search

    search.reindex()
    if progress:
        progress("search")
    return manifest
