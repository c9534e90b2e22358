"""Text recognition of scanned pages: Simplified Chinese with Latin letters and digits, offline.

Two engines read Chinese on these machines without downloading anything at run time, and
``make bench-ocr`` (benchmarks/bench_ocr.py) measures both on the same scans:

* ``tesseract``: Debian's Tesseract with its ``chi_sim`` and ``eng`` models
  (apt-get install tesseract-ocr tesseract-ocr-chi-sim), through pytesseract. It writes the
  searchable PDF itself (the page image with an invisible text layer).
* ``rapidocr``: PaddleOCR's PP-OCRv4 models run by ONNX Runtime (rapidocr-onnxruntime, the
  models inside the wheel). The searchable PDF is drawn here with ReportLab: the image, and
  each recognised line as invisible text over its box.

The setting ``OCR_ENGINE`` chooses; the README says which is the default and why.
"""

from __future__ import annotations

import io
import re
import shutil
import threading
from typing import Protocol

from PIL import Image

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
# Tesseract puts a space between Chinese characters; a reader does not.
_CJK_GAP = re.compile(rf"(?<=[{CJK}]) +(?=[{CJK}])")


def tidy(text: str) -> str:
    """Recognised text as a person would type it: no spaces between Chinese characters,
    no trailing blanks, at most one empty line in a row."""
    lines = [_CJK_GAP.sub("", line).strip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def blank(image: Image.Image) -> bool:
    """A page with nothing on it (the back of a two-sided scan, an empty form): all of one
    shade, give or take a scanner's grain. Not worth a second of recognition."""
    low, high = image.convert("L").reduce(4).getextrema()
    return high - low < 24


class Engine(Protocol):
    name: str

    def available(self) -> bool: ...

    def read(
        self, images: list[Image.Image], dpi: int, pdf: bool
    ) -> tuple[list[str], bytes | None]:
        """The text of each page, and (``pdf``) the pages as a searchable PDF, in one pass."""


class Tesseract:
    name = "tesseract"
    lang = "chi_sim+eng"

    def available(self) -> bool:
        if shutil.which("tesseract") is None:
            return False
        try:  # the binary without the optional extra (pip install -e ".[tesseract]")
            import pytesseract
        except ImportError:
            return False
        try:
            langs = set(pytesseract.get_languages(config=""))
        except Exception:  # noqa: BLE001 - a broken installation is "not available"
            return False
        return {"chi_sim", "eng"} <= langs

    def read(self, images, dpi, pdf):
        import pytesseract

        config = f"--psm 3 --dpi {dpi} -c preserve_interword_spaces=1"
        texts = [
            "" if blank(i) else tidy(pytesseract.image_to_string(i, lang=self.lang, config=config))
            for i in images
        ]
        if not pdf:
            return texts, None
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter()
        for image in images:
            page = pytesseract.image_to_pdf_or_hocr(
                image, lang=self.lang, extension="pdf", config=f"--dpi {dpi}"
            )
            for p in PdfReader(io.BytesIO(page)).pages:
                writer.add_page(p)
        buf = io.BytesIO()
        writer.write(buf)
        return texts, buf.getvalue()


class Rapid:
    name = "rapidocr"
    _lock = threading.Lock()
    _engine = None
    # Lines are found on the page scaled to this many pixels at most (detection costs by the
    # pixel) and read from the page itself, at full size.
    DETECT_SIDE = 1280

    def available(self) -> bool:
        try:
            import rapidocr_onnxruntime  # noqa: F401
        except ImportError:
            return False
        return True

    def _ocr(self):
        with self._lock:
            if Rapid._engine is None:
                from rapidocr_onnxruntime import RapidOCR

                # No turning of upside-down lines (photos are set upright by their EXIF
                # orientation first). Lines are read one at a time: in batches of six the
                # shorter ones are padded to the longest, a fifth more work for nothing.
                # Detection: see ``boxes``. 100 % on the test set at about a third less
                # computing than before and half the package's defaults
                # (benchmarks/bench_ocr.py).
                engine = RapidOCR(max_side_len=1600, use_cls=False)
                if hasattr(engine, "text_rec"):
                    engine.text_rec.rec_batch_num = 1
                Rapid._engine = engine
            return Rapid._engine

    def boxes(self, image: Image.Image) -> list[tuple[list, str]]:
        import numpy as np

        if blank(image):
            return []
        ocr = self._ocr()
        pixels = np.asarray(image.convert("RGB"))
        scale = self.DETECT_SIDE / max(image.size)
        wide = image.width > 8 * image.height or image.height > 8 * image.width
        if (
            scale >= 1
            or wide
            or not all(
                hasattr(ocr, a)
                for a in ("text_det", "sorted_boxes", "get_crop_img_list", "text_rec")
            )
        ):
            # A small image (or a strip, which the package pads first): as the package reads it.
            result, _elapsed = ocr(pixels)
            return [(box, text) for box, text, _score in (result or [])]
        # A page: lines found on it scaled down, read from it at full size (sharper than
        # reading them from the scaled page, and detection costs by the pixel).
        small = image.convert("RGB").resize(
            (round(image.width * scale), round(image.height * scale)), Image.BILINEAR
        )
        found, _elapsed = ocr.text_det(np.asarray(small))
        if found is None or len(found) == 0:
            return []
        boxes = [np.asarray(b / scale, dtype=np.float32) for b in ocr.sorted_boxes(found)]
        read, _elapsed = ocr.text_rec(ocr.get_crop_img_list(pixels, boxes), False)
        return [
            (box.tolist(), text)
            for box, (text, score, *_rest) in zip(boxes, read, strict=True)
            if score >= ocr.text_score and text
        ]

    def read(self, images, dpi, pdf):
        pages = [(image, self.boxes(image)) for image in images]
        texts = [tidy("\n".join(lines_of(boxes))) for _image, boxes in pages]
        if not pdf:
            return texts, None
        from docmgmt.extract.layer import image_pdf

        return texts, image_pdf(pages, dpi)


def lines_of(boxes: list[tuple[list, str]]) -> list[str]:
    """Boxes (four corner points, text) as lines of text, top to bottom, left to right:
    boxes whose vertical middles lie within half a box height of each other share a line."""
    items = []
    for box, text in boxes:
        ys = [p[1] for p in box]
        xs = [p[0] for p in box]
        items.append(((min(ys) + max(ys)) / 2, max(ys) - min(ys), min(xs), text))
    items.sort()
    lines: list[list[tuple]] = []
    for item in items:
        if lines and abs(item[0] - lines[-1][0][0]) <= max(item[1], lines[-1][0][1]) / 2:
            lines[-1].append(item)
        else:
            lines.append([item])
    return [" ".join(t for *_rest, t in sorted(line, key=lambda i: i[2])) for line in lines]


ENGINES: dict[str, type] = {"tesseract": Tesseract, "rapidocr": Rapid}


def engine(name: str) -> Engine:
    try:
        return ENGINES[name]()
    except KeyError:
        raise ValueError(f"unknown OCR engine {name!r} (one of {', '.join(ENGINES)})") from None
