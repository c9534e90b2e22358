"""Document control in full: change requests, periodic review, related and external
documents, the quality manager's desk and the master list export."""

from flask import Blueprint

bp = Blueprint("control", __name__)
