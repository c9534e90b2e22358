"""Bearer-token authentication shared by every /api/v1 blueprint."""

from flask import g, request
from flask_babel import gettext as _

from docmgmt.auth.models import User
from docmgmt.auth.operations import user_for_token
from docmgmt.errors import error_response


def require_token():
    """before_request hook: the caller must send a valid personal token."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    user = user_for_token(secret.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        return error_response(
            401, _("A valid personal token is required: Authorization: Bearer <token>.")
        )
    g.api_user = user
    from docmgmt.auth.permissions import is_read_only
    from docmgmt.certification import AUDITOR_MAY_POST

    if (
        request.method not in ("GET", "HEAD", "OPTIONS")
        and is_read_only(user)
        and request.endpoint not in AUDITOR_MAY_POST
    ):
        return error_response(403, _("Auditors have read-only access."))
    from docmgmt.auth.policy import refusal

    if request.url_rule is not None:
        message = refusal(user, request.endpoint, request.method)
        if message:
            return error_response(403, message)
    return None


def api_user() -> User:
    return g.api_user
