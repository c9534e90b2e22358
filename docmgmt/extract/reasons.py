"""Why no text was read, as a code and its parameters: stored so, translated when shown.

The worker that reads an attachment speaks the server's language; the person who looks at the
result may speak another. So :class:`~docmgmt.extract.models.AttachmentText` keeps the code
(``reason_code``) and its parameters (``reason_params``), and :func:`reason_of` says it in the
reader's language. Rows written before codes existed keep their stored text (``reason``).
"""

from __future__ import annotations


def N_(msgid: str) -> str:  # marks a msgid for the catalogue; translated when shown
    return msgid


REASONS = {
    "file_type": N_("Text cannot be read from files of this type (%(ext)s)."),
    "engine_missing": N_("Text recognition is not installed on the server (engine %(engine)s)."),
    "heic_missing": N_("HEIC photos cannot be read on this server."),
    "image_too_large": N_("The image is larger than %(m)d megapixels; no text was read."),
    "image_damaged": N_("The image is damaged or not an image; no text was read."),
    "pdf_encrypted": N_("The PDF is encrypted; no text was read."),
    "pdf_damaged": N_("The PDF is damaged; no text was read."),
    "too_many_pages": N_(
        "The file has %(pages)s pages; text is read from files of at most %(max)s pages."
    ),
    "docx_damaged": N_("The Word file is damaged; no text was read."),
    "xlsx_damaged": N_("The Excel file is damaged; no text was read."),
    "text_encoding": N_("The text file is neither UTF-8 nor GB18030; no text was read."),
    "file_missing": N_("The file is no longer in the file store; no text was read."),
    "stopped": N_("Text recognition stopped with an error; try again."),
}


def message(code: str, params: dict | None = None) -> str:
    """The reason ``code`` in the language of the moment ("" for an unknown code)."""
    from docmgmt.jobs.said import render

    msgid = REASONS.get(code)
    return "" if msgid is None else render(msgid, params)  # "": the stored text is shown


def reason_of(text) -> str:
    """Why this attachment's text could not be read, in the reader's language."""
    if getattr(text, "reason_code", ""):
        said = message(text.reason_code, text.reason_params)
        if said:
            return said
    return text.reason or ""
