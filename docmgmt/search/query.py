"""From what a person typed to a Whoosh query, planned for speed; never an error.

The syntax is the one people already use: words are ANDed, ``"quoted text"`` must appear as
written, ``-word`` excludes, ``number:``, ``title:`` or ``content:`` restrict a word to a field.
Anything else (unknown field names, unbalanced quotes or brackets, punctuation, operators) is
read as plain text, and a note says what was ignored.

Planning (see :func:`build`): a Chinese word of n characters is the n-1 overlapping bigrams of
the index, asked for without positions, then checked exactly against the candidate's text. A
run with separators (XX-SP-20, 27922-2011) is one indexed term when the index knows it, else
the phrase of its parts; title and number matches only add to the ranking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from whoosh import query as Q

from docmgmt.search.analysis import GRAM, RUN, fold, is_cjk, pieces

MAX_QUERY_CHARS = 200
MAX_CLAUSES = 12
FIELDS = {"number": "number", "title": "title", "content": "content", "body": "content"}

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_PARTS = re.compile(r"[0-9]+|[a-z]+")


@dataclass
class Clause:
    text: str
    field: str | None = None
    negate: bool = False
    quoted: bool = False


@dataclass
class Plan:
    clauses: list[Clause] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # message ids explained to the user

    @property
    def positive(self) -> list[Clause]:
        return [c for c in self.clauses if not c.negate]

    @property
    def empty(self) -> bool:
        return not self.positive

    def needles(self) -> list[str]:
        """Literal strings to highlight (folded, lower-case)."""
        out = {m.group(0).lower() for c in self.positive for m in RUN.finditer(fold(c.text))}
        return sorted(out, key=len, reverse=True)


def parse(text: str) -> Plan:
    plan = Plan()
    text = (text or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        plan.notes.append("truncated")
    for m in _TOKEN.finditer(text):
        if m.group(2) is not None or (m.group(0).startswith('"') or m.group(0).startswith('-"')):
            body = m.group(2) if m.group(2) is not None else ""
            clause = Clause(body, negate=m.group(1) == "-", quoted=True)
        else:
            word = m.group(3)
            negate = word.startswith("-") and len(word) > 1
            if negate:
                word = word[1:]
            fname = None
            if ":" in word:
                head, _, rest = word.partition(":")
                if head.lower() in FIELDS and rest:
                    fname, word = FIELDS[head.lower()], rest
                elif head.isascii() and head.isalpha() and rest:
                    plan.notes.append("unknown_field")
                    word = rest
            if word.upper() in ("AND", "OR", "NOT", "&&", "||"):
                continue
            clause = Clause(word, field=fname, negate=negate)
        if not pieces(clause.text):
            if clause.text.strip():
                plan.notes.append("punctuation")
            continue
        plan.clauses.append(clause)
    if len(plan.clauses) > MAX_CLAUSES:
        plan.clauses = plan.clauses[:MAX_CLAUSES]
        plan.notes.append("too_many_terms")
    if plan.empty and plan.clauses:
        plan.notes.append("only_exclusions")
    plan.notes = list(dict.fromkeys(plan.notes))
    return plan


def _run_query(fieldname: str, run: str, known, positional: bool = True) -> Q.Query | None:
    """One run of the query (a Chinese run or a Latin/digit run) as a query on one field;
    ``known(fieldname, term)`` is the number of entries holding ``term``."""
    ps = pieces(run)
    if not ps:
        return None
    if is_cjk(fold(run)):
        if len(ps) == 1:
            t = ps[0].text
            if len(t) == 1:  # a single character: any bigram that starts with it, or itself
                return Q.Or([Q.Term(fieldname, t), Q.Prefix(fieldname, t)])
            return Q.Term(fieldname, t)
        # Every bigram, adjacent: the rarest of them drives the intersection (服务质量 is found
        # through 务质, far rarer than 服务 or 质量), so more terms make the phrase cheaper.
        terms = [p.text for p in ps]
        if positional:
            return Q.Phrase(fieldname, terms)
        return _all_of(fieldname, terms, known)
    lat = latin(run)
    if len(lat.parts) == 1:
        exact = Q.Term(fieldname, lat.parts[0])
    elif positional:
        # A field clause (title:, number:): the parts as a positional phrase, as written.
        exact = Q.Phrase(fieldname, lat.parts)
    else:
        # The content field, whose text is checked afterwards (the regular expression of
        # ``latin``: parts with at most three separators between them, so SP-20 never
        # matches "SP … 20"): holding the terms of ``apart`` is enough, and far cheaper than
        # Whoosh's positional phrase.
        exact = _all_of(fieldname, lat.apart, known)
    if len(lat.parts) > 1 and known(fieldname, lat.whole):
        # The whole run as one term is not enough (GB/T is a whole run in "GB/T 19001" but
        # only parts of "GB/T27922"); it adds to the ranking where it is known.
        exact = Q.Or([Q.Term(fieldname, lat.whole), exact])
    if not lat.grams:
        return exact
    # Or inside a longer run, through its grams (checked exactly afterwards); a whole match
    # matches both and ranks first.
    return Q.Or([exact, _all_of(fieldname, lat.grams, known)])


# Candidates need only the rarest terms of a run when its text is checked exactly afterwards.
RAREST = 2


def _all_of(fieldname: str, terms: list[str], known) -> Q.Query:
    """Entries holding every one of ``terms``, found through the ``RAREST`` rarest of them.

    Only where the candidates' text is checked exactly afterwards (the checks of ``build``),
    so a subset of the terms finds a superset of the candidates and the result is the same.
    Whoosh intersects in Python: each further term of similar frequency costs a level of
    matchers on every candidate, while the rarest two already leave few candidates."""
    terms = list(dict.fromkeys(terms))
    if len(terms) > RAREST:
        terms = sorted(terms, key=lambda t: known(fieldname, t))[:RAREST]
    return Q.And([Q.Term(fieldname, t) for t in terms])


def _clause_query(fieldname: str, clause: Clause, known, positional=True) -> Q.Query | None:
    text = fold(clause.text)
    runs = [m.group(0) for m in RUN.finditer(text)]
    subs = [q for q in (_run_query(fieldname, r, known, positional) for r in runs) if q is not None]
    if not subs:
        return None
    return subs[0] if len(subs) == 1 else Q.And(subs)


@dataclass
class Latin:
    """A run of letters and digits of a query, as the index knows it (docmgmt/search/analysis)."""

    whole: str  # the folded run, e.g. "gb/t27922-2011"
    parts: list[str]  # split at separators and letter/digit boundaries: gb t 27922 2011
    grams: list[str]  # every three characters of the run, separators included
    check: Check | None  # exact test of the folded text, separators optional between parts

    @property
    def apart(self) -> list[str]:
        """Terms every text that ``check`` accepts holds, whatever its separators: the inner
        parts whole, the first and the last part through their grams when three or more
        long (the first may end a longer part, the last begin one: 7922-201 in
        "GB/T 27922 2011"), whole when shorter."""
        out: list[str] = []
        last = len(self.parts) - 1
        for i, p in enumerate(self.parts):
            if i in (0, last) and len(p) >= GRAM:
                out += [p[j : j + GRAM] for j in range(len(p) - GRAM + 1)]
            else:
                out.append(p)
        return list(dict.fromkeys(out))


def latin(run: str) -> Latin:
    whole = fold(run).lower()
    parts = [m.group(0) for m in _PARTS.finditer(whole)]
    grams = list(dict.fromkeys(whole[i : i + 3] for i in range(len(whole) - 2)))
    if len(parts) > 1:
        check = Check(SEP.join(parts), regex=True)
    else:
        check = Check(parts[0]) if grams else None
    return Latin(whole, parts, grams, check)


@dataclass
class Built:
    query: Q.Query | None  # decides what matches (with the checks below)
    boost: Q.Query | None  # only adds to the ranking
    contains: list[bytes] = field(default_factory=list)  # text must contain each
    excludes: list[bytes] = field(default_factory=list)  # text must contain none


def _needle(text: str) -> bytes:
    return " ".join(fold(text).lower().split()).encode()


def build(plan: Plan, known) -> Built:
    """The query for the index, and the exact checks made on each candidate's text.

    Chinese is matched in two steps. The index finds the candidates holding every bigram of
    a word, without positions (the rarest bigram drives the intersection: 服务质量 is found
    through 务质); then the candidate's folded text (a column of the index) is checked to
    contain the word itself, which is exact and far cheaper than Whoosh's positional phrase.
    A quoted clause is checked as written, as a whole. Exclusions are the same check, negated.
    A field-restricted clause (title:, number:) uses the positional phrase on that field."""
    must, must_not, boost = [], [], []
    contains: list[bytes] = []
    excludes: list[bytes] = []
    for c in plan.clauses:
        if c.field is None and c.negate:
            excludes.append(_needle(c.text))
            continue
        fname = c.field or "content"
        q = _clause_query(fname, c, known, positional=c.field is not None)
        if q is None:
            continue
        if c.negate:
            must_not.append(q)
            continue
        must.append(q)
        if c.field is None:
            if c.quoted:
                contains.append(_needle(c.text))
            else:
                for m in RUN.finditer(fold(c.text)):
                    r = m.group(0)
                    if is_cjk(r):
                        if len(r) > 2:
                            contains.append(r.encode())
                    elif (chk := latin(r).check) is not None:
                        contains.append(chk.compiled())
            for extra in ("title", "number"):
                bq = _clause_query(extra, c, known, positional=False)
                if bq is not None:
                    boost.append(bq)
    if not must:
        return Built(None, None)
    q = must[0] if len(must) == 1 else Q.And(must)
    if must_not:
        q = Q.AndNot(q, Q.Or(must_not))
    return Built(q, Q.Or(boost) if boost else None, contains, excludes)


# ------------------------------------------------------------------ engine-neutral plan
#
# The same planning, without Whoosh objects, for an engine that stores each entry's terms as
# a set (PostgreSQL: a tsvector without positions). A candidate holds every term of one
# option of each run; the exact checks on the folded text then decide, as in ``build``.

# Up to three ASCII separators or spaces between the parts of a number (GB/T27922 ~ GB/T 27922).
# The same text is a valid regular expression for Python (str or bytes) and PostgreSQL.
SEP = r"[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]{0,3}"


@dataclass(frozen=True)
class Check:
    """An exact test of a folded, lower-cased text: a substring, or a regular expression."""

    value: str
    regex: bool = False

    def test(self, text: str) -> bool:
        return bool(re.search(self.value, text)) if self.regex else self.value in text

    def compiled(self):
        """For Whoosh's check of the UTF-8 text column: bytes, or a compiled bytes pattern."""
        return re.compile(self.value.encode()) if self.regex else self.value.encode()


@dataclass
class Need:
    """One run of a clause: candidates hold all terms of one of ``options`` (or, for a single
    Chinese character, any term starting with ``prefix``); ``check`` is then exact."""

    options: list[list[str]]
    prefix: str = ""
    check: Check | None = None
    whole: str = ""  # letters/digits: the run as one term, a match of which ranks first


@dataclass
class Term:
    """One clause, neutral: what finds candidates, and the exact checks on a field's text."""

    field: str  # "content", "title" or "number": the text ``checks`` apply to
    needs: list[Need]
    checks: list[Check]
    negate: bool = False
    found: list[Check] = field(default_factory=list)  # the clause as found in a title/number


def run_need(run: str) -> Need | None:
    """The terms and the exact check of one run of a query (Chinese or letters/digits)."""
    ps = pieces(run)
    if not ps:
        return None
    folded = fold(run).lower()
    if is_cjk(folded):
        if len(ps) == 1 and len(ps[0].text) == 1:
            return Need([[ps[0].text]], prefix=ps[0].text)
        return Need([[p.text for p in ps]], check=Check(folded) if len(folded) > 2 else None)
    lat = latin(run)
    options = [lat.apart] if len(lat.parts) > 1 else [lat.parts] if not lat.grams else []
    if lat.grams:
        options.append(lat.grams)
    return Need(options, check=lat.check, whole=lat.whole)


def neutral(plan: Plan) -> list[Term]:
    """Every clause of ``plan`` as :class:`Term` (what ``build`` does, for set-of-terms engines)."""
    out: list[Term] = []
    for c in plan.clauses:
        needs = [n for n in (run_need(m.group(0)) for m in RUN.finditer(fold(c.text))) if n]
        if not needs:
            continue
        whole = [Check(_needle(c.text).decode())]
        by_run = [n.check or Check(n.prefix or n.options[0][0]) for n in needs]
        if c.quoted or (c.negate and c.field is None):  # as written, as a whole
            checks = whole
        elif c.field is not None:  # a field clause is checked on that field, run by run
            checks = by_run
        else:
            checks = [n.check for n in needs if n.check is not None]
        found = whole if c.quoted else by_run
        out.append(Term(c.field or "content", needs, checks, c.negate, found))
    return out
