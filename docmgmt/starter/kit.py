"""The starter kit: a new company's own document set, from the template set the demo uses.

``read_facts`` checks a company's facts file (the format is ``docmgmt/starter/example-facts.toml``
and ``content/template.toml``) before anything is written; ``set_up`` creates the
departments and people, the service manual and the 22 procedures as A0 drafts with the
facts filled in (no history: nothing is effective until it is reviewed and approved), the
record types, the training matrix and the clause → evidence map, through the ordinary
operations. It flushes and never commits: the caller commits once, or rolls everything back.
"""

import re
import secrets
import tomllib
from pathlib import Path
from typing import NamedTuple

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from docmgmt.auth import operations as auth_ops
from docmgmt.auth.models import Department, Role, User
from docmgmt.auth.permissions import can_manage_documents
from docmgmt.demo import data, templates
from docmgmt.demo.data import DemoDataError, _Reader
from docmgmt.extensions import db
from docmgmt.versioning import documents, drafting
from docmgmt.versioning.models import Document

STANDS_FOR = ("general_manager", "service_manager", "management_rep")


class SetupError(DemoDataError):
    """The facts break a rule, or the instance is not empty; nothing was written."""


class _FactsReader(_Reader):
    """The facts' checks, in the reader's language: the rules through gettext, and the
    entries by the names the form shows (``labels``: entry -> label) where it has them."""

    def __init__(self, path: Path, labels: dict[str, str] | None = None):
        super().__init__(path)
        self.labels = labels or {}

    def say(self, msgid: str, **params) -> str:
        return _(msgid, **params)

    def fail(self, where: str, rule: str):
        if where in self.labels:
            raise SetupError(_("%(entry)s: %(rule)s", entry=self.labels[where], rule=rule))
        raise SetupError(
            _("%(file)s: %(entry)s: %(rule)s", file=self.path.name, entry=where, rule=rule)
        )


def fact_label(fact) -> str:
    """A fact's label in the reader's language (the templates' Chinese one if it has no other)."""
    locale = get_locale()
    if locale is not None and locale.language == "en" and fact.label_en:
        return fact.label_en
    return fact.label


class DeptFacts(NamedTuple):
    code: str
    name: str
    name_en: str
    head: str | None
    covers: list[str]  # the template departments it stands for (its own code first)


class PersonFacts(NamedTuple):
    username: str
    full_name: str
    job_title: str
    roles: list[str] | None  # None: staff for a new person, unchanged for an existing one
    department: str | None
    email: str
    stands_for: list[str]


class Facts(NamedTuple):
    prefix: str
    certificate_body: str
    products: list[str]
    facts: dict[str, str]  # template fact name -> text
    departments: list[DeptFacts]
    people: list[PersonFacts]


def _company():
    return data.read()


def template_set(company=None):
    company = company or _company()
    tset = templates.read(
        [d.code for d in company.departments],
        len(company.procedures),
        titles={f"SP-{n:02d}": p.title for n, p in enumerate(company.procedures, 1)},
    )
    for i, rt in enumerate(company.record_types):
        if rt.form and rt.form not in tset.forms:
            raise DemoDataError(
                f"{data.COMPANY_FILE.name}: record_types[{i}].form: {rt.form} is not a record form "
                f"of {templates.FORMS_FILE_NAME}"
            )
    return tset


def form_retention_months(retention: str) -> int | None:
    """Months of a form's retention as the procedures say it ("3年", "设备报废后2年",
    "18个月"); None when it is not a number of years or months ("长期")."""
    m = re.fullmatch(r".*?(\d+)\s*(年|个月)", retention.strip())
    if m is None:
        return None
    return int(m.group(1)) * (12 if m.group(2) == "年" else 1)


def read_facts(
    source: str | Path | dict, *, name: str = "facts", labels: dict[str, str] | None = None
) -> Facts:
    """The checked facts of a company (a TOML file, its text or the parsed table);
    SetupError names the first entry that is wrong (by its label in ``labels`` if there)."""
    r = _FactsReader(Path(name), labels)
    if isinstance(source, dict):
        raw = source
    else:
        try:
            text = Path(source).read_text(encoding="utf-8") if isinstance(source, Path) else source
            raw = tomllib.loads(text)
        except OSError as exc:
            raise SetupError(
                _("%(file)s: cannot be read: %(error)s", file=name, error=exc.strerror)
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise SetupError(
                _("%(file)s: not valid TOML: %(error)s", file=name, error=exc)
            ) from None
    company = _company()
    tset = template_set(company)
    r.table(
        raw,
        "the file",
        {
            "prefix": False,
            "certificate_body": False,
            "facts": True,
            "departments": True,
            "people": True,
        },
    )
    configured = current_app.config["DOC_NUMBER_PREFIX"]
    prefix = raw.get("prefix", configured)
    if not isinstance(prefix, str) or not re.fullmatch(r"[A-Z0-9]{1,10}", prefix):
        r.fail("prefix", _("must be 1 to 10 capital letters or digits (XX, ABC)"))
    if prefix != configured:
        # Numbering reads the setting (every document registered later, on every server):
        # the set-up gives its numbers with the same prefix or none at all.
        r.fail(
            "prefix",
            _(
                "%(prefix)s is not the prefix this instance numbers documents with "
                "(%(configured)s): set DOCMGMT_DOC_PREFIX=%(prefix)s and restart, or set up "
                "with %(configured)s",
                prefix=prefix,
                configured=configured,
            ),
        )
    body = raw.get("certificate_body", "")
    if not isinstance(body, str):
        r.fail("certificate_body", _("must be text"))
    if len(body.strip()) > 200:
        r.fail("certificate_body", _("must be at most %(n)d characters", n=200))

    facts_raw = dict(r.table(raw["facts"], "facts", {k: False for k in tset.facts}))
    products = facts_raw.get("products")
    if isinstance(products, list):
        products = [r.text(p, f"facts.products[{i}]") for i, p in enumerate(products)]
        if not products:
            r.fail("facts.products", _("must not be empty"))
        facts_raw["products"] = "、".join(products)
    elif isinstance(products, str):
        products = [p.strip() for p in re.split(r"[、,，;；]", products) if p.strip()]
    facts = templates.check_facts(facts_raw, r, "facts", tset)

    template_codes = [d.code for d in company.departments]
    departments, covered = [], {}
    for i, d in enumerate(r.list_of(raw["departments"], "departments")):
        where = f"departments[{i}]"
        r.table(
            d,
            where,
            {"code": True, "name": True, "name_en": False, "head": False, "covers": False},
        )
        code = r.text(d["code"], f"{where}.code").strip().upper()
        if not re.fullmatch(r"[A-Z0-9_-]{1,20}", code):
            r.fail(f"{where}.code", _("must be 1 to 20 capital letters, digits, - or _"))
        covers = [code] if code in template_codes else []
        for k, c in enumerate(r.list_of(d.get("covers", []), f"{where}.covers", empty=True)):
            covers.append(r.one_of(c, f"{where}.covers[{k}]", template_codes))
        for c in covers:
            if c in covered:
                r.fail(
                    where,
                    _(
                        "template department %(code)s is already covered by %(by)s",
                        code=c,
                        by=covered[c],
                    ),
                )
            covered[c] = code
        departments.append(
            DeptFacts(
                code,
                r.text(d["name"], f"{where}.name").strip(),
                d.get("name_en", "") if isinstance(d.get("name_en", ""), str) else "",
                d.get("head"),
                covers,
            )
        )
    r.unique([d.code for d in departments], "departments", _("the code"))
    missing = [c for c in template_codes if c not in covered]
    if missing:
        names = {d.code: d.name for d in company.departments}
        r.fail(
            "departments",
            _(
                "the templates need a department for %(missing)s: add it, or name it in the "
                "covers list of the department that does its work",
                missing=", ".join(f"{c} ({names[c]})" for c in missing),
            ),
        )
    codes = [d.code for d in departments]

    people = []
    for i, p in enumerate(r.list_of(raw["people"], "people")):
        where = f"people[{i}]"
        r.table(
            p,
            where,
            {
                "username": True,
                "full_name": False,
                "job_title": False,
                "roles": False,
                "department": False,
                "email": False,
                "stands_for": False,
            },
        )
        roles = (
            [
                r.one_of(role, f"{where}.roles[{k}]", [x.value for x in Role])
                for k, role in enumerate(r.list_of(p.get("roles", ["staff"]), f"{where}.roles"))
            ]
            if "roles" in p
            else None
        )
        stands = [
            r.one_of(s, f"{where}.stands_for[{k}]", STANDS_FOR)
            for k, s in enumerate(r.list_of(p.get("stands_for", []), where, empty=True))
        ]
        dep = p.get("department")
        if dep is not None:
            r.one_of(dep, f"{where}.department", codes)
        people.append(
            PersonFacts(
                r.text(p["username"], f"{where}.username").strip(),
                p.get("full_name", "").strip() if isinstance(p.get("full_name"), str) else "",
                p.get("job_title", "") if isinstance(p.get("job_title"), str) else "",
                roles,
                dep,
                p.get("email", "") if isinstance(p.get("email"), str) else "",
                stands,
            )
        )
    r.unique([p.username for p in people], "people", _("the user name"))
    usernames = [p.username for p in people]
    for i, d in enumerate(departments):
        if d.head is not None:
            r.one_of(d.head, f"departments[{i}].head", usernames)

    # The people who stand for the general manager, the service manager and the management
    # representative give those facts (set_up, from their user) unless the facts table does.
    for fname, fact in tset.facts.items():
        given = facts.get(fname, "").strip() or any(fname in p.stands_for for p in people)
        if fact.required and not given:
            if f"facts.{fname}" in r.labels:
                rule = _("is required")
            elif fname in STANDS_FOR:
                rule = _(
                    'is required: %(label)s (or a person with stands_for = ["%(name)s"])',
                    label=fact_label(fact),
                    name=fname,
                )
            else:
                rule = _("is required: %(label)s", label=fact_label(fact))
            r.fail(f"facts.{fname}", rule)
    return Facts(prefix, body, products or [], facts, departments, people)


def instance_is_empty() -> str | None:
    """None when the instance may be set up, else what is already there."""
    n_docs = db.session.scalar(select(func.count()).select_from(Document))
    if n_docs:
        return _("%(n)d document(s)", n=n_docs)
    n_deps = db.session.scalar(select(func.count()).select_from(Department))
    if n_deps:
        return _("%(n)d department(s)", n=n_deps)
    return None


class SetupResult(NamedTuple):
    documents: list[Document]  # the manual and the procedures
    forms: list[Document]  # the record forms
    passwords: dict[str, str]  # username -> first password, for the people created
    mapped: list[str]  # usernames that already existed


def set_up(facts: Facts, *, actor=None) -> SetupResult:
    """Create the company's set; the instance must be empty (no documents, no departments)."""
    there = instance_is_empty()
    if there is not None:
        raise SetupError(
            _(
                "this instance is not empty (%(what)s); the starter kit only sets up an empty one",
                what=there,
            )
        )
    company = _company()
    tset = template_set(company)
    template_of = {}  # template department code -> the company's Department
    deps = {}
    for d in facts.departments:
        dep = Department(code=d.code, name=d.name, name_en=d.name_en)
        db.session.add(dep)
        deps[d.code] = dep
        for c in d.covers:
            template_of[c] = dep
    db.session.flush()

    users, passwords, mapped = {}, {}, []
    for p in facts.people:
        existing = db.session.scalar(
            select(User).where(func.lower(User.username) == p.username.lower())
        )
        if existing is not None:
            users[p.username] = existing
            mapped.append(existing.username)
            if p.department and existing.department is None:
                existing.department = deps[p.department]
            continue
        if not p.full_name:
            raise SetupError(
                _("people: %(user)s: full_name is missing (a new person)", user=p.username)
            )
        password = secrets.token_urlsafe(12)
        users[p.username] = auth_ops.create_user(
            actor,
            p.username,
            p.full_name,
            password,
            p.roles or ["staff"],
            department=deps.get(p.department) if p.department else None,
            job_title=p.job_title,
            email=p.email,
        )
        passwords[p.username] = password
    qm = next((u for u in users.values() if can_manage_documents(u)), None)
    if qm is None:
        raise SetupError(_("people: name at least one person with the role quality_manager"))
    render_facts = dict(facts.facts)
    for role in STANDS_FOR:
        who = [users[p.username] for p in facts.people if role in p.stands_for]
        if role not in render_facts and who:
            render_facts[role] = "、".join(
                u.full_name if role == "general_manager" else f"{u.job_title}{u.full_name}"
                for u in who
            )

    codes = current_app.config["DOC_TYPE_CODES"]
    numbers = (
        {templates.MANUAL_ID: f"{facts.prefix}-{codes['manual']}-01"}
        | {
            f"SP-{n:02d}": f"{facts.prefix}-{codes['procedure']}-{n:02d}"
            for n in range(1, len(company.procedures) + 1)
        }
        | templates.form_numbers(tset, facts.prefix, codes)
    )
    dep_names = {code: dep.name for code, dep in template_of.items()}

    created = []
    rows = [(templates.MANUAL_ID, company.manual_title, "manual", company.manual_department)]
    rows += [
        (f"SP-{n:02d}", p.title, "procedure", p.department)
        for n, p in enumerate(company.procedures, 1)
    ]
    rows += [(f.id, f.name, "record_form", f.department) for f in tset.forms.values()]
    for doc_id, title, kind, dep in rows:
        doc = documents.create_document(
            qm, title, kind, department=template_of[dep], number=numbers[doc_id]
        )
        body = tset.render(
            doc_id,
            facts=render_facts,
            departments=dep_names,
            numbers=numbers,
            prefix=facts.prefix,
        )
        drafting.create_draft(qm, doc, body=body, change_summary="新制订")
        created.append(doc)
    n_procs = len(company.procedures)
    manual = created[0]
    procs = {n: d for n, d in enumerate(created[1 : n_procs + 1], 1)}
    forms = created[n_procs + 1 :]
    form_docs = dict(zip(tset.forms, forms, strict=True))  # SR-03 -> its record-form document

    from docmgmt.records import operations as rops

    types = {}
    for rt in company.record_types:
        choices = dict(company.choices)
        if facts.products:
            choices["product"] = facts.products
        types[rt.code] = rops.create_type(
            qm,
            code=rt.code,
            name=rt.name,
            # The company's own procedures say how long (the form's retention), not the demo.
            retention_months=(
                form_retention_months(tset.forms[rt.form].retention) if rt.form else None
            )
            or rt.retention_months,
            trigger=rt.trigger,
            disposal_method=rt.disposal,
            form_document=form_docs.get(rt.form),
            department=template_of[rt.department],
            fields=[
                {
                    "name": f.name,
                    "label": f.label,
                    "kind": f.kind,
                    "required": f.required,
                    "choices": choices.get(f.name, []),
                }
                for f in rt.fields
            ],
        )

    from docmgmt.training import operations as tops

    for row in company.training:
        doc = manual if row.document == "manual" else procs[row.document]
        value = template_of[row.value].code if row.kind == "department" else row.value
        tops.set_requirement(qm, doc, row.kind, value, row.days)

    from docmgmt.certification import operations as cops

    for clause, row in company.clauses.items():
        for n in row.procedures:
            cops.map_clause(qm, clause, document=procs[n])
        for code in row.record_types:
            cops.map_clause(qm, clause, record_type=types[code])
        if row.manual:
            cops.map_clause(qm, clause, document=manual)
    if facts.certificate_body.strip():
        cops.set_planned_body(qm, facts.certificate_body)
    db.session.flush()
    return SetupResult(created[: n_procs + 1], forms, passwords, mapped)
