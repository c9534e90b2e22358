"""What a job says when it ends, kept as a msgid and its parameters and translated when shown.

A worker speaks the server's language; the quality manager who opens the jobs page may speak
another. A handler returns ``said("%(n)d digest(s)", n=3)``: a string in the worker's language
(for logs and the CLI) that also carries its msgid and parameters; ``finish`` stores both, and
:func:`text_of` says it in the reader's language. Messages kept as plain text (an import's or a
pack's own message, an error's text, rows from before) are shown as stored."""

from __future__ import annotations

from flask_babel import gettext


class Said(str):
    msgid: str
    params: dict

    def __new__(cls, msgid: str, params: dict):
        self = super().__new__(cls, _render(msgid, params) or msgid)
        self.msgid, self.params = msgid, params
        return self


def said(msgid: str, **params) -> Said:
    return Said(msgid, params)


def _render(msgid: str, params: dict | None) -> str:
    try:
        return gettext(msgid, **(params or {}))
    except (KeyError, TypeError, ValueError):  # parameters of an older version
        return ""


def text_of(job) -> str:
    """The job's message in the language of the moment."""
    if getattr(job, "message_id", ""):
        text = _render(job.message_id, job.message_params)
        if text:
            return text
    return job.message or ""
