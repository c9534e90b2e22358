"""Records through the app: types, filing with attachments, corrections, import, retention,
holds, disposal with approval and certificate."""

import csv
import io
from datetime import timedelta

import pytest

from docmgmt.extensions import db
from tests import files
from tests.conftest import PASSWORD, page_text

WO_FIELDS = [
    {"name": "customer", "label": "客户", "kind": "text", "required": True},
    {
        "name": "product",
        "label": "产品",
        "kind": "choice",
        "required": True,
        "choices": ["空调", "冰箱", "售货机"],
    },
    {"name": "visit_date", "label": "上门日期", "kind": "date", "required": True},
    {"name": "hours", "label": "响应小时", "kind": "number"},
    {"name": "technician", "label": "维修人员", "kind": "person"},
]


@pytest.fixture
def wo(client, people, token_for):
    r = client.post(
        "/api/v1/record-types",
        json={
            "code": "WO",
            "name": "派工单",
            "retention_months": 36,
            "trigger": "filing",
            "disposal_method": "destroy",
            "fields": WO_FIELDS,
        },
        headers=token_for(people["qm"]),
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _file(client, headers, **over):
    body = {
        "title": "张先生 空调不制冷",
        "values": {
            "customer": "张先生",
            "product": "空调",
            "visit_date": "2026-03-05",
            "hours": "2",
            "technician": "staff",
        },
    }
    body.update(over)
    return client.post("/api/v1/record-types/WO/records", json=body, headers=headers)


def test_file_a_record_with_attachments_and_read_it_back(client, people, token_for, wo, auth):
    staff = token_for(people["staff"])
    r = client.post(
        "/api/v1/record-types/WO/records/with-files",
        data={
            "data": '{"title": "李女士 冰箱异响", "values": {"customer": "李女士",'
            ' "product": "冰箱", "visit_date": "2026-04-01"}, "external_id": "T-1001"}',
            "files": [
                (io.BytesIO(files.pdf("signed sheet")), "签字单.pdf"),
                (io.BytesIO(files.png()), "photo.png"),
            ],
        },
        headers=staff,
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    rec = r.get_json()
    assert rec["number"].startswith("WO-") and rec["values"]["product"] == "冰箱"
    assert [a["filename"] for a in rec["attachments"]] == ["签字单.pdf", "photo.png"]
    import hashlib

    assert rec["attachments"][0]["sha256"] == hashlib.sha256(files.pdf("signed sheet")).hexdigest()
    got = client.get(
        f"/api/v1/records/{rec['id']}/attachments/{rec['attachments'][0]['id']}", headers=staff
    )
    assert got.data == files.pdf("signed sheet")
    got.close()
    # Retention: 36 months from filing.
    from docmgmt.clock import local_today
    from docmgmt.records.operations import add_months

    assert rec["dispose_after"] == add_months(local_today(), 36).isoformat()
    # In the UI and in search.
    auth.login("staff")
    assert "李女士 冰箱异响" in page_text(client.get(f"/records/{rec['id']}"))
    hits = client.get("/api/v1/search", query_string={"q": "冰箱异响"}, headers=staff).get_json()
    assert [h["number"] for h in hits["hits"]] == [rec["number"]]


def test_bad_values_are_refused_per_field_and_nothing_is_filed(client, people, token_for, wo):
    staff = token_for(people["staff"])
    cases = [
        ({"values": {"product": "空调", "visit_date": "2026-03-05"}}, "客户 is required"),
        (
            {"values": {"customer": "x", "product": "洗衣机", "visit_date": "2026-03-05"}},
            "must be one of",
        ),
        (
            {"values": {"customer": "x", "product": "空调", "visit_date": "2026-02-30"}},
            "not a date",
        ),
        (
            {"values": {"customer": "x", "product": "空调", "visit_date": "1970-01-01"}},
            "not a plausible date",
        ),
        (
            {
                "values": {
                    "customer": "x",
                    "product": "空调",
                    "visit_date": "2026-03-05",
                    "hours": "two",
                }
            },
            "not a number",
        ),
        (
            {
                "values": {
                    "customer": "x",
                    "product": "空调",
                    "visit_date": "2026-03-05",
                    "technician": "nobody",
                }
            },
            "nobody called",
        ),
        (
            {
                "values": {
                    "customer": "x",
                    "product": "空调",
                    "visit_date": "2026-03-05",
                    "colour": "red",
                }
            },
            "not a field",
        ),
    ]
    for over, message in cases:
        r = _file(client, staff, **over)
        assert r.status_code == 422 and message in r.get_json()["message"], (over, r.get_json())
    assert _file(client, staff, external_id="T-1").status_code == 201
    r = _file(client, staff, external_id="T-1")
    assert r.status_code == 422 and "already filed" in r.get_json()["message"]
    r = client.post(
        "/api/v1/record-types/WO/records/with-files",
        data={
            "data": '{"title": "x", "values": {"customer": "x", "product": "空调",'
            ' "visit_date": "2026-03-05"}}',
            "files": [(io.BytesIO(b"MZ"), "tool.exe")],
        },
        headers=staff,
        content_type="multipart/form-data",
    )
    assert r.status_code == 422
    listed = client.get("/api/v1/records", headers=staff).get_json()["records"]
    assert len(listed) == 1  # only the good one
    # Auditors read, never file.
    assert _file(client, token_for(people["auditor"])).status_code == 403


def test_a_correction_is_a_new_linked_record_and_both_stay(client, people, token_for, wo, auth):
    staff = token_for(people["staff"])
    first = _file(client, staff).get_json()
    r = client.post(
        f"/api/v1/records/{first['id']}/corrections",
        json={
            "title": "张先生 空调不制冷（更正上门日期）",
            "values": {"customer": "张先生", "product": "空调", "visit_date": "2026-03-06"},
        },
        headers=staff,
    )
    assert r.status_code == 201
    corr = r.get_json()
    assert corr["corrects_id"] == first["id"] and corr["number"] != first["number"]
    again = client.get(f"/api/v1/records/{first['id']}", headers=staff).get_json()
    assert again["values"]["visit_date"] == "2026-03-05"  # the original is untouched
    auth.login("staff")
    text = page_text(client.get(f"/records/{first['id']}"))
    assert "Corrected by" in text and corr["number"] in text


def _csv(rows, encoding="utf-8", bom=False):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["工单号", "客户", "产品", "上门日期", "响应小时"])
    w.writerows(rows)
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + data


def _upload(client, headers, data, name="export.csv"):
    r = client.post(
        "/api/v1/record-types/WO/imports",
        data={"file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )
    return r


def test_import_with_errors_blocks_or_skips_and_never_duplicates(client, people, token_for, wo):
    qm = token_for(people["qm"])
    rows = [
        ["T-1", "张先生", "空调", "2026-03-05", "1"],
        ["T-2", "王女士", "冰箱", "2026/03/06", "2"],
        ["T-3", "", "空调", "2026-03-07", "1"],  # customer missing
        ["T-4", "赵先生", "电视", "2026-03-08", "1"],  # unknown choice
        ["T-5", "钱先生", "售货机", "2026-13-01", "x"],  # bad date and number
    ]
    imp = _upload(client, qm, _csv(rows, "gbk"), "工单导出.csv").get_json()
    assert imp["encoding"] == "gbk" and imp["total_rows"] == 5
    assert imp["mapping"] == {
        "customer": "客户",
        "product": "产品",
        "visit_date": "上门日期",
        "hours": "响应小时",
    }
    preview = client.get(f"/api/v1/imports/{imp['id']}/preview", headers=qm).get_json()
    assert preview["ready"] == 2
    assert {(e["line"], e["field"]) for e in preview["errors"]} >= {
        (4, "customer"),
        (5, "product"),
        (6, "visit_date"),
        (6, "hours"),
    }
    # Block: nothing at all.
    r = client.post(
        f"/api/v1/imports/{imp['id']}/run",
        json={"mode": "block", "external_id_column": "工单号"},
        headers=qm,
    )
    assert r.status_code == 200 and r.get_json()["status"] == "failed"
    assert client.get("/api/v1/records", headers=qm).get_json()["records"] == []
    errors = client.get(f"/api/v1/imports/{imp['id']}/errors.csv", headers=qm)
    assert "上门日期" in errors.data.decode("utf-8-sig")
    errors.close()
    # Skip: the good rows; a second import of the same file adds nothing.
    for expect_imported, expect_dupes in ((2, 0), (0, 2)):
        imp = _upload(client, qm, _csv(rows, "utf-8", bom=True)).get_json()
        assert imp["encoding"] == "utf-8 (BOM)"
        r = client.post(
            f"/api/v1/imports/{imp['id']}/run",
            json={"mode": "skip", "external_id_column": "工单号"},
            headers=qm,
        )
        out = r.get_json()
        assert (out["imported"], out["skipped_duplicates"], out["error_rows"]) == (
            expect_imported,
            expect_dupes,
            3,
        )
    listed = client.get("/api/v1/records", headers=qm).get_json()["records"]
    assert sorted(r["external_id"] for r in listed) == ["T-1", "T-2"]
    assert (
        next(r for r in listed if r["external_id"] == "T-2")["values"]["visit_date"] == "2026-03-06"
    )


def test_import_refuses_a_header_that_does_not_match_and_xlsx_works(client, people, token_for, wo):
    qm = token_for(people["qm"])
    bad = b"a,b,c\n1,2,3\n"
    imp = _upload(client, qm, bad).get_json()
    r = client.post(
        f"/api/v1/imports/{imp['id']}/run", json={"mode": "skip", "mapping": {}}, headers=qm
    )
    assert r.status_code == 422 and "required field" in r.get_json()["message"]
    r = client.post(
        f"/api/v1/imports/{imp['id']}/run",
        json={"mode": "skip", "mapping": {"customer": "客户"}},
        headers=qm,
    )
    assert r.status_code == 422 and "does not have these columns" in r.get_json()["message"]
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["工单号", "客户", "产品", "上门日期"])
    ws.append(["X-1", "孙先生", "售货机", "2026-05-01"])
    out = io.BytesIO()
    wb.save(out)
    imp = _upload(client, qm, out.getvalue(), "export.xlsx").get_json()
    r = client.post(
        f"/api/v1/imports/{imp['id']}/run",
        json={"mode": "block", "external_id_column": "工单号"},
        headers=qm,
    )
    assert r.get_json()["imported"] == 1


def test_import_through_the_pages(client, auth, people, wo):
    auth.login("qm")
    r = client.post(
        "/records/import/" + str(wo["id"]),
        data={
            "file": (
                io.BytesIO(
                    _csv(
                        [
                            ["T-9", "周先生", "空调", "2026-03-05", "1"],
                            ["T-10", "", "空调", "2026-03-05", "1"],
                        ]
                    )
                ),
                "a.csv",
            )
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    text = page_text(r)
    assert "1 rows ready, 1 with errors" in text and "客户 is required" in text
    import re

    imp_id = re.search(r"/records/imports/(\d+)/run", r.get_data(as_text=True)).group(1)
    r = client.post(f"/records/imports/{imp_id}/run", data={"mode": "skip"}, follow_redirects=True)
    text = page_text(r)
    assert "1 records imported" in text and "Download the rows in error" in text
    # rows in error: a warning, not the green of an import where every row was filed
    assert 'id="import-result" class="flash flash-warning" role="alert"' in r.get_data(as_text=True)

    # every row in error: nothing filed, said as an error
    rows = [["T-11", "", "空调", "2026-03-05", "1"], ["T-12", "", "冰箱", "2026-03-05", "1"]]
    r = client.post(
        "/records/import/" + str(wo["id"]),
        data={"file": (io.BytesIO(_csv(rows)), "b.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    imp_id = re.search(r"/records/imports/(\d+)/run", r.get_data(as_text=True)).group(1)
    r = client.post(f"/records/imports/{imp_id}/run", data={"mode": "skip"}, follow_redirects=True)
    assert 'class="flash flash-error" role="alert"' in r.get_data(as_text=True)
    # the choices a value must be one of are named with the Chinese enumeration comma
    client.post("/lang/zh_CN")
    rows = [["T-13", "吴女士", "电视", "2026-03-05", "1"]]
    r = client.post(
        "/records/import/" + str(wo["id"]),
        data={"file": (io.BytesIO(_csv(rows)), "c.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "空调、冰箱、售货机" in page_text(r)


def _old_record(people, days_ago, title="过期工单"):
    from sqlalchemy import select

    from docmgmt.clock import utcnow
    from docmgmt.records import operations as ops
    from docmgmt.records.models import RecordType

    rt = db.session.scalar(select(RecordType).where(RecordType.code == "WO"))
    r = ops.file_record(
        people["staff"],
        rt,
        title=title,
        values={"customer": "老客户", "product": "空调", "visit_date": "2022-01-05"},
        files=[("old.pdf", files.pdf(title), "application/pdf")],
        now=utcnow() - timedelta(days=days_ago),
    )
    db.session.commit()
    return r


def test_disposal_needs_due_unheld_records_and_an_approver(client, people, token_for, wo, auth):
    from docmgmt import storage

    qm, approver = token_for(people["qm"]), token_for(people["approver"])
    due = _old_record(people, 4 * 365, "到期工单")
    held = _old_record(people, 4 * 365, "涉诉工单")
    fresh = _old_record(people, 30, "新工单")
    att_sha = due.attachments[0].sha256
    queue = client.get("/api/v1/disposition/due", headers=qm).get_json()
    assert {r["id"] for r in queue} == {due.id, held.id}
    # A hold on the record blocks its disposal.
    r = client.post(
        "/api/v1/holds",
        json={"scope": "query", "query": "涉诉", "reason": "诉讼保全", "type_id": wo["id"]},
        headers=qm,
    )
    assert r.status_code == 201
    hold_id = r.get_json()["id"]
    for ids, message in (([fresh.id], "may not be disposed of before"), ([held.id], "legal hold")):
        r = client.post(
            "/api/v1/disposals",
            json={"record_ids": ids, "reason": "期满", "approver_id": people["approver"].id},
            headers=qm,
        )
        assert r.status_code == 409 and message in r.get_json()["message"], r.get_json()
    r = client.post(
        "/api/v1/disposals",
        json={"record_ids": [due.id], "reason": "保存期满", "approver_id": people["qm"].id},
        headers=qm,
    )
    assert r.status_code == 422  # not yourself
    r = client.post(
        "/api/v1/disposals",
        json={"record_ids": [due.id], "reason": "保存期满", "approver_id": people["approver"].id},
        headers=qm,
    )
    assert r.status_code == 201
    d = r.get_json()
    # A hold placed after the proposal still stops it at approval.
    r = client.post(
        "/api/v1/holds",
        json={"scope": "record", "record_id": due.id, "reason": "审核抽样"},
        headers=qm,
    )
    hold2 = r.get_json()["id"]
    r = client.post(
        f"/api/v1/disposals/{d['id']}/approve", json={"password": PASSWORD}, headers=approver
    )
    assert r.status_code == 409 and "legal hold" in r.get_json()["message"]
    client.post(f"/api/v1/holds/{hold2}/release", json={"reason": "抽样结束"}, headers=qm)
    r = client.post(
        f"/api/v1/disposals/{d['id']}/approve", json={"password": "wrong"}, headers=approver
    )
    assert r.status_code in (401, 403, 422)
    assert storage.exists(att_sha)
    r = client.post(
        f"/api/v1/disposals/{d['id']}/approve", json={"password": PASSWORD}, headers=approver
    )
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["state"] == "approved" and out["items"][0]["content_hash"] == due.content_hash
    gone = client.get(f"/api/v1/records/{due.id}", headers=qm).get_json()
    assert gone["state"] == "disposed" and gone["values"] == {}
    assert gone["attachments"][0]["removed"] is True
    assert not storage.exists(att_sha)  # the file content is gone
    # The certificate names the record and its hash.
    from pypdf import PdfReader

    pdf = client.get(f"/api/v1/disposals/{d['id']}/certificate.pdf", headers=qm)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    pdf.close()
    compact = "".join(text.split())  # narrow columns wrap numbers and hashes
    assert "记录销毁证明" in compact and due.number in compact and due.content_hash in compact
    # The held record is still there, untouched.
    kept = client.get(f"/api/v1/records/{held.id}", headers=qm).get_json()
    assert kept["state"] == "active" and kept["values"]["customer"] == "老客户"
    del hold_id
    # The UI shows the queue with the held record flagged.
    auth.login("qm")
    text = page_text(client.get("/records/disposition"))
    assert held.number in text and "on hold" in text


def test_the_disposal_pages_for_quality_manager_and_approver(client, auth, people, wo):
    due = _old_record(people, 4 * 365)
    auth.login("qm")
    r = client.post(
        "/records/disposition",
        data={"record_id": [due.id], "reason": "保存期满", "approver_id": people["approver"].id},
        follow_redirects=True,
    )
    assert "waits for" in page_text(r)
    auth.logout()
    auth.login("approver")
    from sqlalchemy import select

    from docmgmt.records.models import Disposal

    d = db.session.scalar(select(Disposal))
    r = client.post(
        f"/records/disposals/{d.id}/approve", data={"password": PASSWORD}, follow_redirects=True
    )
    text = page_text(r)
    assert "approved and carried out" in text and "Disposal certificate" in text


def test_trigger_dates_and_keyset_pages(client, people, token_for, auth):
    qm = token_for(people["qm"])
    r = client.post(
        "/api/v1/record-types",
        json={
            "code": "CP",
            "name": "客户投诉记录",
            "retention_months": 24,
            "trigger": "closing",
            "fields": [{"name": "customer", "label": "客户", "required": True}],
        },
        headers=qm,
    )
    assert r.status_code == 201
    ids = []
    for i in range(7):
        rec = client.post(
            "/api/v1/record-types/CP/records",
            json={"title": f"投诉 {i}", "values": {"customer": f"客户{i}"}},
            headers=qm,
        ).get_json()
        ids.append(rec["id"])
        assert rec["dispose_after"] is None  # not closed yet: not due, ever
    from docmgmt.clock import local_today

    r = client.post(
        f"/api/v1/records/{ids[0]}/trigger-date",
        json={"trigger_date": local_today().isoformat()},
        headers=qm,
    )
    assert r.status_code == 200 and r.get_json()["dispose_after"]
    r = client.post(
        f"/api/v1/records/{ids[0]}/trigger-date",
        json={"trigger_date": local_today().isoformat()},
        headers=qm,
    )
    assert r.status_code == 409  # once only
    seen, cursor = [], None
    while True:
        q = {"limit": 3, "type": "CP"} | ({"after": cursor} if cursor else {})
        page = client.get("/api/v1/records", query_string=q, headers=qm).get_json()
        seen += [r["id"] for r in page["records"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 7
    auth.login("qm")
    export = client.get("/records/export.csv")
    body = export.data.decode("utf-8-sig")
    export.close()
    assert body.splitlines()[0].startswith("number,type") and "投诉 6" in body
    export = client.get("/records/export.xlsx")
    assert export.mimetype.endswith("sheet")
    export.close()


def test_a_large_import_runs_in_the_background_with_progress(app, client, people, token_for, wo):
    from docmgmt.jobs.operations import start
    from docmgmt.records import importing
    from docmgmt.records.models import RecordImport

    qm = token_for(people["qm"])
    rows = [[f"B-{i}", f"客户{i}", "冰箱", "2026-03-05", "1"] for i in range(30)]
    imp = _upload(client, qm, _csv(rows)).get_json()
    client.post(
        f"/api/v1/imports/{imp['id']}/run",
        json={"mode": "block", "mapping": None, "external_id_column": "工单号"},
        headers=qm,
    )  # sets the mapping; runs
    # A second file runs through the background path the pages use for large files.
    rows2 = [[f"C-{i}", f"顾客{i}", "空调", "2026-03-06", "2"] for i in range(40)]
    imp2 = _upload(client, qm, _csv(rows2)).get_json()
    rec = db.session.get(RecordImport, imp2["id"])
    rec.external_id_column = "工单号"
    job = importing.submit(rec, people["qm"].id, "skip")
    db.session.commit()
    start(job)  # the queue runs it (in the tests at once, in its own session)
    db.session.expire_all()
    done = db.session.get(RecordImport, imp2["id"])
    assert done.status == "done" and done.imported == 40, done.message
    assert importing.read_progress(imp2["id"]) == ("filing", 40, 40)
    hits = client.get("/api/v1/search", query_string={"q": "顾客39"}, headers=qm).get_json()
    assert hits["total"] == 1


def test_define_file_correct_and_hold_through_the_pages(client, auth, people):
    import re

    auth.login("qm")
    r = client.post(
        "/records/types",
        data={
            "code": "RV",
            "name": "回访记录",
            "form_document_id": 0,
            "department_id": 0,
            "retention_months": 24,
            "trigger": "filing",
            "disposal_method": "destroy",
            "fields": "customer | 客户 | text | required\nsatisfied | 是否满意 | choice | required"
            " | 满意, 一般, 不满意",
        },
        follow_redirects=True,
    )
    assert "Record type RV created." in page_text(r)
    from sqlalchemy import select

    from docmgmt.records.models import RecordType

    rt = db.session.scalar(select(RecordType).where(RecordType.code == "RV"))
    # A missing required field is explained and nothing is filed.
    r = client.post(
        f"/records/new/{rt.id}", data={"title": "回访", "f_customer": ""}, follow_redirects=True
    )
    assert "客户 is required" in page_text(r)
    r = client.post(
        f"/records/new/{rt.id}",
        data={
            "title": "周女士 当日回访",
            "f_customer": "周女士",
            "f_satisfied": "满意",
            "files": (io.BytesIO(files.pdf("call")), "录音摘要.pdf"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    text = page_text(r)
    assert "filed" in text and "录音摘要.pdf" in text
    rid = int(re.search(r"/records/(\d+)/correct", r.get_data(as_text=True)).group(1))
    r = client.post(
        f"/records/{rid}/correct",
        data={"title": "周女士 当日回访", "f_customer": "周女士", "f_satisfied": "一般"},
        follow_redirects=True,
    )
    assert "stays as it was" in page_text(r)
    number = re.search(r"(RV-\d{4}-\d{6})", page_text(client.get(f"/records/{rid}"))).group(1)
    r = client.post(
        "/records/holds",
        data={
            "scope": "record",
            "record_number": number,
            "reason": "客户质疑回访结果",
            "type_id": 0,
        },
        follow_redirects=True,
    )
    text = page_text(r)
    assert "Legal hold placed." in text and number in text
    assert "客户质疑回访结果" in page_text(client.get(f"/records/{rid}"))


def test_a_type_whose_code_starts_like_another_types_number_keeps_both_numberings(
    client, people, token_for, today
):
    """Codes are letters, digits and dashes: type SR and type SR-<this year> both number
    their records; the numbers of one never count for the other (it used to take
    SR-2026-2026-000001 for the last SR number of 2026 and fail to file)."""
    from docmgmt.records import operations as rops

    year = today.year
    fields = [{"name": "customer", "label": "客户", "kind": "text", "required": True}]
    sr = rops.create_type(
        people["qm"], code="SR", name="维修记录", retention_months=12, fields=fields
    )
    sry = rops.create_type(
        people["qm"], code=f"SR-{year}", name="年度记录", retention_months=12, fields=fields
    )
    db.session.commit()
    staff = token_for(people["staff"])
    numbers = []
    for code in (f"SR-{year}", f"SR-{year}", "SR", "SR", f"SR-{year}"):
        r = client.post(
            f"/api/v1/record-types/{code}/records",
            json={"title": "回访", "values": {"customer": "老客户"}},
            headers=staff,
        )
        assert r.status_code == 201, (code, r.status_code, r.get_json())
        numbers.append(r.get_json()["number"])
    assert numbers == [
        f"SR-{year}-{year}-000001",
        f"SR-{year}-{year}-000002",
        f"SR-{year}-000001",
        f"SR-{year}-000002",
        f"SR-{year}-{year}-000003",
    ]
    assert sr.id != sry.id
