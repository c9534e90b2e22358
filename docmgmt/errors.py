"""Domain errors and the handlers that answer them as an HTML page or a JSON body."""

import re

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from docmgmt.extensions import db


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def after_rollback(self) -> None:
        """Work that must outlive the failed request: runs after its rollback (``undo``).
        The error that needs it says so itself, so this module needs no feature's code."""


class ValidationFailed(DomainError):
    status = 422


# U+0000 (PostgreSQL cannot store it in text, SQLite can) and unpaired surrogates (which JSON
# can spell as "\ud800" but no database can encode).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def contains_unstorable(value) -> bool:
    """Whether a string, or any string inside lists, tuples and dicts, holds a character no
    database stores: U+0000 or an unpaired surrogate."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(contains_unstorable(k) or contains_unstorable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_unstorable(v) for v in value)
    return False


def refuse_unstorable(value, field: str | None = None) -> None:
    """Refuse what contains_unstorable finds, with the same answer on every database."""
    if contains_unstorable(value):
        raise ValidationFailed(unstorable_message(), field=field)


def unstorable_message() -> str:
    return _("Text may not contain NUL characters or invalid Unicode.")


class PermissionDenied(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class InvalidState(DomainError):
    status = 409


class SigningLocked(DomainError):
    status = 423


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(status: int, message: str, field: str | None = None):
    if wants_json():
        body = {"status": status, "message": message}
        if field:
            body["field"] = field
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message), status


def undo(exc: DomainError) -> None:
    """Roll the request back; a wrong signing password is still counted afterwards."""
    db.session.rollback()
    exc.after_rollback()


def register_error_handlers(app):
    @app.errorhandler(DomainError)
    def handle_domain_error(exc: DomainError):
        undo(exc)
        return error_response(exc.status, exc.message, exc.field)

    from sqlalchemy.exc import DataError

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def handle_out_of_range(exc):
        # A value the database cannot hold (SQLite's OverflowError for a huge integer,
        # PostgreSQL's data exceptions): the request is wrong, the server is fine.
        db.session.rollback()
        orig = getattr(exc, "orig", exc)
        state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if isinstance(exc, OverflowError) or state == "22003":
            message = _("A number in the request is out of range.")
        elif state == "22001":
            message = _("A text in the request is too long.")
        elif "NUL" in str(orig):
            message = unstorable_message()
        else:
            message = _("A value in the request cannot be stored.")
        return error_response(422, message)

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def handle_csrf(exc):
        return error_response(
            400, _("The form expired or was sent from elsewhere. Reload the page and try again.")
        )

    @app.errorhandler(StaleDataError)
    def handle_stale(exc):
        db.session.rollback()
        return error_response(
            409, _("Someone else changed this at the same moment. Reload the page and try again.")
        )

    @app.errorhandler(IntegrityError)
    def handle_integrity(exc):
        db.session.rollback()
        return error_response(
            409,
            _("The change conflicts with another one that was saved first. Reload and try again."),
        )

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        if request.path.startswith("/api/") and exc.code == 422:
            # flask-smorest puts webargs' field messages on the exception
            from docmgmt.schema_messages import summary

            data = getattr(exc, "data", {}) or {}
            errors, message, field = summary(data.get("messages", {}))
            body = {"status": 422, "message": message, "errors": errors}
            if field:
                body["field"] = field
            return jsonify(body), 422
        messages = {
            400: _("The request could not be understood."),
            401: _("Please log in."),
            403: _("You do not have permission to do this."),
            404: _("Not found."),
            405: _("This method is not allowed here."),
            413: _("The upload is too large."),
        }
        return error_response(exc.code or 500, messages.get(exc.code, exc.description or ""))
