"""Write the OpenAPI document the app serves to tests/fixtures/openapi.json.

    PYTHONPATH=. python -m tests.regenerate_openapi

tests/api/test_openapi_fixture.py compares the served document with that file, so that moving
code between modules cannot change the API unnoticed. After a deliberate change to the API (a
new route, a new field) run this command and commit the new fixture with the change.
"""

import json
import tempfile
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "openapi.json"


def canonical(spec: dict) -> str:
    """Sorted keys, two-space indent, UTF-8 as is: one spelling for one document."""
    return json.dumps(spec, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def served_spec(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200, response.status_code
    return response.get_json()


def main() -> None:
    from docmgmt import create_app
    from docmgmt.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/openapi.db",
                "STORAGE_DIR": f"{tmp}/storage",
                "BABEL_DEFAULT_LOCALE": "en",  # as in the tests
            }
        )
        with app.app_context():
            db.create_all()  # every request first applies due revisions
        with app.test_client() as client:
            text = canonical(served_spec(client))
    FIXTURE.write_text(text, encoding="utf-8")
    print(f"wrote {FIXTURE} ({len(text)} characters)")


if __name__ == "__main__":
    main()
