"""The starter kit: `flask setup company` on an empty instance gives a new company its own
manual and 22 procedures as A0 drafts, with its facts, numbers and references filled in, and
lists what it must still write; a non-empty instance or bad facts change nothing."""

import hashlib
import json
import time

import pytest
from sqlalchemy import func, select

from docmgmt.auth.models import Department, User
from docmgmt.extensions import db
from docmgmt.versioning.models import Document, Revision
from tests.conftest import page_text

FACTS = """
prefix = "HY"

[facts]
company = "恒远办公设备服务有限公司"
address = "南京市江宁区科建路 18 号"
products = ["复印机", "打印机", "投影仪"]
response_time = "2 小时"

[[departments]]
code = "MGT"
name = "总经理办公室"
head = "zhang"

[[departments]]
code = "ADM"
name = "综合部"
covers = ["FIN", "PUR"]

[[departments]]
code = "SAL"
name = "销售部"

[[departments]]
code = "AS"
name = "客户服务部"
covers = ["ENG"]

[[people]]
username = "zhang"
full_name = "张伟"
job_title = "总经理"
roles = ["approver"]
department = "MGT"
stands_for = ["general_manager"]

[[people]]
username = "li"
full_name = "李娜"
job_title = "副总经理"
roles = ["approver"]
department = "ADM"
stands_for = ["management_rep"]

[[people]]
username = "qm"
department = "AS"
stands_for = ["service_manager"]
"""


def _text(rev) -> str:
    return json.dumps(rev.body_blocks, ensure_ascii=False)


def _counts():
    return [
        db.session.scalar(select(func.count()).select_from(m)) for m in (Document, Department, User)
    ]


@pytest.fixture
def facts_file(tmp_path):
    def _write(text=FACTS):
        path = tmp_path / "facts.toml"
        path.write_text(text, encoding="utf-8")
        return str(path)

    return _write


def test_setup_on_an_empty_instance_makes_23_drafts_with_the_company_in_them(
    app, runner, create_user, facts_file, auth, client
):
    create_user("admin", ["admin"], "管理员")
    create_user("qm", ["quality_manager"], "王芳", job_title="客户服务部经理")
    db.session.commit()
    started = time.monotonic()
    result = runner.invoke(args=["setup", "company", "--facts", facts_file()])
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert elapsed < 60
    assert "23 drafts (HY-SM-01, HY-SP-01 … HY-SP-22)" in result.output
    assert "new user zhang" in result.output and "existing user qm kept" in result.output

    docs = db.session.scalars(select(Document).order_by(Document.number)).all()
    assert [d.number for d in docs] == ["HY-SM-01"] + [f"HY-SP-{n:02d}" for n in range(1, 23)] + [
        f"HY-SR-{n:02d}" for n in range(1, 49)
    ]
    assert "48 record forms (HY-SR-01 … HY-SR-48)" in result.output
    for doc in docs:  # drafts only: no history, nothing effective
        assert [(r.version, r.state.value) for r in doc.revisions] == [("A0", "draft")]
        text = _text(doc.revisions[0])
        assert "{{" not in text and "XX-" not in text, doc.number
    manual = _text(docs[0].revisions[0])
    assert "恒远办公设备服务有限公司" in manual and "复印机、打印机、投影仪" in manual
    assert "总经理：张伟" in manual and "任命客户服务部经理王芳为本公司售后服务管理师" in manual
    assert "副总经理李娜为管理者代表" in manual and "接到报修后 2 小时内做出响应" in manual
    assert "HY-SP-03《售后服务制度控制程序》" in manual  # references resolved
    assert "综合部" in manual and "行政部" not in manual  # the company's departments
    sp04 = _text(docs[4].revisions[0])
    assert "HY-SP-05" in sp04 and "HY-SR-03" in sp04 and "客户服务部经理" in sp04
    assert "【待填写：上门费和维修收费标准】" in sp04

    # Record types (products as the choices), the training matrix and the clause map.
    from docmgmt.certification.models import ClauseMapping
    from docmgmt.records.models import RecordType
    from docmgmt.training.models import TrainingRequirement

    types = {t.code: t for t in db.session.scalars(select(RecordType))}
    assert set(types) == {"PL", "WO", "RV", "CP", "SS", "QF", "EQ"}
    assert types["QF"].department.name == "客户服务部"  # ENG is covered by AS
    product = next(f for f in types["WO"].fields if f["name"] == "product")
    assert product["choices"] == ["复印机", "打印机", "投影仪"]
    reqs = db.session.scalars(select(TrainingRequirement)).all()
    assert len(reqs) == 5 and {r.target_value for r in reqs} >= {"AS", "staff"}
    assert db.session.scalar(select(func.count()).select_from(ClauseMapping)) == 28
    assert db.session.get(Department, docs[0].department_id).name == "总经理办公室"

    # What is still to write: on the document page and the quality manager's checklist.
    auth.login("qm")
    page = page_text(client.get(f"/documents/{docs[4].id}"))
    assert "Still to write" in page and "上门费和维修收费标准" in page
    r = client.get("/setup/checklist")
    assert r.status_code == 200
    listed = page_text(r)
    assert "HY-SM-01" in listed and "HY-SP-04" in listed and "HY-SP-02" in listed
    assert "服务理念" in listed and "HY-SP-20" not in listed  # SP-20 has nothing left to write
    assert "3 document(s) still hold placeholders" in result.output

    # The drafts are searchable by their quality manager.
    found = page_text(client.get("/search/", query_string={"q": "投影仪", "history": "y"}))
    assert "HY-SM-01" in found
    found = page_text(client.get("/search/", query_string={"q": "派工", "history": "y"}))
    assert "HY-SP-04" in found

    # Staff do not get the checklist.
    auth.logout()
    create_user("staff", ["staff"], "赵敏")
    db.session.commit()
    auth.login("staff")
    assert client.get("/setup/checklist").status_code == 403


def test_setup_refuses_an_instance_that_is_not_empty(app, runner, facts_file, create_document):
    create_document()
    db.session.commit()
    before = _counts()
    result = runner.invoke(args=["setup", "company", "--facts", facts_file()])
    assert result.exit_code != 0
    assert "this instance is not empty (1 document(s))" in result.output
    assert "Nothing was set up" in result.output
    assert _counts() == before


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda t: t.replace('[[departments]]\ncode = "SAL"\nname = "销售部"\n', ""),
            "facts.toml: departments: the templates need a department for SAL (业务部)",
        ),
        (
            lambda t: t.replace('response_time = "2 小时"', 'respons_time = "2 小时"'),
            "facts.toml: facts: unknown key 'respons_time'",
        ),
        (
            lambda t: t.replace('company = "恒远办公设备服务有限公司"\n', ""),
            "facts.toml: facts.company: is required: Company name",
        ),
        (lambda t: t.replace('prefix = "HY"', 'prefix = "h y"'), "facts.toml: prefix: must be"),
        (lambda t: t + "\n[[people", "facts.toml: not valid TOML"),
        (
            lambda t: t.replace('roles = ["approver"]\ndepartment = "ADM"', 'roles = ["boss"]'),
            "facts.toml: people[1].roles[0]: 'boss' is not one of",
        ),
        # Found only while writing: the departments are flushed by then, and are rolled back.
        (
            lambda t: t.replace('username = "li"', 'username = "li na!"'),
            "A user name is letters, digits, dots, dashes or underscores.",
        ),
    ],
)
def test_bad_facts_say_what_is_wrong_and_write_nothing(
    app, runner, facts_file, create_user, change, message
):
    create_user("qm", ["quality_manager"], "王芳")
    db.session.commit()
    before = _counts()
    result = runner.invoke(args=["setup", "company", "--facts", facts_file(change(FACTS))])
    assert result.exit_code != 0
    assert message in result.output, result.output
    db.session.rollback()
    assert _counts() == before


def test_options_override_the_facts_file(app, runner, facts_file, create_user):
    create_user("qm", ["quality_manager"], "王芳")
    db.session.commit()
    before = _counts()
    args = ["setup", "company", "--facts", facts_file(), "--prefix", "NX"]
    # A prefix other than the one numbering reads (DOCMGMT_DOC_PREFIX) is refused.
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert (
        "NX is not the prefix this instance numbers documents with (HY): "
        "set DOCMGMT_DOC_PREFIX=NX and restart"
    ) in result.output
    db.session.rollback()
    assert _counts() == before
    app.config["DOC_NUMBER_PREFIX"] = "NX"
    result = runner.invoke(
        args=[
            "setup",
            "company",
            "--facts",
            facts_file(),
            "--company",
            "新名字有限公司",
            "--prefix",
            "NX",
            "--products",
            "扫地机器人、净水器",
        ]
    )
    assert result.exit_code == 0, result.output
    manual = db.session.scalar(select(Document).where(Document.number == "NX-SM-01"))
    text = _text(manual.revisions[0])
    assert "新名字有限公司" in text and "扫地机器人、净水器" in text and "NX-SP-03" in text
    # A document registered later is numbered on from the set-up's numbers.
    from docmgmt.versioning import documents

    qm = db.session.scalar(select(User).where(User.username == "qm"))
    assert documents.create_document(qm, "维修作业指导书", "procedure").number == "NX-SP-23"


# The A0 text of the demo's manual and 22 procedures, as loaded before the text became
# templates (sha256 of their body blocks, in number order).
DEMO_A0_DIGEST = "777bc959870a7f93c4eafc85cc27420717ff8a45e26b0b05a4ba32892e4e5492"
# The same for XX-SP-04 A1 and A2, as loaded before their text became templates too.
DEMO_SP04_LATER_DIGEST = "69114127d17581ec62284c7f32c85f62bed8be4f53b4b4b0094fe73fa6892c48"


def test_the_demo_loads_the_same_text_from_the_templates(app, runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    docs = db.session.scalars(
        select(Document)
        .where(Document.doc_type.in_(["manual", "procedure"]))
        .order_by(Document.number)
    ).all()
    a0 = [next(r for r in d.revisions if r.version == "A0") for d in docs]
    digest = hashlib.sha256(
        json.dumps([r.body_blocks for r in a0], ensure_ascii=False, sort_keys=True).encode()
    ).hexdigest()
    assert digest == DEMO_A0_DIGEST
    later = [r for r in docs[4].revisions if r.version in ("A1", "A2")]
    assert docs[4].number == "XX-SP-04" and len(later) == 2
    digest = hashlib.sha256(
        json.dumps([r.body_blocks for r in later], ensure_ascii=False, sort_keys=True).encode()
    ).hexdigest()
    assert digest == DEMO_SP04_LATER_DIGEST
    # The record forms' text is the templates' form text, filled in as the kit fills it in.
    from docmgmt.demo import loader

    forms = db.session.scalars(
        select(Document).where(Document.doc_type == "record_form").order_by(Document.number)
    ).all()
    assert [d.number for d in forms] == [f"XX-SR-{n:02d}" for n in range(1, 49)]
    by_number = {d.number: d for d in forms}
    ids = ["SM-01", *(f"SP-{n:02d}" for n in range(1, 23)), *loader.TEMPLATES.forms]
    for form_id in loader.TEMPLATES.forms:
        text = loader.TEMPLATES.render(
            form_id,
            facts=loader.FACTS,
            departments={d.code: d.name for d in loader.DEPARTMENTS},
            numbers={i: f"XX-{i}" for i in ids},
            prefix="XX",
        )
        assert by_number[f"XX-{form_id}"].revisions[0].body_source == text
    sr03 = by_number["XX-SR-03"].revisions[0].body_source
    assert "依据：XX-SP-04《报修、送修和上门维修服务控制程序》" in sr03
    assert "保存部门：售后服务部" in sr03


def test_a_broken_template_names_the_file_the_line_and_the_rule(tmp_path):
    import shutil

    from docmgmt.demo import data, templates

    for f in data.CONTENT.iterdir():
        shutil.copy(f, tmp_path / f.name)
    codes = [d.code for d in data.read().departments]
    sp04 = tmp_path / "sp-04.md"
    good = sp04.read_text(encoding="utf-8")
    for bad, message in (
        ("见 {{doc:SP-99}}。", "sp-04.md, line 1: {{doc:SP-99}}: 'SP-99' is not a document"),
        ("{{dept:QA}}", "sp-04.md, line 1: {{dept:QA}}: 'QA' is not a department code"),
        ("{{response_tim}}", "'response_tim' is not a fact declared in template.toml"),
        ("{{ 公司 }}", "sp-04.md, line 1: {{ 公司 }} is not a token"),
        ("{{company", "sp-04.md, line 1: a brace pair {{ … }} is not closed"),
        ("【待填写：网点", "sp-04.md, line 1: a placeholder 【待填写：…】 is not closed"),
    ):
        sp04.write_text(bad + good, encoding="utf-8")
        with pytest.raises(data.DemoDataError) as err:
            templates.read(codes, 22, tmp_path / "template.toml")
        assert message in str(err.value)
    sp04.write_text(good, encoding="utf-8")
    (tmp_path / "template.toml").write_text(
        '[facts.company]\nlabel = "公司名称"\nrequired = "yes"\n', encoding="utf-8"
    )
    with pytest.raises(data.DemoDataError, match=r"template.toml: facts.company.required"):
        templates.read(codes, 22, tmp_path / "template.toml")


def test_submitting_a_draft_with_placeholders_asks_to_confirm_and_names_them(
    app, runner, create_user, facts_file, auth, client, token_for, today
):
    """Then the manual's first publication goes the normal route: prepared, reviewed,
    approved, published."""
    from docmgmt.versioning.models import Revision, RevisionState
    from tests.conftest import PASSWORD

    create_user("qm", ["quality_manager"], "王芳", job_title="客户服务部经理")
    reviewer = create_user("reviewer", ["approver"], "刘洋")
    approver = create_user("approver", ["approver"], "陈静")
    db.session.commit()
    result = runner.invoke(args=["setup", "company", "--facts", facts_file()])
    assert result.exit_code == 0, result.output
    manual = db.session.scalar(select(Document).where(Document.number == "HY-SM-01"))
    rev_id = manual.revisions[0].id
    url = f"/documents/{manual.id}/revisions/{rev_id}"

    auth.login("qm")
    page = page_text(client.get(url))
    assert "This draft still holds places to fill in:" in page and "服务理念" in page
    signing = {"reviewer_id": reviewer.id, "approver_id": approver.id, "password": PASSWORD}
    r = client.post(f"{url}/submit", data=signing)
    assert r.status_code == 422, r.status_code
    text = page_text(r)
    assert "This revision still holds places to fill in: 企业概况" in text
    assert "服务理念" in text and "confirm that it goes for review with them" in text
    assert db.session.get(Revision, rev_id).state == RevisionState.DRAFT
    r = client.post(f"{url}/submit", data=signing | {"allow_placeholders": "y"})
    assert r.status_code == 303, page_text(r)
    auth.logout()
    for who, meaning in (("reviewer", "reviewed"), ("approver", "approved")):
        auth.login(who)
        r = client.post(f"{url}/sign/{meaning}", data={"password": PASSWORD})
        assert r.status_code == 303, page_text(r)
        auth.logout()
    auth.login("qm")
    r = client.post(f"{url}/publish", data={"effective_date": today.isoformat()})
    assert r.status_code == 303
    assert db.session.get(Revision, rev_id).state == RevisionState.EFFECTIVE

    # The API asks the same: allow_placeholders, or a message naming what is left.
    sp04 = db.session.scalar(select(Document).where(Document.number == "HY-SP-04"))
    qm = db.session.scalar(select(User).where(User.username == "qm"))
    headers = token_for(qm)
    body = {"reviewer_id": reviewer.id, "approver_id": approver.id, "password": PASSWORD}
    api = f"/api/v1/revisions/{sp04.revisions[0].id}/submit"
    r = client.post(api, json=body, headers=headers)
    assert r.status_code == 422 and "上门费和维修收费标准" in str(r.get_json())
    r = client.post(api, json=body | {"allow_placeholders": True}, headers=headers)
    assert r.status_code == 200, r.get_json()


def test_the_administrator_sets_up_the_company_in_the_first_run_form(
    app, create_user, auth, client
):
    create_user("admin", ["admin"], "管理员")
    db.session.commit()
    auth.login("admin")
    r = client.get("/setup/company")
    assert r.status_code == 200 and "Set up the company" in page_text(r)
    form = {
        "company": "恒远办公设备服务有限公司",
        "products": "复印机、打印机",
        "prefix": "HY",
        "sm_name": "王芳",
        "sm_title": "客户服务部经理",
        "sm_username": "wang",
        "gm_name": "张伟",
        "gm_username": "zhang",
        "mr_name": "李娜",
        "mr_title": "副总经理",
        "fact_response_time": "2 小时",
        "dept_AS_name": "客户服务部",
        "dept_ENG_by": "AS",
        "dept_FIN_by": "ADM",
        "dept_PUR_by": "ADM",
    }
    # A missing fact: said, nothing written.
    r = client.post("/setup/company", data=form | {"company": ""})
    assert r.status_code == 422
    assert "Nothing was set up: Company name: is required" in page_text(r)
    db.session.rollback()
    assert _counts() == [0, 0, 1]

    r = client.post("/setup/company", data=form)
    assert r.status_code == 200, page_text(r)
    text = page_text(r)
    assert "23 drafts were created" in text and "HY-SP-22" in text
    assert "wang" in text and "zhang" in text and "First passwords" in text
    deps = {d.code: d.name for d in db.session.scalars(select(Department))}
    assert deps == {"MGT": "管理层", "ADM": "行政部", "SAL": "业务部", "AS": "客户服务部"}
    manual = db.session.scalar(select(Document).where(Document.number == "HY-SM-01"))
    body = _text(manual.revisions[0])
    assert "任命客户服务部经理王芳为本公司售后服务管理师" in body and "副总经理李娜" in body
    assert "接到报修后 2 小时内做出响应" in body and "总经理：张伟" in body
    wang = db.session.scalar(select(User).where(User.username == "wang"))
    assert wang.department.code == "AS" and {r.value for r in wang.roles} == {"quality_manager"}

    # The result page's checklist is open to the administrator who set the company up.
    r = client.get("/setup/checklist")
    assert r.status_code == 200 and "HY-SP-04" in page_text(r)

    # Once set up, the form is closed.
    r = client.get("/setup/company")
    assert r.status_code == 409 and "already holds data (71 document(s))" in page_text(r)
    assert client.post("/setup/company", data=form).status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Document)) == 71


def test_the_demo_loaded_with_another_prefix_names_its_own_numbers_in_every_revision(app, runner):
    """DOCMGMT_DOC_PREFIX=NX: XX-SP-04's later revisions A1 and A2 come from templates too,
    so no revision's text, source or summary names an XX- number, and A1 and A2 still name
    the documents they named (NX-SP-13, NX-SR-05, NX-WI-05 …)."""
    app.config["DOC_NUMBER_PREFIX"] = "NX"
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    revisions = db.session.scalars(select(Revision)).all()
    assert len(revisions) >= 25
    for rev in revisions:
        for text in (rev.body_source, _text(rev), rev.change_summary, rev.title):
            assert "XX-" not in text, (rev.document.number, rev.version)
    sp04 = db.session.scalar(select(Document).where(Document.number == "NX-SP-04"))
    later = {r.version: _text(r) for r in sp04.revisions}
    for version in ("A1", "A2"):
        assert "NX-SP-13" in later[version] and "NX-SR-05" in later[version], version
    assert "NX-WI-05" in later["A2"] and "NX-SP-14" in later["A2"]
