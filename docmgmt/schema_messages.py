"""Schema errors in the user's language: the JSON API validates bodies and queries with
marshmallow (through flask-smorest and webargs), whose messages are English and fixed when
the schemas are built. They are translated here, when the 422 answer is written, and the
answer names the first field at fault."""

import re

from flask_babel import gettext as _

_OPS = {
    "greater than or equal to": "≥",
    "greater than": ">",
    "less than or equal to": "≤",
    "less than": "<",
}


def _fixed() -> dict[str, str]:
    return {
        "Missing data for required field.": _("This field is required."),
        "Field may not be null.": _("This field may not be null."),
        "Unknown field.": _("Unknown field: remove it."),
        "Not a valid date.": _("Not a valid date: use YYYY-MM-DD."),
        "Not a valid datetime.": _("Not a valid date and time: use ISO 8601."),
        "Not a valid time.": _("Not a valid time: use HH:MM."),
        "Not a valid string.": _("Must be text."),
        "Not a valid integer.": _("Must be a whole number."),
        "Not a valid number.": _("Must be a number."),
        "Number too large.": _("The number is too large."),
        "Special numeric values (nan or infinity) are not permitted.": _(
            "Must be a finite number (not NaN or infinity)."
        ),
        "Not a valid boolean.": _("Must be true or false."),
        "Not a valid list.": _("Must be a list."),
        "Not a valid tuple.": _("Must be a list."),
        "Not a valid mapping type.": _("Must be an object."),
        "Not a valid email address.": _("Not a valid e-mail address."),
        "Not a valid URL.": _("Not a valid URL."),
        "Not a valid UUID.": _("Not a valid UUID."),
        "Not a valid utf-8 string.": _("Must be UTF-8 text."),
        "String does not match expected pattern.": _("Does not have the expected form."),
        "Invalid input type.": _("Invalid value."),
        "Invalid input.": _("Invalid value."),
        "Invalid type.": _("Invalid value."),
        "Invalid value.": _("Invalid value."),
    }


def _patterns():
    return [
        (
            r"Length must be between (\S+) and (\S+)\.",
            lambda m: _("Length must be between %(a)s and %(b)s.", a=m[1], b=m[2]),
        ),
        (r"Length must be (\S+)\.", lambda m: _("Length must be exactly %(n)s.", n=m[1])),
        (r"Longer than maximum length (\S+)\.", lambda m: _("At most %(n)s long.", n=m[1])),
        (r"Shorter than minimum length (\S+)\.", lambda m: _("At least %(n)s long.", n=m[1])),
        (r"Must be one of: (.*)\.", lambda m: _("Must be one of: %(c)s.", c=m[1])),
        (
            r"Must be (greater than or equal to|greater than) (\S+) and "
            r"(less than or equal to|less than) (\S+)\.",
            lambda m: _(
                "Must be %(a)s %(x)s and %(b)s %(y)s.",
                a=_OPS[m[1]],
                x=m[2],
                b=_OPS[m[3]],
                y=m[4],
            ),
        ),
        (
            r"Must be (greater than or equal to|greater than|less than or equal to|less than) "
            r"(\S+)\.",
            lambda m: _("Must be %(a)s %(x)s.", a=_OPS[m[1]], x=m[2]),
        ),
        (r"Not a valid (?:naive|aware) datetime\.", lambda m: _("Not a valid date and time.")),
        (
            r"\"?.*\"? cannot be formatted as an? (date|datetime|time)\.",
            lambda m: _("Not a valid date and time: use ISO 8601."),
        ),
    ]


def translate(message: str) -> str:
    if not isinstance(message, str):
        return message
    fixed = _fixed()
    if message in fixed:
        return fixed[message]
    for pattern, make in _patterns():
        m = re.fullmatch(pattern, message)
        if m:
            return make(m)
    return _(message)  # the app's own schema messages are msgids too


def translate_all(messages, path=()):
    """(translated copy of webargs' nested messages, [(field path, first message)])."""
    found = []
    if isinstance(messages, dict):
        out = {}
        for key, value in messages.items():
            sub = (
                path
                if key in ("json", "query", "form", "files", "headers", "_schema")
                else (
                    *path,
                    str(key),
                )
            )
            out[key], more = translate_all(value, sub)
            found += more
        return out, found
    if isinstance(messages, list | tuple):
        out = []
        for value in messages:
            item, more = translate_all(value, path)
            out.append(item)
            found += more
        return out, found
    text = translate(messages)
    return text, [(".".join(path), text)]


def summary(messages) -> tuple[dict, str, str | None]:
    """(translated messages, one sentence naming the first field at fault, that field)."""
    translated, found = translate_all(messages)
    if not found:
        return translated, _("The request is not valid."), None
    field, first = found[0]
    if not field:
        return translated, _("The request is not valid: %(m)s", m=first), None
    if len(found) > 1:
        message = _(
            "The request is not valid: %(f)s: %(m)s (and %(n)d more problems)",
            f=field,
            m=first,
            n=len(found) - 1,
        )
    else:
        message = _("The request is not valid: %(f)s: %(m)s", f=field, m=first)
    return translated, message, field
