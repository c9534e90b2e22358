"""What an uploaded file really is: its bytes are checked against its extension.

Every upload (attachments of records, change requests and training sessions, record bulk
imports, the Word import) passes :func:`check_content` through ``storage.check_upload`` before
anything is stored.  The name says what the file claims to be; the content must agree:

* ``.pdf``: starts with ``%PDF-``, pypdf reads its page tree, not encrypted;
* ``.png`` / ``.jpg`` / ``.jpeg`` / ``.tif`` / ``.tiff`` / ``.heic`` / ``.heif``: the right
  signature, and Pillow decodes the whole image (a JPEG at 1/8 scale, which still reads every
  byte; every page of a TIFF, at most MAX_IMAGE_FRAMES; a HEIC photo through pillow-heif), each
  at most MAX_IMAGE_PIXELS pixels, read from the header before anything is decoded;
* ``.docx`` / ``.xlsx``: a zip package (an OLE file is an encrypted or old-format Office file),
  no zip bomb (sizes and ratios bounded from the directory, before decompressing), the
  right main part, no macros (macro-enabled content type or vbaProject.bin), not Strict Open
  XML (python-docx and openpyxl cannot read it), and every XML part well-formed and without
  a DOCTYPE: Office never writes one, and entity declarations are how "billion laughs"
  attacks and malformed entities get in;
* ``.txt`` / ``.csv``: UTF-8 (with or without BOM) or GB18030 text without NUL characters,
  and not a known binary format.

A refusal is a ValidationFailed naming the file and what is wrong, in the user's language.
The served type of a stored file comes from :func:`content_type` (its checked extension),
never from what the client sent.
"""

from __future__ import annotations

import hashlib
import warnings
import zipfile
from io import BytesIO
from pathlib import PurePosixPath

from flask import current_app, has_app_context
from flask_babel import gettext as _

from docmgmt.errors import ValidationFailed

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_ENTRIES = 5000
MAX_RATIO = 200  # uncompressed / compressed, per entry over 1 MiB
MAX_IMAGE_PIXELS = 50_000_000  # a 50-megapixel phone photo still passes
MAX_IMAGE_FRAMES = 100  # pages of a multi-page TIFF scan
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
# Accepted image extensions -> (Pillow format, served type)
IMAGES = {
    ".png": ("PNG", "image/png"),
    ".jpg": ("JPEG", "image/jpeg"),
    ".jpeg": ("JPEG", "image/jpeg"),
    ".tif": ("TIFF", "image/tiff"),
    ".tiff": ("TIFF", "image/tiff"),
    ".heic": ("HEIF", "image/heic"),
    ".heif": ("HEIF", "image/heif"),
}
_XML_CHUNK = 64 * 1024

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The served type of each accepted extension; anything else is served as octet-stream.
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".docx": DOCX,
    ".xlsx": XLSX,
    ".txt": "text/plain",
    ".csv": "text/csv",
}

# Office packages: the main part's content type, the macro-enabled and binary variants.
_OFFICE = {
    ".docx": {
        "main": DOCX + ".main+xml",
        "macro": ("application/vnd.ms-word.document.macroEnabled.main+xml",),
        "part": "word/document.xml",
    },
    ".xlsx": {
        "main": XLSX + ".main+xml",
        "macro": (
            "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
            "application/vnd.ms-excel.sheet.binary.macroEnabled.main",
        ),
        "part": None,  # found through the relationships; generators place it differently
    },
}
_STRICT = b"http://purl.oclc.org/ooxml/"


def content_type(filename: str) -> str:
    """The type a stored file is served as: from its (checked) extension, never the client's."""
    return CONTENT_TYPES.get(
        PurePosixPath(filename or "").suffix.lower(), "application/octet-stream"
    )


def image_type(data: bytes) -> str | None:
    """The type of a raster image a browser may show inline, from its signature; else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:2] == b"BM":
        return "image/bmp"
    return None


def package_media(data: bytes) -> frozenset[str]:
    """SHA-256 of every part of a .docx that is not XML (its images and other media): the
    images a Word import keeps belong to the document the file was imported into."""
    try:
        zf = zipfile.ZipFile(BytesIO(data))
        return frozenset(
            hashlib.sha256(zf.read(i)).hexdigest()
            for i in zf.infolist()
            if not i.is_dir() and not i.filename.lower().endswith((".xml", ".rels"))
        )
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError):
        return frozenset()


def _kind_label(suffix: str) -> str:
    return {
        ".pdf": _("a PDF file"),
        ".png": _("a PNG image"),
        ".jpg": _("a JPEG image"),
        ".jpeg": _("a JPEG image"),
        ".tif": _("a TIFF image"),
        ".tiff": _("a TIFF image"),
        ".heic": _("a HEIC photo"),
        ".heif": _("a HEIC photo"),
        ".docx": _("a Word file (.docx)"),
        ".xlsx": _("an Excel workbook (.xlsx)"),
        ".txt": _("a text file"),
        ".csv": _("a CSV text file"),
    }.get(suffix, suffix)


def _actual(data: bytes) -> str | None:
    """What the content looks like, for the message when it does not match the name."""
    head = data[:1024]
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"%PDF-" in head:
        return _("a PDF file")
    if data.startswith(b"\x89PNG"):
        return _("a PNG image")
    if data.startswith(b"\xff\xd8\xff"):
        return _("a JPEG image")
    if _signature(data) == "TIFF":
        return _("a TIFF image")
    if _signature(data) == "HEIF":
        return _("a HEIC photo")
    if image_type(data):
        return _("an image of another format")
    if data.startswith(OLE_MAGIC):
        return _("an encrypted or old-format Office file")
    if data.startswith(b"PK"):
        return _("a zip archive")
    if data.startswith((b"MZ", b"\x7fELF")):
        return _("a program")
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<script" in lowered:
        return _("an HTML page")
    if b"<svg" in lowered:
        return _("an SVG image (which can hold scripts)")
    if lowered.startswith(b"<?xml"):
        return _("an XML file")
    return None


def _refuse(message: str):
    raise ValidationFailed(message, field="file")


def _mismatch(name: str, suffix: str, data: bytes):
    actual = _actual(data)
    if actual:
        _refuse(
            _(
                "%(n)s is not %(k)s: its content is %(a)s.",
                n=name,
                k=_kind_label(suffix),
                a=actual,
            )
        )
    _refuse(
        _(
            "%(n)s is not %(k)s: its content does not match its name.",
            n=name,
            k=_kind_label(suffix),
        )
    )


def check_content(name: str, data: bytes) -> None:
    """Refuse a file whose content is not what its extension says (see the module docstring).

    ``name`` is a plain file name already checked by storage.safe_filename."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == ".pdf":
        _check_pdf(name, data)
    elif suffix in IMAGES:
        _check_image(name, suffix, data)
    elif suffix in _OFFICE:
        _check_office(name, suffix, data)
    elif suffix in (".txt", ".csv"):
        _check_text(name, suffix, data)
    else:
        _refuse(_("Files of type %(s)s cannot be checked and are not accepted.", s=suffix or "-"))


# ---------------------------------------------------------------- PDF


def _check_pdf(name: str, data: bytes) -> None:
    from pypdf import PdfReader

    if b"%PDF-" not in data[:1024]:
        _mismatch(name, ".pdf", data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(BytesIO(data), strict=False)
            encrypted = reader.is_encrypted
            pages = 0 if encrypted else len(reader.pages)
    except Exception:  # pypdf raises many kinds (and RecursionError) on a damaged file
        pages, encrypted = -1, False
    if encrypted:
        _refuse(
            _(
                "%(n)s is a password-protected (encrypted) PDF; remove the protection and "
                "upload it again.",
                n=name,
            )
        )
    if pages < 1:
        _refuse(_("%(n)s is damaged: the PDF cannot be read.", n=name))


# ---------------------------------------------------------------- images


def _signature(data: bytes) -> str | None:
    """The Pillow format an image's first bytes announce."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "HEIF"
    return None


def _check_image(name: str, suffix: str, data: bytes) -> None:
    from PIL import Image

    expected = IMAGES[suffix][0]
    if _signature(data) != expected:
        _mismatch(name, suffix, data)
    if expected == "HEIF":
        try:
            from pillow_heif import register_heif_opener
        except ImportError:
            _refuse(_("%(n)s: HEIC photos cannot be read on this server.", n=name))
        register_heif_opener()
    too_big = _(
        "%(n)s is larger than %(m)d megapixels; make the image smaller and upload it again.",
        n=name,
        m=MAX_IMAGE_PIXELS // 1_000_000,
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data), formats=[expected]) as img:
                frames = getattr(img, "n_frames", 1)
                if frames > MAX_IMAGE_FRAMES:
                    _refuse(
                        _(
                            "%(n)s has %(f)d pages; images of at most %(m)d pages are accepted.",
                            n=name,
                            f=frames,
                            m=MAX_IMAGE_FRAMES,
                        )
                    )
                for frame in range(frames):
                    if frame:
                        img.seek(frame)
                    width, height = img.size
                    if width * height > MAX_IMAGE_PIXELS:
                        _refuse(too_big)
                    if expected == "JPEG":
                        img.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                    img.load()
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _refuse(too_big)
    except Exception:  # Pillow raises OSError, SyntaxError, ValueError... on a broken image
        _refuse(_("%(n)s is damaged: the image cannot be decoded.", n=name))


# ---------------------------------------------------------------- text


def _check_text(name: str, suffix: str, data: bytes) -> None:
    if data.startswith((b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"PK\x03\x04", OLE_MAGIC)):
        _mismatch(name, suffix, data)
    if b"\x00" in data:
        _refuse(_("%(n)s is not a text file: it holds NUL characters (binary content).", n=name))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            data.decode(encoding)
            return
        except UnicodeDecodeError:
            continue
    _refuse(_("%(n)s is neither UTF-8 nor GB18030 text; save it as UTF-8 text.", n=name))


# ---------------------------------------------------------------- Office (.docx, .xlsx)


def _zip_limit() -> int:
    mb = int(current_app.config.get("UPLOAD_MAX_MB", 25)) if has_app_context() else 25
    return max(mb * 1024 * 1024 * 8, 64 * 1024 * 1024)


def _check_office(name: str, suffix: str, data: bytes) -> None:
    spec = _OFFICE[suffix]
    kind = _kind_label(suffix)
    if data.startswith(OLE_MAGIC):
        _refuse(
            _(
                "%(n)s is password-protected (encrypted) or in an old Office format; remove the "
                "password or save it as %(s)s.",
                n=name,
                s=suffix,
            )
        )
    if not data.startswith(b"PK"):
        _mismatch(name, suffix, data)
    damaged = _("%(n)s is damaged: the file cannot be opened.", n=name)
    try:
        zf = zipfile.ZipFile(BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        _refuse(damaged)
    if len(infos) > MAX_ENTRIES:
        _refuse(_("%(n)s holds too many parts to be %(k)s.", n=name, k=kind))
    limit, total = _zip_limit(), 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > limit or (info.file_size > 1024 * 1024 and ratio > MAX_RATIO):
            _refuse(_("%(n)s expands to an implausible size (a zip bomb?); it is refused.", n=name))
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names:
        _refuse(
            _("%(n)s is not %(k)s: its content is %(a)s.", n=name, k=kind, a=_("a zip archive"))
        )
    try:
        types = zf.read("[Content_Types].xml")
        rels = zf.read("_rels/.rels") if "_rels/.rels" in names else b""
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError):
        _refuse(damaged)
    if any(m.encode() in types for m in spec["macro"]) or any(
        n.lower().endswith("vbaproject.bin") for n in names
    ):
        _refuse(
            _(
                "%(n)s is a macro-enabled Office file; save it as %(s)s without macros.",
                n=name,
                s=suffix,
            )
        )
    if _STRICT in rels:
        _refuse(
            _(
                "%(n)s is saved as Strict Open XML, which cannot be read; save it again in the "
                "standard format (%(s)s).",
                n=name,
                s=suffix,
            )
        )
    if spec["main"].encode() not in types or (spec["part"] and spec["part"] not in names):
        _refuse(_("%(n)s is not %(k)s: its content does not match its name.", n=name, k=kind))
    for info in infos:
        if not info.is_dir() and info.filename.lower().endswith((".xml", ".rels", ".vml")):
            _check_xml_part(zf, info, name)


class _NoTree:
    """A parser target that builds nothing: the parse only proves the part is well-formed."""

    def __init__(self):
        self.seen_doctype = False

    def doctype(self, *_args):
        self.seen_doctype = True

    def close(self):
        return None


def _check_xml_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> None:
    from lxml import etree

    target = _NoTree()
    parser = etree.XMLParser(
        target=target, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    well_formed = True
    try:
        with zf.open(info) as part:
            while chunk := part.read(_XML_CHUNK):
                parser.feed(chunk)
                if target.seen_doctype:
                    break
        if not target.seen_doctype:
            parser.close()
    except etree.XMLSyntaxError:
        well_formed = False
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError):
        _refuse(_("%(n)s is damaged: the file cannot be opened.", n=name))
    if target.seen_doctype:
        _refuse(
            _(
                "%(n)s contains XML entity declarations (in %(p)s), which Office files never "
                "have; it is refused.",
                n=name,
                p=info.filename,
            )
        )
    if not well_formed:
        _refuse(_("%(n)s is damaged: %(p)s is not well-formed XML.", n=name, p=info.filename))
