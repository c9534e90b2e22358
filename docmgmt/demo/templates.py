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
MANUAL_ID = "SM-01"
TOKEN = re.compile(r"\{\{([^{}]*)\}\}")
TOKEN_BODY = re.compile(r"^\s*(?:(dept|doc):([A-Za-z0-9_-]+)|([a-z_]+))\s*$")


class Fact(NamedTuple):
    label: str
    required: bool
    default: str | None


class TemplateSet(NamedTuple):
    facts: dict[str, Fact]
    texts: dict[str, str]  # document id (SM-01, SP-01 …) -> template text
    files: dict[str, str]  # document id -> file name

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


def check_text(text: str, where: str, facts, departments, ids) -> None:
    """Every token of ``text`` is known and every brace and placeholder is closed."""
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


def read(departments: list[str], procedures: int, path: Path | None = None) -> TemplateSet:
    """The checked template set: the facts declared in template.toml and the texts of the
    manual and the ``procedures`` procedures, whose tokens may name these ``departments``."""
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
        r.table(f, where, {"label": True, "required": False, "default": False})
        if not isinstance(f.get("required", False), bool):
            r.fail(f"{where}.required", "must be true or false")
        default = f.get("default")
        if default is not None and not isinstance(default, str):
            r.fail(f"{where}.default", "must be text")
        facts[name] = Fact(r.text(f["label"], f"{where}.label"), f.get("required", False), default)
    ids = doc_ids(procedures)
    for name, fact in facts.items():
        if fact.default is not None:
            check_text(fact.default, f"{path.name}: facts.{name}.default", facts, departments, ids)
    texts, files = {}, {}
    for doc_id in ids:
        file = template_file(doc_id)
        try:
            text = (path.parent / file).read_text(encoding="utf-8")
        except OSError:
            raise DemoDataError(f"{file}: the text of {doc_id} is not in the folder") from None
        check_text(text, file, facts, departments, ids)
        texts[doc_id], files[doc_id] = text, file
    return TemplateSet(facts, texts, files)


def check_facts(values, r: _Reader, where: str, tset: TemplateSet, *, complete=False) -> dict:
    """``values`` (a table name -> text) as facts of ``tset``: unknown names are refused, and
    with ``complete`` every required fact must be given."""
    r.table(values, where, {k: False for k in tset.facts})
    out = {}
    for name, value in values.items():
        if not isinstance(value, str):
            r.fail(f"{where}.{name}", "must be text")
        out[name] = value
    if complete:
        for name, fact in tset.facts.items():
            if fact.required and not out.get(name, "").strip():
                r.fail(f"{where}.{name}", f"is required ({fact.label})")
    return out
