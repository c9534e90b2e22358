"""The OpenAPI document stays what it was: moving API code between modules changes nothing.

After a deliberate change to the API, regenerate the fixture and commit it with the change:
``PYTHONPATH=. python -m tests.regenerate_openapi``.
"""

import difflib

from tests.regenerate_openapi import FIXTURE, canonical, served_spec


def test_openapi_document_matches_the_fixture(client):
    served = canonical(served_spec(client))
    expected = FIXTURE.read_text(encoding="utf-8")
    if served != expected:
        diff = "".join(
            list(
                difflib.unified_diff(
                    expected.splitlines(True), served.splitlines(True), "fixture", "served"
                )
            )[:60]
        )
        raise AssertionError(
            "The OpenAPI document changed. If that is meant, run "
            "`PYTHONPATH=. python -m tests.regenerate_openapi` and commit the fixture.\n" + diff
        )
