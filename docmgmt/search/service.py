"""One search as the UI and the API both see it: who may see what, filters, facets, pages."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup, escape

from docmgmt.search import query as qp
from docmgmt.search.analysis import fold

SORTS = ("relevance", "date")
MAX_PAGE = 100
FRAGMENT_CHARS = 160
WINDOW = 500  # matches ranked per query (setting SEARCH_WINDOW); see Engine.run


def note_text(note: str) -> str:
    return {
        "truncated": _("The query was shortened to %(n)s characters.", n=qp.MAX_QUERY_CHARS),
        "unknown_field": _(
            "Only number:, title: and content: name fields; other field names were ignored."
        ),
        "punctuation": _("Punctuation on its own is not searched."),
        "too_many_terms": _("Only the first %(n)s terms were used.", n=qp.MAX_CLAUSES),
        "only_exclusions": _("Add a word to look for; words starting with - only exclude."),
        "empty": _("Type a word, a phrase in quotes, or a document number."),
        "lagging": _(
            "Recent changes are still being added to the index: the counts may be approximate."
        ),
    }.get(note, note)


@dataclass
class Filters:
    kind: str = ""
    doc_type: str = ""
    department: str = ""
    state: str = ""
    date_from: date | None = None
    date_to: date | None = None
    history: bool = False  # include revisions no longer (or not yet) in force


@dataclass
class Hit:
    key: str
    kind: str
    number: str
    title: str
    fragment: Markup
    doc_type: str
    department: str
    state: str
    day: int
    score: float
    meta: dict
    attachment: str = ""  # the attachment whose recognised text matched

    @property
    def date(self) -> date | None:
        if not self.day:
            return None
        return date(self.day // 10000, self.day // 100 % 100, self.day % 100)


@dataclass
class Page:
    text: str
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    exact: bool = True  # False: more than ``total`` entries match; only the newest were ranked
    page: int = 1
    per_page: int = 10
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sort: str = "relevance"
    may_include_history: bool = False
    searched: bool = False  # the query had something to look for
    lagging: bool = False  # changes wait for the index: counts may be slightly off

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _day(d: date | None) -> int | None:
    return d.year * 10000 + d.month * 100 + d.day if d else None


def rules_for(user, f: Filters, with_filters: bool = True):
    """What this user may see (and, with ``with_filters``, the chosen filters), as data that
    each engine applies while matching: before ranking, counting or paging."""
    from docmgmt.auth.permissions import can_read_history
    from docmgmt.auth.scope import department_codes
    from docmgmt.search.backends import Rules
    from docmgmt.search.sources import requester_audience

    privileged = can_read_history(user)
    audiences = ["all"]
    if privileged:
        # training and change requests: quality managers and auditors
        audiences.append("restricted")
        if f.history:
            audiences.append("history")
    elif getattr(user, "is_authenticated", False):
        audiences.append(requester_audience(user.id))  # one's own change requests
    limited = department_codes(user)  # docmgmt/auth/scope.py: None = not limited
    wanted = (
        tuple(
            (n, getattr(f, n)) for n in ("kind", "doc_type", "department", "state") if getattr(f, n)
        )
        if with_filters
        else ()
    )
    return Rules(
        audiences=tuple(audiences),
        departments=frozenset(limited) if limited is not None else None,
        wanted=wanted,
        day_from=_day(f.date_from) if with_filters else None,
        day_to=_day(f.date_to) if with_filters else None,
    )


def predicate(user, f: Filters, with_filters: bool = True):
    """:func:`rules_for` as a test of each candidate's columns (the Whoosh engine's form)."""
    return rules_for(user, f, with_filters).keep()


def search(
    user,
    text: str,
    filters: Filters | None = None,
    *,
    sort: str = "relevance",
    page: int = 1,
    per_page: int = 10,
    facets: bool = True,
    window: int | None = None,
) -> Page:
    from docmgmt.auth.permissions import can_read_history
    from docmgmt.search.backends import backend

    f = filters or Filters()
    sort = sort if sort in SORTS else "relevance"
    page = min(max(1, page), MAX_PAGE)
    per_page = min(max(1, per_page), 50)
    result = Page(
        text=text or "",
        page=page,
        per_page=per_page,
        sort=sort,
        may_include_history=can_read_history(user),
    )
    plan = qp.parse(text)
    result.notes = [note_text(n) for n in plan.notes]
    if plan.empty:
        if not plan.notes:
            result.notes.append(note_text("empty"))
        return result
    result.searched = True
    filtered = any((f.kind, f.doc_type, f.department, f.state, f.date_from, f.date_to))
    hits = backend().search(
        plan,
        rules_for(user, f),
        rules_for(user, f, with_filters=False) if filtered and facets else None,
        sort=sort,
        offset=(page - 1) * per_page,
        limit=per_page,
        window=window or current_app.config.get("SEARCH_WINDOW", WINDOW),
    )
    # An engine fed through the outbox (Whoosh) has checked this page against the database
    # already (``verified``): a hit is never shown from a stale entry.
    rows = hits.rows
    result.total, result.exact = hits.total, hits.exact
    result.facets = hits.facets if facets else {}
    result.lagging = _lagging()
    if result.lagging:
        result.notes.append(note_text("lagging"))
    needles = plan.needles()
    for row in rows:
        result.hits.append(
            Hit(
                key=row["key"],
                kind=row["kind"],
                number=row["number"],
                title=row["title"],
                fragment=highlight(row["content"], needles),
                doc_type=row.get("doc_type", ""),
                department=row.get("department", ""),
                state=row.get("state", ""),
                day=row.get("day", 0),
                score=round(row.get("score") or 0.0, 3),
                meta=row.get("meta") or {},
                attachment=matched_file(row["content"], needles, row.get("meta") or {}),
            )
        )
    return result


def matched_file(text: str, needles: list[str], meta: dict) -> str:
    """The attachment named in a hit: the first whose recognised text holds a match."""
    if not meta.get("files") or not text:
        return ""
    from docmgmt.search.sources import file_of

    hay = fold(text).lower()
    first = [hay.find(n) for n in needles if n]
    first = [i for i in first if i >= 0]
    if not first:
        return ""
    for i in sorted(first):
        name = file_of(meta, i)
        if name:
            return name
    return ""


def without_gone(hits, shown: list[dict], gone: list[dict]):
    """``hits`` with the page ``verified`` let through (``shown``), less the rows it found
    gone: not shown, not counted either."""
    from docmgmt.search.engine import Hits

    facets = {name: dict(c) for name, c in hits.facets.items()}
    for row in gone:  # counted by the index, not there any more
        for name, c in facets.items():
            value = row.get(name, "")
            if c.get(value, 0) > 1:
                c[value] -= 1
            else:
                c.pop(value, None)
    return Hits(max(0, hits.total - len(gone)), hits.exact, shown, facets, hits.facets_exact)


def verified(eng, query, rows: list[dict], keep, built) -> tuple[list[dict], list[dict]]:
    """The page of hits checked against the database before it is shown: (shown, gone).

    The index may lag behind a commit (its changes wait in the outbox while another worker
    holds the index lock, or behind a long import). Each hit's entry is read again from the
    database, only for this page: one whose source is gone is dropped; one whose entry
    changed (disposed of, withdrawn, superseded, moved to another department) is shown only
    if the current entry still matches the query and this searcher may still read it, and
    then with the current text. So a hit is never shown from a stale entry."""
    from docmgmt.search import current_entries

    if not rows:
        return rows, []
    fresh = current_entries(row["group"] for row in rows)
    shown, gone, changed = [], [], {}
    for row in rows:
        entry = fresh.get(row["key"])
        if entry is None:
            gone.append(row)
            continue
        fields = entry.fields()
        if fields["fingerprint"] == row.get("fingerprint"):
            shown.append(row)
        else:
            changed[row["key"]] = fields | {"score": row.get("score")}
            shown.append(changed[row["key"]])
    if changed:
        still = eng.matching(
            query,
            [fresh[k] for k in changed],
            keep,
            contains=built.contains,
            excludes=built.excludes,
        )
        gone += [row for row in rows if row["key"] in changed and row["key"] not in still]
        shown = [row for row in shown if row["key"] not in changed or row["key"] in still]
    return shown, gone


def _lagging() -> bool:
    from docmgmt.search import pending

    return pending() > 0


def highlight(text: str, needles: list[str], width: int = FRAGMENT_CHARS) -> Markup:
    """The best window of ``text`` with every occurrence of the query's words marked.

    Whoosh's own highlighter works on index terms; with overlapping bigrams it would mark
    派工 and 工单 separately and repeat the shared character, so matching is done here on the
    folded text, whose offsets are the original's."""
    if not text:
        return Markup("")
    hay = fold(text).lower()
    spans: list[tuple[int, int]] = []
    for n in needles:
        if not n:
            continue
        for m in re.finditer(re.escape(n), hay):
            spans.append((m.start(), m.end()))
    spans.sort()
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    if merged:
        # The window holding the most marks, starting a little before its first one.
        best, best_n = merged[0][0], 0
        for i, (s, _e) in enumerate(merged):
            n = sum(1 for s2, _ in merged[i:] if s2 < s + width)
            if n > best_n:
                best, best_n = s, n
        start = max(0, best - 20)
    else:
        start = 0
    end = min(len(text), start + width)
    out = [Markup("…") if start > 0 else Markup("")]
    pos = start
    for s, e in merged:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(escape(text[pos:s]))
        out.append(Markup("<mark>") + escape(text[s:e]) + Markup("</mark>"))
        pos = e
    out.append(escape(text[pos:end]))
    if end < len(text):
        out.append(Markup("…"))
    return Markup("").join(out)
