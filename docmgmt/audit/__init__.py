"""The audit trail and its page."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

from docmgmt.audit import views  # noqa: E402,F401
