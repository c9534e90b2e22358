"""Text from attachments (docmgmt/extract): scans read by text recognition, files with text
read as they are, and every kind of bad file refused with its reason.

Real files: scans rendered by tests/scans.py, PDFs made with ReportLab and Pillow, Word and
Excel files made with python-docx and openpyxl."""

from __future__ import annotations

import io
import zlib

import pytest
from pypdf import PdfReader, PdfWriter

from docmgmt.extract import Unreadable, extract
from docmgmt.extract.ocr import engine, lines_of, tidy
from tests import scans

MARKER = "冷凝器结霜"  # written only on the scanned form


@pytest.fixture
def ocr_ready(app):
    if not engine(app.config.get("OCR_ENGINE", "rapidocr")).available():
        pytest.fail("the text recognition engine is not installed (make install)")
    with app.app_context():
        yield


def test_a_photographed_work_order_is_read_with_a_searchable_copy(ocr_ready):
    s = scans.scan(dpi=150, noisy=True, seed=5, marker=MARKER)
    got = extract(s.data, s.filename)
    assert got.method == "ocr" and got.pages == 1
    assert MARKER in got.text
    assert scans.accuracy(s.truth, got.text) >= 0.9
    # the searchable copy: the page image with the text over it, found by a PDF reader
    pdf = PdfReader(io.BytesIO(got.searchable_pdf))
    assert len(pdf.pages) == 1
    assert MARKER in "".join(pdf.pages[0].extract_text().split())
    assert pdf.pages[0].images  # the scan itself, unchanged in look


def test_a_scanned_pdf_is_read_page_by_page(ocr_ready):
    s = scans.two_page_pdf(dpi=150, marker=MARKER)
    got = extract(s.data, s.filename)
    assert got.method == "ocr" and got.pages == 2
    first, second = got.text.split("\n\n", 1)
    assert "售后服务派工单" in first and MARKER not in first
    assert "客户满意度回访表" in second and MARKER in second
    assert len(PdfReader(io.BytesIO(got.searchable_pdf)).pages) == 2


def _text_pdf(lines: list[str], pages: int = 1) -> bytes:
    from reportlab.pdfgen import canvas

    from docmgmt.printing.fonts import cjk_font

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for _ in range(pages):
        c.setFont(cjk_font(), 12)
        for i, line in enumerate(lines):
            c.drawString(72, 760 - 20 * i, line)
        c.showPage()
    c.save()
    return buf.getvalue()


def test_a_pdf_with_text_is_read_without_recognition(app):
    with app.app_context():
        got = extract(_text_pdf(["客户回访记录", "回访结果：非常满意，编号 HF-2026-0012"]), "a.pdf")
    assert got.method == "layer" and got.searchable_pdf is None
    assert "客户回访记录" in got.text and "HF-2026-0012" in got.text


def test_word_and_excel_attachments_give_their_text(app):
    from docx import Document
    from openpyxl import Workbook

    doc = Document()
    doc.add_paragraph("投诉处理单")
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "投诉人"
    table.rows[0].cells[1].text = "王晓梅"
    buf = io.BytesIO()
    doc.save(buf)
    wb = Workbook()
    wb.active.title = "回访"
    wb.active.append(["客户", "满意度"])
    wb.active.append(["陈立华", 5])
    xbuf = io.BytesIO()
    wb.save(xbuf)
    with app.app_context():
        word = extract(buf.getvalue(), "complaint.docx")
        sheet = extract(xbuf.getvalue(), "visits.xlsx")
    assert "投诉处理单" in word.text and "投诉人 王晓梅" in word.text
    assert sheet.text.splitlines() == ["回访", "客户 满意度", "陈立华 5"]


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions (a decompression bomb's header), one tiny IDAT."""
    import struct

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


def test_bad_files_are_refused_with_their_reason(app):
    app.config["OCR_MAX_PAGES"] = 5
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret")
    enc = io.BytesIO()
    writer.write(enc)
    cases = [
        (_png_header(100_000, 100_000), "bomb.png", "larger than 50 megapixels"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "broken.png", "damaged or not an image"),
        (b"%PDF-1.7\n garbage", "broken.pdf", "The PDF is damaged"),
        (enc.getvalue(), "locked.pdf", "The PDF is encrypted"),
        (
            _text_pdf(["第一页"], pages=6),
            "long.pdf",
            "has 6 pages; text is read from files of at most 5",
        ),
        (b"\xff\xfe\x00\x00", "odd.txt", "neither UTF-8 nor GB18030"),
        (b"MZ\x90\x00", "tool.exe", "files of this type (.exe)"),
    ]
    with app.app_context():
        for data, name, message in cases:
            with pytest.raises(Unreadable) as err:
                extract(data, name)
            assert message in str(err.value), (name, str(err.value))


def test_recognised_text_reads_as_typed():
    assert (
        tidy("售 后 服 务  派 工 单\n\n\n\nKFR-35GW  BP2 \n") == "售后服务派工单\n\nKFR-35GW  BP2"
    )
    boxes = [
        ([[300, 100], [400, 100], [400, 130], [300, 130]], "陈立华"),
        ([[10, 104], [120, 104], [120, 128], [10, 128]], "客户姓名"),
        ([[10, 160], [120, 160], [120, 190], [10, 190]], "联系电话"),
    ]
    assert lines_of(boxes) == ["客户姓名 陈立华", "联系电话"]


def test_an_unknown_engine_stops_the_start(tmp_path):
    from docmgmt import create_app
    from docmgmt.config import ConfigurationError

    db = f"sqlite:///{tmp_path}/x.db"
    with pytest.raises(
        ConfigurationError,
        match="DOCMGMT_OCR_ENGINE='abbyy' is not a text recognition engine",
    ):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": db, "OCR_ENGINE": "abbyy"})
    assert create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": db, "OCR_ENGINE": "tesseract"})


def test_a_blank_page_is_not_sent_to_recognition(app, monkeypatch):
    """The back of a two-sided scan or an empty form: nothing to read, no second spent."""
    from docmgmt.extract import ocr
    from tests import files

    def refuse(*_args, **_kw):
        raise AssertionError("a blank page went to the recognition engine")

    monkeypatch.setattr(ocr.Rapid, "_ocr", refuse)
    with app.app_context():
        got = extract(files.pdf("blank"), "blank.pdf")
    assert got.method == "ocr" and got.text == "" and got.pages == 1
    assert len(PdfReader(io.BytesIO(got.searchable_pdf)).pages) == 1
