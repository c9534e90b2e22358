"""Record types through the API show their department properly; number fields take a range
and text fields a longest length (API, the type definition lines, the filing form, imports);
numbers that are not finite or absurdly large are always refused, naming the field."""

import csv
import io

import pytest

from docmgmt.extensions import db
from tests.conftest import page_text


@pytest.fixture
def after_sales(app):
    from docmgmt.auth.models import Department

    dep = Department(code="AS", name="售后服务部")
    db.session.add(dep)
    db.session.commit()
    return dep


FIELDS = [
    {"name": "customer", "label": "客户", "kind": "text", "required": True, "max_length": 20},
    {"name": "hours", "label": "响应小时", "kind": "number", "min": 0, "max": 72},
    {"name": "cost", "label": "费用", "kind": "number", "min": 0},
    {"name": "reading", "label": "读数", "kind": "number"},
]


def _type(client, headers, **over):
    body = {"code": "WO", "name": "派工单", "retention_months": 36, "fields": FIELDS} | over
    return client.post("/api/v1/record-types", json=body, headers=headers)


def test_the_api_lists_the_department_code_and_name(client, people, token_for, after_sales):
    qm = token_for(people["qm"])
    assert _type(client, qm, department="AS", fields=[]).status_code == 201
    assert _type(client, qm, code="RV", fields=[]).status_code == 201
    listed = {t["code"]: t for t in client.get("/api/v1/record-types", headers=qm).get_json()}
    assert listed["WO"]["department"] == "AS" and listed["WO"]["department_name"] == "售后服务部"
    assert listed["RV"]["department"] is None and listed["RV"]["department_name"] is None
    assert _type(client, qm, code="X1", department=5).status_code == 422
    spec = client.get("/api/v1/openapi.json").get_json()
    props = spec["components"]["schemas"]["Type"]["properties"]
    assert props["department"]["type"] == "string"
    assert props["department_name"]["readOnly"] is True
    fprops = spec["components"]["schemas"]["Field"]["properties"]
    assert {"min", "max", "max_length"} <= set(fprops)


def test_values_outside_a_fields_range_are_refused_with_the_field_named(client, people, token_for):
    qm, staff = token_for(people["qm"]), token_for(people["staff"])
    r = _type(client, qm)
    assert r.status_code == 201, r.get_json()
    hours = next(f for f in r.get_json()["fields"] if f["name"] == "hours")
    assert (hours["min"], hours["max"]) == (0, 72)

    def file(**values):
        body = {"title": "工单", "values": {"customer": "张先生"} | values}
        return client.post("/api/v1/record-types/WO/records", json=body, headers=staff)

    cases = [
        ({"hours": "-1"}, "hours", "响应小时 must be between 0 and 72"),
        ({"hours": 72.5}, "hours", "响应小时 must be between 0 and 72"),
        ({"cost": "-0.01"}, "cost", "费用 must be at least 0"),
        ({"reading": "-1e308"}, "reading", "读数 is too large"),
        ({"reading": "1e309"}, "reading", "读数 is too large"),
        ({"reading": "inf"}, "reading", "读数 is not a number"),
        ({"reading": "NaN"}, "reading", "读数 is not a number"),
        ({"customer": "长" * 21}, "customer", "客户 is longer than 20 characters"),
    ]
    for values, field, message in cases:
        r = file(**values)
        assert r.status_code == 422, (values, r.get_json())
        assert r.get_json()["field"] == field and message in r.get_json()["message"], values
    # JSON's own non-finite spellings (Python's parser reads them) are refused the same way.
    r = client.post(
        "/api/v1/record-types/WO/records",
        data='{"title": "工单", "values": {"customer": "x", "reading": -Infinity}}',
        content_type="application/json",
        headers=staff,
    )
    assert r.status_code == 422 and r.get_json()["field"] == "reading"
    assert client.get("/api/v1/records", headers=qm).get_json()["records"] == []
    ok = file(hours="0", cost="1999.5", reading="-12.5")
    assert ok.status_code == 201 and ok.get_json()["values"]["hours"] == 0


def test_a_fields_range_must_make_sense(client, people, token_for):
    qm = token_for(people["qm"])
    bad = [
        ([{"name": "n", "kind": "number", "min": 5, "max": 1}], "minimum is above the maximum"),
        ([{"name": "t", "kind": "text", "min": 1}], "only a number field has a range"),
        ([{"name": "n", "kind": "number", "max_length": 5}], "only a text field has a longest"),
        ([{"name": "n", "kind": "number", "max": 1e300}], "range limit is not a number"),
    ]
    for fields, message in bad:
        r = _type(client, qm, fields=fields)
        assert r.status_code == 422 and message in r.get_json()["message"], fields
    r = client.post(
        "/api/v1/record-types",
        data='{"code": "WO", "name": "x", "retention_months": 1,'
        ' "fields": [{"name": "n", "kind": "number", "max": Infinity}]}',
        content_type="application/json",
        headers=qm,
    )
    assert r.status_code == 422


def test_ranges_in_the_type_definition_lines_the_filing_form_and_imports(
    client, auth, people, token_for
):
    from sqlalchemy import select

    from docmgmt.records.models import RecordType

    auth.login("qm")
    r = client.post(
        "/records/types",
        data={
            "code": "EQ",
            "name": "设备台账",
            "form_document_id": 0,
            "department_id": 0,
            "retention_months": 24,
            "trigger": "filing",
            "disposal_method": "destroy",
            "fields": "model | 型号 | text[..10] | required\n"
            "hours | 运行小时 | number[0..1000]\n"
            "temp | 温度 | number[-40..]",
        },
        follow_redirects=True,
    )
    assert "Record type EQ created." in page_text(r)
    rt = db.session.scalar(select(RecordType).where(RecordType.code == "EQ"))
    by_name = {f["name"]: f for f in rt.fields}
    assert by_name["model"]["max_length"] == 10
    assert (by_name["hours"]["min"], by_name["hours"]["max"]) == (0, 1000)
    assert (by_name["temp"]["min"], by_name["temp"]["max"]) == (-40, None)
    assert "[0..1000]" in page_text(client.get("/records/types"))
    form = client.get(f"/records/new/{rt.id}").get_data(as_text=True)
    assert 'min="0" max="1000"' in form and 'min="-40"' in form and 'maxlength="10"' in form
    r = client.post(
        f"/records/new/{rt.id}",
        data={"title": "压缩机", "f_model": "KFR-35", "f_hours": "1001"},
        follow_redirects=True,
    )
    assert "运行小时 must be between 0 and 1000: 1001" in page_text(r)
    r = client.post(
        "/records/types",
        data={
            "code": "EQ2",
            "name": "x",
            "form_document_id": 0,
            "department_id": 0,
            "retention_months": 24,
            "trigger": "filing",
            "disposal_method": "destroy",
            "fields": "hours | 运行小时 | number[ten..]",
        },
        follow_redirects=True,
    )
    assert "a range limit is not a number: ten" in page_text(r)
    # A bulk import applies the same rules, row by row and field by field.
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["型号", "运行小时", "温度"])
    w.writerows(
        [["A-1", "10", "-5"], ["A-2", "-3", "0"], ["A-3", "5", "-41"], ["A-4", "1e400", ""]]
    )
    qm = token_for(people["qm"])
    imp = client.post(
        "/api/v1/record-types/EQ/imports",
        data={"file": (io.BytesIO(buf.getvalue().encode()), "eq.csv")},
        headers=qm,
        content_type="multipart/form-data",
    ).get_json()
    preview = client.get(f"/api/v1/imports/{imp['id']}/preview", headers=qm).get_json()
    assert preview["ready"] == 1
    assert {(e["line"], e["field"]) for e in preview["errors"]} == {
        (3, "hours"),
        (4, "temp"),
        (5, "hours"),
    }
