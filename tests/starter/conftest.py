import pytest


@pytest.fixture(autouse=True)
def _numbered_hy(request):
    """The company of these tests numbers its documents HY-… (DOCMGMT_DOC_PREFIX=HY); the
    demo keeps the default XX."""
    if "app" in request.fixturenames and "demo" not in request.node.name:
        request.getfixturevalue("app").config["DOC_NUMBER_PREFIX"] = "HY"
