"""How text becomes index terms: overlapping CJK bigrams, and numbers that survive.

Why bigrams and not a word segmenter (jieba): a segmenter decides once, at index time, where
words end, and a search for a piece of a word it did not cut out finds nothing (it splits
派工单 as 派 + 工单, so 派工 finds nothing). Overlapping bigrams index every two-character
substring, so any Chinese query of two characters or more is the phrase of its bigrams and
matches wherever the text contains it. The cost is a larger index, paid once.

Latin letters and digits form runs. A run such as ``XX-SP-20``, ``GB/T`` or ``27922-2011`` is
indexed three ways: as the whole run (``xx-sp-20``: a document number becomes a single, rare
term); as its parts split at separators and at letter/digit boundaries (``xx`` ``sp`` ``20``),
each at its own position, so ``27922`` alone, ``SP-20`` or ``GB/T27922`` match as phrases of
parts; and, like Chinese, as overlapping grams: every three characters of the run, separators
included (``04a1`` → ``04a`` ``4a1``; ``13812345678`` → ``138`` ``381`` …), so any three or more
letters or digits are found wherever they stand inside a longer run (``5GW`` in ``35GW/BP2``,
``2345`` in a phone number, ``XX-SP-20`` in ``XX-SP-201``); the candidates are then checked
against the text exactly (docmgmt/search/query.py). Full-width letters and digits (ＸＸ－ＳＰ) are
folded to ASCII first, and case is folded.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from whoosh.analysis import Token, Tokenizer

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}  # full-width ASCII → ASCII
_FOLD[0x3000] = 0x20
RUN = re.compile(rf"[{CJK}]+|[0-9A-Za-z]+(?:[-/._][0-9A-Za-z]+)*")
_PART = re.compile(r"[0-9]+|[A-Za-z]+")
GRAM = 3


def fold(text: str) -> str:
    """Same length as ``text``, so character offsets stay valid for highlighting."""
    return text.translate(_FOLD)


def is_cjk(run: str) -> bool:
    return "\u3400" <= run[0] <= "\ufaff"


class Piece(NamedTuple):
    """One index term with its relative position and character span."""

    text: str
    pos: int
    start: int
    end: int


def pieces(text: str) -> list[Piece]:
    """Every term of ``text`` in order; the heart of both indexing and query planning."""
    return [Piece._make(t) for t in _pieces(text)]


def _pieces(text: str) -> list[tuple[str, int, int, int]]:
    out: list[tuple[str, int, int, int]] = []
    pos = 0
    for m in RUN.finditer(fold(text)):
        run, base = m.group(0), m.start()
        if is_cjk(run):
            if len(run) == 1:
                out.append((run, pos, base, base + 1))
                pos += 1
                continue
            for i in range(len(run) - 1):
                out.append((run[i : i + 2], pos, base + i, base + i + 2))
                pos += 1
            continue
        low = run.lower()
        parts = list(_PART.finditer(low))
        if len(parts) > 1:
            out.append((low, pos, base, base + len(run)))
        # Grams: every three characters of the run, separators included (xx- x-s -sp …), at
        # the position of the part they start in (or follow), after it: positions never go back.
        # A gram that is the part itself (abc) or the whole run already given (a1b, a-1) is
        # that same term at the same place: not given twice.
        starts = [p.start() for p in parts[1:]] + [len(low)]
        whole_is_gram = len(parts) > 1 and len(low) == GRAM
        for k, p in enumerate(parts):
            out.append((p.group(0), pos, base + p.start(), base + p.end()))
            for i in range(p.start(), min(starts[k], len(low) - GRAM + 1)):
                g = low[i : i + GRAM]
                if i == p.start() and g == p.group(0):
                    continue
                if whole_is_gram and i == 0:
                    continue
                out.append((g, pos, base + i, base + i + GRAM))
            pos += 1
    return out


def term_set(*texts: str) -> set[str]:
    """The distinct terms of ``texts``, without positions (the PostgreSQL engine's lexemes):
    the texts of :func:`pieces`, computed without building positions (three times faster)."""
    out: set[str] = set()
    for text in texts:
        if not text:
            continue
        for m in RUN.finditer(fold(text)):
            run = m.group(0)
            if is_cjk(run):
                if len(run) == 1:
                    out.add(run)
                else:
                    out.update([run[i : i + 2] for i in range(len(run) - 1)])
                continue
            low = run.lower()
            parts = _PART.findall(low)
            if len(parts) > 1:
                out.add(low)
            out.update(parts)
            out.update([low[i : i + GRAM] for i in range(len(low) - GRAM + 1)])
    return out


class BigramTokenizer(Tokenizer):
    """Whoosh tokenizer over :func:`pieces`; lower-casing and folding are built in."""

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        for text, pos, start, end in _pieces(value):
            t.text = text
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = value[start:end]
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar, t.endchar = start_char + start, start_char + end
            yield t


def analyzer():
    return BigramTokenizer()
