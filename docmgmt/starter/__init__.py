"""The starter kit: a new company's controlled document set from the built-in GB/T 27922
templates (``flask setup company``), and the checklist of what is still to write."""

from flask import Blueprint

bp = Blueprint("starter", __name__, url_prefix="/setup")
