"""The start page (each user's inbox), health check and small shared pages."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from docmgmt.main import views  # noqa: E402,F401
