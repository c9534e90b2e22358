"""The template set shared by the demo and the starter kit: the service manual and the 22
procedures as Markdown with tokens for a company's facts (the format is described at the top
of ``content/template.toml``).

Everything is checked when the set is read — every token names a declared fact, a known
department or a document of the set, every brace is closed — so a consultant's edit that
breaks a rule stops the load with a message naming the file, the line and the rule, before
anything is written.
"""

import re
import tomllib
from pathlib import Path
from typing import NamedTuple

from docmgmt.demo.data import CONTENT, DemoDataError, _Reader, procedure_file
from docmgmt.placeholders import PLACEHOLDER, PLACEHOLDER_START

TEMPLATE_FILE = CONTENT / "template.toml"
FORMS_FILE_NAME = "record_forms.toml"
MANUAL_ID = "SM-01"
FORM_ID = re.compile(r"SR-\d{2}")
# A row of a procedure's record table that names a form: | {{doc:SR-03}} | name | keeper | kept |
FORM_ROW = re.compile(r"^\|\s*\{\{\s*doc:(SR-\d+)\s*\}\}\s*\|([^|]*)\|([^|]*)\|([^|]*)\|\s*$")
TOKEN = re.compile(r"\{\{([^{}]*)\}\}")
TOKEN_BODY = re.compile(r"^\s*(?:(dept|doc):([A-Za-z0-9_-]+)|([a-z_]+))\s*$")


class Fact(NamedTuple):
    label: str  # Chinese: the placeholder's text in a document, and the Chinese form's label
    required: bool
    default: str | None
    label_en: str = ""  # the English form's label ("" = the Chinese one)


class RecordForm(NamedTuple):
    id: str  # SR-01 …
    name: str
    department: str  # the template department that keeps the filled-in forms
    retention: str
    purpose: str
    fields: list[str]
    named_by: list[str]  # the procedures (SP-04 …) whose record table names it


class TemplateSet(NamedTuple):
    facts: dict[str, Fact]
    texts: dict[str, str]  # document id (SM-01, SP-01 …, SR-01 …) -> template text
    files: dict[str, str]  # document id -> file name
    forms: dict[str, RecordForm]  # SR-01 … -> the record form (its text is in texts)

    def render(self, doc_id, *, facts, departments, numbers, prefix) -> str:
        """The text of ``doc_id`` for a company: ``facts`` (name -> text; a name left out
        becomes its default or a placeholder), ``departments`` (template code -> the
        company's department name), ``numbers`` (document id -> number), ``prefix``."""
        return fill(self.texts[doc_id], self, facts, departments, numbers, prefix)


def doc_ids(procedures: int) -> list[str]:
    return [MANUAL_ID, *(f"SP-{n:02d}" for n in range(1, procedures + 1))]


def template_file(doc_id: str) -> str:
    return "manual.md" if doc_id == MANUAL_ID else procedure_file(int(doc_id[3:]))


def fill(text, tset, facts, departments, numbers, prefix, depth=0) -> str:
    def one(m):
        kind, key, name = TOKEN_BODY.match(m.group(1)).groups()
        if kind == "dept":
            return departments[key]
        if kind == "doc":
            return numbers[key]
        if name == "prefix":
            return prefix
        if name in facts:
            return facts[name]
        fact = tset.facts[name]
        if fact.default is not None and depth < 3:
            return fill(fact.default, tset, facts, departments, numbers, prefix, depth + 1)
        return f"【待填写：{fact.label}】"

    return TOKEN.sub(one, text)


def check_text(text: str, where: str, facts, departments, ids) -> str:
    """Every token of ``text`` is known and every brace and placeholder is closed; ``text``."""
    for lineno, line in enumerate(text.splitlines(), 1):
        at = f"{where}, line {lineno}"
        for m in TOKEN.finditer(line):
            parsed = TOKEN_BODY.match(m.group(1))
            if parsed is None:
                raise DemoDataError(
                    f"{at}: {m.group(0)} is not a token "
                    "({{fact}}, {{dept:CODE}}, {{doc:SP-01}} or {{prefix}})"
                )
            kind, key, name = parsed.groups()
            if kind == "dept" and key not in departments:
                raise DemoDataError(
                    f"{at}: {m.group(0)}: {key!r} is not a department code "
                    f"({', '.join(departments)})"
                )
            if kind == "doc" and key not in ids:
                raise DemoDataError(
                    f"{at}: {m.group(0)}: {key!r} is not a document of the set "
                    f"({ids[0]}, {ids[1]} … {ids[-1]})"
                )
            if name and name != "prefix" and name not in facts:
                raise DemoDataError(
                    f"{at}: {m.group(0)}: {name!r} is not a fact declared in template.toml"
                )
        rest = TOKEN.sub("", line)
        if "{{" in rest or "}}" in rest:
            raise DemoDataError(f"{at}: a brace pair {{{{ … }}}} is not closed")
        if rest.count(PLACEHOLDER_START) != len(PLACEHOLDER.findall(rest)):
            raise DemoDataError(f"{at}: a placeholder 【待填写：…】 is not closed")
    return text


def read_forms(path: Path, departments: list[str]) -> dict[str, RecordForm]:
    """The record forms of ``record_forms.toml`` (beside template.toml), checked; a set
    without the file has none."""
    if not path.is_file():
        return {}
    r = _Reader(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DemoDataError(f"{path.name}: not valid TOML: {exc}") from None
    r.table(raw, "the file", {"forms": True})
    forms = {}
    for i, f in enumerate(r.list_of(raw["forms"], "forms", empty=True)):
        where = f"forms[{i}]"
        r.table(
            f,
            where,
            {
                "id": True,
                "name": True,
                "department": True,
                "retention": True,
                "purpose": False,
                "fields": True,
            },
        )
        form_id = r.text(f["id"], f"{where}.id")
        if not FORM_ID.fullmatch(form_id):
            r.fail(f"{where}.id", f"{form_id!r} is not a form id (SR-01, SR-02 …)")
        if form_id in forms:
            r.fail(f"{where}.id", f"{form_id} appears twice")
        purpose = f.get("purpose", "")
        if not isinstance(purpose, str):
            r.fail(f"{where}.purpose", "must be text")
        fields = [
            r.text(x, f"{where}.fields[{k}]").strip()
            for k, x in enumerate(r.list_of(f["fields"], f"{where}.fields"))
        ]
        r.unique(fields, f"{where}.fields", "the field")
        forms[form_id] = RecordForm(
            form_id,
            r.text(f["name"], f"{where}.name").strip(),
            r.one_of(f["department"], f"{where}.department", departments),
            r.text(f["retention"], f"{where}.retention").strip(),
            purpose.strip(),
            fields,
            [],
        )
    return forms


def _check_form_rows(text: str, file: str, doc_id: str, forms: dict[str, RecordForm]) -> None:
    """Every record-table row of a procedure that names a form agrees with the form's entry
    (name, keeping department, retention); the form learns that ``doc_id`` names it."""
    for lineno, line in enumerate(text.splitlines(), 1):
        m = FORM_ROW.match(line.strip())
        if m is None:
            continue
        form = forms[m.group(1)]
        name, dept, kept = (x.strip() for x in m.groups()[1:])
        want = (form.name, f"{{{{dept:{form.department}}}}}", form.retention)
        if (name, dept.replace(" ", ""), kept) != want:
            raise DemoDataError(
                f"{file}, line {lineno}: the row of {m.group(1)} says "
                f"{name} | {dept} | {kept}, {FORMS_FILE_NAME} says {' | '.join(want)}"
            )
        if doc_id not in form.named_by:
            form.named_by.append(doc_id)


def form_numbers(tset: "TemplateSet", prefix: str, type_codes: dict) -> dict[str, str]:
    """The numbers the record forms get: SR-03 -> PREFIX-SR-03 (the record_form type code)."""
    return {f: f"{prefix}-{type_codes['record_form']}-{f[3:]}" for f in tset.forms}


def form_text(form: RecordForm, titles: dict[str, str]) -> str:
    """The template text of a record-form document: what it is for, its fields as a table,
    the procedures that name it, who keeps it and how long (tokens filled in as any text)."""
    refs = "、".join(
        "{{doc:" + p + "}}" + (f"《{titles[p]}》" if p in titles else "") for p in form.named_by
    )
    purpose = form.purpose or (
        f"用于记录下列栏目的内容，作为{form.name}所涉及的活动已按程序实施的证据。"
    )
    lines = [
        "# 1 用途",
        "",
        purpose,
        "",
        "# 2 栏目",
        "",
        "| 序号 | 栏目 | 填写内容 |",
        "|---|---|---|",
        *(f"| {n} | {field} |  |" for n, field in enumerate(form.fields, 1)),
        "",
        "# 3 填写与保存",
        "",
        f"- 依据：{refs}",
        f"- 保存部门：{{{{dept:{form.department}}}}}",
        f"- 保存期限：{form.retention}",
        "- 表单按文件控制程序发放和更改，只使用现行有效的版本；填写完整、字迹清楚，"
        "更改处由更改人签名并注明日期。",
        "",
    ]
    return "\n".join(lines)


def read(
    departments: list[str],
    procedures: int,
    path: Path | None = None,
    *,
    titles: dict[str, str] | None = None,
) -> TemplateSet:
    """The checked template set: the facts declared in template.toml, the texts of the
    manual and the ``procedures`` procedures, whose tokens may name these ``departments``,
    and the record forms of record_forms.toml (``titles``: document id -> title, for the
    forms' references to the procedures)."""
    path = path or TEMPLATE_FILE
    r = _Reader(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DemoDataError(f"{path.name}: not valid TOML: {exc}") from None
    r.table(raw, "the file", {"facts": True})
    facts = {}
    for name, f in r.table(raw["facts"], "facts", {k: False for k in raw["facts"]}).items():
        where = f"facts.{name}"
        if not re.fullmatch(r"[a-z_]+", name) or name == "prefix":
            r.fail(where, "a fact's name is small letters and _ (and not prefix)")
        r.table(f, where, {"label": True, "label_en": False, "required": False, "default": False})
        if not isinstance(f.get("required", False), bool):
            r.fail(f"{where}.required", "must be true or false")
        default = f.get("default")
        if default is not None and not isinstance(default, str):
            r.fail(f"{where}.default", "must be text")
        label_en = f.get("label_en", "")
        if not isinstance(label_en, str):
            r.fail(f"{where}.label_en", "must be text")
        facts[name] = Fact(
            r.text(f["label"], f"{where}.label"), f.get("required", False), default, label_en
        )
    forms = read_forms(path.parent / FORMS_FILE_NAME, departments)
    ids = doc_ids(procedures) + list(forms)
    for i, form in enumerate(forms.values()):
        check_text(form.purpose, f"{FORMS_FILE_NAME}: forms[{i}].purpose", facts, departments, ids)
    for name, fact in facts.items():
        if fact.default is not None:
            check_text(fact.default, f"{path.name}: facts.{name}.default", facts, departments, ids)
    texts, files = {}, {}
    for doc_id in doc_ids(procedures):
        file = template_file(doc_id)
        try:
            text = (path.parent / file).read_text(encoding="utf-8")
        except OSError:
            raise DemoDataError(f"{file}: the text of {doc_id} is not in the folder") from None
        check_text(text, file, facts, departments, ids)
        _check_form_rows(text, file, doc_id, forms)
        texts[doc_id], files[doc_id] = text, file
    for form in forms.values():
        if not form.named_by:
            raise DemoDataError(
                f"{FORMS_FILE_NAME}: {form.id} ({form.name}) is not named by any procedure's "
                "record table: name it there (| {{doc:" + form.id + "}} | … |) or remove it"
            )
        texts[form.id], files[form.id] = form_text(form, titles or {}), FORMS_FILE_NAME
    return TemplateSet(facts, texts, files, forms)


def check_facts(values, r: _Reader, where: str, tset: TemplateSet, *, complete=False) -> dict:
    """``values`` (a table name -> text) as facts of ``tset``: unknown names are refused, and
    with ``complete`` every required fact must be given."""
    r.table(values, where, {k: False for k in tset.facts})
    out = {}
    for name, value in values.items():
        if not isinstance(value, str):
            r.fail(f"{where}.{name}", r.say("must be text"))
        out[name] = value
    if complete:
        for name, fact in tset.facts.items():
            if fact.required and not out.get(name, "").strip():
                r.fail(f"{where}.{name}", r.say("is required: %(label)s", label=fact.label))
    return out
