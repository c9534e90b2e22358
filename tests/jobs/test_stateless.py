"""Stateless app servers: two apps made from the same settings (as two machines behind nginx
would be) share everything that matters through the database and the file store — a log-in
made on one holds on the other and a log-out on one ends it on both, wrong passwords count
together, the progress of a job is the same page on both, and neither keeps a thread or a
file of its own for background work."""

import pytest
from sqlalchemy import update

from docmgmt import create_app
from docmgmt.extensions import db
from tests.conftest import PASSWORD, page_text


def _server(app):
    """Another server: its own app, engine and process memory; the same database, store and
    secret key. (Requests to it get their own app context and database session, as on a real
    server; the test's own app context spans its requests.)"""
    keys = (
        "TESTING",
        "SQLALCHEMY_DATABASE_URI",
        "STORAGE_DIR",
        "WTF_CSRF_ENABLED",
        "PASSWORD_HASH_METHOD",
        "BABEL_DEFAULT_LOCALE",
        "SECRET_KEY",
    )
    return create_app({k: app.config[k] for k in keys})


@pytest.fixture
def servers(app):
    made = [_server(app), _server(app)]
    yield made
    for other in made:
        with other.app_context():
            db.engine.dispose()


def _move_cookies(src, dst):
    for cookie in src._cookies.values():
        dst.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def test_a_log_in_on_one_server_holds_on_the_other_and_a_log_out_ends_it_on_both(
    app, people, servers
):
    first, other = (s.test_client() for s in servers)
    assert first.post("/login", data={"username": "qm", "password": PASSWORD}).status_code == 302
    _move_cookies(first, other)
    assert other.get("/profile").status_code == 200
    assert other.post("/logout").status_code == 302
    # The session cookie the first server's browser still sends was ended on the second.
    assert first.get("/profile").status_code == 302


def test_wrong_passwords_on_two_servers_count_together(app, people, servers):
    for s in servers:
        s.config["LOGIN_MAX_FAILURES"] = 4
    first, other = (s.test_client() for s in servers)
    for c in (first, other, first, other):
        c.post("/login", data={"username": "staff", "password": "wrong"})
    refused = other.post("/login", data={"username": "staff", "password": PASSWORD})
    assert refused.status_code == 429


def test_the_progress_of_a_job_reads_the_same_on_every_server(app, people, servers):
    from docmgmt.jobs import operations as jobs
    from docmgmt.jobs.models import Job
    from docmgmt.records import importing
    from docmgmt.records import operations as rops

    rt = rops.create_type(
        people["qm"],
        code="WO",
        name="派工单",
        retention_months=12,
        fields=[{"name": "customer", "label": "客户", "kind": "text", "required": True}],
    )
    data = "工单号,客户\n" + "".join(f"S-{i},客户{i}\n" for i in range(6000))
    imp, _p = importing.upload(people["qm"], rt, "s.csv", data.encode())
    job = importing.submit(imp, people["qm"].id, "skip")
    db.session.commit()
    db.session.execute(
        update(Job).where(Job.id == job.id).values(phase="filing", done=3000, total=6000)
    )
    db.session.commit()
    assert jobs.progress_of(f"import:{imp.id}") == ("queued", "filing", 3000, 6000)
    for c in (s.test_client() for s in servers):
        c.post("/login", data={"username": "qm", "password": PASSWORD})
        text = page_text(c.get(f"/records/imports/{imp.id}"))
        assert "3000 / 6000" in text


def test_no_background_thread_or_progress_file_is_left_by_a_job(app, people, tmp_path):
    import threading

    from docmgmt.clock import utcnow
    from docmgmt.jobs.daily import submit_daily

    before = {t.name for t in threading.enumerate()}
    evening = utcnow().replace(hour=12)  # 20:00 in Shanghai: all four of the day's jobs are due
    assert len(submit_daily(now=evening)) == 4
    after = {t.name for t in threading.enumerate() if t.is_alive()}
    assert not {n for n in after - before if not n.endswith("-lease")}
    from pathlib import Path

    store = Path(app.config["STORAGE_DIR"])
    assert not list(store.glob("imports/*.progress")) and not list(store.glob("packs/*"))


def test_the_bare_page_of_the_load_figures_reads_the_user_and_renders(client, auth, people):
    assert client.get("/ping").status_code == 302  # a page like the others: log in first
    auth.login("staff")
    r = client.get("/ping")
    assert r.status_code == 200 and people["staff"].full_name in r.get_data(as_text=True)
