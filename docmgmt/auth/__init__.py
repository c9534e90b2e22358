"""Users, roles, log-in, personal API tokens and the signing password check."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
