"""The embedded Chinese TrueType font every PDF of the product is set in.

ReportLab's built-in CID fonts (STSong-Light) are not embedded: a viewer without Chinese fonts
draws empty boxes.  So PDFs use a TrueType font found by the setting ``DOCMGMT_CJK_FONT`` or in
the usual system places, embedded as a subset.  Without one, :func:`cjk_font` raises
:class:`FontMissing` with a message that says what to install, instead of an unreadable copy.
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import current_app, has_app_context
from flask_babel import gettext as _

from docmgmt.errors import DomainError

FONT_NAME = "DocCJK"

# TrueType (glyf) CJK fonts ReportLab can embed, in order of preference.  Debian's Noto CJK is
# CFF-based and cannot be embedded by ReportLab, so it is not listed.
CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/simsun.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)

_lock = threading.Lock()
_registered: dict[str, str] = {}  # path -> registered font name


class FontMissing(DomainError):
    status = 503


def font_path() -> Path | None:
    configured = current_app.config.get("CJK_FONT_PATH") if has_app_context() else None
    if configured:
        path = Path(configured)
        return path if path.is_file() else None
    for candidate in CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path
    return None


def cjk_font() -> str:
    """Register (once) and return the name of the embedded CJK font for ReportLab."""
    path = font_path()
    if path is None:
        configured = current_app.config.get("CJK_FONT_PATH") if has_app_context() else None
        raise FontMissing(
            _(
                "No Chinese TrueType font was found (%(where)s), so no readable PDF can be made. "
                "Install one (Debian: apt-get install fonts-wqy-zenhei) or set DOCMGMT_CJK_FONT "
                "to a .ttf/.ttc file.",
                where=configured or ", ".join(CANDIDATES[:2]),
            )
        )
    key = str(path)
    with _lock:
        if key not in _registered:
            from reportlab.pdfbase import pdfmetrics
            from reportlab.pdfbase.ttfonts import TTFont

            name = f"{FONT_NAME}{len(_registered)}"
            kwargs = {"subfontIndex": 0} if path.suffix.lower() == ".ttc" else {}
            pdfmetrics.registerFont(TTFont(name, key, **kwargs))
            _registered[key] = name
        return _registered[key]


def table_cell(text, style):
    """A table cell of a print: Chinese breaks between any two characters (wordWrap CJK),
    English text only between words, so an English print does not split "Pape|r"."""
    from xml.sax.saxutils import escape

    from reportlab.platypus import Paragraph

    from docmgmt.templating import text_lang

    text = str(text)
    if text_lang(text) == "en" and style.wordWrap == "CJK":
        style = style.clone(style.name + "-words", wordWrap=None)
    return Paragraph(escape(text), style)
