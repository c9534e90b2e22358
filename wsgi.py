"""The only module-level app, for `flask --app wsgi` and gunicorn."""

from docmgmt import create_app

app = create_app()
