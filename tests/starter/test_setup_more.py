"""The set-up's certificate body reaches the auditor's workspace; its messages speak the
reader's language (the CLI its default one); an empty instance's start page leads the
administrator to the set-up and tells everybody else it is not set up yet."""

import re

from sqlalchemy import func, select

from docmgmt.auth.models import Department
from docmgmt.extensions import db
from docmgmt.versioning.models import Document
from tests.conftest import page_text
from tests.starter.test_setup_company import FACTS


def _facts(tmp_path, text=FACTS):
    path = tmp_path / "facts.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_certificate_body_given_at_set_up_is_in_the_auditors_workspace(
    app, runner, create_user, tmp_path, auth, client
):
    from docmgmt.certification.models import Certificate, CertificationPlan

    create_user("qm", ["quality_manager"], "王芳")
    create_user("aud", ["auditor"], "周琳")
    db.session.commit()
    text = FACTS.replace('prefix = "HY"', 'prefix = "HY"\ncertificate_body = "中国质量认证中心"')
    result = runner.invoke(args=["setup", "company", "--facts", _facts(tmp_path, text)])
    assert result.exit_code == 0, result.output
    assert [p.body for p in db.session.scalars(select(CertificationPlan))] == ["中国质量认证中心"]

    auth.login("aud")
    page = client.get("/certification/").get_data(as_text=True)
    assert re.search(r'id="planned-body">中国质量认证中心 · no certificate yet<', page)
    auth.logout()
    # The quality manager registers the certificate from it: the form starts with the body.
    auth.login("qm")
    page = client.get("/certification/").get_data(as_text=True)
    assert 'name="body" value="中国质量认证中心"' in page
    r = client.post(
        "/certification/certificate",
        data={
            "number": "CQC-2027-001",
            "body": "中国质量认证中心",
            "issued_on": "2026-11-01",
            "expires_on": "2029-10-31",
        },
    )
    assert r.status_code == 303
    assert db.session.scalar(select(Certificate.body)) == "中国质量认证中心"
    page = client.get("/certification/").get_data(as_text=True)
    assert "CQC-2027-001 · 中国质量认证中心" in page and "planned-body" not in page


def test_a_certificate_body_too_long_is_refused_and_nothing_written(
    app, runner, create_user, tmp_path
):
    create_user("qm", ["quality_manager"], "王芳")
    db.session.commit()
    text = FACTS.replace('prefix = "HY"', f'prefix = "HY"\ncertificate_body = "{"认" * 201}"')
    result = runner.invoke(args=["setup", "company", "--facts", _facts(tmp_path, text)])
    assert result.exit_code != 0
    assert "facts.toml: certificate_body: must be at most 200 characters" in result.output
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0


def test_the_cli_speaks_its_default_language(app, runner, create_user, tmp_path):
    app.config["BABEL_DEFAULT_LOCALE"] = "zh_CN"
    create_user("qm", ["quality_manager"], "王芳")
    db.session.commit()
    for change, message in (
        (
            lambda t: t.replace('company = "恒远办公设备服务有限公司"\n', ""),
            "未进行任何设置：facts.toml：facts.company：必须填写：公司名称",
        ),
        (
            lambda t: t.replace('prefix = "HY"', 'prefix = "NX"'),
            "NX 不是本系统文件编号使用的前缀（HY）：请设置 DOCMGMT_DOC_PREFIX=NX 并重启服务",
        ),
        (
            lambda t: t.replace('roles = ["approver"]\ndepartment = "ADM"', 'roles = ["boss"]'),
            "facts.toml：people[1].roles[0]：“boss”不在可选范围内",
        ),
        (
            lambda t: t.replace('response_time = "2 小时"', 'respons_time = "2 小时"'),
            "facts.toml：facts：未知的键“respons_time”",
        ),
        (lambda t: t + "\n[[people", "facts.toml：不是有效的 TOML 文件"),
    ):
        result = runner.invoke(
            args=["setup", "company", "--facts", _facts(tmp_path, change(FACTS))]
        )
        assert result.exit_code != 0
        assert message in result.output, result.output
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Department)) == 0


FORM = {
    "company": "",
    "products": "复印机、打印机",
    "prefix": "HY",
    "sm_name": "王芳",
    "sm_username": "wang",
    "gm_name": "张伟",
    "mr_name": "李娜",
}


def test_the_form_speaks_the_readers_language(app, create_user, auth, client):
    create_user("admin", ["admin"], "管理员")
    db.session.commit()
    auth.login("admin")
    english = page_text(client.get("/setup/company"))
    assert "Committed response time (e.g. 1 hour)" in english and "Company overview" in english
    assert "服务承诺的响应时间" not in english

    client.post("/lang/zh_CN")
    chinese = page_text(client.get("/setup/company"))
    assert "服务承诺的响应时间（如：1 小时）" in chinese and "Committed" not in chinese
    r = client.post("/setup/company", data=FORM)
    assert r.status_code == 422
    text = page_text(r)
    assert "未进行任何设置：公司名称：必须填写" in text
    assert "facts." not in text and "is required" not in text
    r = client.post("/setup/company", data=FORM | {"company": "恒远", "sm_username": "wang li"})
    assert r.status_code == 422 and "未进行任何设置" in page_text(r)
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0
    # A prefix other than the configured one is refused, by the form's name for it.
    r = client.post("/setup/company", data=FORM | {"company": "恒远", "prefix": "NX"})
    assert r.status_code == 422
    assert "文件编号前缀：NX 不是本系统文件编号使用的前缀（HY）" in page_text(r)


def test_an_empty_instance_leads_the_administrator_to_the_set_up(app, create_user, auth, client):
    create_user("admin", ["admin"], "管理员")
    create_user("staff", ["staff"], "赵敏")
    db.session.commit()
    auth.login("admin")
    page = client.get("/").get_data(as_text=True)
    assert 'id="not-set-up"' in page and 'href="/setup/company"' in page
    auth.logout()
    auth.login("staff")
    page = client.get("/").get_data(as_text=True)
    assert "not set up yet" in page and 'href="/setup/company"' not in page
    client.post("/lang/zh_CN")
    assert "文件系统尚未完成初始配置" in page_text(client.get("/"))
    auth.logout()

    db.session.add(Department(code="AS", name="售后服务部", name_en="After-sales"))
    db.session.commit()
    auth.login("admin")
    page = client.get("/").get_data(as_text=True)
    assert 'id="not-set-up"' not in page and 'href="/setup/company"' not in page
