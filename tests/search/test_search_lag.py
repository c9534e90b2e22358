"""Removal first, and never shown: a disposed, withdrawn or superseded entry leaves search in the
request that removes it, even behind thousands of waiting rows; a hit the index still holds but
the database no longer does is never shown; `search check --fix` repairs every difference."""

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from docmgmt.extensions import db
from tests.conftest import PASSWORD

WAITING = 12_000  # more than an after-commit drain used to apply (20 rounds of 500)


@pytest.fixture
def wo_type(people):
    from docmgmt.records import operations as rops

    rt = rops.create_type(
        people["qm"],
        code="WO",
        name="派工单",
        retention_months=36,
        fields=[
            {"name": "customer", "label": "客户", "kind": "text", "required": True},
            {"name": "phone", "label": "电话", "kind": "text"},
        ],
    )
    db.session.commit()
    return rt


def _old_record(people, rt, customer, phone, days_ago=4 * 365):
    from docmgmt.clock import utcnow
    from docmgmt.records import operations as rops

    r = rops.file_record(
        people["staff"],
        rt,
        title=f"{customer} 空调不制冷",
        values={"customer": customer, "phone": phone},
        now=utcnow() - timedelta(days=days_ago),
    )
    db.session.commit()
    return r


def _queue_import_rows(n=WAITING):
    """An import's rows waiting for the index (records it filed, not yet indexed)."""
    from docmgmt.search.models import BULK, SearchOutbox

    with db.engine.begin() as conn:
        for i in range(0, n, 4000):
            conn.execute(
                insert(SearchOutbox),
                [
                    {"group": f"rec:{900_000 + k}", "priority": BULK}
                    for k in range(i, min(n, i + 4000))
                ],
            )


def _total(client, headers, q, **params):
    r = client.get("/api/v1/search", query_string={"q": q, **params}, headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _dispose(client, people, token_for, record):
    qm, approver = token_for(people["qm"]), token_for(people["approver"])
    r = client.post(
        "/api/v1/disposals",
        json={
            "record_ids": [record.id],
            "reason": "保存期满",
            "approver_id": people["approver"].id,
        },
        headers=qm,
    )
    assert r.status_code == 201, r.get_json()
    r = client.post(
        f"/api/v1/disposals/{r.get_json()['id']}/approve",
        json={"password": PASSWORD},
        headers=approver,
    )
    assert r.status_code == 200, r.get_json()


def _indexed(app, key):
    from docmgmt import search

    return dict(search.engine(app).fingerprints()).get(key)


def _current(key, group):
    from docmgmt import search

    entry = search.current_entries([group]).get(key)
    return entry.fields()["fingerprint"] if entry else None


def test_a_disposal_leaves_the_index_in_its_own_request_before_thousands_of_waiting_rows(
    whoosh_engine, app, client, people, token_for, wo_type
):
    from docmgmt import search

    record = _old_record(people, wo_type, "王秀兰", "13812345678")
    staff = token_for(people["staff"])
    assert _total(client, staff, "王秀兰")["total"] == 1
    assert _total(client, staff, "13812345678")["total"] == 1
    _queue_import_rows()

    _dispose(client, people, token_for, record)

    # The index itself no longer holds the name (not merely hidden from the page) ...
    key = f"rec:{record.id}"
    assert _indexed(app, key) == _current(key, key)
    # ... while the import's rows still wait: they did not go first, nor all in this request.
    assert search.pending() > WAITING - 500
    assert _total(client, staff, "王秀兰")["total"] == 0
    assert _total(client, staff, "13812345678")["total"] == 0
    assert _total(client, token_for(people["qm"]), "王秀兰", history="true")["total"] == 0


def test_a_stale_entry_is_never_shown_while_the_index_lags(
    whoosh_engine, app, client, people, token_for, wo_type, create_document, draft_of, approve
):
    """Another worker holds the index lock: the disposal and the new revision stay in the
    outbox, the index keeps the old entries, and the search still shows none of them."""
    from docmgmt import search
    from docmgmt.clock import local_today, utcnow
    from docmgmt.versioning import publishing

    record = _old_record(people, wo_type, "赵德明", "13900001111")
    kept = _old_record(people, wo_type, "赵德明", "13900002222", days_ago=30)
    doc = create_document()
    publishing.publish_revision(
        people["qm"],
        approve(draft_of(doc)),
        local_today() - timedelta(days=10),
        now=utcnow() - timedelta(days=10),
    )
    db.session.commit()
    staff, qm = token_for(people["staff"]), token_for(people["qm"])
    assert _total(client, staff, "赵德明")["total"] == 2
    assert _total(client, staff, "调度员开具派工单")["total"] == 1  # A0's text

    app.config["SEARCH_LOCK_TIMEOUT"] = 0.2
    blocker = search.engine(app).writer()
    try:
        _dispose(client, people, token_for, record)
        a1 = approve(
            draft_of(doc, body="# 1 目的\n新版：由客服系统自动派工。", change_summary="改版")
        )
        publishing.publish_revision(people["qm"], a1, local_today())  # A0 is superseded
        db.session.commit()
        assert search.pending() >= 2  # nothing reached the index
        key = f"rec:{record.id}"
        assert _indexed(app, key) != _current(key, key)  # the index still has the name

        got = _total(client, staff, "赵德明")
        assert [h["number"] for h in got["hits"]] == [kept.number]
        assert got["total"] == 1 and got["facets"]["kind"] == {"record": 1}
        assert any("counts may be approximate" in n for n in got["notes"])
        assert _total(client, staff, "13900001111")["total"] == 0
        # Staff no longer see the superseded A0; the quality manager sees it as superseded.
        assert _total(client, staff, "调度员开具派工单")["total"] == 0
        hist = _total(client, qm, "调度员开具派工单", history="true")
        assert [(h["number"], h["state"]) for h in hist["hits"]] == [(doc.number, "superseded")]
        # The search page shows the same.
        from tests.conftest import Auth

        Auth(client).login("staff")
        html = client.get("/search/", query_string={"q": "赵德明"}).get_data(as_text=True)
        assert kept.number in html and record.number not in html
    finally:
        blocker.cancel()
    search.drain()
    assert search.check().ok


def test_check_fix_repairs_missing_extra_and_stale_entries_behind_waiting_rows(
    whoosh_engine, app, runner, people, wo_type
):
    from docmgmt import search
    from docmgmt.records.models import Record

    records = [_old_record(people, wo_type, f"客户{i}", f"1380000000{i}") for i in range(3)]
    eng = search.engine(app)
    missing, stale, _ok = (f"rec:{r.id}" for r in records)
    # The index lags: the stale record was disposed of while no index update happened.
    app.config["SEARCH_SYNC"] = False
    r = db.session.get(Record, records[1].id)
    r.values, r.title = {}, "[disposed of]"
    db.session.commit()
    app.config["SEARCH_SYNC"] = True
    w = eng.writer()
    w.delete_by_term("key", missing)
    w.add_document(
        key="rec:999999", kind="record", group="rec:999999", number="X", title="x", content="孤儿"
    )
    w.commit()
    _queue_import_rows()

    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert f"missing (1): {missing}" in result.output
    assert "extra (1): rec:999999" in result.output
    assert f"stale (1): {stale}" in result.output

    result = runner.invoke(args=["search", "check", "--fix"])
    assert result.exit_code == 0, result.output
    assert "repaired" in result.output
    assert search.check().ok
    assert _indexed(app, stale) == _current(stale, stale)
    assert db.session.scalar(select(Record.id).where(Record.id == records[0].id))
