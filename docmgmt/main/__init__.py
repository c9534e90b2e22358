"""The start page (each user's inbox), health check and small shared pages."""

from flask import Blueprint

bp = Blueprint("main", __name__)
