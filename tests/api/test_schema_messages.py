"""Schema errors of the API speak the user's language and name the field at fault."""


def test_a_schema_error_names_the_field_in_english(client, people, effective_doc, token_for):
    doc, rev = effective_doc()
    h = token_for(people["qm"])
    r = client.post(f"/api/v1/revisions/{rev.id}/publish", json={"effective_date": "x"}, headers=h)
    body = r.get_json()
    assert r.status_code == 422
    assert body["field"] == "effective_date"
    assert body["message"] == (
        "The request is not valid: effective_date: Not a valid date: use YYYY-MM-DD."
    )
    assert body["errors"] == {"json": {"effective_date": ["Not a valid date: use YYYY-MM-DD."]}}


def test_schema_errors_are_chinese_in_the_chinese_ui(app, client, people, token_for):
    app.config["BABEL_DEFAULT_LOCALE"] = "zh_CN"
    h = token_for(people["qm"])
    r = client.post("/api/v1/documents", json={"title": 5}, headers=h)
    body = r.get_json()
    assert r.status_code == 422
    text = str(body)
    assert "Missing data" not in text and "Not a valid" not in text
    assert body["errors"]["json"]["doc_type"] == ["此字段为必填项。"]
    assert body["errors"]["json"]["title"] == ["必须是文本。"]
    assert body["message"].startswith("请求无效：") and "（另有 1 个问题）" in body["message"]
    r = client.get("/api/v1/records?limit=abc", headers=h)
    assert r.get_json()["message"] == "请求无效：limit：必须是整数。"
    assert r.get_json()["field"] == "limit"
