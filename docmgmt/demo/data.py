"""The demo company's data, read from ``content/company.toml`` and checked before anything is
written: a wrong entry stops the load with a message naming the file, the entry and the rule.

The file is meant to be edited (by a consultant, say); the rows come back as named tuples in
the order of the file, so the loader reads like the table it loads.
"""

import re
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

from docmgmt.auth.models import Role
from docmgmt.records.models import DisposalMethod, Trigger
from docmgmt.records.operations import FIELD_KINDS

CONTENT = Path(__file__).parent / "content"
COMPANY_FILE = CONTENT / "company.toml"
TRAINING_KINDS = ("role", "department", "job_title")


class DemoDataError(ValueError):
    """The demo data file breaks a rule; the message says where and which."""


class DepartmentRow(NamedTuple):
    code: str
    name: str
    name_en: str


class UserRow(NamedTuple):
    username: str
    full_name: str
    job_title: str
    roles: list[str]
    department: str | None


class ProcedureRow(NamedTuple):
    title: str
    department: str


class ExternalRow(NamedTuple):
    title: str
    edition: str
    source: str


class FieldRow(NamedTuple):
    name: str
    label: str
    kind: str
    required: bool


class RecordTypeRow(NamedTuple):
    code: str
    name: str
    retention_months: int
    trigger: str
    disposal: str
    department: str
    fields: list[FieldRow]
    form: str = ""  # the record form (SR-nn of record_forms.toml) it is kept on, if any


class TrainingRow(NamedTuple):
    document: str | int  # "manual" or a procedure number
    kind: str
    value: str
    days: int


class ClauseRow(NamedTuple):
    procedures: list[int]
    record_types: list[str]
    manual: bool


class Company(NamedTuple):
    first_issue: date
    departments: list[DepartmentRow]
    users: list[UserRow]
    manual_title: str
    manual_department: str
    procedures: list[ProcedureRow]
    externals: list[ExternalRow]
    training: list[TrainingRow]
    record_types: list[RecordTypeRow]
    choices: dict[str, list[str]]
    clauses: dict[str, ClauseRow]
    facts: dict  # template fact name -> the demo company's text (checked by templates.py)


def procedure_file(n: int) -> str:
    """The Markdown file that holds the text of the n-th procedure (1-based)."""
    return f"sp-{n:02d}.md"


class _Reader:
    """Checks of a data file's entries; a broken rule raises with the file, the entry and the
    rule. The rules are msgids with %(name)s parameters: ``say`` fills them in (in English
    here, for the demo's developers; the starter kit's reader translates them)."""

    def __init__(self, path: Path):
        self.path = path

    def say(self, msgid: str, **params) -> str:
        return msgid % params if params else msgid

    def fail(self, where: str, rule: str):
        raise DemoDataError(f"{self.path.name}: {where}: {rule}")

    def table(self, value, where: str, keys: dict[str, bool]) -> dict:
        """``value`` as a table with these keys (True: required); unknown keys are refused."""
        if not isinstance(value, dict):
            self.fail(where, self.say("must be a table ({ key = value, … })"))
        for key in value:
            if key not in keys:
                self.fail(
                    where,
                    self.say(
                        "unknown key '%(key)s' (known: %(known)s)", key=key, known=", ".join(keys)
                    ),
                )
        for key, required in keys.items():
            if required and key not in value:
                self.fail(where, self.say("'%(key)s' is missing", key=key))
        return value

    def list_of(self, value, where: str, *, empty=False) -> list:
        if not isinstance(value, list):
            self.fail(where, self.say("must be a list ([ …, … ])"))
        if not value and not empty:
            self.fail(where, self.say("must not be empty"))
        return value

    def text(self, value, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(where, self.say("must be text, not empty"))
        return value

    def whole(self, value, where: str, low: int = 1, high: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            self.fail(where, self.say("must be a whole number, at least %(low)d", low=low))
        if high is not None and value > high:
            self.fail(where, self.say("must be at most %(high)d", high=high))
        return value

    def one_of(self, value, where: str, allowed) -> str:
        allowed = list(allowed)
        if value not in allowed:
            self.fail(
                where,
                self.say(
                    "'%(value)s' is not one of %(allowed)s",
                    value=value,
                    allowed=", ".join(map(str, allowed)),
                ),
            )
        return value

    def unique(self, values: list[str], where: str, what: str) -> None:
        seen = set()
        for i, v in enumerate(values):
            if v in seen:
                self.fail(
                    f"{where}[{i}]",
                    self.say("%(what)s '%(value)s' appears twice", what=what, value=v),
                )
            seen.add(v)


def read(path: Path | None = None) -> Company:
    """The checked data of ``path`` (the demo's company.toml by default); DemoDataError names
    the first entry that is wrong."""
    path = path or COMPANY_FILE
    r = _Reader(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DemoDataError(f"{path.name}: not valid TOML: {exc}") from None
    r.table(
        raw,
        "the file",
        {
            "first_issue": True,
            "departments": True,
            "users": True,
            "manual": True,
            "procedures": True,
            "externals": True,
            "training": True,
            "record_types": True,
            "choices": True,
            "clauses": True,
            "facts": False,
        },
    )
    first_issue = raw["first_issue"]
    if not isinstance(first_issue, date) or isinstance(first_issue, datetime):
        r.fail("first_issue", "must be a date (2022-02-21)")

    departments = []
    for i, d in enumerate(r.list_of(raw["departments"], "departments")):
        where = f"departments[{i}]"
        r.table(d, where, {"code": True, "name": True, "name_en": True})
        departments.append(
            DepartmentRow(*(r.text(d[k], f"{where}.{k}") for k in ("code", "name", "name_en")))
        )
    r.unique([d.code for d in departments], "departments", "the code")
    codes = [d.code for d in departments]

    def department(value, where):
        if value not in codes:
            r.fail(where, f"{value!r} is not a department code ({', '.join(codes)})")
        return value

    users = []
    for i, u in enumerate(r.list_of(raw["users"], "users")):
        where = f"users[{i}]"
        r.table(
            u,
            where,
            {
                "username": True,
                "full_name": True,
                "job_title": True,
                "roles": True,
                "department": False,
            },
        )
        roles = [
            r.one_of(role, f"{where}.roles[{k}]", [x.value for x in Role])
            for k, role in enumerate(r.list_of(u["roles"], f"{where}.roles"))
        ]
        users.append(
            UserRow(
                r.text(u["username"], f"{where}.username"),
                r.text(u["full_name"], f"{where}.full_name"),
                r.text(u["job_title"], f"{where}.job_title"),
                roles,
                department(u["department"], f"{where}.department") if "department" in u else None,
            )
        )
    r.unique([u.username for u in users], "users", "the user name")

    manual = r.table(raw["manual"], "manual", {"title": True, "department": True})
    if not (CONTENT / "manual.md").is_file():
        r.fail("manual", "its text, manual.md, is not in the content folder")

    procedures = []
    for i, p in enumerate(r.list_of(raw["procedures"], "procedures")):
        where = f"procedures[{i}]"
        r.table(p, where, {"title": True, "department": True})
        if not (CONTENT / procedure_file(i + 1)).is_file():
            r.fail(where, f"its text, {procedure_file(i + 1)}, is not in the content folder")
        procedures.append(
            ProcedureRow(
                r.text(p["title"], f"{where}.title"),
                department(p["department"], f"{where}.department"),
            )
        )

    externals = []
    for i, e in enumerate(r.list_of(raw["externals"], "externals", empty=True)):
        where = f"externals[{i}]"
        r.table(e, where, {"title": True, "edition": True, "source": True})
        externals.append(
            ExternalRow(*(r.text(e[k], f"{where}.{k}") for k in ("title", "edition", "source")))
        )

    choices = r.table(raw["choices"], "choices", {k: False for k in raw["choices"]})
    for name, options in choices.items():
        for k, option in enumerate(r.list_of(options, f"choices.{name}")):
            r.text(option, f"choices.{name}[{k}]")

    record_types = []
    for i, t in enumerate(r.list_of(raw["record_types"], "record_types", empty=True)):
        where = f"record_types[{i}]"
        r.table(
            t,
            where,
            {
                "code": True,
                "name": True,
                "retention_months": True,
                "trigger": True,
                "disposal": True,
                "department": True,
                "fields": True,
                "form": False,
            },
        )
        form = t.get("form", "")
        if form and (not isinstance(form, str) or not re.fullmatch(r"SR-\d{2}", form)):
            r.fail(f"{where}.form", "must be a record form's id, such as SR-03")
        fields = []
        for k, f in enumerate(r.list_of(t["fields"], f"{where}.fields")):
            fw = f"{where}.fields[{k}]"
            r.table(f, fw, {"name": True, "label": True, "kind": True, "required": True})
            kind = r.one_of(f["kind"], f"{fw}.kind", FIELD_KINDS)
            if kind == "choice" and f["name"] not in choices:
                r.fail(
                    fw, f"a choice field needs its choices: add {f['name']} = [ … ] to [choices]"
                )
            if not isinstance(f["required"], bool):
                r.fail(f"{fw}.required", "must be true or false")
            fields.append(
                FieldRow(
                    r.text(f["name"], f"{fw}.name"),
                    r.text(f["label"], f"{fw}.label"),
                    kind,
                    f["required"],
                )
            )
        r.unique([f.name for f in fields], f"{where}.fields", "the field name")
        record_types.append(
            RecordTypeRow(
                r.text(t["code"], f"{where}.code"),
                r.text(t["name"], f"{where}.name"),
                r.whole(t["retention_months"], f"{where}.retention_months"),
                r.one_of(t["trigger"], f"{where}.trigger", [x.value for x in Trigger]),
                r.one_of(t["disposal"], f"{where}.disposal", [x.value for x in DisposalMethod]),
                department(t["department"], f"{where}.department"),
                fields,
                form,
            )
        )
    r.unique([t.code for t in record_types], "record_types", "the code")
    type_codes = [t.code for t in record_types]

    def procedure_number(value, where):
        return r.whole(value, where, 1, len(procedures))

    training = []
    for i, t in enumerate(r.list_of(raw["training"], "training", empty=True)):
        where = f"training[{i}]"
        r.table(t, where, {"document": True, "kind": True, "value": True, "days": True})
        document = t["document"]
        if document != "manual":
            procedure_number(document, f"{where}.document")
        kind = r.one_of(t["kind"], f"{where}.kind", TRAINING_KINDS)
        value = r.text(t["value"], f"{where}.value")
        if kind == "role":
            r.one_of(value, f"{where}.value", [x.value for x in Role])
        elif kind == "department":
            department(value, f"{where}.value")
        training.append(TrainingRow(document, kind, value, r.whole(t["days"], f"{where}.days")))

    clauses = {}
    for clause, c in r.table(raw["clauses"], "clauses", {k: False for k in raw["clauses"]}).items():
        where = f"clauses.{clause}"
        r.table(c, where, {"procedures": False, "record_types": False, "manual": False})
        numbers = [
            procedure_number(n, f"{where}.procedures[{k}]")
            for k, n in enumerate(r.list_of(c.get("procedures", []), where, empty=True))
        ]
        for k, code in enumerate(r.list_of(c.get("record_types", []), where, empty=True)):
            r.one_of(code, f"{where}.record_types[{k}]", type_codes)
        if not isinstance(c.get("manual", False), bool):
            r.fail(f"{where}.manual", "must be true or false")
        clauses[clause] = ClauseRow(
            numbers, list(c.get("record_types", [])), c.get("manual", False)
        )

    return Company(
        first_issue=first_issue,
        departments=departments,
        users=users,
        manual_title=r.text(manual["title"], "manual.title"),
        manual_department=department(manual["department"], "manual.department"),
        procedures=procedures,
        externals=externals,
        training=training,
        record_types=record_types,
        choices=choices,
        clauses=clauses,
        facts=raw.get("facts", {}),
    )
