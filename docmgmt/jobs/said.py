"""What a job says when it ends, kept as a msgid and its parameters and translated when shown.

A worker speaks the server's language; the quality manager who opens the jobs page may speak
another. A handler returns ``said("%(n)d digest(s)", n=3)``: a string in the worker's language
(for logs and the CLI) that also carries its msgid and parameters; ``finish`` stores both, and
:func:`text_of` says it in the reader's language. A record import and an evidence pack keep
their own message the same way (:func:`keep`), and their job says it again (:func:`said_of`).
Messages kept as plain text (rows from before) are shown as stored.

Work that fails says so through :func:`failure`: a msgid, never the error's own text (English
library text, a traceback line), specific where the cause is known (the disk is full, a file
cannot be read or written, the database or the mail server cannot be reached); the error itself
goes to the server log (docmgmt/jobs/operations.execute)."""

from __future__ import annotations

import errno

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


DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
FILE_ERRORS = {
    errno.ENOENT,
    errno.EACCES,
    errno.EPERM,
    errno.EIO,
    errno.EISDIR,
    errno.ENOTDIR,
    errno.EROFS,
}


def _cause(exc: BaseException) -> str:
    from smtplib import SMTPException

    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(exc, DBAPIError):
        orig = exc.orig
        if getattr(orig, "sqlite_errorname", "") == "SQLITE_FULL" or "53100" in (
            getattr(orig, "sqlstate", None),
            getattr(orig, "pgcode", None),
        ):
            return "disk"
        if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
            return "database"
        return ""
    if isinstance(exc, SMTPException):
        return "mail"
    if isinstance(exc, OSError):
        if exc.errno in DISK_FULL:
            return "disk"
        if exc.errno in FILE_ERRORS or exc.filename:
            return "file"
    return ""


def cause_of(exc: BaseException) -> str:
    """What made work fail, when it is one a person can act on: "disk" (full), "file" (cannot
    be read or written), "database" or "mail" (cannot be reached); "" when unknown. The error
    and the errors it came from are looked at."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        cause = _cause(exc)
        if cause:
            return cause
        exc = exc.__cause__ or exc.__context__
    return ""


def failure(exc: BaseException, kind: str = "job") -> Said:
    """What a person reads when a job (``kind`` "job"), a record import ("import") or an
    evidence pack ("pack") failed: never empty, never the error's own text. An error of ours
    (a DomainError) says its message; a known cause says what it was; anything else says that
    the administrator finds the detail in the server log."""
    from docmgmt.errors import DomainError

    if isinstance(exc, DomainError) and str(exc.message).strip():
        reason = str(exc.message).strip()[:450]
        if kind == "import":
            return said("The import failed and nothing was filed: %(reason)s", reason=reason)
        if kind == "pack":
            return said("The evidence pack could not be built: %(reason)s", reason=reason)
        return said("The job failed: %(reason)s", reason=reason)
    cause = cause_of(exc)
    if kind == "import":
        said_as = {
            "disk": lambda: said(
                "The import failed and nothing was filed: the server's disk is full."
            ),
            "file": lambda: said(
                "The import failed and nothing was filed: a file could not be read or written."
            ),
            "database": lambda: said(
                "The import failed and nothing was filed: the database could not be reached."
            ),
            "": lambda: said(
                "The import failed and nothing was filed; "
                "the administrator can see the detail in the log."
            ),
        }
    elif kind == "pack":
        said_as = {
            "disk": lambda: said(
                "The evidence pack could not be built: the server's disk is full."
            ),
            "file": lambda: said(
                "The evidence pack could not be built: a file could not be read or written."
            ),
            "database": lambda: said(
                "The evidence pack could not be built: the database could not be reached."
            ),
            "": lambda: said(
                "The evidence pack could not be built; "
                "the administrator can see the detail in the log."
            ),
        }
    else:
        said_as = {
            "disk": lambda: said("The job failed: the server's disk is full."),
            "file": lambda: said("The job failed: a file could not be read or written."),
            "database": lambda: said("The job failed: the database could not be reached."),
            "mail": lambda: said("The job failed: the mail server could not be reached."),
            "": lambda: said("The job failed; the administrator can see the detail in the log."),
        }
    return said_as.get(cause, said_as[""])()
