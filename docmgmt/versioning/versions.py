"""Version codes (A0, A1 … A9, B0): pure rules, no app needed.

A0 is the first issue.  A revision raises the digit; a re-edition (换版) moves to the next
letter and resets the digit; after x9 the next revision is the next letter's 0.  Letters in
``skip`` (I and O by default, easily confused with 1 and 0) are never used.
"""

import re
import string

from flask_babel import gettext as _l

_CODE = re.compile(r"^([A-Z])([0-9])$")


class InvalidVersionCode(ValueError):
    pass


def _letters(skip: str) -> list[str]:
    skipped = set(skip.upper())
    return [c for c in string.ascii_uppercase if c not in skipped]


def parse(code: str, skip: str = "IO") -> tuple[str, int]:
    """Return (letter, digit) of a valid code or raise InvalidVersionCode with the reason."""
    text = (code or "").strip()
    match = _CODE.match(text)
    if not match:
        raise InvalidVersionCode(
            str(
                _l(
                    '"%(code)s" is not a version code: use one capital letter and one digit, '
                    "such as A0 or B1.",
                    code=text,
                )
            )
        )
    letter, digit = match.group(1), int(match.group(2))
    if letter not in _letters(skip):
        raise InvalidVersionCode(
            str(
                _l(
                    'Version letter "%(letter)s" is not used (letters skipped: %(skip)s).',
                    letter=letter,
                    skip=", ".join(sorted(set(skip.upper()))),
                )
            )
        )
    return letter, digit


def sort_key(code: str, skip: str = "IO") -> tuple[int, int]:
    letter, digit = parse(code, skip)
    return _letters(skip).index(letter), digit


def first(skip: str = "IO") -> str:
    return f"{_letters(skip)[0]}0"


def _next_letter(letter: str, skip: str) -> str:
    letters = _letters(skip)
    position = letters.index(letter)
    if position + 1 >= len(letters):
        raise InvalidVersionCode(
            str(_l("No version letters are left after %(letter)s.", letter=letter))
        )
    return letters[position + 1]


def next_revision(code: str, skip: str = "IO") -> str:
    letter, digit = parse(code, skip)
    if digit < 9:
        return f"{letter}{digit + 1}"
    return f"{_next_letter(letter, skip)}0"


def next_edition(code: str, skip: str = "IO") -> str:
    letter, _digit = parse(code, skip)
    return f"{_next_letter(letter, skip)}0"


def check_successor(previous: str | None, proposed: str, skip: str = "IO") -> str:
    """Validate ``proposed`` as the code after ``previous`` (None: the document's first)."""
    parse(proposed, skip)
    proposed = proposed.strip()
    if previous is None:
        # A document brought into the system may already be at, say, C3 on paper.
        return proposed
    allowed = {next_revision(previous, skip), next_edition(previous, skip)}
    if proposed not in allowed:
        raise InvalidVersionCode(
            str(
                _l(
                    "After %(prev)s the next version is %(rev)s (revision) or %(ed)s "
                    "(re-edition), not %(code)s.",
                    prev=previous,
                    rev=next_revision(previous, skip),
                    ed=next_edition(previous, skip),
                    code=proposed,
                )
            )
        )
    return proposed
