"""Two revisions compared like a redline: rendered blocks, changes marked inside the line.

The blocks of each revision (see :mod:`docmgmt.versioning.content`) are cut into units — a
heading, a paragraph, one list item, a table, a page break, an image — and the units aligned
(difflib). A unit that was replaced by a similar one of the same kind is *changed* and its text
is compared token by token: one token per character in Chinese (and any other script without
spaces), one per word in Latin text, so "1 小时" → "30 分钟" marks the characters that changed
and "one hour" → "thirty minutes" whole words. A unit removed in one place and added unchanged
in another is *moved*. Tables are compared row by row (rows aligned like units, columns aligned
by their headers), so changed, added, removed and moved rows and cells are marked in the table.

Every non-equal unit (every non-equal row of a table) is one numbered change; the page links
each to the previous and next one, and the PDF change report lists the same numbers.

Everything is built from plain text and escaped here; the only markup added is ``<ins>``,
``<del>`` and the block elements. Unchanged blocks are rendered by the app's own renderer
(:func:`~docmgmt.versioning.content.blocks_to_html`, sanitised), so they keep their formatting.
"""

from __future__ import annotations

import difflib
import functools
import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from markupsafe import Markup, escape

from docmgmt.versioning.content import _inline_html, _md, blocks_to_html, list_levels

# One word of a script written with spaces, a run of spaces, or any other single character
# (each Chinese character, each punctuation mark).
_TOKEN = re.compile(r"[0-9A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff_]+|\s+|.", re.S)
_TAG = re.compile(r"<[^>]+>")
_UNDERLINE = re.compile(r"\+\+(?=\S)(.+?)(?<=\S)\+\+")

EQUAL, CHANGED, ADDED, REMOVED, MOVED = "equal", "changed", "added", "removed", "moved"
# How alike two units must be (difflib ratio of their text) to count as one unit changed
# rather than one removed and another added.
SIMILAR = 0.4
# How alike a unit removed in one place and one added in another must be to count as moved.
MOVED_SIMILAR = 0.6


_MARKUP = re.compile(r"[*_`\[\]\\<>&!~+]")


@functools.lru_cache(maxsize=65536)
def plain(text: str) -> str:
    """The text of inline Markdown as a reader sees it (no **, ++ or escapes)."""
    if not _MARKUP.search(text or ""):
        return (text or "").strip()  # what the renderer makes of it, quicker
    rendered = _md.renderInline(_UNDERLINE.sub(r"\1", text or ""))
    return html.unescape(_TAG.sub("", rendered)).strip()


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def segments(old: str, new: str) -> list[tuple[str, str]]:
    """(op, text) pieces, op one of "=", "-", "+": what stays, what goes, what comes."""
    a, b = tokens(old), tokens(new)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    ops = matcher.get_opcodes()
    # A lone character left equal between two changes ("的", a space) reads as noise in a
    # rewritten sentence: fold it into the change around it.
    cleaned: list[list] = []
    for n, (tag, i1, i2, j1, j2) in enumerate(ops):
        short = tag == "equal" and i2 - i1 == 1 and len(a[i1].strip()) <= 1
        if short and 0 < n < len(ops) - 1 and ops[n - 1][0] != "equal" and ops[n + 1][0] != "equal":
            tag = "replace"
        if cleaned and tag != "equal" and cleaned[-1][0] != "equal":
            cleaned[-1] = ["replace", cleaned[-1][1], i2, cleaned[-1][3], j2]
        else:
            cleaned.append([tag, i1, i2, j1, j2])
    out: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in cleaned:
        if tag == "equal":
            out.append(("=", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("-", "".join(a[i1:i2])))
        if j2 > j1:
            out.append(("+", "".join(b[j1:j2])))
    return out


def marked(segs: list[tuple[str, str]], side: str = "both") -> Markup:
    """HTML of the segments: what goes in <del>, what comes in <ins>; ``side`` "old" shows only
    what goes, "new" only what comes."""
    parts = []
    for op, text in segs:
        if op == "=":
            parts.append(str(escape(text)))
        elif op == "-" and side in ("old", "both"):
            parts.append(f"<del>{escape(text)}</del>")
        elif op == "+" and side in ("new", "both"):
            parts.append(f"<ins>{escape(text)}</ins>")
    return Markup("".join(parts))


# The inline formats a changed line keeps (what the renderer makes of **, *, ++ and `).
_STYLE_TAGS = ("strong", "em", "u", "code")


class _StyleParser(HTMLParser):
    """The characters of rendered inline HTML, each with the formats around it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.styles: list[tuple[str, ...]] = []
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _STYLE_TAGS:
            self._open.append(tag)

    def handle_endtag(self, tag):
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag)]

    def handle_data(self, data):
        self.text.append(data)
        self.styles.extend([tuple(self._open)] * len(data))


@functools.lru_cache(maxsize=16384)
def styles(raw: str) -> tuple[tuple[str, ...], ...] | None:
    """Per character of ``plain(raw)``, the inline formats around it (outermost first); None
    when the text has none (or, should the two ever disagree, when they cannot be matched)."""
    if not raw or not _MARKUP.search(raw):
        return None
    parser = _StyleParser()
    parser.feed(_inline_html(raw))
    parser.close()
    text = "".join(parser.text)
    lead = len(text) - len(text.lstrip())
    kept = tuple(parser.styles[lead : lead + len(text.strip())])
    if text.strip() != plain(raw) or not any(kept):
        return None
    return kept


def _styled(text: str, fmt) -> str:
    """``text`` escaped, each run of characters inside the formats ``fmt`` gives it."""
    if not fmt:
        return str(escape(text))
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and fmt[j] == fmt[i]:
            j += 1
        run = str(escape(text[i:j]))
        for tag in reversed(fmt[i]):
            run = f"<{tag}>{run}</{tag}>"
        out.append(run)
        i = j
    return "".join(out)


def marked_styled(
    segs: list[tuple[str, str]], side: str = "both", old_raw: str = "", new_raw: str = ""
) -> Markup:
    """:func:`marked`, keeping the inline formatting (bold, italic, underline, code) of the
    lines compared: what goes in the old line's formats, what stays and what comes in the new
    line's (the old side: all in the old line's)."""
    fo, fn = styles(old_raw), styles(new_raw)
    if fo is None and fn is None:
        return marked(segs, side)
    parts, i, j = [], 0, 0
    for op, text in segs:
        n = len(text)
        if op == "=":
            fmt = (
                (fo[i : i + n] if fo else None)
                if side == "old"
                else (fn[j : j + n] if fn else None)
            )
            parts.append(_styled(text, fmt))
            i, j = i + n, j + n
        elif op == "-":
            if side in ("old", "both"):
                parts.append(f"<del>{_styled(text, fo[i : i + n] if fo else None)}</del>")
            i += n
        else:
            if side in ("new", "both"):
                parts.append(f"<ins>{_styled(text, fn[j : j + n] if fn else None)}</ins>")
            j += n
    return Markup("".join(parts))


def similarity(x: str, y: str, floor: float = 0.0) -> float:
    """How alike two texts are (0 to 1); 0 as soon as the cheap upper bounds say it is below
    ``floor``."""
    if not x and not y:
        return 1.0
    m = difflib.SequenceMatcher(a=tokens(x), b=tokens(y), autojunk=False)
    if m.real_quick_ratio() < floor or m.quick_ratio() < floor:
        return 0.0
    return m.ratio()


# How far ahead a replaced unit looks for its counterpart, and how many removed × added units
# are searched for moves: the comparison of two very different revisions stays quick.
LOOK_AHEAD = 25
MOVE_SEARCH = 40_000


# ---------------------------------------------------------------- units


@dataclass
class Unit:
    kind: str  # heading, paragraph, item, table, page_break, image
    text: str  # plain text (a table: its rows joined)
    block: dict  # the block it renders from (an item: a one-item list block)
    level: int = 0
    ordered: bool = False
    number: int = 1  # an item's number in its list
    where: str = ""  # the heading it sits under
    raw: str = ""  # its inline Markdown (bold, italic …), for the marked text to keep

    key: tuple = ()  # what must be equal for the unit to be unchanged (set by units())

    def __post_init__(self):
        if self.kind == "table":
            self.key = ("table", _table_key(self.block))
        else:
            # The formats of each character too: a word made bold is a change an approver sees.
            self.key = (self.kind, self.level, self.ordered, self.text, styles(self.raw))


def _table_key(b: dict):
    return tuple(tuple(plain(c) for c in row) for row in _grid(b))


def _grid(b: dict) -> list[list[str]]:
    return [list(b.get("header") or [])] + [list(r) for r in b.get("rows") or []]


def units(blocks: list[dict]) -> list[Unit]:
    from docmgmt.versioning.content import _item_numbers

    out: list[Unit] = []
    where = ""
    for b in blocks or []:
        kind = b.get("type")
        if kind == "heading":
            raw = b.get("text", "")
            where = plain(raw)
            level = int(b.get("level", 1))
            out.append(Unit("heading", where, b, level=level, where=where, raw=raw))
        elif kind == "paragraph":
            raw = b.get("text", "")
            out.append(Unit("paragraph", plain(raw), b, where=where, raw=raw))
        elif kind == "list":
            levels, numbered = list_levels(b)
            for item, lvl, num, n in zip(
                b["items"], levels, numbered, _item_numbers(b), strict=False
            ):
                one = {"type": "list", "ordered": num, "items": [item]}
                out.append(Unit("item", plain(item), one, lvl, num, n, where, raw=item))
        elif kind == "table":
            text = "\n".join(" | ".join(plain(c) for c in row) for row in _grid(b))
            out.append(Unit("table", text, b, where=where))
        elif kind == "page_break":
            out.append(Unit("page_break", "———", b, where=where))
        elif kind == "image":
            name = f"[{b.get('name') or 'image'} {str(b.get('sha256', ''))[:12]}]"
            out.append(Unit("image", name, b, where=where))
    return out


# ---------------------------------------------------------------- the comparison


@dataclass
class Change:
    """One numbered change, as the PDF change report lists it."""

    number: int
    kind: str  # changed, added, removed, moved
    what: str  # heading, paragraph, item, table row, ...
    where: str
    old: list[tuple[str, str]]  # segments of the old side ("=" and "-")
    new: list[tuple[str, str]]  # segments of the new side ("=" and "+")
    formatting: bool = False  # the same words, other formats (bold, italic, underline, code)


@dataclass
class Row:
    """One row of the page: a unit of either revision or both, rendered."""

    kind: str
    number: int | None = None  # the change number (None: equal, or the old place of a move)
    old: Markup = Markup("")
    new: Markup = Markup("")
    inline: Markup = Markup("")
    wide: bool = False  # a changed table: one redline table across both columns
    moved_to: int | None = None  # the old place of a moved unit: where it went
    moved_from: bool = False
    formatting: bool = False  # only the formats changed


@dataclass
class Comparison:
    rows: list[Row] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.changes)

    def counts(self) -> dict[str, int]:
        out = {CHANGED: 0, ADDED: 0, REMOVED: 0, MOVED: 0}
        for c in self.changes:
            out[c.kind] += 1
        return out


def _render_unit(u: Unit, body: Markup | None = None) -> Markup:
    """A unit as HTML: its block through the app's renderer, or ``body`` (already escaped and
    marked) inside the unit's element."""
    if body is None:
        if u.kind == "item":
            inner = blocks_to_html([u.block], anchors=False)
            return _list_wrap(u, Markup(re.sub(r"^<(ol|ul)>|</(ol|ul)>$", "", str(inner))))
        return (
            blocks_to_html([u.block], anchors=False)
            if u.kind != "image"
            else Markup(f'<p class="image">{escape(u.text)}</p>')
        )
    if u.kind == "heading":
        level = min(6, max(1, u.level))
        return Markup(f"<h{level}>{body}</h{level}>")
    if u.kind == "item":
        return _list_wrap(u, Markup(f"<li>{body}</li>"))
    if u.kind == "page_break":
        return Markup("<hr>")
    return Markup(f"<p>{body}</p>")


def _list_wrap(u: Unit, li: Markup) -> Markup:
    tag = "ol" if u.ordered else "ul"
    start = f' start="{u.number}"' if u.ordered and u.number != 1 else ""
    return Markup(f'<{tag} class="lvl{u.level}"{start}>{li}</{tag}>')


def _pair(old: list[Unit], new: list[Unit]) -> list[tuple[Unit | None, Unit | None]]:
    """Within a replaced stretch: each old unit with the most similar new unit of its kind
    after the last one paired (in order), the rest removed or added."""
    out: list[tuple[Unit | None, Unit | None]] = []
    j = 0
    for u in old:
        best, best_j = 0.0, None
        # tables are few: a table looks through the whole stretch for the table it became
        ahead = len(new) if u.kind == "table" else min(len(new), j + LOOK_AHEAD)
        for k in range(j, ahead):
            if new[k].kind != u.kind:
                continue
            score = 1.0 if u.kind == "table" else similarity(u.text, new[k].text, SIMILAR)
            if score > best:
                best, best_j = score, k
            if score == 1.0:
                break
        if best_j is not None and best >= SIMILAR:
            out.extend((None, n) for n in new[j:best_j])
            out.append((u, new[best_j]))
            j = best_j + 1
        else:
            out.append((u, None))
    out.extend((None, n) for n in new[j:])
    return out


def _nav(num: int) -> Markup:
    """A placeholder for the change's number and its previous/next links (filled in by
    :func:`_fill_nav` once the count is known). User text is escaped before it gets here, so
    it can never contain the placeholder."""
    return Markup(f"<cn-{num}>")


_NAV = re.compile(r"<cn-(\d+)>")


def nav_html(num: int, total: int) -> Markup:
    from flask_babel import gettext as _

    prev = (
        f'<a class="prev" href="#c{num - 1}" title="{escape(_("Previous change"))}">‹</a>'
        if num > 1
        else '<span class="prev"></span>'
    )
    nxt = (
        f'<a class="next" href="#c{num + 1}" title="{escape(_("Next change"))}">›</a>'
        if num < total
        else '<span class="next"></span>'
    )
    return Markup(f'<span class="cn">{prev}<a class="num" href="#c{num}">{num}</a>{nxt}</span>')


def _fill_nav(html_text: Markup, total: int) -> Markup:
    return Markup(_NAV.sub(lambda m: str(nav_html(int(m[1]), total)), str(html_text)))


def compare(old_blocks: list[dict], new_blocks: list[dict]) -> Comparison:
    """The comparison of two revisions' blocks: rows for the page, numbered changes."""
    a, b = units(old_blocks), units(new_blocks)
    matcher = difflib.SequenceMatcher(a=[u.key for u in a], b=[u.key for u in b], autojunk=False)
    pairs: list[tuple[Unit | None, Unit | None]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs.extend(zip(a[i1:i2], b[j1:j2], strict=True))
        elif tag == "replace":
            pairs.extend(_pair(a[i1:i2], b[j1:j2]))
        elif tag == "delete":
            pairs.extend((u, None) for u in a[i1:i2])
        else:
            pairs.extend((None, u) for u in b[j1:j2])
    # A unit removed in one place and added unchanged in another has moved.
    arrivals_by_key: dict = {}
    for n, (x, y) in enumerate(pairs):
        if x is None and y is not None and y.text.strip() and y.kind != "page_break":
            arrivals_by_key.setdefault(y.key, []).append(n)
    moved: dict[int, int] = {}  # index of the old place -> index of the new place
    for n, (x, y) in enumerate(pairs):
        if y is None and x is not None and arrivals_by_key.get(x.key):
            moved[n] = arrivals_by_key[x.key].pop(0)
    # ... or nearly unchanged: moved, and its changes marked where it arrived
    gone = [n for n, (x, y) in enumerate(pairs) if y is None and n not in moved]
    came = [m for m, (x, y) in enumerate(pairs) if x is None and m not in moved.values()]
    taken = set(moved.values())
    if len(gone) * len(came) <= MOVE_SEARCH:
        for n in gone:
            x = pairs[n][0]
            if x.kind in ("table", "page_break"):
                continue
            for m in came:
                y2 = pairs[m][1]
                if (
                    y2.kind == x.kind
                    and m not in taken
                    and similarity(x.text, y2.text, MOVED_SIMILAR) >= MOVED_SIMILAR
                ):
                    moved[n] = m
                    taken.add(m)
                    break
    arrivals = {v: k for k, v in moved.items()}

    result = Comparison()
    numbers: dict[int, int] = {}  # index of a pair -> its change number
    departures: list[tuple[Row, int]] = []  # old places of moves, filled in at the end

    def add_change(kind, u, old, new, formatting=False) -> int:
        num = len(result.changes) + 1
        result.changes.append(Change(num, kind, _what(u), u.where, old, new, formatting))
        return num

    for n, (x, y) in enumerate(pairs):
        if n in moved:
            body = _render_unit(x, marked_styled([("-", x.text)], old_raw=x.raw))
            row = Row(MOVED, None, body, Markup(""), body)
            result.rows.append(row)
            departures.append((row, moved[n]))
        elif n in arrivals:
            x = pairs[arrivals[n]][0]
            if x.key == y.key:
                num = numbers[n] = add_change(MOVED, y, [("=", y.text)], [("=", y.text)])
                body = new_html = _render_unit(y)
            else:  # moved and changed
                segs = segments(x.text, y.text)
                old_segs = [s for s in segs if s[0] != "+"]
                new_segs = [s for s in segs if s[0] != "-"]
                num = numbers[n] = add_change(MOVED, y, old_segs, new_segs)
                new_html = _render_unit(y, marked_styled(segs, "new", x.raw, y.raw))
                body = _render_unit(y, marked_styled(segs, "both", x.raw, y.raw))
            result.rows.append(Row(MOVED, num, Markup(""), new_html, body, moved_from=True))
        elif x is not None and y is not None and x.key == y.key:
            body = _render_unit(y)  # the same text; the new revision's formatting
            result.rows.append(Row(EQUAL, None, body, body, body))
        elif x is not None and y is not None and x.kind == "table":
            result.rows.append(_table_row(x, y, result))
        elif x is not None and y is not None:
            segs = segments(x.text, y.text)
            formatting = False
            if x.text == y.text:  # only the formatting (bold, underline) or the level changed
                old_segs, new_segs = [("=", x.text)], [("=", y.text)]
                old_html, new_html = _render_unit(x), _render_unit(y)
                inline = new_html
                formatting = styles(x.raw) != styles(y.raw)
            else:
                old_segs = [s for s in segs if s[0] != "+"]
                new_segs = [s for s in segs if s[0] != "-"]
                old_html = _render_unit(x, marked_styled(segs, "old", x.raw, y.raw))
                new_html = _render_unit(y, marked_styled(segs, "new", x.raw, y.raw))
                inline = _render_unit(y, marked_styled(segs, "both", x.raw, y.raw))
            num = add_change(CHANGED, y, old_segs, new_segs, formatting)
            result.rows.append(Row(CHANGED, num, old_html, new_html, inline, formatting=formatting))
        elif x is not None:
            num = add_change(REMOVED, x, [("-", x.text)], [])
            if x.kind == "table":
                body = _table_all(x, "-")
            else:
                body = _render_unit(x, marked_styled([("-", x.text)], old_raw=x.raw))
            result.rows.append(Row(REMOVED, num, body, Markup(""), body, wide=x.kind == "table"))
        else:
            num = add_change(ADDED, y, [], [("+", y.text)])
            if y.kind == "table":
                body = _table_all(y, "+")
            else:
                body = _render_unit(y, marked_styled([("+", y.text)], new_raw=y.raw))
            result.rows.append(Row(ADDED, num, Markup(""), body, body, wide=y.kind == "table"))
    for row, arrival in departures:
        row.moved_to = numbers[arrival]
    total = result.count
    for row in result.rows:
        if row.wide:
            row.old, row.new, row.inline = (
                _fill_nav(h, total) for h in (row.old, row.new, row.inline)
            )
    return result


_WHAT = {
    "heading": "heading",
    "paragraph": "paragraph",
    "item": "list item",
    "table": "table",
    "page_break": "page break",
    "image": "image",
}


def _what(u: Unit) -> str:
    return _WHAT.get(u.kind, u.kind)


# ---------------------------------------------------------------- tables


def _table_all(u: Unit, op: str) -> Markup:
    """A whole table added or removed: every cell marked."""
    tag = "ins" if op == "+" else "del"
    rows = []
    for r, row in enumerate(_grid(u.block)):
        cell = "th" if r == 0 and u.block.get("header") else "td"
        rows.append(
            "<tr>"
            + "".join(f"<{cell}><{tag}>{escape(plain(c))}</{tag}></{cell}>" for c in row)
            + "</tr>"
        )
    return Markup(f'<table class="redline">{"".join(rows)}</table>')


def _align(old: list, new: list, pair_replaced) -> list[tuple[int | None, int | None]]:
    """Index pairs (old or None, new or None) of two sequences aligned by difflib; a replaced
    stretch is paired by ``pair_replaced(i1, i2, j1, j2)``."""
    out: list[tuple[int | None, int | None]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(zip(range(i1, i2), range(j1, j2), strict=True))
        elif tag == "delete":
            out.extend((i, None) for i in range(i1, i2))
        elif tag == "insert":
            out.extend((None, j) for j in range(j1, j2))
        else:
            out.extend(pair_replaced(i1, i2, j1, j2))
    return out


def _positional(i1, i2, j1, j2):
    n = max(i2 - i1, j2 - j1)
    return [(i1 + k if i1 + k < i2 else None, j1 + k if j1 + k < j2 else None) for k in range(n)]


def _table_row(x: Unit, y: Unit, result: Comparison) -> Row:
    """A table changed: one redline table, columns aligned by their header cells, rows like
    units; each non-equal row is a numbered change, a row removed in one place and added
    unchanged in another is moved, a cell whose old text now stands in another column of the
    row is marked moved."""
    raw_o, raw_n = _grid(x.block), _grid(y.block)
    go = [[plain(c) for c in r] for r in raw_o]
    gn = [[plain(c) for c in r] for r in raw_n]
    wo, wn = max(len(r) for r in go), max(len(r) for r in gn)
    go = [r + [""] * (wo - len(r)) for r in go]
    gn = [r + [""] * (wn - len(r)) for r in gn]
    raw_o = [list(r) + [""] * (wo - len(r)) for r in raw_o]
    raw_n = [list(r) + [""] * (wn - len(r)) for r in raw_n]

    def cell(side_raw, r, c, text):  # a cell's text in its own formatting, escaped
        return _styled(text, styles(side_raw[r][c]))

    cols = _align(go[0], gn[0], _positional)

    def pair_rows(i1, i2, j1, j2):
        old = [Unit("row", " | ".join(go[1 + i]), {}, number=1 + i) for i in range(i1, i2)]
        new = [Unit("row", " | ".join(gn[1 + j]), {}, number=1 + j) for j in range(j1, j2)]
        return [
            (p.number - 1 if p else None, q.number - 1 if q else None) for p, q in _pair(old, new)
        ]

    rows = [(0, 0)] + [
        (None if i is None else i + 1, None if j is None else j + 1)
        for i, j in _align([tuple(r) for r in go[1:]], [tuple(r) for r in gn[1:]], pair_rows)
    ]
    # A row removed in one place and added in another, the same or nearly (the same first
    # cell, or alike), has moved: it is shown where it arrived, its changes marked.
    gone = [i for i, j in rows if j is None]
    came = [j for i, j in rows if i is None]
    moved: dict[int, int] = {}  # old row -> new row
    taken: set[int] = set()
    by_text: dict[tuple, list[int]] = {}
    for j in came:
        by_text.setdefault(tuple(gn[j]), []).append(j)
    for i in gone:
        if by_text.get(tuple(go[i])):
            moved[i] = by_text[tuple(go[i])].pop(0)
            taken.add(moved[i])
    for i in gone if len(gone) * len(came) <= MOVE_SEARCH else []:
        if i in moved:
            continue
        for j in came:
            if j in taken:
                continue
            key_same = bool(go[i][0]) and go[i][0] == gn[j][0]
            alike = (
                key_same
                or similarity(" | ".join(go[i]), " | ".join(gn[j]), MOVED_SIMILAR) >= MOVED_SIMILAR
            )
            if alike:
                moved[i] = j
                taken.add(j)
                break
    source = {j: i for i, j in moved.items()}
    header = bool(x.block.get("header")) or bool(y.block.get("header"))
    same_columns = all(o is not None and n is not None for o, n in cols)

    numbers: dict[int, int] = {}  # new row -> change number (for the moves)
    # each row: its <tr …><td class="cn">…</td>, its cells (one per column of ``cols``), and
    # the row of the table it shows ("new", j) or ("old", i), for the merged cells
    html_rows: list[tuple[str, list[str], tuple[str, int]]] = []
    departures: list[tuple[int, int]] = []  # (index in html_rows, new row it went to)
    for i, j in rows:
        tag = "th" if header and (i or 0) == 0 and (j or 0) == 0 else "td"
        moved_here = i is None and j in source
        ro = go[source[j]] if moved_here else (go[i] if i is not None else None)
        rn = gn[j] if j is not None else None
        if not moved_here and ro is not None and rn is not None and same_columns and ro == rn:
            cells = [f"<{tag}>{cell(raw_n, j, c, t)}</{tag}>" for c, t in enumerate(rn)]
            html_rows.append(('<tr><td class="cn"></td>', cells, ("new", j)))
            continue
        if i in moved:
            cells = [
                f"<{tag}><del>{cell(raw_o, i, o, ro[o])}</del></{tag}>"
                if o is not None and ro[o]
                else f"<{tag}></{tag}>"
                for o, _n in cols
            ]
            departures.append((len(html_rows), moved[i]))
            html_rows.append(('<tr class="moved-from"><td class="cn">{}</td>', cells, ("old", i)))
            continue
        io = source[j] if moved_here else i  # the old row shown
        num = len(result.changes) + 1
        if ro is not None and rn is not None:
            kind = CHANGED
            tds, old_segs, new_segs = [], [], []
            elsewhere = set(rn)
            for o, n in cols:
                if o is None:
                    tds.append(
                        f'<{tag} class="added"><ins>{cell(raw_n, j, n, rn[n])}</ins></{tag}>'
                    )
                    new_segs += [("+", rn[n]), ("=", " | ")]
                elif n is None:
                    tds.append(
                        f'<{tag} class="removed"><del>{cell(raw_o, io, o, ro[o])}</del></{tag}>'
                    )
                    old_segs += [("-", ro[o]), ("=", " | ")]
                elif ro[o] == rn[n]:
                    tds.append(f"<{tag}>{cell(raw_n, j, n, rn[n])}</{tag}>")
                    old_segs += [("=", ro[o]), ("=", " | ")]
                    new_segs += [("=", rn[n]), ("=", " | ")]
                else:
                    segs = segments(ro[o], rn[n])
                    klass = "moved" if ro[o] and ro[o] in elsewhere else "changed"
                    body = marked_styled(segs, "both", raw_o[io][o], raw_n[j][n])
                    tds.append(f'<{tag} class="{klass}">{body}</{tag}>')
                    old_segs += [s for s in segs if s[0] != "+"] + [("=", " | ")]
                    new_segs += [s for s in segs if s[0] != "-"] + [("=", " | ")]
            old_segs, new_segs = old_segs[:-1], new_segs[:-1]
            if moved_here:
                kind = MOVED
                numbers[j] = num
        elif ro is not None:
            kind = REMOVED
            tds = [
                f"<{tag}><del>{cell(raw_o, i, o, ro[o])}</del></{tag}>"
                if o is not None and ro[o]
                else f"<{tag}></{tag}>"
                for o, _n in cols
            ]
            old_segs, new_segs = [("-", " | ".join(ro))], []
        else:
            kind = ADDED
            tds = [
                f"<{tag}><ins>{cell(raw_n, j, n, rn[n])}</ins></{tag}>"
                if n is not None and rn[n]
                else f"<{tag}></{tag}>"
                for _o, n in cols
            ]
            text = " | ".join(rn)
            old_segs, new_segs = (
                ([("=", text)], [("=", text)]) if kind == MOVED else ([], [("+", text)])
            )
            numbers[j] = num
        result.changes.append(Change(num, kind, "table row", y.where, old_segs, new_segs))
        html_rows.append(
            (
                f'<tr class="{kind}" id="c{num}"><td class="cn">{_nav(num)}</td>',
                tds,
                ("new", j) if rn is not None else ("old", i),
            )
        )
    from flask_babel import gettext as _

    for at, j in departures:
        note = escape(_("moved to change %(n)d", n=numbers[j]))
        start, cells, src = html_rows[at]
        start = start.replace("{}", f'<a href="#c{numbers[j]}" class="moved-to">{note}</a>', 1)
        html_rows[at] = (start, cells, src)
    _merge_cells(html_rows, cols, x.block, y.block)
    table = Markup(
        '<table class="redline">'
        + "".join(
            start + "".join(c for c in cells if c is not None) + "</tr>"
            for start, cells, _s in html_rows
        )
        + "</table>"
    )
    return Row(CHANGED, None, table, table, table, wide=True)


_EMPTY_CELL = re.compile(r"^<(t[dh])></\1>$")


def _merge_cells(html_rows: list, cols: list, old_block: dict, new_block: dict) -> None:
    """Give the redline table the merged cells of the tables compared: a merge of the new
    table over the rows that show new rows, one of the old table over rows that show only
    old ones. A merge is drawn only where it still holds in the redline: its rows one after
    another, its columns side by side, the cells it covers empty; otherwise the cells are
    shown apart, as before. Covered cells become None; the anchor gets its spans."""
    from docmgmt.versioning.content import table_merges

    at_row = {src: k for k, (_s, _c, src) in enumerate(html_rows)}
    for side, block, which in (("new", new_block, 1), ("old", old_block, 0)):
        at_col = {pair[which]: p for p, pair in enumerate(cols) if pair[which] is not None}
        for row, col, rs, cs in table_merges(block):
            first, left = at_row.get((side, row)), at_col.get(col)
            if first is None or left is None:
                continue
            if any(at_row.get((side, row + k)) != first + k for k in range(rs)):
                continue
            if any(at_col.get(col + k) != left + k for k in range(cs)):
                continue
            covered = [
                (first + r, left + c) for r in range(rs) for c in range(cs) if (r, c) != (0, 0)
            ]
            cells_of = [html_rows[r][1] for r in range(first, first + rs)]
            if any(
                cells_of[r - first][c] is None or not _EMPTY_CELL.match(cells_of[r - first][c])
                for r, c in covered
            ):
                continue
            anchor = cells_of[0][left]
            if anchor is None:
                continue
            attrs = (f' rowspan="{rs}"' if rs > 1 else "") + (f' colspan="{cs}"' if cs > 1 else "")
            cells_of[0][left] = anchor[:3] + attrs + anchor[3:]  # <td|<th, then its spans
            for r, c in covered:
                html_rows[r][1][c] = None
