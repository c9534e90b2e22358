"""docmgmt: document control and records management for GB/T 27922 service systems."""

from importlib import import_module
from pathlib import Path

from flask import Flask, g, has_request_context, request, session
from flask_login import current_user

from docmgmt.config import (
    Config,
    check_ocr_engine,
    check_page_numbers,
    check_secret_key,
    environment_settings,
)
from docmgmt.extensions import babel, csrf, db, login_manager, migrate, rest_api


def select_locale():
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and background work speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    lang = session.get("lang")
    if lang in languages:
        return lang
    user_locale = getattr(current_user, "locale", None) if current_user else None
    if getattr(current_user, "is_authenticated", False) and user_locale in languages:
        return user_locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def create_app(test_config: dict | None = None) -> Flask:
    root = Path(__file__).resolve().parent.parent
    app = Flask(
        __name__,
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
        instance_path=str(root / "instance"),
    )
    app.config.from_object(Config)
    test_config = test_config or {}
    app.config.update(
        environment_settings(
            test_config.get("ENV_NAME", app.config["ENV_NAME"]),
            testing=bool(test_config.get("TESTING")),
        )
    )
    app.config.update(test_config)
    import sys

    check_secret_key(app.config, served_by_gunicorn="gunicorn" in sys.modules)
    check_page_numbers(app.config)
    check_ocr_engine(app.config)
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    Path(app.config["STORAGE_DIR"]).mkdir(parents=True, exist_ok=True)

    from werkzeug.routing import IntegerConverter

    class DatabaseInt(IntegerConverter):
        """<int:…> in a URL that no id column can hold is simply not found, on every database
        (ids are 32-bit integers on PostgreSQL, which would otherwise refuse the comparison)."""

        def __init__(self, map, *args, **kwargs):
            kwargs.setdefault("max", 2**31 - 1)
            super().__init__(map, *args, **kwargs)

    app.url_map.converters["int"] = DatabaseInt
    db.init_app(app)
    migrate.init_app(app, db, directory=str(root / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    rest_api.init_app(app)

    from docmgmt import (
        audit,
        auth,
        certification,
        control,
        jobs,
        main,
        printing,
        records,
        search,
        starter,
        training,
        versioning,
    )
    from docmgmt.api import register_api

    # A feature package only makes its blueprint; its pages attach to it when its views module
    # is imported, here. So importing any module of a feature (its models, say) never pulls in
    # the pages of that feature and everything they import (tests/main/test_import_graph.py).
    for feature in (
        auth,
        versioning,
        audit,
        main,
        control,
        printing,
        search,
        training,
        records,
        certification,
        starter,
        jobs,
    ):
        import_module(f"{feature.__name__}.views")
        app.register_blueprint(feature.bp)
    import docmgmt.extract.models  # noqa: F401
    import docmgmt.extract.recognition  # noqa: F401  (attachments read as jobs)
    from docmgmt.extract.web import template_helpers as text_helpers

    app.jinja_env.globals.update(text_helpers())  # templates/_partials/_attachment_text.html
    import docmgmt.jobs.handlers  # noqa: F401  (what each kind of job does)
    import docmgmt.jobs.models  # noqa: F401
    import docmgmt.jobs.tasks  # noqa: F401
    from docmgmt.jobs.queue import configure as configure_queue

    configure_queue(app)
    printing.connect_signals()
    training.connect_signals()
    search.init_app(app)
    register_api(app)

    from docmgmt.cli import register_cli

    register_cli(app)

    from docmgmt.errors import register_error_handlers

    register_error_handlers(app)
    import docmgmt.lengths  # noqa: F401  (over-long text is refused, never cut)
    from docmgmt.templating import register_template_helpers

    register_template_helpers(app)

    @app.before_request
    def auditors_only_read():
        """Auditors change nothing: every request that could is refused on the server."""
        from docmgmt.auth.permissions import is_read_only
        from docmgmt.errors import error_response

        if request.method in ("GET", "HEAD", "OPTIONS") or request.path.startswith("/api/"):
            return None  # the API checks in its own token hook
        if request.endpoint in ("auth.logout", "auth.login", "auth.set_language", "static"):
            return None  # their own session and language: nothing controlled
        if request.endpoint in certification.AUDITOR_MAY_POST:
            return None  # building an evidence pack changes nothing controlled
        if getattr(current_user, "is_authenticated", False) and is_read_only(current_user):
            from flask_babel import gettext as _

            return error_response(403, _("Auditors have read-only access."))
        return None

    @app.before_request
    def refuse_unstorable_text():
        """PostgreSQL cannot store U+0000 in text and SQLite can; no database can encode an
        unpaired surrogate (JSON can spell one). Refuse both in every query, form field, path
        part and JSON string, so the same input gets the same clear answer on every database."""
        from docmgmt.errors import contains_unstorable, error_response

        parts = [list(request.args.items(multi=True)), list((request.view_args or {}).values())]
        if request.method != "GET":
            parts.append(list(request.form.items(multi=True)))
        if request.is_json:
            parts.append(request.get_json(silent=True))
        if contains_unstorable(parts):
            from docmgmt.errors import unstorable_message

            return error_response(422, unstorable_message())
        return None

    @app.before_request
    def write_policy():
        """Each route that changes something names who may call it (docmgmt/auth/policy.py);
        anyone else is refused here, before a form is read. The API checks in its token hook."""
        from docmgmt.auth.policy import refusal
        from docmgmt.errors import error_response

        if request.url_rule is None or request.path.startswith("/api/"):
            return None  # unknown routes and methods answer 404 / 405 as usual
        if not getattr(current_user, "is_authenticated", False):
            return None  # the view sends anonymous visitors to the log-in
        message = refusal(current_user, request.endpoint, request.method)
        return error_response(403, message) if message else None

    @app.after_request
    def security_headers(response):
        h = response.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        if app.config.get("PRODUCTION"):
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.after_request
    def log_auditor_views(response):
        """Every page and API read an auditor makes is in the audit trail."""
        from docmgmt.auth.permissions import is_read_only

        user = g.get("api_user") or (
            current_user if getattr(current_user, "is_authenticated", False) else None
        )
        if (
            user is not None
            and request.method == "GET"
            and response.status_code < 400
            and request.endpoint != "static"
            and is_read_only(user)
        ):
            from docmgmt.audit.operations import log_event
            from docmgmt.extensions import db

            try:
                db.session.rollback()  # nothing of the request is pending on a read
                log_event(
                    user, "auditor.view", user, object_type="user", summary=request.full_path[:500]
                )
                db.session.commit()
            except Exception:  # never lose the page because the log failed
                db.session.rollback()
                app.logger.exception("could not log an auditor's view")
        return response

    @app.before_request
    def fresh_locale():
        # Flask-Babel caches the locale on the app context; when one context outlives several
        # requests (tests, CLI-driven clients) a language switch must still take effect.
        from flask_babel import refresh

        refresh()

    from docmgmt.versioning.scheduling import apply_due_revisions_on_request

    @app.before_request
    def apply_scheduled_revisions():
        # Revisions approved with a future effective date take effect on that date with nobody
        # acting: the first requests of the day flip them, each in its own short transaction
        # that may lose a race but never fails the request (docmgmt/versioning/scheduling.py;
        # the CLI and the daily job do the same). A look that finds nothing due is not
        # repeated the same day.
        if request.endpoint in (None, "static", "main.healthz"):
            return
        g.activated = apply_due_revisions_on_request()

    return app
