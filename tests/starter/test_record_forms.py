"""The record forms the procedures name become documents of their own (PREFIX-SR-nn, A0
drafts) when a company is set up; the procedures' record tables name them by those numbers,
and the template data (content/record_forms.toml) is checked when it loads."""

import json
import re
import shutil

import pytest
from sqlalchemy import select

from docmgmt.extensions import db
from docmgmt.versioning.models import Document
from tests.starter.test_setup_company import FACTS


def _text(doc) -> str:
    return json.dumps(doc.revisions[0].body_blocks, ensure_ascii=False)


def test_every_form_a_procedure_names_is_a_valid_draft_with_its_fields_and_keeper(
    app, runner, create_user, tmp_path, auth, client
):
    create_user("qm", ["quality_manager"], "王芳", job_title="客户服务部经理")
    db.session.commit()
    facts = tmp_path / "facts.toml"
    facts.write_text(FACTS, encoding="utf-8")
    result = runner.invoke(args=["setup", "company", "--facts", str(facts)])
    assert result.exit_code == 0, result.output

    docs = {d.number: d for d in db.session.scalars(select(Document))}
    forms = {n: d for n, d in docs.items() if n.startswith("HY-SR-")}
    assert len(forms) == 48
    for doc in forms.values():
        assert doc.doc_type.value == "record_form"
        assert [(r.version, r.state.value) for r in doc.revisions] == [("A0", "draft")]
        assert doc.revisions[0].change_summary == "新制订"
        text = _text(doc)
        assert "{{" not in text and "XX-" not in text and "【待填写" not in text, doc.number

    # Every form number a procedure names is a document of the set, and vice versa.
    named = set()
    for n in range(1, 23):
        named |= set(re.findall(r"HY-SR-\d\d", _text(docs[f"HY-SP-{n:02d}"])))
    assert named == set(forms)

    sr03 = forms["HY-SR-03"]
    assert sr03.title == "电话派工记录"
    assert sr03.department.name == "客户服务部"
    text = _text(sr03)
    for field in ("受理时间", "设备品牌型号和序列号", "故障现象", "完工时间"):
        assert field in text
    assert "HY-SP-04《报修、送修和上门维修服务控制程序》" in text and "3年" in text
    # SR-10 is kept by the template's ENG, which the company's 客户服务部 covers.
    sr10 = forms["HY-SR-10"]
    assert sr10.department.name == "客户服务部" and "客户服务部" in _text(sr10)
    assert "HY-SP-22" in _text(sr10)  # every procedure that names it
    assert "员工离职后3年" in _text(forms["HY-SR-15"])

    # The draft's page shows the form's table; the quality manager's search finds the forms.
    auth.login("qm")
    page = client.get(f"/documents/{sr03.id}/revisions/{sr03.revisions[0].id}")
    page = page.get_data(as_text=True)
    assert "<table" in page and "设备品牌型号和序列号" in page
    found = client.get("/search/", query_string={"q": "派工", "history": "y"})
    assert "HY-SR-04" in found.get_data(as_text=True)


@pytest.fixture
def content(tmp_path):
    from docmgmt.demo import data

    for f in data.CONTENT.iterdir():
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def _read(content):
    from docmgmt.demo import data, templates

    return templates.read([d.code for d in data.read().departments], 22, content / "template.toml")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace('id = "SR-48"', 'id = "SR-4X"'),
            "record_forms.toml: forms[47].id: 'SR-4X' is not a form id",
        ),
        (
            lambda t: t.replace('id = "SR-48"', 'id = "SR-47"'),
            "record_forms.toml: forms[47].id: SR-47 appears twice",
        ),
        (
            lambda t: t.replace('department = "ENG"', 'department = "QA"'),
            "record_forms.toml: forms[9].department: 'QA' is not one of MGT",
        ),
        (
            lambda t: t.replace('name = "派工单"', 'name = "维修派工单"'),
            "sp-04.md, line 110: the row of SR-04 says 派工单 | {{dept:AS}} | 3年, "
            "record_forms.toml says 维修派工单 | {{dept:AS}} | 3年",
        ),
        (
            lambda t: (
                t + '\n[[forms]]\nid = "SR-49"\nname = "空表"\ndepartment = "AS"\n'
                'retention = "1年"\nfields = ["日期"]\n'
            ),
            "record_forms.toml: SR-49 (空表) is not named by any procedure's record table",
        ),
        (
            lambda t: t.replace('fields = ["回收日期"', 'fields = ["回收日期", "回收日期"'),
            "record_forms.toml: forms[47].fields[1]: the field '回收日期' appears twice",
        ),
        (
            lambda t: t.replace('id = "SR-48"', 'id = "SR-48"\npurpose = "按 {{doc:SR-99}} 填写"'),
            "record_forms.toml: forms[47].purpose, line 1: {{doc:SR-99}}: 'SR-99' is not a "
            "document of the set",
        ),
    ],
)
def test_a_broken_record_form_entry_names_the_file_the_entry_and_the_rule(content, edit, message):
    from docmgmt.demo.data import DemoDataError

    path = content / "record_forms.toml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(DemoDataError) as err:
        _read(content)
    assert message in str(err.value)


def test_a_procedure_naming_an_unknown_form_is_refused(content):
    from docmgmt.demo.data import DemoDataError

    sp04 = content / "sp-04.md"
    sp04.write_text(
        sp04.read_text(encoding="utf-8").replace("{{doc:SR-03}}", "{{doc:SR-98}}"),
        encoding="utf-8",
    )
    with pytest.raises(DemoDataError, match=r"sp-04.md, line \d+: \{\{doc:SR-98\}\}: 'SR-98'"):
        _read(content)


def test_the_record_types_keep_records_as_long_as_the_companys_own_procedures_say(
    app, runner, create_user, tmp_path
):
    """The demo's record types keep some records 24 months; the procedures (and so the new
    company's forms) say 3年: the set-up takes the form's retention, so the record types never
    contradict the company's own procedures."""
    from docmgmt.records.models import RecordType

    create_user("qm", ["quality_manager"], "王芳", job_title="客户服务部经理")
    db.session.commit()
    facts = tmp_path / "facts.toml"
    facts.write_text(FACTS, encoding="utf-8")
    result = runner.invoke(args=["setup", "company", "--facts", str(facts)])
    assert result.exit_code == 0, result.output
    months = {t.code: t.retention_months for t in db.session.scalars(select(RecordType))}
    # PL (电话派工记录, SR-03) and RV (回访记录表, SR-05): 3年; EQ (设备台账, SR-22): 设备报废后2年.
    assert months["PL"] == 36 and months["RV"] == 36
    assert months["EQ"] == 24
    assert months["WO"] == months["CP"] == months["SS"] == months["QF"] == 36
    # Each record type names its form document (the form's revision in force governs filing).
    forms = {t.code: t.form_document.number for t in db.session.scalars(select(RecordType))}
    assert forms["PL"] == "HY-SR-03" and forms["RV"] == "HY-SR-05" and forms["EQ"] == "HY-SR-22"


def test_a_record_type_naming_an_unknown_form_is_refused(content, monkeypatch):
    from docmgmt.demo import data
    from docmgmt.demo.data import DemoDataError
    from docmgmt.starter import kit

    company = content / "company.toml"
    text = company.read_text(encoding="utf-8")
    company.write_text(text.replace('form = "SR-03"', 'form = "SR-93"'), encoding="utf-8")
    with pytest.raises(DemoDataError, match=r"company.toml: record_types\[0\].form: SR-93"):
        kit.template_set(data.read(company))
    company.write_text(text.replace('form = "SR-03"', 'form = "03"'), encoding="utf-8")
    with pytest.raises(DemoDataError, match=r"record_types\[0\].form: must be a record form"):
        data.read(company)


def test_the_demos_record_types_keep_records_as_long_as_their_forms_say(app, runner):
    """An auditor compares the procedure's record table (保存期限 3年) with the system's record
    type: the demo's types keep what their forms say (PL and RV were 24 months against 3年),
    and the loaded demo files its records with those periods."""
    from docmgmt.demo import data
    from docmgmt.records.models import RecordType
    from docmgmt.starter.kit import form_retention_months, template_set

    company = data.read()
    forms = template_set(company).forms
    said = {
        rt.code: (rt.retention_months, forms[rt.form].retention)
        for rt in company.record_types
        if rt.form
    }
    assert {code: form_retention_months(f) for code, (_m, f) in said.items()} == {
        code: months for code, (months, _f) in said.items()
    }, said
    assert said["PL"] == (36, "3年") and said["EQ"] == (24, "设备报废后2年")

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    loaded = {t.code: t.retention_months for t in db.session.scalars(select(RecordType))}
    assert loaded == {code: months for code, (months, _f) in said.items()}
