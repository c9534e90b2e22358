"""A department's name in the reader's language: the demo's departments carry English names
(company.toml name_en), the English UI shows them on the pages that name a department, the
Chinese UI the Chinese ones; controlled prints stay Chinese."""

from sqlalchemy import select

from docmgmt.extensions import db
from docmgmt.versioning.models import Document
from tests.conftest import page_text


def test_pages_name_departments_in_the_readers_language(runner, app, client):
    from docmgmt.demo.loader import DEMO_PASSWORD

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    sp04 = db.session.scalar(select(Document).where(Document.number == "XX-SP-04"))
    client.post("/login", data={"username": "qm", "password": DEMO_PASSWORD})
    # pages whose only mention of the department is its name (search hits quote the text)
    named = (
        "/documents/",
        f"/documents/{sp04.id}",
        "/records/types",
        "/training/overview",
        "/records/",
    )
    client.post("/lang/en")
    for path in (*named, "/search/?q=派工"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert "After-sales service" in page_text(r), path
    for path in named:
        assert "售后服务部" not in page_text(client.get(path)), path
    client.post("/lang/zh_CN")
    for path in (*named, "/search/?q=派工"):
        text = page_text(client.get(path))
        assert "售后服务部" in text and "After-sales service" not in text, path
