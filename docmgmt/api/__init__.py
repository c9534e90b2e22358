"""The JSON API under /api/v1: personal bearer tokens, documented by flask-smorest (OpenAPI).

Only what every part of the API shares lives here: token authentication (``auth.py``), the
error schema (``schemas.py``), the "api" blueprint below and :func:`register_api`. Each feature
keeps its endpoints in its own ``api.py``; the documents and revisions API
(docmgmt/versioning/api.py), the token holder's account (docmgmt/auth/api.py) and inbox
(docmgmt/main/api.py) are on this blueprint, the other features make their own.
"""

from importlib import import_module

from flask_smorest import Blueprint

from docmgmt.api.auth import require_token

blp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Documents, revisions, approvals and signatures",
)
blp.before_request(require_token)


def register_api(app):
    from docmgmt.extensions import csrf, rest_api

    # The routes of the shared blueprint, in the order they were always registered.
    import_module("docmgmt.auth.api")
    import_module("docmgmt.main.api")
    import_module("docmgmt.versioning.api")
    import_module("docmgmt.versioning.compare_api")

    # Tokens, not cookies, authenticate the API, so a cross-site form cannot forge a call.
    csrf.exempt(blp)
    rest_api.register_blueprint(blp)

    from docmgmt.control.api import blp as control_blp

    csrf.exempt(control_blp)
    rest_api.register_blueprint(control_blp)

    from docmgmt.printing.api import blp as printing_blp

    csrf.exempt(printing_blp)
    rest_api.register_blueprint(printing_blp)

    from docmgmt.search.api import blp as search_blp

    csrf.exempt(search_blp)
    rest_api.register_blueprint(search_blp)

    from docmgmt.training.api import blp as training_blp

    csrf.exempt(training_blp)
    rest_api.register_blueprint(training_blp)

    from docmgmt.records.api import blp as records_blp

    csrf.exempt(records_blp)
    rest_api.register_blueprint(records_blp)

    from docmgmt.certification.api import blp as certification_blp

    csrf.exempt(certification_blp)
    rest_api.register_blueprint(certification_blp)

    from docmgmt.jobs.api import blp as jobs_blp

    csrf.exempt(jobs_blp)
    rest_api.register_blueprint(jobs_blp)
