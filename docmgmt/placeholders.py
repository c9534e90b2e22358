"""Placeholders: the places in a document a company must still fill in, written
【待填写：what is missing】 (the starter kit's drafts hold them; anyone may write one)."""

import re

PLACEHOLDER = re.compile(r"【待填写[：:]([^】]*)】")
PLACEHOLDER_START = "【待填写"


def open_placeholders(text: str) -> list[str]:
    """The labels of the placeholders still in ``text``, each once, in order."""
    seen = []
    for m in PLACEHOLDER.finditer(text or ""):
        label = m.group(1).strip()
        if label not in seen:
            seen.append(label)
    return seen


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def revision_placeholders(rev) -> list[str]:
    """The open placeholders of a revision: in its title and every text of its body."""
    seen = []
    for s in [rev.title or "", *_strings(rev.body_blocks or [])]:
        for label in open_placeholders(s):
            if label not in seen:
                seen.append(label)
    return seen
