"""Documents, revisions, version codes, lifecycle and approvals."""

from flask import Blueprint

bp = Blueprint("versioning", __name__, url_prefix="/documents")
