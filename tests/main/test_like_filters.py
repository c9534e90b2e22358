"""``%`` and ``_`` typed into a "contains" filter are characters, not SQL wildcards: the
register, the records list (page, API, export) and the audit trail, on SQLite and PostgreSQL."""

from docmgmt.extensions import db
from tests.conftest import page_text


def test_the_register_filter_takes_percent_and_underscore_literally(
    client, people, token_for, create_document
):
    create_document(title="满意度 100% 调查")
    create_document(title="客户回访记录")
    create_document(title="A_B 对照表")
    qm = token_for(people["qm"])

    def titles(q):
        docs = client.get("/api/v1/documents", query_string={"q": q}, headers=qm).get_json()
        return sorted(d["title"] for d in docs)

    assert titles("%") == ["满意度 100% 调查"]
    assert titles("_") == ["A_B 对照表"]
    assert titles("100%") == ["满意度 100% 调查"]
    assert titles("A_") == ["A_B 对照表"] and titles("a_b") == ["A_B 对照表"]
    assert titles("%%") == [] and titles("/") == [] and titles("\\") == []
    assert len(titles("")) == 3


def test_the_records_filters_take_percent_and_underscore_literally(client, auth, people, token_for):
    from docmgmt.records import operations as rops

    rt = rops.create_type(
        people["qm"],
        code="FB",
        name="质量问题反馈单",
        retention_months=12,
        fields=[
            {"name": "customer", "label": "客户", "kind": "text", "required": True},
            {"name": "amount", "label": "金额", "kind": "number"},
        ],
    )
    for title, customer, amount in (
        ("折扣 50% 争议", "张先生", "2"),
        ("普通报修", "王_女士", "2.5"),
        ("回访", "%", ""),
    ):
        rops.file_record(
            people["staff"], rt, title=title, values={"customer": customer, "amount": amount}
        )
    db.session.commit()
    qm = token_for(people["qm"])

    def found(**q):
        page = client.get("/api/v1/records", query_string=q, headers=qm).get_json()
        return sorted(r["title"] for r in page["records"])

    assert found(q="%") == ["折扣 50% 争议"]
    assert found(q="_") == []
    assert found(q="50%") == ["折扣 50% 争议"]
    assert found(field="customer", value="%") == ["回访"]
    assert found(field="customer", value="王_女士") == ["普通报修"]
    assert found(field="customer", value="张先生") == ["折扣 50% 争议"]
    assert found(field="customer", value="王%") == []
    assert found(field="amount", value="2") == ["折扣 50% 争议"]
    assert found(field="amount", value="2.5") == ["普通报修"]
    assert found(field="no such", value="x") == []
    auth.login("qm")
    text = page_text(client.get("/records/", query_string={"q": "%"}))
    assert "折扣 50% 争议" in text and "普通报修" not in text
    export = client.get("/records/export.csv", query_string={"q": "_"})
    body = export.data.decode("utf-8-sig")
    export.close()
    assert len(body.strip().splitlines()) == 1  # the header only


def test_the_audit_trail_filters_take_percent_and_underscore_literally(client, auth, people):
    auth.login("admin")
    everything = page_text(client.get("/audit/"))
    assert " 0 events" not in everything
    for params in ({"actor": "%"}, {"actor": "_"}, {"action": "%"}, {"action": "_"}):
        text = page_text(client.get("/audit/", query_string=params))
        assert " 0 events" in text, params
    assert " 0 events" not in page_text(client.get("/audit/", query_string={"action": "auth."}))
