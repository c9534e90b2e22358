"""Text from an attachment, whatever it is: a text layer where there is one, recognition where not.

* PDF: the text of each page's text layer (pypdf); pages without one (a scan) are rendered
  (pypdfium2, at ``OCR_DPI``) and read by text recognition (docmgmt/extract/ocr.py), and a
  searchable copy is made of a scanned PDF;
* images (PNG, JPEG, TIFF with all its pages, HEIC when pillow-heif is installed): turned
  upright by their EXIF orientation, read by text recognition, and a searchable PDF made;
* .docx: paragraphs and table cells in order; .xlsx: the cells of each sheet, row by row;
  .txt / .csv: the text itself.

Never the original: the caller stores what comes back beside it. Limits come first and say
why: an encrypted PDF, more than ``OCR_MAX_PAGES`` pages, an image over the pixel limit of
docmgmt/filecheck.py or one that does not decode is :class:`Unreadable` with a reason in the
user's language (a code kept with the text, translated when shown), and nothing is half-made.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from flask import current_app, has_app_context
from PIL import Image, ImageOps

from docmgmt.extract import reasons
from docmgmt.extract.ocr import engine as ocr_engine
from docmgmt.extract.ocr import tidy

IMAGES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".heic", ".heif")
TEXT_PER_PAGE = 20  # fewer characters than this in a page's text layer: read it as a scan
DEFAULTS = {"OCR_ENGINE": "rapidocr", "OCR_MAX_PAGES": 50, "OCR_DPI": 300}


class Unreadable(Exception):
    """The file cannot be read for text: ``code`` and ``params`` say why (kept, translated when
    shown: docmgmt/extract/reasons.py); ``str()`` is the reason in the current language."""

    def __init__(self, code: str, **params):
        self.code, self.params = code, params
        super().__init__(reasons.message(code, params))


@dataclass
class Extracted:
    text: str
    method: str  # "layer" (text of the file itself) or "ocr"
    pages: int
    engine: str = ""
    searchable_pdf: bytes | None = None  # scans only: the pages with an invisible text layer
    notes: list[str] = field(default_factory=list)


#: engine code (setting OCR_ENGINE) -> the name shown to people
ENGINE_NAMES = {"rapidocr": "RapidOCR", "tesseract": "Tesseract OCR"}


def engine_label(code: str) -> str:
    """The engine's own name (RapidOCR, Tesseract OCR), never its setting's code."""
    return ENGINE_NAMES.get(code, code)


def setting(name: str):
    if has_app_context():
        return current_app.config.get(name, DEFAULTS[name])
    return DEFAULTS[name]


def extract(data: bytes, filename: str, *, searchable: bool = True) -> Extracted:
    suffix = PurePosixPath(filename.lower()).suffix
    if suffix == ".pdf":
        return _pdf(data, searchable)
    if suffix in IMAGES:
        return _image(data, filename, searchable)
    if suffix == ".docx":
        return Extracted(_docx(data), "layer", 1)
    if suffix == ".xlsx":
        return Extracted(_xlsx(data), "layer", 1)
    if suffix in (".txt", ".csv"):
        return Extracted(_plain(data), "layer", 1)
    raise Unreadable("file_type", ext=suffix)


# ------------------------------------------------------------------ scans


def _engine():
    eng = ocr_engine(setting("OCR_ENGINE"))
    if not eng.available():
        raise Unreadable("engine_missing", engine=engine_label(eng.name))
    return eng


def _frames(data: bytes, filename: str) -> list[Image.Image]:
    from docmgmt.filecheck import MAX_IMAGE_PIXELS

    if filename.lower().endswith((".heic", ".heif")):
        try:
            from pillow_heif import register_heif_opener
        except ImportError:
            raise Unreadable("heic_missing") from None
        register_heif_opener()
    megapixels = MAX_IMAGE_PIXELS // 1_000_000
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
        with img:
            frames = []
            for i in range(getattr(img, "n_frames", 1)):
                img.seek(i)
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    raise Unreadable("image_too_large", m=megapixels)
                frames.append(ImageOps.exif_transpose(img.convert("RGB")))
                if len(frames) > setting("OCR_MAX_PAGES"):
                    raise _too_many(getattr(img, "n_frames", 1))
            return frames
    except Unreadable:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Unreadable("image_too_large", m=megapixels) from None
    except Exception:  # noqa: BLE001 - any decoder error: the image is damaged
        raise Unreadable("image_damaged") from None


def _dpi(data: bytes) -> int:
    try:
        with Image.open(io.BytesIO(data)) as img:
            dpi = img.info.get("dpi", (0, 0))[0]
    except Exception:  # noqa: BLE001
        return 300
    return int(dpi) if dpi and 50 <= dpi <= 1200 else 300


def _too_many(pages: int) -> Unreadable:
    return Unreadable("too_many_pages", pages=pages, max=setting("OCR_MAX_PAGES"))


def _image(data: bytes, filename: str, searchable: bool) -> Extracted:
    frames = _frames(data, filename)
    eng = _engine()
    texts, pdf = eng.read(frames, _dpi(data), searchable)
    return Extracted("\n\n".join(texts), "ocr", len(frames), eng.name, pdf)


def _pdf(data: bytes, searchable: bool) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise Unreadable("pdf_encrypted")
        pages = len(reader.pages)
    except Unreadable:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError):
        raise Unreadable("pdf_damaged") from None
    if pages > setting("OCR_MAX_PAGES"):
        raise _too_many(pages)
    layer = []
    for page in reader.pages:
        try:
            layer.append(page.extract_text() or "")
        except Exception:  # noqa: BLE001 - a page pypdf cannot parse: read it as a scan
            layer.append("")
    scanned = [i for i, t in enumerate(layer) if len("".join(t.split())) < TEXT_PER_PAGE]
    if not scanned:
        return Extracted(tidy("\n\n".join(layer)), "layer", pages)
    eng = _engine()
    dpi = int(setting("OCR_DPI"))
    images = _render(data, scanned, dpi)
    # A searchable copy of a scan through and through; a PDF with text keeps its own.
    texts, pdf = eng.read(images, dpi, searchable and len(scanned) == pages)
    for i, text in zip(scanned, texts, strict=True):
        layer[i] = text
    return Extracted(tidy("\n\n".join(layer)), "ocr", pages, eng.name, pdf)


def _render(data: bytes, indexes: list[int], dpi: int) -> list[Image.Image]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        return [doc[i].render(scale=dpi / 72).to_pil().convert("RGB") for i in indexes]
    finally:
        doc.close()


# ------------------------------------------------------------------ files with text


def _docx(data: bytes) -> str:
    from docx import Document

    try:
        doc = Document(io.BytesIO(data))
    except Exception:  # noqa: BLE001
        raise Unreadable("docx_damaged") from None
    out = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            cells = []
            for cell in row.cells:
                if not cells or cell.text != cells[-1]:  # merged cells repeat
                    cells.append(cell.text)
            out.append(" ".join(cells))
    return _lines(out)


def _xlsx(data: bytes) -> str:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001
        raise Unreadable("xlsx_damaged") from None
    out = []
    try:
        for ws in wb.worksheets:
            out.append(ws.title)
            for row in ws.iter_rows(values_only=True):
                cells = [str(v) for v in row if v is not None and str(v).strip()]
                if cells:
                    out.append(" ".join(cells))
    finally:
        wb.close()
    return _lines(out)


def _lines(lines: list[str]) -> str:
    """Typed text: kept as it is, less blank lines and trailing blanks."""
    return "\n".join(line.rstrip() for line in lines if line.strip())


def _plain(data: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise Unreadable("text_encoding")
