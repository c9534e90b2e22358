"""The demo company's story: departments, a user per role, the service manual, 22
procedures with their history and the 48 record forms they name, controlled copies,
training, records, reviews and audits.

Everything is created through the same operations the pages and the API use, replaying
history with explicit timestamps, so the demo's signatures and audit trail are real. The data
(who, which documents, record types, the training matrix, the clause map) is
content/company.toml, read and checked by docmgmt.demo.data before anything is written.
"""

import json
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select

from docmgmt.auth import operations as auth_ops
from docmgmt.auth.models import Department
from docmgmt.clock import company_tz, utcnow
from docmgmt.demo import data, templates
from docmgmt.extensions import db
from docmgmt.training.models import TrainingTask
from docmgmt.versioning import documents, drafting, publishing, signing

COMPANY = data.read()  # docmgmt/demo/content/company.toml, checked
CONTENT = data.CONTENT
DEMO_PASSWORD = "demo-pass-1"

DEPARTMENTS = COMPANY.departments
DEMO_USERS = COMPANY.users
MANUAL_TITLE = COMPANY.manual_title
PROCEDURES = COMPANY.procedures
FIRST_ISSUE = COMPANY.first_issue
EXTERNALS = COMPANY.externals
RECORD_TYPES = COMPANY.record_types
CHOICES = COMPANY.choices
CLAUSE_MAP = COMPANY.clauses
# The text of the manual and the procedures: the template set, filled in with the demo's facts.
TEMPLATES = templates.read(
    [d.code for d in DEPARTMENTS],
    len(PROCEDURES),
    titles={f"SP-{n:02d}": p.title for n, p in enumerate(PROCEDURES, 1)},
)
FACTS = templates.check_facts(COMPANY.facts, data._Reader(data.COMPANY_FILE), "facts", TEMPLATES)
# The text of XX-SP-04's later revisions A1 and A2: templates too (tokens for the numbers and
# departments, so a demo loaded with another DOCMGMT_DOC_PREFIX names its own), checked alike.
SP04_LATER = {
    version: templates.check_text(
        (CONTENT / f"sp-04.{version}.md").read_text(encoding="utf-8"),
        f"sp-04.{version}.md",
        TEMPLATES.facts,
        [d.code for d in DEPARTMENTS],
        templates.doc_ids(len(PROCEDURES)) + list(TEMPLATES.forms),
    )
    for version in ("A1", "A2")
}


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=company_tz()).astimezone(UTC)


def _read(name: str) -> str:
    path = CONTENT / name
    return path.read_text(encoding="utf-8")


def _issue(rev, qm, reviewer, approver, effective: date, prepared: date):
    signing.submit_for_review(
        qm, rev, reviewer=reviewer, approver=approver, password=DEMO_PASSWORD, now=_at(prepared, 9)
    )
    signing.sign_revision(
        reviewer, rev, "reviewed", DEMO_PASSWORD, now=_at(prepared + timedelta(2), 10)
    )
    signing.sign_revision(
        approver, rev, "approved", DEMO_PASSWORD, now=_at(prepared + timedelta(4), 15)
    )
    publishing.publish_revision(qm, rev, effective, now=_at(effective, 8))


def procedure_number(n: int, prefix: str | None = None) -> str:
    """The number of the n-th procedure of the set: XX-SP-01 …"""
    prefix = prefix or current_app.config["DOC_NUMBER_PREFIX"]
    return f"{prefix}-{current_app.config['DOC_TYPE_CODES']['procedure']}-{n:02d}"


def load() -> None:
    deps = {}
    for code, name, name_en in DEPARTMENTS:
        dep = Department(code=code, name=name, name_en=name_en)
        db.session.add(dep)
        deps[code] = dep
    db.session.flush()

    users = {}
    for username, full_name, title, roles, dep in DEMO_USERS:
        expires = utcnow() + timedelta(days=30) if "auditor" in roles else None
        users[username] = auth_ops.create_user(
            None,
            username,
            full_name,
            DEMO_PASSWORD,
            roles,
            department=deps.get(dep),
            job_title=title,
            email=f"{username}@example.com",
            access_expires_dt=expires,
        )
    qm, gm, mr, head = users["qm"], users["gm"], users["mr"], users["ashead"]
    prefix = current_app.config["DOC_NUMBER_PREFIX"]
    prepared = FIRST_ISSUE - timedelta(days=11)

    manual = documents.create_document(
        qm, MANUAL_TITLE, "manual", department=deps[COMPANY.manual_department], now=_at(prepared, 8)
    )
    # The procedures name the record forms by the numbers the starter kit gives them
    # (XX-SR-03 …); the forms are registered below, issued with the procedures.
    numbers = (
        {templates.MANUAL_ID: manual.number}
        | {f"SP-{n:02d}": procedure_number(n) for n in range(1, len(PROCEDURES) + 1)}
        | templates.form_numbers(TEMPLATES, prefix, current_app.config["DOC_TYPE_CODES"])
    )

    def text(doc_id):
        return TEMPLATES.render(
            doc_id,
            facts=FACTS,
            departments={d.code: d.name for d in DEPARTMENTS},
            numbers=numbers,
            prefix=prefix,
        )

    def later(version):  # XX-SP-04 A1, A2
        departments = {d.code: d.name for d in DEPARTMENTS}
        return templates.fill(SP04_LATER[version], TEMPLATES, FACTS, departments, numbers, prefix)

    rev = drafting.create_draft(
        qm, manual, body=text(templates.MANUAL_ID), change_summary="新制订", now=_at(prepared, 8)
    )
    _issue(rev, qm, mr, gm, FIRST_ISSUE, prepared)

    docs = {}
    for n, (title, dep) in enumerate(PROCEDURES, 1):
        doc = documents.create_document(
            qm,
            title,
            "procedure",
            department=deps[dep],
            number=procedure_number(n),
            now=_at(prepared, 8),
        )
        rev = drafting.create_draft(
            qm,
            doc,
            body=text(f"SP-{n:02d}"),
            change_summary="新制订",
            now=_at(prepared, 8),
        )
        _issue(rev, qm, head, mr, FIRST_ISSUE, prepared)
        docs[n] = doc

    # The record forms (XX-SR-01 … 48), as the starter kit makes them (the same title, keeping
    # department and text), each issued A0 with the procedure that first names it: the same
    # day, preparer, reviewer and approver as that procedure's A0.
    signers = {templates.MANUAL_ID: (mr, gm)} | {
        f"SP-{n:02d}": (head, mr) for n in range(1, len(PROCEDURES) + 1)
    }
    forms = {}
    for form_id, form in TEMPLATES.forms.items():
        doc = documents.create_document(
            qm,
            form.name,
            "record_form",
            department=deps[form.department],
            number=numbers[form_id],
            now=_at(prepared, 8),
        )
        rev = drafting.create_draft(
            qm, doc, body=text(form_id), change_summary="新制订", now=_at(prepared, 8)
        )
        reviewer, approver = signers[form.named_by[0]]
        _issue(rev, qm, reviewer, approver, FIRST_ISSUE, prepared)
        forms[form_id] = doc

    # Controlled paper copies of the manual and of XX-SP-04 A0 (文件发放回收记录).
    from docmgmt.printing import operations as pops

    issued = _at(FIRST_ISSUE, 14)
    for holder, dep in (("总经理办公室", "MGT"), ("售后服务部", "AS"), ("行政部", "ADM")):
        pops.issue_copy(
            qm, manual.revisions[0], holder_name=holder, department=deps.get(dep), now=issued
        )
    sp04_a0 = docs[4].revisions[0]
    old_copies = [
        pops.issue_copy(qm, sp04_a0, holder=users[name], now=issued)
        for name in ("dispatcher", "tech")
    ]

    history = json.loads(_read("history.json"))["sp-04"]
    a1, a2 = history[0], history[1]
    sp04 = docs[4]
    a1_day = date.fromisoformat(a1["date"])
    rev = drafting.create_draft(
        qm,
        sp04,
        body=later("A1"),
        change_summary=a1["summary"],
        change_number=a1["change_no"],
        pages_affected=a1["pages"],
        now=_at(a1_day - timedelta(days=12), 9),
    )
    _issue(rev, qm, head, mr, a1_day, a1_day - timedelta(days=10))
    # A1 superseded A0: the dispatcher returned her copy, the technician's is still out (a
    # finding for the auditor), and A1 was issued to both.
    pops.close_copy(qm, old_copies[0], lost=False, note="已交回，销毁", now=_at(a1_day, 16))
    for name in ("dispatcher", "tech"):
        pops.issue_copy(qm, rev, holder=users[name], now=_at(a1_day, 15))

    # A2 waits for approval: prepared and reviewed, the management representative has not signed.
    start = utcnow().astimezone(company_tz()).date() - timedelta(days=6)
    rev = drafting.create_draft(
        qm,
        sp04,
        body=later("A2"),
        change_summary=a2["summary"],
        change_number=a2["change_no"],
        pages_affected=a2["pages"],
        now=_at(start, 9),
    )
    signing.submit_for_review(
        qm,
        rev,
        reviewer=head,
        approver=mr,
        password=DEMO_PASSWORD,
        now=_at(start + timedelta(days=2), 10),
    )
    signing.sign_revision(
        head,
        rev,
        "reviewed",
        DEMO_PASSWORD,
        comment="内容与现行做法一致，同意提交核准。",
        now=_at(start + timedelta(days=3), 14),
    )

    _document_control(users, manual, docs, deps, forms)
    _training(users, manual, docs)
    _records(users, docs, deps, forms)
    _certification(users, manual, docs)
    db.session.flush()


def _certification(users, manual, docs) -> None:
    """The certificate, its audits (the next surveillance falls due in about six weeks) and
    the clause-to-evidence mappings; 5.1.7 and 5.2.1 are left unmapped: gaps to show."""
    from docmgmt.certification import operations as cops
    from docmgmt.records.models import RecordType

    qm = users["qm"]
    today = utcnow().astimezone(company_tz()).date()
    issued = today - timedelta(days=2 * 365 + 320)
    cert = cops.create_certificate(
        qm,
        number="CSC-27922-2023-0158",
        body="示例认证中心",
        issued_on=issued,
        expires_on=issued + timedelta(days=3 * 365),
    )
    cops.record_audit(
        qm, cert, held_on=issued - timedelta(days=20), kind="certification", auditor_name="周琳"
    )
    cops.record_audit(
        qm,
        cert,
        held_on=issued + timedelta(days=350),
        kind="surveillance",
        auditor_name="周琳",
        notes="一般不符合 1 项，已关闭",
    )
    cops.record_audit(
        qm, cert, held_on=today - timedelta(days=320), kind="surveillance", auditor_name="周琳"
    )
    types = {t.code: t for t in db.session.scalars(select(RecordType))}
    for clause, (numbers, codes, _manual) in CLAUSE_MAP.items():
        for n in numbers:
            cops.map_clause(qm, clause, document=docs[n])
        for code in codes:
            cops.map_clause(qm, clause, record_type=types[code])
    for clause, row in CLAUSE_MAP.items():
        if row.manual:
            cops.map_clause(qm, clause, document=manual)


def _records(users, docs, deps, forms) -> None:
    """The record types the procedures name, a year of service records (some already past
    their retention, one under a legal hold), a correction and a pending disposal."""
    from docmgmt.records import operations as rops

    qm, tech, disp = users["qm"], users["tech"], users["dispatcher"]
    types = {}
    for code, name, months, trigger, method, dep, fields, form in RECORD_TYPES:
        types[code] = rops.create_type(
            qm,
            code=code,
            name=name,
            retention_months=months,
            trigger=trigger,
            disposal_method=method,
            department=deps.get(dep),
            form_document=forms.get(form),
            fields=[
                {"name": n, "label": lbl, "kind": k, "required": req, "choices": CHOICES.get(n, [])}
                for n, lbl, k, req in fields
            ],
            now=_at(date(2022, 2, 15), 9),
        )
    today = utcnow().astimezone(company_tz()).date()
    customers = ["张先生", "王女士", "李经理", "赵先生", "陈女士", "刘先生", "杨女士", "黄先生"]
    faults = ["不制冷", "漏水", "异响", "无法开机", "显示故障代码E4", "扫码支付失败"]
    products = CHOICES["product"]
    # Two records old enough to be past their retention (3年, as SP-04 and SP-05 say), and a
    # year of recent ones.
    for n, ago in enumerate([1190, 1130, 300, 240, 180, 120, 60, 30, 12, 5, 2]):
        day = today - timedelta(days=ago)
        cust, fault, prod = customers[n % 8], faults[n % 6], products[n % 5]
        rops.file_record(
            disp,
            types["PL"],
            title=f"{cust} {prod}{fault}",
            values={"caller": cust, "phone": f"1380000{n:04d}", "fault": f"{prod}{fault}"},
            now=_at(day, 9),
        )
        rops.file_record(
            disp,
            types["WO"],
            title=f"{cust} {prod}{fault}",
            values={
                "customer": cust,
                "product": prod,
                "visit_date": day.isoformat(),
                "technician": "tech",
                "hours": 1 + n % 3,
            },
            external_id=f"GD-{day:%Y%m%d}-{n:03d}",
            now=_at(day, 10),
        )
        rops.file_record(
            disp,
            types["RV"],
            title=f"{cust} 当日回访",
            values={"customer": cust, "satisfied": ["满意", "满意", "一般"][n % 3]},
            now=_at(day, 17),
        )
    complaint = rops.file_record(
        disp,
        types["CP"],
        title="杨女士 投诉上门超时",
        values={"customer": "杨女士", "content": "约定上午上门，下午才到", "handler": "ashead"},
        now=_at(today - timedelta(days=40), 11),
    )
    rops.set_trigger_date(
        users["ashead"],
        complaint,
        today - timedelta(days=33),
        now=_at(today - timedelta(days=33), 15),
    )
    wrong = rops.file_record(
        tech,
        types["QF"],
        title="自动售货机 投币器卡币批量问题",
        values={"product": "自动售货机", "problem": "同批次投币器卡币，已更换 12 台"},
        now=_at(today - timedelta(days=20), 14),
    )
    rops.file_record(
        tech,
        types["QF"],
        title="自动售货机 投币器卡币批量问题（更正数量）",
        values={"product": "自动售货机", "problem": "同批次投币器卡币，已更换 14 台"},
        corrects=wrong,
        now=_at(today - timedelta(days=19), 9),
    )
    rops.file_record(
        qm,
        types["EQ"],
        title="冷媒回收机 RC-02",
        values={"equipment": "冷媒回收机", "location": "维修车间"},
        now=_at(today - timedelta(days=200), 9),
    )
    # A dispute about an old work order: held, so it cannot be disposed of with the others.
    rops.place_hold(
        qm,
        scope="query",
        rt=types["WO"],
        query="张先生",
        reason="张先生消费纠纷，法院调取证据，保留至结案",
        now=_at(today - timedelta(days=3), 10),
    )


def _training(users, manual, docs) -> None:
    """The training matrix, read-and-understood tasks (some overdue, some signed), a session
    with an assessment and competence evaluations (one due soon)."""
    from docmgmt.training import operations as tops

    qm = users["qm"]
    today = utcnow().astimezone(company_tz()).date()
    set_up = today - timedelta(days=20)  # the matrix was set up three weeks ago
    for document, kind, value, days in COMPANY.training:
        doc = manual if document == "manual" else docs[document]
        tops.set_requirement(qm, doc, kind, value, days, now=_at(set_up, 9))
    db.session.flush()
    # The dispatcher read XX-SP-04 A1 and signed for it.
    task = db.session.scalar(
        select(TrainingTask).where(
            TrainingTask.user_id == users["dispatcher"].id,
            TrainingTask.document_id == docs[4].id,
        )
    )
    tops.acknowledge(users["dispatcher"], task, DEMO_PASSWORD, now=_at(set_up + timedelta(3), 10))
    # A classroom session on the manual with a test: both staff passed.
    held = today - timedelta(days=10)
    tops.record_session(
        qm,
        held_on=held,
        kind="classroom",
        topic="服务手册宣贯及考核",
        trainer_name=users["qm"].full_name,
        trainer=users["qm"],
        duration_minutes=120,
        attendees=[(users["dispatcher"], "passed", 95), (users["tech"], "passed", 88)],
        revisions=[manual.revisions[0]],
        assessed=True,
        notes="闭卷考试，80 分合格。",
        now=_at(held, 16),
    )
    for name, ago, result, next_in in (
        ("tech", 350, "competent", 15),
        ("dispatcher", 100, "competent", 265),
    ):
        day = today - timedelta(days=ago)
        tops.record_evaluation(
            qm,
            users[name],
            evaluated_on=day,
            criteria="故障诊断与维修技能、服务规范、安全操作、客户沟通",
            result=result,
            next_due=today + timedelta(days=next_in),
            evaluator=users["ashead"],
            now=_at(day, 15),
        )


def _document_control(users, manual, docs, deps, forms) -> None:
    """External standards, links, periodic reviews (two overdue) and a pending request."""
    from docmgmt.control import operations as cops

    qm = users["qm"]
    registered = _at(date(2022, 2, 10), 9)
    externals = [
        documents.create_document(
            qm,
            title,
            "external",
            department=deps["MGT"],
            external_edition=edition,
            external_source=source,
            now=registered,
        )
        for title, edition, source in EXTERNALS
    ]
    gbt27922, gbt16868, law = externals
    for target in (gbt27922, gbt16868):
        cops.add_link(qm, manual, target, "refers_to")
    cops.add_link(qm, docs[13], law, "refers_to")
    cops.add_link(qm, docs[4], docs[13], "refers_to")
    cops.add_link(qm, docs[20], docs[21], "refers_to")
    cops.add_link(qm, docs[1], gbt27922, "refers_to")

    today = utcnow().astimezone(company_tz()).date()
    recent = today - timedelta(days=180)
    stale = today - timedelta(days=400)
    finding = "适宜性和充分性评审：内容与现行做法一致，继续有效。"
    for doc in [manual, *docs.values(), *forms.values(), gbt27922, gbt16868]:
        day = stale if doc in (docs[18], docs[19]) else recent
        cops.record_review(qm, doc, review_date=day, finding=finding, now=_at(day, 16))
    cops.record_review(
        qm, law, review_date=stale, finding="现行有效版本核对无误。", now=_at(stale, 16)
    )

    asked = today - timedelta(days=5)
    cops.create_request(
        users["dispatcher"],
        docs[13],
        reason="周末和节假日收到的投诉，程序里没有写明由谁受理、多久回复。",
        proposed_change="在 4.1 投诉受理中增加节假日值班受理和 24 小时内首次回复的规定。",
        urgency="normal",
        now=_at(asked, 11),
    )
