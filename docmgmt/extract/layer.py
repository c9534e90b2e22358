"""A searchable PDF of scanned pages: each page image, with the recognised text invisible over it.

The text is drawn in render mode 3 (neither filled nor stroked), scaled to the width of its
box, so a viewer's search and selection find it where it stands on the image, while the
page looks exactly like the scan. Used for engines that do not write such a PDF themselves.
"""

from __future__ import annotations

import io

from PIL import Image


def image_pdf(pages: list[tuple[Image.Image, list[tuple[list, str]]]], dpi: int) -> bytes:
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    from docmgmt.printing.fonts import cjk_font

    font = cjk_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pageCompression=1)
    scale = 72.0 / dpi
    for image, boxes in pages:
        w, h = image.size
        c.setPageSize((w * scale, h * scale))
        c.drawImage(ImageReader(image.convert("RGB")), 0, 0, w * scale, h * scale)
        for box, text in boxes:
            xs = [p[0] for p in box]
            ys = [p[1] for p in box]
            height = (max(ys) - min(ys)) * scale
            width = (max(xs) - min(xs)) * scale
            if not text.strip() or height <= 0 or width <= 0:
                continue
            size = height * 0.8
            t = c.beginText()
            t.setTextRenderMode(3)
            t.setFont(font, size)
            natural = stringWidth(text, font, size)
            if natural > 0:
                t.setHorizScale(100.0 * width / natural)
            t.setTextOrigin(min(xs) * scale, (h - max(ys)) * scale + height * 0.2)
            t.textOut(text)
            c.drawText(t)
        c.showPage()
    c.save()
    return buf.getvalue()
