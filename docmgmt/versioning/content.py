"""Revision content as structured blocks, and the renderings made from them.

A revision is written in Markdown and stored as a list of blocks:

    {"type": "heading", "level": 1-6, "text": "..."}
    {"type": "paragraph", "text": "..."}
    {"type": "list", "ordered": bool, "items": ["...", ...],
     "levels": [0, 1, 1, 0, ...], "ordered_items": [bool, ...]}
          (levels and ordered_items only for nested lists: the depth of each item, 0 to 4,
           each at most one deeper than the one before, and whether the list each item is in
           is numbered; the items at depth 0 follow ``ordered``)
    {"type": "table", "header": ["...", ...], "rows": [["...", ...], ...],
     "merges": [[row, col, rowspan, colspan], ...]}      (merges optional; row 0 = header)
    {"type": "page_break"}
    {"type": "image", "sha256": "...", "name": "...", "width_mm": 120}   (from Word imports)

``text`` keeps inline Markdown (bold, italic) plus ``++underlined++``.  Every output (HTML,
Word, PDF) renders from the blocks, never from the Markdown source.

Tables are bounded (MAX_TABLE_ROWS rows, MAX_TABLE_COLUMNS columns) and every merge is clamped
to the table it is in (:func:`table_merges`), when blocks are checked and again when they are
rendered, so a merge of a million rows costs no more than the table itself.
"""

import hashlib
import json
import re

import nh3
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False}).enable("table").disable(["image", "html_inline"])

_ALLOWED_TAGS = {
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "br",
    "code",
    "u",
    "img",
}
_IMAGE_MARK = re.compile(r"<!-- image ([0-9a-f]{64})(.*?) -->")
PAGE_BREAK_MARKERS = {"\\pagebreak", "<!-- pagebreak -->", "---pagebreak---"}


class ContentError(ValueError):
    """Blocks that do not have the shape described above; the message is for the user."""


MAX_TABLE_ROWS = 5000
MAX_TABLE_COLUMNS = 64  # Word's own limit is 63


def table_merges(b: dict) -> list[list[int]]:
    """The merges of a table block that make sense: each anchor inside the table, its spans cut
    at the table's last row and column, merges that overlap an earlier one dropped.
    Row 0 is the header row."""
    rows = b.get("rows") or []
    nrows = 1 + len(rows)
    ncols = max([len(b.get("header") or [])] + [len(r) for r in rows if isinstance(r, list)])
    merges = b.get("merges") or []
    # one bit per row in each column's mask: an overlap test costs one AND per column spanned
    taken = [0] * ncols
    out = []
    for m in merges[: nrows * max(ncols, 1)] if isinstance(merges, list) else []:
        if not (isinstance(m, list | tuple) and len(m) == 4):
            continue
        row, col, rs, cs = (x if isinstance(x, int) and not isinstance(x, bool) else -1 for x in m)
        if not (0 <= row < nrows and 0 <= col < ncols):
            continue
        rs, cs = min(max(1, rs), nrows - row), min(max(1, cs), ncols - col)
        mask = ((1 << rs) - 1) << row
        if (rs == 1 and cs == 1) or any(taken[c] & mask for c in range(col, col + cs)):
            continue
        for c in range(col, col + cs):
            taken[c] |= mask
        out.append([row, col, rs, cs])
    return out


def _inline_source(token) -> str:
    return (token.content or "").strip()


MAX_LIST_DEPTH = 5
_LIST_OPEN = ("bullet_list_open", "ordered_list_open")
_LIST_CLOSE = ("bullet_list_close", "ordered_list_close")


def _parse_list(tokens, i: int) -> dict:
    """A (possibly nested) Markdown list from tokens[i] (its opening) to its closing token.
    Deeper than MAX_LIST_DEPTH levels keeps the text at the deepest level."""
    items: list[list[str]] = []
    levels: list[int] = []
    kinds: list[bool] = []  # per item
    open_lists: list[bool] = []  # numbered or not, per open list
    open_items: list[int] = []
    depth = -1
    j = i
    while j < len(tokens):
        t = tokens[j]
        if t.type in _LIST_OPEN:
            depth += 1
            open_lists.append(t.type == "ordered_list_open")
        elif t.type in _LIST_CLOSE:
            depth -= 1
            open_lists.pop()
            if depth < 0:
                break
        elif t.type == "list_item_open":
            level = min(depth, MAX_LIST_DEPTH - 1)
            if levels:
                level = min(level, levels[-1] + 1)
            items.append([])
            levels.append(level)
            kinds.append(open_lists[-1])
            open_items.append(len(items) - 1)
        elif t.type == "list_item_close":
            open_items.pop()
        elif t.type == "inline" and open_items:
            items[open_items[-1]].append(_inline_source(t))
        j += 1
    tok = tokens[i]
    ordered = tok.type == "ordered_list_open"
    block: dict = {"type": "list", "ordered": ordered, "items": [" ".join(x) for x in items]}
    if ordered and tok.attrGet("start") not in (None, 1, "1"):
        block["start"] = int(tok.attrGet("start"))
    if any(levels):
        block["levels"] = levels
        block["ordered_items"] = kinds
    block["_end"] = j
    return block


def list_levels(b: dict) -> tuple[list[int], list[bool]]:
    """Each item's depth and whether its list is numbered (flat lists: depth 0, ``ordered``)."""
    n = len(b["items"])
    levels = list(b.get("levels") or [0] * n)
    kinds = list(b.get("ordered_items") or [bool(b.get("ordered"))] * n)
    return levels, [
        bool(b.get("ordered")) if lvl == 0 else k for lvl, k in zip(levels, kinds, strict=False)
    ]


def _item_numbers(b: dict) -> list[int]:
    """Each item's number within its own list: counting restarts under each parent item, and
    the first level starts at ``start``."""
    levels, _numbered = list_levels(b)
    counters: dict[int, int] = {}
    out = []
    for lvl in levels:
        for deeper in [k for k in counters if k > lvl]:
            del counters[deeper]
        first = int(b.get("start", 1)) if lvl == 0 else 1
        counters[lvl] = counters.get(lvl, first - 1) + 1
        out.append(counters[lvl])
    return out


def list_markers(b: dict) -> list[str]:
    """The printed marker of each item: 1. / (1) / a) when numbered, • / – / · when not
    (characters the PDF's Latin bullet font has)."""
    levels, numbered = list_levels(b)
    out = []
    for lvl, num, n in zip(levels, numbered, _item_numbers(b), strict=False):
        if num:
            out.append(f"{n}." if lvl == 0 else f"({n})" if lvl == 1 else f"{_letters(n)})")
        else:
            out.append("•–·"[min(lvl, 2)])
    return out


def _letters(n: int) -> str:
    s = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        s = chr(97 + r) + s
    return s


def markdown_to_blocks(source: str) -> list[dict]:
    tokens = _md.parse(source or "")
    blocks: list[dict] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            level = int(tok.tag[1])
            blocks.append(
                {"type": "heading", "level": level, "text": _inline_source(tokens[i + 1])}
            )
            i += 3
            continue
        if tok.type == "paragraph_open" and tok.level == 0:
            text = _inline_source(tokens[i + 1])
            image = _IMAGE_MARK.fullmatch(text)
            if text in PAGE_BREAK_MARKERS:
                blocks.append({"type": "page_break"})
            elif image:
                blocks.append({"type": "image", "sha256": image[1], "name": image[2].strip()})
            else:
                blocks.append({"type": "paragraph", "text": text})
            i += 3
            continue
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            block = _parse_list(tokens, i)
            blocks.append(block)
            i = block.pop("_end") + 1
            continue
        if tok.type == "table_open":
            header: list[str] = []
            rows: list[list[str]] = []
            row: list[str] = []
            in_head = False
            j = i + 1
            while tokens[j].type != "table_close":
                t = tokens[j]
                if t.type == "thead_open":
                    in_head = True
                elif t.type == "thead_close":
                    in_head = False
                elif t.type == "tr_open":
                    row = []
                elif t.type == "tr_close":
                    if in_head:
                        header = row
                    else:
                        rows.append(row)
                elif t.type == "inline":
                    row.append(_inline_source(t))
                j += 1
            blocks.append({"type": "table", "header": header, "rows": rows})
            i = j + 1
            continue
        if tok.type == "hr":
            blocks.append({"type": "page_break"})
        elif tok.type in ("fence", "code_block"):
            blocks.append({"type": "paragraph", "text": tok.content.strip()})
        i += 1
    return blocks


def _escape_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def blocks_to_markdown(blocks: list[dict]) -> str:
    out: list[str] = []
    for b in blocks:
        kind = b.get("type")
        if kind == "heading":
            out.append("#" * int(b["level"]) + " " + b["text"])
        elif kind == "paragraph":
            out.append(b["text"])
        elif kind == "list":
            levels, kinds = list_levels(b)
            column = [0] * (max(levels, default=0) + 2)  # where each depth's text starts
            lines = []
            for item, lvl, numbered, n in zip(
                b["items"], levels, kinds, _item_numbers(b), strict=False
            ):
                marker = f"{n}. " if numbered else "- "
                lines.append(" " * column[lvl] + marker + item)
                column[lvl + 1] = column[lvl] + len(marker)
            out.append("\n".join(lines))
        elif kind == "table":
            width = max([len(b["header"])] + [len(r) for r in b["rows"]] or [1])
            header = list(b["header"]) + [""] * (width - len(b["header"]))
            lines = [
                "| " + " | ".join(_escape_cell(c) for c in header) + " |",
                "|" + "---|" * width,
            ]
            for r in b["rows"]:
                cells = list(r) + [""] * (width - len(r))
                lines.append("| " + " | ".join(_escape_cell(c) for c in cells) + " |")
            out.append("\n".join(lines))
        elif kind == "page_break":
            out.append("\\pagebreak")
        elif kind == "image":
            out.append(f"<!-- image {b['sha256']} {b.get('name', '')} -->")
    return "\n\n".join(out) + ("\n" if out else "")


def validate_blocks(blocks) -> list[dict]:
    """Check blocks that arrive from outside (API) have the shape described above."""
    if not isinstance(blocks, list):
        raise ContentError(_("The content must be a list of blocks."))
    for n, b in enumerate(blocks, 1):
        kind = b.get("type") if isinstance(b, dict) else None
        ok = (
            (kind == "heading" and isinstance(b.get("text"), str) and b.get("level") in range(1, 7))
            or (kind == "paragraph" and isinstance(b.get("text"), str))
            or (
                kind == "list"
                and isinstance(b.get("items"), list)
                and all(isinstance(x, str) for x in b["items"])
                and _valid_levels(b)
            )
            or (
                kind == "table"
                and isinstance(b.get("header"), list)
                and isinstance(b.get("rows"), list)
                and all(
                    isinstance(r, list) and all(isinstance(c, str) for c in r) for r in b["rows"]
                )
            )
            or kind == "page_break"
            or (
                kind == "image"
                and isinstance(b.get("sha256"), str)
                and len(b["sha256"]) == 64
                and all(c in "0123456789abcdef" for c in b["sha256"])
            )
        )
        if not ok:
            raise ContentError(
                _(
                    "Block %(n)d of the content is not a valid heading, paragraph, list, table "
                    "or image block (see the content block format).",
                    n=n,
                )
            )
        if kind != "table":
            continue
        ncols = max([len(b["header"])] + [len(r) for r in b["rows"]])
        if len(b["rows"]) + 1 > MAX_TABLE_ROWS or ncols > MAX_TABLE_COLUMNS:
            raise ContentError(
                _(
                    "Block %(n)d: a table may have at most %(r)d rows and %(c)d columns.",
                    n=n,
                    r=MAX_TABLE_ROWS,
                    c=MAX_TABLE_COLUMNS,
                )
            )
        merges = b.get("merges")
        if merges is not None and not (
            isinstance(merges, list)
            and len(merges) <= (len(b["rows"]) + 1) * max(ncols, 1)
            and all(
                isinstance(m, list)
                and len(m) == 4
                and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in m)
                for m in merges
            )
        ):
            raise ContentError(
                _(
                    "Block %(n)d: the table's merges must be a list of [row, column, rows, "
                    "columns] lists of whole numbers, at most one per cell.",
                    n=n,
                )
            )
        if merges is not None:
            # spans beyond the table are cut at its edge, overlapping merges dropped
            b["merges"] = table_merges(b)
            if not b["merges"]:
                del b["merges"]
    return blocks


def _valid_levels(b: dict) -> bool:
    levels, kinds = b.get("levels"), b.get("ordered_items")
    if levels is None and kinds is None:
        return True
    if not (isinstance(levels, list) and len(levels) == len(b["items"])):
        return False
    previous = -1
    for lvl in levels:
        if not (isinstance(lvl, int) and not isinstance(lvl, bool)):
            return False
        if not 0 <= lvl <= min(previous + 1, MAX_LIST_DEPTH - 1):
            return False
        previous = lvl
    return kinds is None or (
        isinstance(kinds, list)
        and len(kinds) == len(levels)
        and all(isinstance(k, bool) for k in kinds)
    )


_UNDERLINE = re.compile(r"\+\+(?=\S)(.+?)(?<=\S)\+\+")


def _inline_html(text: str) -> str:
    # ``++x++`` is literal text to CommonMark, so after rendering (everything escaped) it is
    # safe to turn into <u>.
    return _UNDERLINE.sub(r"<u>\1</u>", _md.renderInline(text or ""))


def _table_html(b: dict) -> str:
    """A table with merged cells: the cells a merge covers are left out, the anchor spans."""
    grid = [list(b["header"])] + [list(r) for r in b["rows"]]
    covered, spans = set(), {}
    for row, col, rs, cs in table_merges(b):
        spans[(row, col)] = (max(1, rs), max(1, cs))
        for r in range(row, row + max(1, rs)):
            for c in range(col, col + max(1, cs)):
                if (r, c) != (row, col):
                    covered.add((r, c))
    out = []
    for r, cells in enumerate(grid):
        tag = "th" if r == 0 and b["header"] else "td"
        tds = []
        for c, text in enumerate(cells):
            if (r, c) in covered:
                continue
            rs, cs = spans.get((r, c), (1, 1))
            attrs = (f' rowspan="{rs}"' if rs > 1 else "") + (f' colspan="{cs}"' if cs > 1 else "")
            tds.append(f"<{tag}{attrs}>{_inline_html(text)}</{tag}>")
        out.append("<tr>" + "".join(tds) + "</tr>")
    head = out[0] if b["header"] else ""
    body = out[1:] if b["header"] else out
    return f"<table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"


def _list_html(b: dict) -> str:
    """Nested <ol>/<ul>: a deeper item opens a list inside the item before it."""
    levels, kinds = list_levels(b)
    out: list[str] = []
    tags: list[str] = []  # the lists open, outermost first
    for item, lvl, numbered in zip(b["items"], levels, kinds, strict=False):
        if lvl >= len(tags):
            while len(tags) <= lvl:
                tags.append("ol" if numbered else "ul")
                out.append(f"<{tags[-1]}>")
        else:
            out.append("</li>")
            while len(tags) > lvl + 1:
                out.append(f"</{tags.pop()}></li>")
        out.append(f"<li>{_inline_html(item)}")
    if tags:
        out.append("</li>")
    while len(tags) > 1:
        out.append(f"</{tags.pop()}></li>")
    if tags:
        out.append(f"</{tags.pop()}>")
    return "".join(out)


def heading_anchor(n: int) -> str:
    """The id of the document's n-th heading (from 1): the outline (目录) links to it."""
    return f"sec-{n}"


def outline(blocks: list[dict], max_level: int = 3) -> list[tuple[int, str, str]]:
    """(level, plain text, anchor) of the headings down to ``max_level``, for the 目录."""
    out, n = [], 0
    for b in blocks:
        if b.get("type") == "heading":
            n += 1
            level = min(6, max(1, int(b["level"])))
            if level <= max_level:
                out.append((level, Markup(_inline_html(b["text"])).striptags(), heading_anchor(n)))
    return out


def blocks_to_html(blocks: list[dict], image_url=None, anchors: bool = True) -> Markup:
    """The blocks as sanitised HTML; ``anchors`` gives each heading the id the outline (目录)
    links to (not for pieces of a document, such as one block of a comparison: ids repeat)."""
    parts: list[str] = []
    headings = 0
    for b in blocks:
        kind = b.get("type")
        if kind == "heading":
            level = min(6, max(1, int(b["level"])))
            headings += 1
            anchor = f' id="{heading_anchor(headings)}"' if anchors else ""
            parts.append(f"<h{level}{anchor}>{_inline_html(b['text'])}</h{level}>")
        elif kind == "paragraph":
            parts.append(f"<p>{_inline_html(b['text'])}</p>")
        elif kind == "list":
            parts.append(_list_html(b))
        elif kind == "table":
            parts.append(_table_html(b))
        elif kind == "page_break":
            parts.append("<hr>")
        elif kind == "image" and image_url is not None:
            parts.append(f'<img src="{image_url(b["sha256"])}" alt="{_attr(b.get("name", ""))}">')
    # The renderer escapes raw HTML already; sanitising again means a future change to the
    # renderer cannot open a hole.
    return Markup(
        nh3.clean(
            "".join(parts),
            tags=_ALLOWED_TAGS,
            attributes={
                "td": {"rowspan", "colspan"},
                "th": {"rowspan", "colspan"},
                "img": {"src", "alt"},
                **{f"h{n}": {"id"} for n in range(1, 7)},
            },
            url_schemes={"http", "https"},
        )
    )


def _attr(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def blocks_to_lines(blocks: list[dict]) -> list[str]:
    """One line of plain text per block (tables one per row), for comparing revisions."""
    lines: list[str] = []
    for b in blocks:
        kind = b.get("type")
        if kind == "heading":
            lines.append("#" * int(b["level"]) + " " + b["text"])
        elif kind == "paragraph":
            lines.append(b["text"])
        elif kind == "list":
            # the same marker for every item, so inserting one does not renumber the rest
            levels, kinds = list_levels(b)
            lines.extend(
                "  " * lvl + ("1. " if numbered else "• ") + item
                for item, lvl, numbered in zip(b["items"], levels, kinds, strict=False)
            )
        elif kind == "table":
            lines.append(" | ".join(b["header"]))
            lines.extend(" | ".join(r) for r in b["rows"])
        elif kind == "page_break":
            lines.append("———")
        elif kind == "image":
            lines.append(f"[{b.get('name') or 'image'} {b['sha256'][:12]}]")
    return lines


def content_hash(payload: dict) -> str:
    """SHA-256 over a canonical JSON form of what a signature covers."""
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ renderings remembered
#
# A revision's page renders its body and its outline from the blocks; for a long procedure
# that is most of the page's work, and a submitted revision's blocks never change. Each
# process remembers the renderings of recent bodies under the SHA-256 of what they are made
# from (the blocks themselves, and the image addresses), never under a revision's id: a
# draft that is edited has other blocks, so another key, and can never be served its old body.
# Nothing here can go stale across servers: the key is the content.

_CACHE_MAX_CHARS = 8_000_000  # about 16 MB of text per process, the oldest forgotten first


class _Renderings:
    def __init__(self, max_chars: int):
        import threading
        from collections import OrderedDict

        self.max_chars = max_chars
        self.items: OrderedDict = OrderedDict()
        self.chars = 0
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key, value, size: int) -> None:
        if size > self.max_chars:
            return
        with self.lock:
            if key in self.items:
                return
            self.items[key] = (value, size)
            self.chars += size
            while self.chars > self.max_chars:
                _key, (_value, old) = self.items.popitem(last=False)
                self.chars -= old

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.chars = 0


_renderings = _Renderings(_CACHE_MAX_CHARS)


def _content_key(kind: str, *parts) -> str | None:
    try:
        text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return None  # not plain JSON (never from the database): rendered every time
    return kind + ":" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def rendered_body(blocks: list[dict], image_url=None) -> Markup:
    """:func:`blocks_to_html` of a whole body (with heading anchors), remembered by content."""
    blocks = blocks or []
    images = (
        [image_url(b["sha256"]) for b in blocks if b.get("type") == "image"] if image_url else None
    )
    key = _content_key("html", blocks, images)
    hit = _renderings.get(key) if key else None
    if hit is not None:
        return Markup(hit[0])
    html = blocks_to_html(blocks, image_url=image_url)
    if key:
        _renderings.put(key, str(html), len(html))
    return html


def body_outline(blocks: list[dict], max_level: int = 3) -> list[tuple[int, str, str]]:
    """:func:`outline` of a body, remembered by content."""
    blocks = blocks or []
    key = _content_key("outline", blocks, max_level)
    hit = _renderings.get(key) if key else None
    if hit is not None:
        return list(hit[0])
    heads = outline(blocks, max_level)
    if key:
        _renderings.put(key, tuple(heads), sum(len(t) + len(a) for _lvl, t, a in heads) + 1)
    return heads
