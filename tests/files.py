"""Real files for upload tests (a PDF pypdf reads, an image Pillow decodes, Office files their
libraries write) and the hostile ones every upload channel must refuse."""

import io
import zipfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pdf(text: str = "scan") -> bytes:
    """A one-page PDF; ``text`` goes into its metadata so different texts give different files."""
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(200, 200)
    w.add_metadata({"/Title": text})
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf("secret"))))
    w.encrypt("secret", algorithm="RC4-128")
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def png(color: str = "red", size=(8, 8)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg(color: str = "blue") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "JPEG")
    return out.getvalue()


def broken_png() -> bytes:
    data = png(size=(64, 64))
    return data[: len(data) // 2]


def docx(text: str = "正文") -> bytes:
    import docx as python_docx

    d = python_docx.Document()
    d.add_paragraph(text)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def xlsx(rows=(("title", "customer"), ("冰箱异响", "李女士"))) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    for r in rows:
        wb.active.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _zip(files: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content)
    return out.getvalue()


def _parts(data: bytes) -> dict:
    src = zipfile.ZipFile(io.BytesIO(data))
    return {n: src.read(n) for n in src.namelist()}


def docm_renamed() -> bytes:
    """A macro-enabled Word file (what Word saves as .docm), to be uploaded as .docx."""
    files = _parts(docx())
    files["[Content_Types].xml"] = files["[Content_Types].xml"].replace(
        b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml"
    )
    files["word/vbaProject.bin"] = b"\x00" * 100
    return _zip(files)


def xlsm_renamed() -> bytes:
    files = _parts(xlsx())
    files["[Content_Types].xml"] = files["[Content_Types].xml"].replace(
        b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
    )
    files["xl/vbaProject.bin"] = b"\x00" * 100
    return _zip(files)


def zip_bomb(main_part: str = "word/document.xml") -> bytes:
    return _zip({"[Content_Types].xml": "x", main_part: b"\x00" * (80 * 1024 * 1024)})


def ole() -> bytes:
    """The start of an OLE compound file: what an encrypted .docx / .xlsx really is."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]>"
)


def entity_docx() -> bytes:
    """A .docx whose body declares entities that expand to gigabytes ("billion laughs")."""
    files = _parts(docx())
    ns = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    files["word/document.xml"] = (
        LAUGHS + b"<w:document " + ns + b"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>"
        b"</w:body></w:document>"
    )
    return _zip(files)


def entity_xlsx() -> bytes:
    files = _parts(xlsx())
    sheet = files["xl/worksheets/sheet1.xml"]
    if sheet.startswith(b"<?xml"):
        sheet = sheet.split(b"?>", 1)[1]
    files["xl/worksheets/sheet1.xml"] = LAUGHS + sheet.replace(b"<sheetData>", b"<sheetData>&lol9;")
    return _zip(files)


def malformed_entity_xlsx() -> bytes:
    """An .xlsx whose sheet uses an entity nobody declared (openpyxl fails while reading rows)."""
    files = _parts(xlsx())
    files["xl/worksheets/sheet1.xml"] = files["xl/worksheets/sheet1.xml"].replace(
        b"<sheetData>", b"<sheetData>&bogus;", 1
    )
    return _zip(files)


def strict_docx() -> bytes:
    """A .docx saved as "Strict Open XML Document" (other namespaces python-docx cannot read)."""
    files = _parts(docx())
    files["_rels/.rels"] = files["_rels/.rels"].replace(
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
        b"http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument",
    )
    return _zip(files)


# (file name, content, words the refusal must contain): what every attachment channel refuses
HOSTILE = [
    ("bomb.docx", zip_bomb(), "zip bomb"),
    ("macro.docx", docm_renamed(), "macro-enabled"),
    ("macro.xlsx", xlsm_renamed(), "macro-enabled"),
    ("secret.docx", ole(), "password-protected"),
    ("secret.pdf", encrypted_pdf(), "password-protected"),
    ("page.pdf", HTML, "HTML"),
    ("photo.png", broken_png(), "cannot be decoded"),
    ("photo.jpg", png(), "PNG image"),
    ("laughs.docx", entity_docx(), "entity declarations"),
    ("laughs.xlsx", entity_xlsx(), "entity declarations"),
    ("strict.docx", strict_docx(), "Strict Open XML"),
]
