"""Version codes (A0, A1 … A9, B0): pure rules, no app needed.

A0 is the first issue.  A revision raises the digit; a re-edition (换版) moves to the next
letter and resets the digit; after x9 the next revision is the next letter's 0.  Letters in
``skip`` (I and O by default, easily confused with 1 and 0) are never used.
"""

import re
import string

from flask_babel import gettext as _l

from docmgmt.templating import listed

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
                    skip=listed(sorted(set(skip.upper()))),
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


def check_successor(
    previous: str | None, proposed: str, skip: str = "IO", reedition: bool = False
) -> str:
    """Validate ``proposed`` as the code after ``previous`` (None: the document's first).

    A revision may give the next revision or the next re-edition code; a re-edition
    (``reedition``) only the next re-edition code."""
    parse(proposed, skip)
    proposed = proposed.strip()
    if previous is None:
        # A document brought into the system may already be at, say, C3 on paper.
        return proposed
    rev, ed = next_revision(previous, skip), next_edition(previous, skip)
    if reedition:
        if proposed != ed:
            raise InvalidVersionCode(
                str(
                    _l(
                        "After %(prev)s the re-edition is %(ed)s, not %(code)s.",
                        prev=previous,
                        ed=ed,
                        code=proposed,
                    )
                )
            )
        return proposed
    if proposed not in (rev, ed):
        if rev == ed:  # after x9 the next revision already moves to the next letter
            message = _l(
                "After %(prev)s the next version is %(next)s, for a revision and a re-edition "
                "alike, not %(code)s.",
                prev=previous,
                next=rev,
                code=proposed,
            )
        else:
            message = _l(
                "After %(prev)s the next version is %(rev)s (revision) or %(ed)s "
                "(re-edition), not %(code)s.",
                prev=previous,
                rev=rev,
                ed=ed,
                code=proposed,
            )
        raise InvalidVersionCode(str(message))
    return proposed


def is_reedition(previous: str | None, code: str, skip: str = "IO", asked: bool = False) -> bool:
    """Whether ``code`` after ``previous`` is a re-edition (换版). After x9 the next revision
    and the next re-edition are the same code: then it is what was asked for."""
    if previous is None:
        return False
    rev, ed = next_revision(previous, skip), next_edition(previous, skip)
    if code == rev == ed:
        return asked
    return code == ed
