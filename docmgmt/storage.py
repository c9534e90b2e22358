"""The file store: content-addressed blobs under STORAGE_DIR, tied to database transactions.

Every file the product keeps (uploaded Word sources, images, record attachments) is stored once
under ``blobs/<aa>/<bb>/<sha256>``.  A file is written to a temporary name and renamed into place,
so a reader never sees half a file.  A blob written during a transaction that rolls back is
removed again unless it was already there before, so a failed import leaves no orphan files;
a blob whose removal is requested (record disposal) is removed only after the commit.

Uploads go through :func:`check_upload` first: file names with path parts, empty files, files
over the size limit and files whose content is not what their extension says (see
docmgmt.filecheck) are refused with a message, before anything is written.  Stored files are
served by :func:`send_stored` only: as a download, typed from the checked extension.

Images in a revision's body are served, printed and kept alive only when they belong to the
revision's document: they are media inside a Word file imported into it (:func:`document_images`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from flask import current_app, send_file
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session

from docmgmt import filecheck
from docmgmt.errors import NotFound, ValidationFailed
from docmgmt.extensions import db
from docmgmt.templating import listed

_NEW = "docmgmt_new_blobs"
_REUSED = "docmgmt_reused_blobs"
_DELETE = "docmgmt_delete_blobs"
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    created: bool  # False when the same content was already stored


def root() -> Path:
    return Path(current_app.config["STORAGE_DIR"])


def blob_path(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return root() / "blobs" / sha256[:2] / sha256[2:4] / sha256


def max_upload_bytes() -> int:
    return int(current_app.config.get("UPLOAD_MAX_MB", 25)) * 1024 * 1024


def safe_filename(name: str | None) -> str:
    """The file name as given, if it is a plain name; a name with path parts is refused."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("The file has no name."), field="file")
    if (
        "\x00" in name
        or name in (".", "..")
        or PurePosixPath(name).name != name
        or PureWindowsPath(name).name != name
        or len(name) > 200
    ):
        raise ValidationFailed(
            _(
                "The file name %(n)s is not a plain file name; rename the file and try again.",
                n=name[:80],
            ),
            field="file",
        )
    return name


def check_upload(filename: str | None, data: bytes, allowed_suffixes=None) -> str:
    """Validate an upload before anything is stored; returns the safe file name.

    Every upload channel calls this: the name, the size, then the content against the
    extension (filecheck.check_content)."""
    name = safe_filename(filename)
    if allowed_suffixes is not None:
        suffix = Path(name).suffix.lower()
        if suffix not in allowed_suffixes:
            raise ValidationFailed(
                _(
                    "Files of type %(s)s are not accepted here (allowed: %(a)s).",
                    s=suffix or _("(none)"),
                    a=listed(sorted(allowed_suffixes)),
                ),
                field="file",
            )
    if not data:
        raise ValidationFailed(_("The file %(n)s is empty.", n=name), field="file")
    limit = max_upload_bytes()
    if len(data) > limit:
        raise ValidationFailed(
            _(
                "The file %(n)s is larger than the limit of %(m)s MiB.",
                n=name,
                m=limit // (1024 * 1024),
            ),
            field="file",
        )
    filecheck.check_content(name, data)
    return name


@dataclass(frozen=True)
class Upload:
    """A file that passed :func:`check_upload`: its safe name and its bytes."""

    filename: str
    data: bytes


def checked(filename: str | None, data: bytes, allowed_suffixes=None) -> Upload:
    """Check an upload now (refusing it before anything else is written), attach it later."""
    return Upload(check_upload(filename, data, allowed_suffixes), data)


def attach(model, upload, *, allowed_suffixes=None, audit=None, **columns):
    """Keep an uploaded file as a row of ``model``, an attachment table (``filename``,
    ``content_type``, ``sha256``, ``size``): every attachment of a change request, a training
    session or a record is made here, in this order:

    1. check: ``upload`` is a ``(filename, data)`` pair checked by :func:`check_upload` (with
       ``allowed_suffixes``), or an :class:`Upload` checked already; a refused file raises
       before anything is written;
    2. put: the bytes go to the content-addressed store (:func:`put`);
    3. row: ``model(filename=..., content_type=..., sha256=..., size=..., **columns)``, the
       columns naming its owner and uploader;
    4. audit: with ``audit``, the row is added and flushed and ``audit(row)`` writes the trail
       entry. Without it the row is only made: the caller adds it to its owner (a record files
       its attachments with its own entry in the trail).
    5. read: once the transaction commits, a job reads the file's text
       (docmgmt/extract/recognition.py); filing never waits for it.
    """
    if not isinstance(upload, Upload):
        upload = checked(*upload, allowed_suffixes)
    blob = put(upload.data)
    row = model(
        filename=upload.filename,
        content_type=content_type(upload.filename),
        sha256=blob.sha256,
        size=blob.size,
        **columns,
    )
    if audit is not None:
        db.session.add(row)
        db.session.flush()
        audit(row)
    from docmgmt.extract import recognition

    recognition.later(row)
    return row


def content_type(filename: str) -> str:
    """The type a stored upload is kept and served as: from its checked extension."""
    return filecheck.content_type(filename)


def send_stored(sha256: str, filename: str):
    """The one way a stored upload leaves the system: a download (never shown inline), typed
    from the checked extension rather than what the client once sent, with a UTF-8 file name
    and nosniff, so a file cannot become a page of this site."""
    if not exists(sha256):
        raise NotFound(_("Not found."))
    response = send_file(
        blob_path(sha256),
        mimetype=content_type(filename),
        as_attachment=True,
        download_name=filename,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def send_revision_image(sha256: str):
    """A revision image: inline only when its bytes are a raster image (never SVG or HTML),
    else a download of unknown type."""
    if not exists(sha256):
        raise NotFound(_("Not found."))
    with open(blob_path(sha256), "rb") as f:
        kind = filecheck.image_type(f.read(16))
    response = send_file(
        blob_path(sha256),
        mimetype=kind or "application/octet-stream",
        as_attachment=kind is None,
        download_name=f"{sha256[:12]}",
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# ---------------------------------------------------------------- images of a document


@functools.lru_cache(maxsize=256)
def _source_media(source_sha256: str) -> frozenset[str]:
    """The media inside a stored Word source (content-addressed, so the answer never changes)."""
    try:
        return filecheck.package_media(read(source_sha256))
    except OSError:
        return frozenset()


def document_images(document_id: int, conn=None) -> set[str]:
    """The images that belong to a document: the media of every Word file imported into any
    of its revisions (a new draft carries its predecessor's images)."""
    from sqlalchemy import select

    from docmgmt.printing.models import RevisionSource
    from docmgmt.versioning.models import Revision

    q = (
        select(RevisionSource.sha256)
        .join(Revision, Revision.id == RevisionSource.revision_id)
        .where(Revision.document_id == document_id)
    )
    sources = (conn or db.session).execute(q).scalars().all()
    out: set[str] = set()
    for sha in sources:
        out |= _source_media(sha)
    return out


def check_revision_images(document_id: int | None, blocks, images=()) -> None:
    """Refuse image blocks that do not belong to the document (see document_images) or to the
    Word file being imported (``images``): a block may not point at any stored file."""
    wanted = [
        (n, b["sha256"])
        for n, b in enumerate(blocks or [], 1)
        if isinstance(b, dict) and b.get("type") == "image"
    ]
    if not wanted:
        return
    allowed = set(images) | (document_images(document_id) if document_id else set())
    for n, sha in wanted:
        if sha not in allowed:
            raise ValidationFailed(
                _(
                    "Block %(b)d: the image %(s)s is not one of this document's images; images "
                    "come only with a Word file imported into the document.",
                    b=n,
                    s=sha[:12],
                ),
                field="blocks",
            )


def image_loader(document_id: int):
    """Read a revision image for a print or an export, only if it belongs to the document."""
    allowed = document_images(document_id)

    def load(sha256: str) -> bytes:
        if sha256 not in allowed:
            raise KeyError(sha256)
        return read(sha256)

    return load


def put(data: bytes) -> StoredBlob:
    """Store bytes; returns their digest.  Call inside the transaction that refers to them.

    Content already stored is shared.  Another transaction may remove it meanwhile (its own
    upload of the same bytes rolled back, a disposal, `storage check --fix`), so the bytes are
    kept until this transaction ends and written again after the commit if the file is gone."""
    digest = hashlib.sha256(data).hexdigest()
    path = blob_path(digest)
    if path.exists():
        db.session.info.setdefault(_REUSED, {})[digest] = data
        return StoredBlob(digest, len(data), False)
    _write(path, data)
    db.session.info.setdefault(_NEW, set()).add(digest)
    return StoredBlob(digest, len(data), True)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_if_unreferenced(digest: str) -> bool:
    """Remove a blob unless a committed row refers to it; True when removed.

    The file is first moved aside, then the references are read, then it is deleted or put
    back.  With put() writing reused content again after its commit when the file is missing,
    no order of two transactions loses a file somebody's committed row refers to."""
    path = blob_path(digest)
    aside = path.with_name(f".removing-{digest}-{os.getpid()}-{threading.get_ident()}")
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return False
    if is_referenced(digest):
        if path.exists():
            aside.unlink(missing_ok=True)
        else:
            os.replace(aside, path)
        return False
    aside.unlink(missing_ok=True)
    return True


def read(sha256: str) -> bytes:
    return blob_path(sha256).read_bytes()


def exists(sha256: str) -> bool:
    return blob_path(sha256).exists()


def verify(sha256: str) -> bool:
    """True when the stored file is there and still hashes to its name."""
    path = blob_path(sha256)
    if not path.exists():
        return False
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest() == sha256


def delete_after_commit(sha256: str) -> None:
    """Remove a blob once the current transaction commits (nothing happens on rollback).

    The caller must be sure nothing else refers to the same content."""
    db.session.info.setdefault(_DELETE, set()).add(sha256)


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    if session.in_nested_transaction():  # a savepoint: the outer transaction decides
        return
    session.info.pop(_NEW, None)
    reused = session.info.pop(_REUSED, None)
    doomed = session.info.pop(_DELETE, None)
    with contextlib.suppress(RuntimeError):  # no app context
        for digest, data in (reused or {}).items():
            path = blob_path(digest)
            if not path.exists():  # removed by another transaction while this one ran
                _write(path, data)
        for digest in doomed or ():
            remove_if_unreferenced(digest)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction):
    if previous_transaction.parent is not None:  # a savepoint: the outer transaction decides
        return
    session.info.pop(_DELETE, None)
    session.info.pop(_REUSED, None)
    created = session.info.pop(_NEW, None)
    with contextlib.suppress(RuntimeError):
        for digest in created or ():
            remove_if_unreferenced(digest)


def _reference_columns():
    from docmgmt.certification.models import EvidencePack
    from docmgmt.control.models import ChangeRequestAttachment
    from docmgmt.extract.models import AttachmentText
    from docmgmt.printing.models import RevisionSource
    from docmgmt.records.models import Disposal, RecordAttachment, RecordImport
    from docmgmt.training.models import SessionAttachment

    return (
        EvidencePack.sha256,
        ChangeRequestAttachment.sha256,
        RevisionSource.sha256,
        RecordAttachment.sha256,
        Disposal.certificate_sha256,
        RecordImport.sha256,
        RecordImport.errors_sha256,
        SessionAttachment.sha256,
        AttachmentText.searchable_sha256,  # the searchable copy of a scan
    )


def is_referenced(digest: str) -> bool:
    """Whether a committed row refers to the blob (read on a connection of its own)."""
    from sqlalchemy import String, cast, select

    from docmgmt.records.models import RecordAttachment
    from docmgmt.versioning.models import Revision

    with db.engine.connect() as conn:
        for col in _reference_columns():
            q = select(col).where(col == digest)
            if col is RecordAttachment.sha256:  # a disposed record's tombstone keeps no file
                q = q.where(RecordAttachment.removed.is_(False))
            if conn.execute(q.limit(1)).first() is not None:
                return True
        # An image block keeps a file only when the image belongs to the revision's document:
        # a block that names some other file (a record's attachment) keeps nothing alive.
        docs = select(Revision.document_id).where(
            cast(Revision.body_blocks, String).contains(digest)
        )
        return any(digest in document_images(d, conn) for d in conn.scalars(docs.distinct()))


def referenced() -> set[str]:
    """Every digest a row of the database refers to (attachments, sources, certificates,
    imports, evidence packs, images inside revision bodies)."""
    from sqlalchemy import select

    from docmgmt.records.models import RecordAttachment
    from docmgmt.versioning.models import Revision

    refs: set[str] = set()
    for col in _reference_columns():
        refs.update(d for d in db.session.scalars(select(col).distinct()) if d)
    # Files of disposed records are gone on purpose; their digests stay in the tombstone.
    refs -= set(
        db.session.scalars(select(RecordAttachment.sha256).where(RecordAttachment.removed))
    ) - set(
        db.session.scalars(
            select(RecordAttachment.sha256).where(RecordAttachment.removed.is_(False))
        )
    )
    images: dict[int, set[str]] = {}
    for doc_id, blocks in db.session.execute(select(Revision.document_id, Revision.body_blocks)):
        for b in blocks or []:
            if isinstance(b, dict) and b.get("type") == "image" and b.get("sha256"):
                if doc_id not in images:
                    images[doc_id] = document_images(doc_id)
                if b["sha256"] in images[doc_id]:
                    refs.add(b["sha256"])
    return refs


def on_disk() -> dict[str, Path]:
    base = root() / "blobs"
    if not base.exists():
        return {}
    return {p.name: p for p in base.glob("??/??/*") if p.is_file() and len(p.name) == 64}


def check(fix: bool = False, min_age_s: int = 3600) -> dict:
    """Missing files, files whose content no longer matches their name, and orphans (files no
    row refers to: left by a crash between writing a file and committing its row). ``fix``
    deletes orphans older than ``min_age_s`` (younger ones may belong to an upload in flight)."""
    import time

    refs, files = referenced(), on_disk()
    report = {
        "referenced": len(refs),
        "files": len(files),
        "missing": sorted(d for d in refs if d not in files),
        "corrupt": sorted(d for d in refs if d in files and not verify(d)),
        "orphans": sorted(d for d in files if d not in refs),
        "removed": [],
    }
    if fix:
        now = time.time()
        for d in report["orphans"]:
            path = files[d]
            with contextlib.suppress(FileNotFoundError):
                if now - path.stat().st_mtime >= min_age_s and remove_if_unreferenced(d):
                    report["removed"].append(d)
        # half-written or half-removed files a killed process left behind
        for pattern in ("??/??/.incoming-*", "??/??/.removing-*"):
            for leftover in (root() / "blobs").glob(pattern):
                with contextlib.suppress(FileNotFoundError):
                    if now - leftover.stat().st_mtime >= min_age_s:
                        leftover.unlink()
    return report
