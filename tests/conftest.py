"""Shared fixtures: an app on a migrated database (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set), factories for people and documents, and a log-in helper."""

import os
import re
from datetime import date

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from docmgmt import create_app
from docmgmt.extensions import db

PASSWORD = "correct-horse-1"


def _db_url(tmp_path_factory):
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """Compile the catalogues so `pytest` alone shows the Chinese UI (`make` does it too)."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (Path(__file__).resolve().parents[1] / "translations").glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with open(po, "rb") as f:
                catalog = read_po(f)
            with open(mo, "wb") as f:
                write_mo(f, catalog)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    template = os.environ.get("TEST_DATABASE_TEMPLATE")
    if template and not os.environ.get("TEST_DATABASE_URL"):
        # A SQLite file already migrated to head (scripts/mutation.py makes one): each run
        # starts from a copy instead of migrating again (mutation testing runs pytest
        # hundreds of times).
        import shutil

        copy = tmp_path_factory.mktemp("db") / "test.sqlite3"
        shutil.copyfile(template, copy)
        return f"sqlite:///{copy}"
    url = _db_url(tmp_path_factory)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "STORAGE_DIR": str(tmp_path_factory.mktemp("storage")),
        }
    )
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        if url.startswith("postgresql"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        # The schema comes from the migrations, so every run checks them too.
        upgrade(revision="heads")
        db.engine.dispose()
    return url


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "STORAGE_DIR": str(tmp_path / "storage"),
            "WTF_CSRF_ENABLED": False,
            "SIGNING_MAX_FAILURES": 3,
            # Cheap hashing keeps the suite fast; production uses scrypt.
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            # Tests assert the English messages; tests/main/test_i18n.py checks the Chinese
            # default and the switch.
            "BABEL_DEFAULT_LOCALE": "en",
        }
    )
    with app.app_context():
        yield app
        db.session.remove()
        # Empty every table, children first, so each test starts from nothing.
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def whoosh_engine(app):
    """For a test of the embedded engine itself (its lock, its outbox): on PostgreSQL the
    suite otherwise searches with the PostgreSQL engine. Request it before anything is
    indexed (first in the test's arguments)."""
    app.config["SEARCH_BACKEND"] = "whoosh"
    return app


@pytest.fixture
def postgres_engine(app):
    """For a test of the PostgreSQL engine itself: skipped on SQLite."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the PostgreSQL search engine needs PostgreSQL")
    app.config["SEARCH_BACKEND"] = "postgres"
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ---------------------------------------------------------------- factories


@pytest.fixture
def create_user(app):
    from docmgmt.auth import operations as auth_ops

    def _create(username, roles, full_name=None, department=None, **kw):
        user = auth_ops.create_user(
            None,
            username,
            full_name or username.title(),
            PASSWORD,
            roles,
            department=department,
            **kw,
        )
        db.session.commit()
        return user

    return _create


@pytest.fixture
def people(create_user):
    """One person per role, plus a second approver for a three-person route."""
    return {
        "admin": create_user("admin", ["admin"], "管理员"),
        "qm": create_user("qm", ["quality_manager"], "李明"),
        "reviewer": create_user("reviewer", ["approver"], "刘洋"),
        "approver": create_user("approver", ["approver"], "陈静"),
        "staff": create_user("staff", ["staff"], "赵敏"),
        "auditor": create_user("auditor", ["auditor"], "周琳"),
    }


@pytest.fixture
def wo_type(people):
    """A record type 派工单 (WO) with one required text field, customer; kept 36 months from
    filing. A test file needing other fields defines its own fixture of this name."""
    from docmgmt.records import operations as rops

    rt = rops.create_type(
        people["qm"],
        code="WO",
        name="派工单",
        retention_months=36,
        fields=[{"name": "customer", "label": "客户", "kind": "text", "required": True}],
    )
    db.session.commit()
    return rt


@pytest.fixture
def create_document(app, people):
    from docmgmt.versioning import documents

    def _create(title="报修、送修和上门维修服务控制程序", doc_type="procedure", **kw):
        doc = documents.create_document(people["qm"], title, doc_type, **kw)
        db.session.commit()
        return doc

    return _create


BODY = """# 1 目的
规范报修、派工和上门维修，确保 1 小时内响应。

# 2 范围
适用于本公司售后服务部。

# 4 工作程序
1. 客服接听报修电话并填写电话派工记录。
2. 调度员开具派工单。

| 记录编号 | 记录名称 | 保存期限 |
|---|---|---|
| XX-SR-04 | 派工单 | 3年 |
"""


@pytest.fixture
def draft_of(app, people):
    from docmgmt.versioning import drafting

    def _draft(doc, body=BODY, **kw):
        rev = drafting.create_draft(people["qm"], doc, body=body, **kw)
        db.session.commit()
        return rev

    return _draft


@pytest.fixture
def approve(app, people):
    """Take a draft through preparation, review and approval via the operations."""
    from docmgmt.versioning import signing

    def _approve(rev):
        signing.submit_for_review(
            people["qm"],
            rev,
            reviewer=people["reviewer"],
            approver=people["approver"],
            password=PASSWORD,
        )
        signing.sign_revision(people["reviewer"], rev, "reviewed", PASSWORD)
        signing.sign_revision(people["approver"], rev, "approved", PASSWORD)
        db.session.commit()
        return rev

    return _approve


@pytest.fixture
def effective_doc(create_document, draft_of, approve, people):
    """A procedure with A0 in force since today."""
    from docmgmt.clock import local_today
    from docmgmt.versioning import publishing

    def _make(**kw):
        doc = create_document(**kw)
        rev = approve(draft_of(doc))
        publishing.publish_revision(people["qm"], rev, local_today())
        db.session.commit()
        return doc, rev

    return _make


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username, password=PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def token_for(app):
    from docmgmt.auth import operations as auth_ops

    def _token(user):
        _t, secret = auth_ops.create_token(user, "tests")
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return _token


def page_text(response) -> str:
    """The visible text of an HTML response, tags stripped, for message assertions."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def today():
    from docmgmt.clock import local_today

    return local_today()


__all__ = ["PASSWORD", "BODY", "page_text", "date"]
