"""Word (.docx) files in: checks first, then the body as revision blocks, with a report.

Checked before anything is parsed or stored, by the checks every upload goes through
(docmgmt.filecheck): a plain file name ending in .docx (a macro-enabled .docm is refused), not
empty, not over the upload limit, not an OLE compound file (encrypted Word files and old .doc
files are OLE), a zip archive that opens, no zip bomb, a Word document content type, no macros,
not Strict Open XML, every XML part well-formed and without entity declarations.  Tables are
bounded (MAX_TABLE_ROWS, MAX_TABLE_COLUMNS): a cell's span never reaches past the table.

Then python-docx reads the body in order: headings (by style name, English or Chinese such as
"标题 1", and by outline level), paragraphs with bold / italic / underline, numbered and bulleted
lists with their levels (by numbering properties as well as by style: LibreOffice writes list
items as "Body Text" with w:numPr), tables with merged cells, page breaks and images.  Headers
and footers are read but not put into the body.  What has no place in a revision (text boxes,
comments, footnotes, tracked deletions) is never dropped silently: the report lists what was
kept, converted and left out, and the user reads it before saving.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from io import BytesIO

from docx import Document as open_docx
from docx.oxml.ns import qn
from flask_babel import gettext as _

from docmgmt import storage
from docmgmt.errors import ValidationFailed
from docmgmt.versioning.content import MAX_LIST_DEPTH, MAX_TABLE_COLUMNS, MAX_TABLE_ROWS

HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.IGNORECASE)
APPENDIX_STYLE = "Revision Record"  # written by our export: the record table starts here
_MD_SPECIAL = re.compile(r"([\\`*_])")


@dataclass
class ImportResult:
    blocks: list
    images: dict  # sha256 -> bytes
    title: str
    kept: dict = field(default_factory=dict)
    converted: list = field(default_factory=list)
    left_out: list = field(default_factory=list)

    def report(self) -> dict:
        return {
            "title": self.title,
            "kept": self.kept,
            "converted": self.converted,
            "left_out": self.left_out,
        }


def _refuse(message: str):
    raise ValidationFailed(message, field="file")


def check_docx(filename: str | None, data: bytes) -> str:
    """Refuse anything that is not a sound .docx, with the reason; returns the file name.

    The checks are the ones every upload goes through (storage.check_upload, which runs
    docmgmt.filecheck); a .docm name gets its own message first."""
    name = filename or ""
    if name.lower().endswith(".docm"):
        storage.safe_filename(name)
        _refuse(_("%(n)s is a macro-enabled Word file (.docm); save it as .docx.", n=name))
    return storage.check_upload(filename, data, {".docx"})


def _md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _wrap(text: str, bold: bool, italic: bool, underline: bool) -> str:
    if not text.strip():
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    core = _md_escape(text.strip())
    if underline:
        core = f"++{core}++"
    if italic:
        core = f"*{core}*"
    if bold:
        core = f"**{core}**"
    return lead + core + trail


def _on(props, tag: str) -> bool | None:
    if props is None:
        return None
    el = props.find(qn(tag))
    if el is None:
        return None
    val = el.get(qn("w:val"))
    return val not in ("0", "false", "none")


def _int(value, default: int) -> int:
    """An integer attribute of the XML, or ``default`` when it is not one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class _Reader:
    def __init__(self, doc, name: str = ""):
        self.doc = doc
        self.name = name or _("The Word file")
        self.styles = {s.style_id: s for s in doc.styles}
        self.blocks: list = []
        self.images: dict = {}
        self.kept = {
            "headings": 0,
            "paragraphs": 0,
            "list_items": 0,
            "tables": 0,
            "page_breaks": 0,
            "images": 0,
        }
        self.converted: list = []
        self.left_out: list = []
        self.title = ""
        self.counts = {
            "textboxes": 0,
            "comments": 0,
            "footnotes": 0,
            "deletions": 0,
            "insertions": 0,
            "nested": 0,
            "fields": 0,
        }
        self.stop = False

    # -- style helpers
    def _style_chain(self, style_id):
        seen = 0
        style = self.styles.get(style_id)
        while style is not None and seen < 10:
            yield style
            style = style.base_style
            seen += 1

    def _style_name(self, p) -> str:
        ppr = p.find(qn("w:pPr"))
        sid = None
        if ppr is not None and ppr.find(qn("w:pStyle")) is not None:
            sid = ppr.find(qn("w:pStyle")).get(qn("w:val"))
        style = self.styles.get(sid) if sid else None
        return style.name if style is not None and style.name else (sid or "")

    def _style_id(self, p):
        ppr = p.find(qn("w:pPr"))
        if ppr is not None and ppr.find(qn("w:pStyle")) is not None:
            return ppr.find(qn("w:pStyle")).get(qn("w:val"))
        return None

    def _heading_level(self, p) -> int | None:
        name = self._style_name(p)
        m = HEADING_STYLE.match(name.strip())
        if m:
            return int(m[1])
        ppr = p.find(qn("w:pPr"))
        lvl = ppr.find(qn("w:outlineLvl")) if ppr is not None else None
        if lvl is None:
            for style in self._style_chain(self._style_id(p)):
                m = HEADING_STYLE.match((style.name or "").strip())
                if m:
                    return int(m[1])
                sppr = style.element.find(qn("w:pPr"))
                if sppr is not None and sppr.find(qn("w:outlineLvl")) is not None:
                    lvl = sppr.find(qn("w:outlineLvl"))
                    break
        if lvl is not None:
            val = _int(lvl.get(qn("w:val")), 9)
            if val < 9:
                return min(6, val + 1)
        return None

    def _numbering(self, p):
        """(num_id, ilvl) from the paragraph or its style, or None."""
        ppr = p.find(qn("w:pPr"))
        num = ppr.find(qn("w:numPr")) if ppr is not None else None
        if num is None:
            for style in self._style_chain(self._style_id(p)):
                sppr = style.element.find(qn("w:pPr"))
                if sppr is not None and sppr.find(qn("w:numPr")) is not None:
                    num = sppr.find(qn("w:numPr"))
                    break
        if num is None:
            return None
        nid = num.find(qn("w:numId"))
        ilvl = num.find(qn("w:ilvl"))
        num_id = nid.get(qn("w:val")) if nid is not None else None
        if num_id in (None, "0"):
            return None
        return num_id, _int(ilvl.get(qn("w:val")), 0) if ilvl is not None else 0

    def _ordered(self, num_id: str, ilvl: int) -> bool:
        try:
            numbering = self.doc.part.numbering_part.element
        except (NotImplementedError, KeyError, AttributeError):
            return True
        for num in numbering.findall(qn("w:num")):
            if num.get(qn("w:numId")) != num_id:
                continue
            abstract = num.find(qn("w:abstractNumId")).get(qn("w:val"))
            for absn in numbering.findall(qn("w:abstractNum")):
                if absn.get(qn("w:abstractNumId")) != abstract:
                    continue
                for lvl in absn.findall(qn("w:lvl")):
                    if lvl.get(qn("w:ilvl")) == str(ilvl):
                        fmt = lvl.find(qn("w:numFmt"))
                        return fmt is None or fmt.get(qn("w:val")) != "bullet"
        return True

    # -- content
    def _run_props(self, r, p):
        rpr = r.find(qn("w:rPr"))
        style_rpr = None
        for style in self._style_chain(self._style_id(p)):
            style_rpr = style.element.find(qn("w:rPr"))
            if style_rpr is not None:
                break
        out = []
        for tag in ("w:b", "w:i", "w:u"):
            val = _on(rpr, tag)
            if val is None:
                val = _on(style_rpr, tag)
            out.append(bool(val))
        return out

    def _paragraph_text(self, p, plain: bool = False) -> tuple[str, bool, bool]:
        """Inline Markdown of a paragraph; also whether it holds a page break before/after."""
        parts: list[str] = []
        break_before = break_after = False
        ppr = p.find(qn("w:pPr"))
        if ppr is not None and _on(ppr, "w:pageBreakBefore"):
            break_before = True
        seen_text = False
        for el in p.iter():
            tag = el.tag
            if tag == qn("w:r"):
                if self._inside(el, ("w:del", "w:txbxContent")):
                    continue
                bold, italic, underline = (False,) * 3 if plain else self._run_props(el, p)
                text = []
                for child in el:
                    if child.tag == qn("w:t"):
                        text.append(child.text or "")
                    elif child.tag == qn("w:tab"):
                        text.append("\t")
                    elif child.tag == qn("w:br"):
                        if child.get(qn("w:type")) == "page":
                            if seen_text or text:
                                break_after = True
                            else:
                                break_before = True
                        else:
                            text.append(" ")
                    elif child.tag == qn("w:lastRenderedPageBreak"):
                        pass
                joined = "".join(text)
                if joined:
                    seen_text = seen_text or bool(joined.strip())
                    parts.append(_wrap(joined, bold, italic, underline))
            elif tag == qn("w:txbxContent"):
                if not self._inside(el, ("w:txbxContent",), skip_self=True):
                    self.counts["textboxes"] += 1
                    text = "".join(t.text or "" for t in el.iter(qn("w:t")))
                    self.left_out.append(_("Text box left out: %(t)s", t=text[:80] or "—"))
            elif tag == qn("w:commentReference"):
                self.counts["comments"] += 1
            elif tag == qn("w:footnoteReference") or tag == qn("w:endnoteReference"):
                self.counts["footnotes"] += 1
            elif tag == qn("w:del"):
                self.counts["deletions"] += 1
            elif tag == qn("w:ins"):
                self.counts["insertions"] += 1
            elif tag == qn("a:blip"):
                if self._inside(el, ("w:txbxContent",)):
                    continue
                self._image(el)
        text = "".join(parts).strip()
        text = text.replace("****", "")  # two bold runs side by side read as one
        return text, break_before, break_after

    def _inside(self, el, tags, skip_self=True) -> bool:
        """Is ``el`` inside an element of one of ``tags`` (itself excluded)?"""
        wanted = {qn(t) for t in tags}
        node = el.getparent()
        while node is not None:
            if node.tag in wanted:
                return True
            node = node.getparent()
        return False

    def _image(self, blip) -> None:
        rid = blip.get(qn("r:embed"))
        part = self.doc.part.related_parts.get(rid) if rid else None
        if part is None:
            self.left_out.append(_("A linked (not embedded) image was left out."))
            return
        data = part.blob
        digest = hashlib.sha256(data).hexdigest()
        self.images[digest] = data
        name = str(part.partname).rsplit("/", 1)[-1]
        self.blocks.append({"type": "image", "sha256": digest, "name": name})
        self.kept["images"] += 1

    def _append_list_item(self, ordered: bool, text: str, ilvl: int) -> None:
        """Consecutive list paragraphs make one list block; a deeper level (w:ilvl, or the
        "List Number 2" kind of style) nests under the item before it, at most one level deeper
        than that item and MAX_LIST_DEPTH deep."""
        last = self.blocks[-1] if self.blocks else None
        self.kept["list_items"] += 1
        if last and last.get("type") == "list" and (ilvl > 0 or last.get("ordered") == ordered):
            n = len(last["items"])
            levels = last.get("levels") or [0] * n
            kinds = last.get("ordered_items") or [bool(last.get("ordered"))] * n
            level = min(ilvl, levels[-1] + 1, MAX_LIST_DEPTH - 1)
            last["items"].append(text)
            if level or "levels" in last:
                last["levels"] = [*levels, level]
                last["ordered_items"] = [*kinds, ordered if level else bool(last["ordered"])]
            return
        if ilvl > 0:
            self.counts["nested"] += 1  # a list that starts deeper than its first level
        self.blocks.append({"type": "list", "ordered": ordered, "items": [text]})

    @staticmethod
    def _style_level(style: str) -> int:
        """Word's "List Bullet 2" / "List Number 3" styles are the deeper levels."""
        m = re.fullmatch(r"list (?:bullet|number) ([2-9])", style.lower())
        return int(m.group(1)) - 1 if m else 0

    def paragraph(self, p) -> None:
        style = self._style_name(p)
        if style == APPENDIX_STYLE:
            self.stop = True
            return
        before_images = len(self.blocks)
        level = self._heading_level(p)
        # Headings are plain text: their bold comes from the heading style.
        text, brk_before, brk_after = self._paragraph_text(p, plain=level is not None)
        images = self.blocks[before_images:]
        del self.blocks[before_images:]
        if brk_before:
            self._page_break()
        if style.lower() == "title" or style == "标题":
            if text and not self.title:
                self.title = re.sub(r"\\(.)", r"\1", text.replace("**", "").replace("*", ""))
                self.converted.append(_("The title paragraph became the revision's title."))
        elif text:
            numbering = self._numbering(p) if level is None else None
            if level is not None:
                self.blocks.append({"type": "heading", "level": level, "text": text})
                self.kept["headings"] += 1
            elif numbering is not None:
                num_id, ilvl = numbering
                ordered = self._ordered(num_id, ilvl)
                self._append_list_item(ordered, text, max(ilvl, self._style_level(style)))
            elif style.lower().startswith("list bullet"):
                self._append_list_item(False, text, self._style_level(style))
            elif style.lower().startswith("list number"):
                self._append_list_item(True, text, self._style_level(style))
            else:
                self.blocks.append({"type": "paragraph", "text": text})
                self.kept["paragraphs"] += 1
        self.blocks.extend(images)
        if brk_after:
            self._page_break()

    def _page_break(self) -> None:
        if self.blocks and self.blocks[-1].get("type") == "page_break":
            return
        self.blocks.append({"type": "page_break"})
        self.kept["page_breaks"] += 1

    def table(self, tbl) -> None:
        grid: list[list[str]] = []
        merges: list[list[int]] = []
        vertical: dict[int, list[int]] = {}  # column -> [row, col, rowspan, colspan] anchor
        trs = tbl.findall(qn("w:tr"))
        if len(trs) > MAX_TABLE_ROWS:
            raise ValidationFailed(
                _(
                    "%(n)s: a table has more than %(m)d rows; split it into smaller tables.",
                    n=self.name,
                    m=MAX_TABLE_ROWS,
                ),
                field="file",
            )
        # A span reaches at most to the table's last grid column (w:gridSpan="1000000" in a
        # small file would otherwise make a million empty cells).
        tbl_grid = tbl.find(qn("w:tblGrid"))
        width = len(tbl_grid.findall(qn("w:gridCol"))) if tbl_grid is not None else 0
        width = min(width or MAX_TABLE_COLUMNS, MAX_TABLE_COLUMNS)
        for r, tr in enumerate(trs):
            row: list[str] = []
            col = 0
            for tc in tr.findall(qn("w:tc")):
                if col >= MAX_TABLE_COLUMNS:
                    raise ValidationFailed(
                        _(
                            "%(n)s: a table has more than %(m)d columns.",
                            n=self.name,
                            m=MAX_TABLE_COLUMNS,
                        ),
                        field="file",
                    )
                tcpr = tc.find(qn("w:tcPr"))
                span = 1
                vmerge = None
                if tcpr is not None:
                    gs = tcpr.find(qn("w:gridSpan"))
                    if gs is not None:
                        span = max(1, min(_int(gs.get(qn("w:val")), 1), width - col))
                    vm = tcpr.find(qn("w:vMerge"))
                    if vm is not None:
                        vmerge = vm.get(qn("w:val")) or "continue"
                texts = []
                for p in tc.findall(qn("w:p")):
                    t, _b, _a = self._paragraph_text(p)
                    if t:
                        texts.append(t)
                    if self.blocks and self.blocks[-1].get("type") == "image":
                        self.blocks.pop()
                        self.kept["images"] -= 1
                        self.converted.append(_("An image inside a table cell was left out."))
                if tc.find(qn("w:tbl")) is not None:
                    self.converted.append(_("A table inside a table cell was flattened to text."))
                    texts.append(
                        " ".join(t.text or "" for t in tc.find(qn("w:tbl")).iter(qn("w:t")))
                    )
                text = " ".join(texts).replace("\n", " ")
                if vmerge == "continue" and col in vertical:
                    vertical[col][2] += 1
                    text = ""
                elif vmerge == "restart":
                    anchor = [r, col, 1, span]
                    vertical[col] = anchor
                    merges.append(anchor)
                else:
                    vertical.pop(col, None)
                    if span > 1:
                        merges.append([r, col, 1, span])
                row.append(text)
                row.extend([""] * (span - 1))
                col += span
            grid.append(row)
        merges = [m for m in merges if m[2] > 1 or m[3] > 1]
        if not grid:
            return
        width = max(len(r) for r in grid)
        grid = [r + [""] * (width - len(r)) for r in grid]
        block = {"type": "table", "header": grid[0], "rows": grid[1:]}
        if merges:
            block["merges"] = merges
            self.converted.append(_("%(n)d merged cell range(s) kept in a table.", n=len(merges)))
        self.blocks.append(block)
        self.kept["tables"] += 1

    def body(self, element) -> None:
        for child in element:
            if self.stop:
                return
            if child.tag == qn("w:p"):
                self.paragraph(child)
            elif child.tag == qn("w:tbl"):
                self.table(child)
            elif child.tag == qn("w:sdt"):
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    self.body(content)

    def finish(self) -> None:
        c = self.counts
        if c["comments"]:
            self.left_out.append(_("%(n)d comment(s) left out.", n=c["comments"]))
        if c["footnotes"]:
            self.left_out.append(_("%(n)d footnote(s) or endnote(s) left out.", n=c["footnotes"]))
        if c["deletions"] or c["insertions"]:
            self.converted.append(
                _(
                    "Tracked changes accepted: %(i)d insertion(s) kept, %(d)d deletion(s) removed.",
                    i=c["insertions"],
                    d=c["deletions"],
                )
            )
        if c["nested"]:
            self.converted.append(
                _("%(n)d nested list item(s) moved to the first level.", n=c["nested"])
            )
        if self.kept["images"]:
            self.converted.append(
                _("%(n)d image(s) kept with the revision.", n=self.kept["images"])
            )
        headers = []
        for section in self.doc.sections:
            for part in (section.header, section.footer):
                try:
                    if part.is_linked_to_previous:
                        continue
                    text = " ".join(p.text for p in part.paragraphs if p.text.strip())
                    text += " ".join(
                        c.text for t in part.tables for row in t.rows for c in row.cells
                    )
                except (KeyError, ValueError, AttributeError):
                    continue
                if text.strip():
                    headers.append(text.strip()[:80])
        if headers:
            self.converted.append(
                _(
                    "Header and footer text read but not put into the body: %(t)s",
                    t=" / ".join(dict.fromkeys(headers)),
                )
            )


def read_docx(data: bytes, filename: str = "") -> ImportResult:
    """Blocks, images and the report of a checked .docx (see :func:`check_docx`)."""
    try:
        doc = open_docx(BytesIO(data))
        reader = _Reader(doc, filename)
        reader.body(doc.element.body)
        reader.finish()
    except ValidationFailed:
        raise
    except Exception:  # python-docx and lxml raise many kinds on a damaged package
        # their messages are English library internals: the user gets what is wrong instead
        raise ValidationFailed(
            _(
                "%(n)s is damaged: its Word content cannot be read; open it in Word, save it "
                "again as .docx and upload it again.",
                n=filename or _("The Word file"),
            ),
            field="file",
        ) from None
    blocks = reader.blocks
    while blocks and blocks[-1].get("type") == "page_break":
        blocks.pop()
        reader.kept["page_breaks"] -= 1
    if not any(b.get("type") != "page_break" for b in blocks):
        raise ValidationFailed(_("The Word file has no text to import."), field="file")
    return ImportResult(
        blocks=blocks,
        images=reader.images,
        title=reader.title,
        kept=reader.kept,
        converted=reader.converted,
        left_out=reader.left_out,
    )
