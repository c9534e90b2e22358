"""The demo's data file (docmgmt/demo/content/company.toml) is checked before anything is
written: an entry that breaks a rule is refused with a message naming the file, the entry and
the rule, and `flask demo load` stops without a row."""

import pytest
from sqlalchemy import func, select

from docmgmt.auth.models import User
from docmgmt.demo import data
from docmgmt.extensions import db

SHIPPED = data.COMPANY_FILE.read_text(encoding="utf-8")


def test_the_shipped_file_holds_the_demo_company():
    company = data.read()
    assert company.first_issue.isoformat() == "2022-02-21"
    assert [d.code for d in company.departments] == ["MGT", "ADM", "SAL", "ENG", "AS", "FIN", "PUR"]
    assert [u.username for u in company.users][:2] == ["admin", "qm"]
    assert company.users[-1] == ("auditor", "周琳", "认证审核员", ["auditor"], None)
    assert len(company.procedures) == 22
    assert company.procedures[3] == ("报修、送修和上门维修服务控制程序", "AS")
    assert [t.code for t in company.record_types] == ["PL", "WO", "RV", "CP", "SS", "QF", "EQ"]
    assert company.record_types[1].fields[1] == ("product", "产品", "choice", True)
    assert company.training[0] == ("manual", "role", "staff", 30)
    assert company.clauses["5.1.1"] == ([2], [], True)
    assert "5.1.7" not in company.clauses  # a gap the auditor's workspace shows


BROKEN = [
    (
        ('roles = ["auditor"] }', 'roles = ["auditor"], department = "QA" }'),
        "company.toml: users[7].department: 'QA' is not a department code "
        "(MGT, ADM, SAL, ENG, AS, FIN, PUR)",
    ),
    (
        ('{ title = "文件控制程序", department', '{ titel = "文件控制程序", department'),
        "company.toml: procedures[19]: unknown key 'titel' (known: title, department)",
    ),
    (
        ('trigger = "closing"', 'trigger = "closed"'),
        "company.toml: record_types[3].trigger: 'closed' is not one of filing, closing, "
        "employment_end, contract_end, event",
    ),
    (
        ('satisfied = ["满意", "一般", "不满意"]', ""),
        "company.toml: record_types[2].fields[1]: a choice field needs its choices: "
        "add satisfied = [ … ] to [choices]",
    ),
    (
        ('"5.3.2" = { procedures = [13]', '"5.3.2" = { procedures = [23]'),
        "company.toml: clauses.5.3.2.procedures[0]: must be at most 22",
    ),
    (
        (
            'name = "电话派工记录"\nretention_months = 36',
            'name = "电话派工记录"\nretention_months = 0',
        ),
        "company.toml: record_types[0].retention_months: must be a whole number, at least 1",
    ),
    (
        ('{ username = "tech"', '{ username = "qm"'),
        "company.toml: users[6]: the user name 'qm' appears twice",
    ),
    (
        ('value = "approver", days = 30', 'value = "approvers", days = 30'),
        "company.toml: training[4].value: 'approvers' is not one of admin, quality_manager, "
        "approver, staff, auditor",
    ),
    (
        ("first_issue = 2022-02-21", 'first_issue = "2022-02-21"'),
        "company.toml: first_issue: must be a date (2022-02-21)",
    ),
    (
        ('{ title = "商品售后服务评价体系", edition', '{ title = "", edition'),
        "company.toml: externals[0].title: must be text, not empty",
    ),
]


@pytest.mark.parametrize(("change", "message"), BROKEN)
def test_a_broken_entry_is_refused_naming_the_entry_and_the_rule(tmp_path, change, message):
    old, new = change
    assert SHIPPED.count(old) == 1
    path = tmp_path / "company.toml"
    path.write_text(SHIPPED.replace(old, new), encoding="utf-8")
    with pytest.raises(data.DemoDataError) as refused:
        data.read(path)
    assert str(refused.value) == message


def test_a_file_that_is_not_toml_is_refused(tmp_path):
    path = tmp_path / "company.toml"
    path.write_text(SHIPPED.replace("[choices]", "[choices"), encoding="utf-8")
    with pytest.raises(data.DemoDataError, match=r"^company.toml: not valid TOML: "):
        data.read(path)


def test_flask_demo_load_stops_on_a_broken_file_and_writes_nothing(
    runner, app, tmp_path, monkeypatch
):
    import sys

    path = tmp_path / "company.toml"
    path.write_text(SHIPPED.replace('department = "PUR"', 'department = "XX"'), encoding="utf-8")
    monkeypatch.setattr(data, "COMPANY_FILE", path)
    monkeypatch.delitem(sys.modules, "docmgmt.demo.loader", raising=False)
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 1
    assert "company.toml: procedures[10].department: 'XX' is not a department code" in (
        result.output
    )
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
