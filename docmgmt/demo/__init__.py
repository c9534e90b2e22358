"""The demo company: departments, a user per role, the service manual and 22 procedures.

Everything is created through the same operations the pages and the API use, replaying
history with explicit timestamps, so the demo's signatures and audit trail are real.
"""

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from docmgmt.auth import operations as auth_ops
from docmgmt.auth.models import Department
from docmgmt.clock import company_tz, utcnow
from docmgmt.extensions import db
from docmgmt.training.models import TrainingTask
from docmgmt.versioning import operations as ops

CONTENT = Path(__file__).parent / "content"
DEMO_PASSWORD = "demo-pass-1"

DEPARTMENTS = [
    ("MGT", "管理层", "Management"),
    ("ADM", "行政部", "Administration"),
    ("SAL", "业务部", "Sales"),
    ("ENG", "技术部", "Engineering"),
    ("AS", "售后服务部", "After-sales service"),
    ("FIN", "财务部", "Finance"),
    ("PUR", "采购部", "Purchasing"),
]

# username, full name, job title, roles, department code
DEMO_USERS = [
    ("admin", "系统管理员", "信息管理员", ["admin"], "ADM"),
    ("qm", "陈立华", "售后服务管理师", ["quality_manager"], "AS"),
    ("gm", "李志远", "总经理", ["approver"], "MGT"),
    ("mr", "王建平", "管理者代表", ["approver"], "MGT"),
    ("ashead", "刘洋", "售后服务部经理", ["approver"], "AS"),
    ("dispatcher", "赵敏", "调度员", ["staff"], "AS"),
    ("tech", "孙强", "维修人员", ["staff"], "AS"),
    ("auditor", "周琳", "认证审核员", ["auditor"], None),
]

MANUAL_TITLE = "商品售后服务体系管理手册"
PROCEDURES = [
    ("售后服务识别与评价控制程序", "AS"),
    ("服务承诺与目标控制程序", "MGT"),
    ("售后服务制度控制程序", "AS"),
    ("报修、送修和上门维修服务控制程序", "AS"),
    ("物品返修服务控制程序", "AS"),
    ("自建与外委维修网点控制程序", "AS"),
    ("售后服务人员能力评价和培训控制程序", "ADM"),
    ("配送与安装调试控制程序", "AS"),
    ("产品退换货控制程序", "SAL"),
    ("召回及补救赔偿控制程序", "MGT"),
    ("备品备件启用控制程序", "PUR"),
    ("维修设施控制程序", "ENG"),
    ("客户投诉管理控制程序", "AS"),
    ("客户管理控制程序", "SAL"),
    ("服务改进控制程序", "MGT"),
    ("内部评价与达标控制程序", "MGT"),
    ("售后服务保障控制程序", "AS"),
    ("应急准备与响应控制程序", "ADM"),
    ("售后服务监督和绩效考核控制程序", "ADM"),
    ("文件控制程序", "ADM"),
    ("记录控制程序", "ADM"),
    ("不符合、纠正与预防措施控制程序", "MGT"),
]

FIRST_ISSUE = date(2022, 2, 21)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=company_tz()).astimezone(UTC)


def _read(name: str) -> str:
    path = CONTENT / name
    return path.read_text(encoding="utf-8")


def _issue(rev, qm, reviewer, approver, effective: date, prepared: date):
    ops.submit_for_review(
        qm, rev, reviewer=reviewer, approver=approver, password=DEMO_PASSWORD, now=_at(prepared, 9)
    )
    ops.sign_revision(
        reviewer, rev, "reviewed", DEMO_PASSWORD, now=_at(prepared + timedelta(2), 10)
    )
    ops.sign_revision(
        approver, rev, "approved", DEMO_PASSWORD, now=_at(prepared + timedelta(4), 15)
    )
    ops.publish_revision(qm, rev, effective, now=_at(effective, 8))


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

    manual = ops.create_document(
        qm, MANUAL_TITLE, "manual", department=deps["MGT"], now=_at(prepared, 8)
    )
    rev = ops.create_draft(
        qm, manual, body=_read("manual.md"), change_summary="新制订", now=_at(prepared, 8)
    )
    _issue(rev, qm, mr, gm, FIRST_ISSUE, prepared)

    docs = {}
    for n, (title, dep) in enumerate(PROCEDURES, 1):
        doc = ops.create_document(
            qm,
            title,
            "procedure",
            department=deps[dep],
            number=f"{prefix}-{current_app.config['DOC_TYPE_CODES']['procedure']}-{n:02d}",
            now=_at(prepared, 8),
        )
        rev = ops.create_draft(
            qm, doc, body=_read(f"sp-{n:02d}.md"), change_summary="新制订", now=_at(prepared, 8)
        )
        _issue(rev, qm, head, mr, FIRST_ISSUE, prepared)
        docs[n] = doc

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
    rev = ops.create_draft(
        qm,
        sp04,
        body=_read("sp-04.A1.md"),
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
    rev = ops.create_draft(
        qm,
        sp04,
        body=_read("sp-04.A2.md"),
        change_summary=a2["summary"],
        change_number=a2["change_no"],
        pages_affected=a2["pages"],
        now=_at(start, 9),
    )
    ops.submit_for_review(
        qm,
        rev,
        reviewer=head,
        approver=mr,
        password=DEMO_PASSWORD,
        now=_at(start + timedelta(days=2), 10),
    )
    ops.sign_revision(
        head,
        rev,
        "reviewed",
        DEMO_PASSWORD,
        comment="内容与现行做法一致，同意提交核准。",
        now=_at(start + timedelta(days=3), 14),
    )

    _document_control(users, manual, docs, deps)
    _training(users, manual, docs)
    db.session.flush()


def _training(users, manual, docs) -> None:
    """The training matrix, read-and-understood tasks (some overdue, some signed), a session
    with an assessment and competence evaluations (one due soon)."""
    from docmgmt.training import operations as tops

    qm = users["qm"]
    today = utcnow().astimezone(company_tz()).date()
    set_up = today - timedelta(days=20)  # the matrix was set up three weeks ago
    for doc, kind, value, days in (
        (manual, "role", "staff", 30),
        (docs[4], "department", "AS", 14),  # 报修、送修和上门维修
        (docs[13], "department", "AS", 14),  # 客户投诉管理
        (docs[7], "job_title", "维修人员", 14),  # 能力评价和培训
        (docs[20], "role", "approver", 30),  # 文件控制程序
    ):
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


EXTERNALS = [
    ("商品售后服务评价体系", "GB/T 27922-2011", "国家市场监督管理总局、国家标准化管理委员会"),
    ("商品经营服务质量管理规范", "GB/T 16868-2009", "国家市场监督管理总局、国家标准化管理委员会"),
    ("中华人民共和国消费者权益保护法", "2013年修正", "全国人民代表大会常务委员会"),
]


def _document_control(users, manual, docs, deps) -> None:
    """External standards, links, periodic reviews (two overdue) and a pending request."""
    from docmgmt.control import operations as cops

    qm = users["qm"]
    registered = _at(date(2022, 2, 10), 9)
    externals = [
        ops.create_document(
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
    for doc in [manual, *docs.values(), gbt27922, gbt16868]:
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
