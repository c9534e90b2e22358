"""Revision content as structured blocks, and the renderings made from them.

A revision is written in Markdown and stored as a list of blocks:

    {"type": "heading", "level": 1-6, "text": "..."}
    {"type": "paragraph", "text": "..."}
    {"type": "list", "ordered": bool, "items": ["...", ...]}
    {"type": "table", "header": ["...", ...], "rows": [["...", ...], ...],
     "merges": [[row, col, rowspan, colspan], ...]}      (merges optional; row 0 = header)
    {"type": "page_break"}
    {"type": "image", "sha256": "...", "name": "...", "width_mm": 120}   (from Word imports)

``text`` keeps inline Markdown (bold, italic) plus ``++underlined++``.  Every output (HTML,
Word, PDF) renders from the blocks, never from the Markdown source.
"""

import hashlib
import json
import re

import nh3
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
    pass


def _inline_source(token) -> str:
    return (token.content or "").strip()


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
            ordered = tok.type == "ordered_list_open"
            close = tok.type.replace("_open", "_close")
            depth, items, j = 0, [], i + 1
            current: list[str] = []
            while j < len(tokens):
                t = tokens[j]
                if t.type == tok.type:
                    depth += 1
                elif t.type == close:
                    if depth == 0:
                        break
                    depth -= 1
                elif t.type == "list_item_open" and depth == 0:
                    current = []
                elif t.type == "list_item_close" and depth == 0:
                    items.append(" ".join(current))
                elif t.type == "inline":
                    current.append(_inline_source(t))
                j += 1
            block = {"type": "list", "ordered": ordered, "items": items}
            if ordered and tok.attrGet("start") not in (None, 1, "1"):
                block["start"] = int(tok.attrGet("start"))
            blocks.append(block)
            i = j + 1
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
            start = int(b.get("start", 1))
            lines = [
                (f"{start + n}. " if b.get("ordered") else "- ") + item
                for n, item in enumerate(b["items"])
            ]
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
        raise ContentError("content must be a list of blocks")
    for n, b in enumerate(blocks, 1):
        kind = b.get("type") if isinstance(b, dict) else None
        ok = (
            (kind == "heading" and isinstance(b.get("text"), str) and b.get("level") in range(1, 7))
            or (kind == "paragraph" and isinstance(b.get("text"), str))
            or (
                kind == "list"
                and isinstance(b.get("items"), list)
                and all(isinstance(x, str) for x in b["items"])
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
            raise ContentError(f"block {n} is not a valid heading, paragraph, list, table or image")
        merges = b.get("merges") if kind == "table" else None
        if merges is not None and not (
            isinstance(merges, list)
            and all(
                isinstance(m, list)
                and len(m) == 4
                and all(isinstance(x, int) and x >= 0 for x in m)
                for m in merges
            )
        ):
            raise ContentError(f"block {n}: merges are [row, col, rowspan, colspan] lists")
    return blocks


_UNDERLINE = re.compile(r"\+\+(?=\S)(.+?)(?<=\S)\+\+")


def _inline_html(text: str) -> str:
    # ``++x++`` is literal text to CommonMark, so after rendering (everything escaped) it is
    # safe to turn into <u>.
    return _UNDERLINE.sub(r"<u>\1</u>", _md.renderInline(text or ""))


def _table_html(b: dict) -> str:
    """A table with merged cells: the cells a merge covers are left out, the anchor spans."""
    grid = [list(b["header"])] + [list(r) for r in b["rows"]]
    covered, spans = set(), {}
    for row, col, rs, cs in b.get("merges") or []:
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


def blocks_to_html(blocks: list[dict], image_url=None) -> Markup:
    parts: list[str] = []
    for b in blocks:
        kind = b.get("type")
        if kind == "heading":
            level = min(6, max(1, int(b["level"])))
            parts.append(f"<h{level}>{_inline_html(b['text'])}</h{level}>")
        elif kind == "paragraph":
            parts.append(f"<p>{_inline_html(b['text'])}</p>")
        elif kind == "list":
            tag = "ol" if b.get("ordered") else "ul"
            items = "".join(f"<li>{_inline_html(i)}</li>" for i in b["items"])
            parts.append(f"<{tag}>{items}</{tag}>")
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
            lines.extend(("1. " if b.get("ordered") else "• ") + i for i in b["items"])
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
