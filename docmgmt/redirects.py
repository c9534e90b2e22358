"""Where the app may send a browser when the request names the place (?next=, a form's next).

Only a path on this site: no scheme, no host, one leading "/", no backslash, no control
character or white space — checked on the text as given and after each round of unquoting,
since browsers drop tabs and newlines from a URL ("/\t/evil.example" becomes the foreign
"//evil.example"), read "\\" as "/", and a newline cannot go in a header at all. Anything else
falls back to a page the caller names. Every redirect whose target comes from the request
goes through here.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

from flask import redirect


def _unquotings(text: str, rounds: int = 4) -> list[str]:
    forms = [text]
    for _ in range(rounds):
        nxt = unquote(forms[-1])
        if nxt == forms[-1]:
            return forms
        forms.append(nxt)
    return [*forms, "\x00"]  # quoted more deeply than any page of ours: refuse


def _is_local_path(text: str) -> bool:
    if "\\" in text:
        return False
    if any(c.isspace() or unicodedata.category(c).startswith("C") for c in text):
        return False
    parts = urlsplit(text)
    if parts.scheme or parts.netloc:
        return False
    return parts.path.startswith("/") and not parts.path.startswith("//")


def is_safe_target(target: object) -> bool:
    """True when ``target`` is a path on this site, whatever unquoting a browser applies."""
    if not isinstance(target, str) or not target:
        return False
    return all(_is_local_path(form) for form in _unquotings(target))


def safe_target(target: object, default: str) -> str:
    """``target`` when it is a path on this site, else ``default`` (a URL the app built)."""
    return target if is_safe_target(target) else default  # type: ignore[return-value]


def redirect_back(target: object, default: str, code: int = 302):
    """Redirect to ``target`` from the request when it is safe, else to ``default``."""
    return redirect(safe_target(target, default), code)
