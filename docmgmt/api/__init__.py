"""The JSON API under /api/v1: personal bearer tokens, documented by flask-smorest (OpenAPI)."""

from docmgmt.api.routes import blp


def register_api(app):
    from docmgmt.extensions import csrf, rest_api

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
