"""What a job says when it ends, kept as a msgid and its parameters and translated when shown.

A worker speaks the server's language; the quality manager who opens the jobs page may speak
another. A handler returns ``said("%(n)d digest(s)", n=3)``: a string in the worker's language
(for logs and the CLI) that also carries its msgid and parameters; ``finish`` stores both, and
:func:`text_of` says it in the reader's language. A record import and an evidence pack keep
their own message the same way (:func:`keep`), and their job says it again (:func:`said_of`).
Messages kept as plain text (an error's text, rows from before) are shown as stored."""

from __future__ import annotations

from flask_babel import gettext


class Said(str):
    msgid: str
    params: dict

    def __new__(cls, msgid: str, params: dict):
        self = super().__new__(cls, render(msgid, params) or msgid)
        self.msgid, self.params = msgid, params
        return self


def said(msgid: str, **params) -> Said:
    return Said(msgid, params)


def render(msgid: str, params: dict | None) -> str:
    """``msgid`` with ``params`` in the language of the moment; "" when the parameters no longer
    fit it (a row of an older version: the caller shows the stored text)."""
    try:
        return gettext(msgid, **(params or {}))
    except (KeyError, TypeError, ValueError):  # parameters of an older version
        return ""


def text_of(row) -> str:
    """The message of a job, a record import or an evidence pack (``message``, ``message_id``,
    ``message_params``) in the language of the moment; as stored when it has no msgid."""
    if getattr(row, "message_id", ""):
        text = render(row.message_id, row.message_params)
        if text:
            return text
    return row.message or ""


#: The longest text kept (the msgid and its parameters are kept whole).
TEXT_LIMIT = 2000


def columns(message) -> dict:
    """How a message is stored, the one way for every row that keeps one (a job, a record
    import, an evidence pack): ``message``, its text in the language of the moment (logs, the
    CLI, old readers; at most TEXT_LIMIT characters) and, for a :class:`Said`, ``message_id``
    and ``message_params``. ``columns("")`` clears them."""
    return dict(
        message=str(message or "")[:TEXT_LIMIT],
        message_id=getattr(message, "msgid", ""),
        message_params=getattr(message, "params", None),
    )


def keep(row, message: str) -> None:
    """Store ``message`` on ``row`` (a model object) as :func:`columns` says."""
    for name, value in columns(message).items():
        setattr(row, name, value)


def said_of(row) -> str:
    """The row's message as a handler returns it: a :class:`Said` when it has a msgid that can
    still be said (so the job keeps it too), its stored text otherwise."""
    if getattr(row, "message_id", "") and render(row.message_id, row.message_params):
        return Said(row.message_id, dict(row.message_params or {}))
    return row.message or ""
