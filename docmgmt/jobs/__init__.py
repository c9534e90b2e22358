"""Background work through a task queue (Huey), with each job's state, progress and outcome in
the database (docmgmt/jobs/operations.py). See README "Background work". The page of jobs for
quality managers and administrators is docmgmt/jobs/views.py, the API docmgmt/jobs/api.py."""

from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
