"""The audit trail and its page."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")
