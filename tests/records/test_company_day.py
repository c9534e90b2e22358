"""A day is the company's day. A record filed at 07:30 in Shanghai is still the day before in
UTC: its date in search, the records list's date filter and an auditor's sample period must all
count it on the company's date, on SQLite (which keeps an instant's UTC wall time) and on
PostgreSQL alike."""

from datetime import UTC, date, datetime

from docmgmt.extensions import db
from tests.conftest import page_text

MORNING = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)  # 2026-03-10 07:30 in Shanghai
DAY = date(2026, 3, 10)


def _filed(people, rt):
    from docmgmt.records import operations as rops

    rec = rops.file_record(
        people["staff"],
        rt,
        title="晨检工单 蓝鲸打印机",
        values={"customer": "蓝鲸公司"},
        now=MORNING,
    )
    db.session.commit()
    return rec.number


def test_a_record_filed_before_eight_in_shanghai_is_on_the_companys_date(
    client, auth, people, token_for, wo_type
):
    number = _filed(people, wo_type)
    headers = token_for(people["qm"])

    def listed(**q):
        r = client.get("/api/v1/records", query_string=q, headers=headers)
        assert r.status_code == 200, r.get_json()
        return [x["number"] for x in r.get_json()["records"]]

    day, before = DAY.isoformat(), "2026-03-09"
    assert listed(date_from=day, date_to=day) == [number]
    assert listed(date_from=before, date_to=before) == []

    found = client.get(
        "/api/v1/search", query_string={"q": "蓝鲸", "date_from": day}, headers=headers
    ).get_json()
    assert [h["number"] for h in found["hits"]] == [number]
    assert found["hits"][0]["date"] == day
    found = client.get(
        "/api/v1/search", query_string={"q": "蓝鲸", "date_to": before}, headers=headers
    ).get_json()
    assert found["hits"] == []

    q = {"type": "WO", "from": day, "to": day}
    got = client.get("/api/v1/certification/sample", query_string=q, headers=headers).get_json()
    assert got["population"] == 1
    q = {"type": "WO", "from": before, "to": before}
    got = client.get("/api/v1/certification/sample", query_string=q, headers=headers).get_json()
    assert got["population"] == 0

    auth.login("qm")
    text = page_text(client.get("/records/", query_string={"from": day, "to": day}))
    assert number in text
