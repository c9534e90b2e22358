"""Chinese throughout: every page of the Chinese UI, walked with the demo company's data as the
quality manager, a technician and the auditor, shows no raw code — no snake_case identifier
(in_review, quality_manager), no dotted action code (auth.login), no "user 7", no English
sentence left over from a library, no half-width colon after a Chinese label.

The pages are the app's own GET routes (url_map), their ids filled from the demo data, so a new
page is walked without editing this test."""

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from docmgmt.extensions import db

# What a page of the Chinese UI must never show.
CODES = {
    "snake_case code": re.compile(r"(?<![\w/.-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/.-])"),
    "dotted code": re.compile(r"(?<![\w@/.-])[a-z][a-z_]*\.[a-z][a-z_]+(?![\w@/.(-])"),
    "user N": re.compile(r"\buser \d+\b", re.I),
    "English sentence": re.compile(r"\b[A-Za-z][a-z]+(?: [a-z]{2,}){2,}\b"),
    "half-width colon after Chinese": re.compile(r"[\u4e00-\u9fff\uff09]:"),
}
# Dotted words that are not codes: file names, host names.
NOT_CODES = re.compile(r"\.(?:pdf|docx|xlsx|csv|zip|png|jpe?g|json|txt|md|com|cn|org|net)$")


class _Text(HTMLParser):
    """The text a reader sees, plus the attributes read aloud or shown (placeholder, title,
    aria-label, a button's value)."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("placeholder", "title", "aria-label", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(p.strip() for p in parser.parts if p.strip())


def _codes_shown_alone() -> set[str]:
    """Stored values that must never be a page's text on their own: every enum value of the
    models (active, in_review, paper …), record type and department codes (WO, AS)."""
    import enum
    import importlib
    import pkgutil

    import docmgmt
    from docmgmt.auth.models import Department, User
    from docmgmt.records.models import RecordType

    values = set()
    for mod in pkgutil.walk_packages(docmgmt.__path__, "docmgmt."):
        if mod.name.endswith(".models"):
            for obj in vars(importlib.import_module(mod.name)).values():
                if (
                    isinstance(obj, type)
                    and issubclass(obj, enum.StrEnum)
                    and obj is not enum.StrEnum
                ):
                    values |= {m.value for m in obj}
    values |= set(db.session.scalars(select(RecordType.code)))
    values |= set(db.session.scalars(select(Department.code)))
    # A user name is the person's own (the demo's auditor logs in as "auditor").
    return values - set(db.session.scalars(select(User.username)))


def untranslated(text: str, alone: frozenset = frozenset()) -> list[str]:
    found = [f"code shown alone: {ln!r}" for ln in text.splitlines() if ln.strip() in alone]
    for what, pattern in CODES.items():
        for m in pattern.finditer(text):
            token = m.group(0)
            if what == "dotted code" and NOT_CODES.search(token):
                continue
            line = next(ln for ln in text.splitlines() if token in ln)
            found.append(f"{what}: {token!r} in {line[:90]!r}")
    return found


def test_the_detector_catches_what_the_issue_names():
    for bad in (
        "状态 in_review → in_review",
        "操作 auth.login",
        "对象 user 7",
        "角色 quality_manager",
        "变更内容: 缩短派工",
        "This field is required.",
    ):
        assert untranslated(bad), bad
    assert untranslated("类型\nWO\n11", frozenset({"WO"}))
    assert untranslated("状态\nactive\n11", frozenset({"active"}))
    for good in ("XX-SP-04 A1", "GB/T 27922-2011", "master-list.pdf", "qm@example.com", "PDF"):
        assert not untranslated(good), good


def _ids():
    """One id per URL argument, from the demo data: revisions in several states."""
    from docmgmt.auth.models import User
    from docmgmt.certification.models import EvidencePack
    from docmgmt.control.models import ChangeRequest, Withdrawal
    from docmgmt.printing.models import ControlledCopy
    from docmgmt.records.models import Disposal, Record, RecordImport, RecordType
    from docmgmt.training.models import TrainingSession, TrainingTask
    from docmgmt.versioning.models import Document, Revision

    def first(model, *where):
        return db.session.scalar(select(model.id).where(*where).order_by(model.id).limit(1))

    revisions = {}
    for rev in db.session.scalars(select(Revision).order_by(Revision.id)):
        revisions.setdefault(rev.state.value, (rev.document_id, rev.id))
    tech = db.session.scalar(select(User).where(User.username == "tech"))
    return {
        "revisions": list(revisions.values()),
        "effective": revisions["effective"][1],
        "doc_id": first(Document),
        "user_id": tech.id,
        "wd_id": first(Withdrawal),
        "cr_id": first(ChangeRequest),
        "copy_id": first(ControlledCopy),
        "task_id": first(TrainingTask, TrainingTask.user_id == tech.id),
        "session_id": first(TrainingSession),
        "type_id": first(RecordType),
        "record_id": first(Record),
        "import_id": first(RecordImport),
        "disposal_id": first(Disposal),
        "pack_id": first(EvidencePack),
    }


SKIP = {"main.healthz", "auth.login"}
# The record type definition's example (a placeholder): field names are identifiers a CSV
# import names as columns, so they are codes by design.
# The record types page lists each type's code in its own column.
ALLOWED = {("/records/types", "visit_date"), ("/records/types", "code shown alone")}
FILE = re.compile(r"\.(pdf|docx|xlsx|csv|zip)$|/images/|/attachments/|/source/|/verify/")


def _paths(app, ids):
    out = ["/search/?q=投诉", "/search/?q=派工单", "/search/?q=XX-SP"]
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIP or rule.endpoint == "static":
            continue
        if rule.rule.startswith("/api") or FILE.search(rule.rule):
            continue
        args = set(rule.arguments)
        if args == {"doc_id", "rev_id"}:
            out += [
                rule.rule.replace("<int:doc_id>", str(d)).replace("<int:rev_id>", str(r))
                for d, r in ids["revisions"]
            ]
            continue
        if args == {"rev_id"}:
            out += [rule.rule.replace("<int:rev_id>", str(r)) for _d, r in ids["revisions"]]
            continue
        path = rule.rule
        for arg in args:
            if ids.get(arg) is None:
                break
            path = path.replace(f"<int:{arg}>", str(ids[arg]))
        else:
            out.append(path)
    return sorted(set(out))


@pytest.fixture
def demo_company(app):
    from docmgmt.demo import loader as demo

    demo.load()
    db.session.commit()
    return _ids()


def test_no_page_of_the_chinese_ui_shows_a_code(app, client, demo_company):
    from docmgmt.demo.loader import DEMO_PASSWORD

    found, walked = [], 0
    alone = frozenset(_codes_shown_alone())
    for username in ("qm", "tech", "auditor"):
        client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
        client.post("/lang/zh_CN")
        for path in _paths(app, demo_company):
            r = client.get(path)
            if r.status_code != 200 or r.mimetype != "text/html":
                continue
            walked += 1
            found += [
                f"{path} ({username}): {p}"
                for p in untranslated(visible_text(r.text), alone)
                if not any(
                    path == a and (f"'{token}'" in p or p.startswith(token)) for a, token in ALLOWED
                )
            ]
        client.post("/logout")
    assert walked > 60
    assert not found, f"{len(found)} untranslated:\n" + "\n".join(sorted(set(found)))


def test_the_pdfs_show_no_code(app, client, demo_company):
    """The prints (a revision, the master list, the copies register, a training record):
    the signature block reads 制订/审核/核准 with its meaning in Chinese (no "制订 prepared")."""
    from io import BytesIO

    from pypdf import PdfReader

    from docmgmt.demo.loader import DEMO_PASSWORD

    client.post("/login", data={"username": "qm", "password": DEMO_PASSWORD})
    client.post("/lang/zh_CN")
    rev = demo_company["effective"]
    found = []
    for path in (
        f"/revisions/{rev}/print.pdf",
        "/register/master-list.pdf",
        "/copies/register.pdf",
        f"/training/people/{demo_company['user_id']}/record.pdf",
    ):
        r = client.get(path)
        assert r.status_code == 200 and r.mimetype == "application/pdf", path
        text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(r.data)).pages)
        found += [f"{path}: {p}" for p in untranslated(text)]
        found += [f"{path}: {w}" for w in ("prepared", "reviewed", "approved") if w in text]
    assert not found, "\n".join(found)
