"""Texts the system writes into the company's controlled records, in the company's language."""

from flask import current_app
from flask_babel import force_locale, gettext


def in_document_language(message: str, **variables) -> str:
    """A first issue's change text or an audit summary is part of a controlled record: it is
    written in the document language (DOCMGMT_DOCUMENT_LOCALE, Chinese by default), whatever
    the language of the person acting. The message is a msgid of the catalogue."""
    with force_locale(current_app.config["DOCUMENT_LOCALE"]):
        return gettext(message, **variables)
