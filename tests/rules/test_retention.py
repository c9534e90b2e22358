"""Dates a number of months on: records' keep-until (dispose_after) and document review dates,
at month and year ends and in leap years, with the expected dates written out."""

from datetime import date
from types import SimpleNamespace

import pytest

from docmgmt.control import rules
from docmgmt.records import operations as records

MONTHS_LATER = [
    (date(2026, 1, 15), 0, date(2026, 1, 15)),
    (date(2026, 1, 15), 1, date(2026, 2, 15)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),  # clamped to the month's end
    (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
    (date(2000, 1, 31), 1, date(2000, 2, 29)),  # divisible by 400: leap
    (date(2100, 1, 31), 1, date(2100, 2, 28)),  # divisible by 100: not leap
    (date(2026, 3, 31), 1, date(2026, 4, 30)),
    (date(2026, 8, 31), 1, date(2026, 9, 30)),
    (date(2026, 1, 30), 1, date(2026, 2, 28)),
    (date(2026, 1, 28), 1, date(2026, 2, 28)),
    (date(2026, 1, 31), 2, date(2026, 3, 31)),  # the day comes back when the month has it
    (date(2026, 1, 15), 11, date(2026, 12, 15)),  # December: still this year
    (date(2026, 12, 15), 1, date(2027, 1, 15)),  # December + 1: next January
    (date(2026, 12, 31), 1, date(2027, 1, 31)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
    (date(2027, 11, 30), 3, date(2028, 2, 29)),
    (date(2026, 1, 15), 12, date(2027, 1, 15)),
    (date(2026, 12, 31), 12, date(2027, 12, 31)),
    (date(2026, 12, 31), 13, date(2028, 1, 31)),
    (date(2028, 2, 29), 12, date(2029, 2, 28)),  # 29 Feb, non-leap year after
    (date(2028, 2, 29), 48, date(2032, 2, 29)),  # 29 Feb, leap year after
    (date(2026, 6, 30), 120, date(2036, 6, 30)),  # ten years' retention
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
    (date(2026, 1, 15), -1, date(2025, 12, 15)),
]


@pytest.mark.parametrize(("day", "months", "expected"), MONTHS_LATER)
def test_add_months(day, months, expected):
    assert records.add_months(day, months) == expected
    assert rules.add_months(day, months) == expected


@pytest.mark.parametrize(
    ("trigger", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 2, 29), 36, date(2031, 2, 28)),
        (date(2026, 12, 31), 24, date(2028, 12, 31)),
        (date(2026, 5, 4), 0, date(2026, 5, 4)),
        (None, 36, None),  # the retention has not started
    ],
)
def test_keep_until(trigger, months, expected):
    assert records.dispose_after(SimpleNamespace(retention_months=months), trigger) == expected


@pytest.mark.parametrize(
    ("interval", "last_review", "in_force_since", "expected"),
    [
        (12, None, None, None),
        (12, date(2026, 1, 31), None, date(2027, 1, 31)),
        (12, None, date(2028, 2, 29), date(2029, 2, 28)),
        (1, date(2026, 1, 31), date(2025, 12, 1), date(2026, 2, 28)),  # the later one
        (6, date(2026, 3, 1), date(2026, 8, 31), date(2027, 2, 28)),
        (24, date(2026, 12, 31), date(2026, 12, 31), date(2028, 12, 31)),
    ],
)
def test_next_review_date(interval, last_review, in_force_since, expected):
    assert rules.next_review_date(interval, last_review, in_force_since) == expected


def test_a_records_keep_until_through_the_api(client, people, token_for):
    """A record closed on 31 January 2028, kept one month: it may be disposed of after
    29 February 2028."""
    qm = token_for(people["qm"])
    r = client.post(
        "/api/v1/record-types",
        json={
            "code": "CP",
            "name": "客户投诉记录",
            "retention_months": 1,
            "trigger": "closing",
            "fields": [{"name": "customer", "label": "客户", "required": True}],
        },
        headers=qm,
    )
    assert r.status_code == 201
    rec = client.post(
        "/api/v1/record-types/CP/records",
        json={"title": "投诉", "values": {"customer": "客户"}},
        headers=qm,
    ).get_json()
    assert rec["dispose_after"] is None
    r = client.post(
        f"/api/v1/records/{rec['id']}/trigger-date",
        json={"trigger_date": "2024-01-31"},
        headers=qm,
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["dispose_after"] == "2024-02-29"
