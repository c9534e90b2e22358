"""How text becomes index terms, pinned: terms, positions and character spans (the highlights)
for a table of inputs, written out here by hand."""

import pytest

from docmgmt.search import analysis
from docmgmt.search.analysis import Piece

CASES = {
    "one Chinese character": ("单", [("单", 0, 0, 1)]),
    "Chinese bigrams": ("派工单", [("派工", 0, 0, 2), ("工单", 1, 1, 3)]),
    "two runs": ("派工 单", [("派工", 0, 0, 2), ("单", 1, 3, 4)]),
    "a single character between runs": (
        "派工 单 A",
        [("派工", 0, 0, 2), ("单", 1, 3, 4), ("a", 2, 5, 6)],
    ),
    "duplicates keep their own positions": ("工单 工单", [("工单", 0, 0, 2), ("工单", 1, 3, 5)]),
    "one letter": ("A", [("a", 0, 0, 1)]),
    "two words": ("A B", [("a", 0, 0, 1), ("b", 1, 2, 3)]),
    "a three-letter word is its own gram": ("abc", [("abc", 0, 0, 3)]),
    "case folded, grams": ("ABCD", [("abcd", 0, 0, 4), ("abc", 0, 0, 3), ("bcd", 0, 1, 4)]),
    "document number": (
        "XX-SP-20",
        [
            ("xx-sp-20", 0, 0, 8),
            ("xx", 0, 0, 2),
            ("xx-", 0, 0, 3),
            ("x-s", 0, 1, 4),
            ("-sp", 0, 2, 5),
            ("sp", 1, 3, 5),
            ("sp-", 1, 3, 6),
            ("p-2", 1, 4, 7),
            ("-20", 1, 5, 8),
            ("20", 2, 6, 8),
        ],
    ),
    "standard number": (
        "27922-2011",
        [
            ("27922-2011", 0, 0, 10),
            ("27922", 0, 0, 5),
            ("279", 0, 0, 3),
            ("792", 0, 1, 4),
            ("922", 0, 2, 5),
            ("22-", 0, 3, 6),
            ("2-2", 0, 4, 7),
            ("-20", 0, 5, 8),
            ("2011", 1, 6, 10),
            ("201", 1, 6, 9),
            ("011", 1, 7, 10),
        ],
    ),
    "digits": (
        "13812345678",
        [
            ("13812345678", 0, 0, 11),
            ("138", 0, 0, 3),
            ("381", 0, 1, 4),
            ("812", 0, 2, 5),
            ("123", 0, 3, 6),
            ("234", 0, 4, 7),
            ("345", 0, 5, 8),
            ("456", 0, 6, 9),
            ("567", 0, 7, 10),
            ("678", 0, 8, 11),
        ],
    ),
    "letters and digits": (
        "04a1",
        [
            ("04a1", 0, 0, 4),
            ("04", 0, 0, 2),
            ("04a", 0, 0, 3),
            ("4a1", 0, 1, 4),
            ("a", 1, 2, 3),
            ("1", 2, 3, 4),
        ],
    ),
    "slash": (
        "GB/T",
        [("gb/t", 0, 0, 4), ("gb", 0, 0, 2), ("gb/", 0, 0, 3), ("b/t", 0, 1, 4), ("t", 1, 3, 4)],
    ),
    "dot": (
        "v1.2",
        [
            ("v1.2", 0, 0, 4),
            ("v", 0, 0, 1),
            ("v1.", 0, 0, 3),
            ("1", 1, 1, 2),
            ("1.2", 1, 1, 4),
            ("2", 2, 3, 4),
        ],
    ),
    "underscore": ("a_b", [("a_b", 0, 0, 3), ("a", 0, 0, 1), ("b", 1, 2, 3)]),
    "a three-character run of parts is its own gram": (
        "A1B",
        [("a1b", 0, 0, 3), ("a", 0, 0, 1), ("1", 1, 1, 2), ("b", 2, 2, 3)],
    ),
    "a three-character run with a separator": (
        "A-1",
        [("a-1", 0, 0, 3), ("a", 0, 0, 1), ("1", 1, 2, 3)],
    ),
    "full-width": (
        "ＸＸ－ＳＰ",
        [
            ("xx-sp", 0, 0, 5),
            ("xx", 0, 0, 2),
            ("xx-", 0, 0, 3),
            ("x-s", 0, 1, 4),
            ("-sp", 0, 2, 5),
            ("sp", 1, 3, 5),
        ],
    ),
    "full-width space and digits": (
        "Ａ１　Ｂ２",
        [
            ("a1", 0, 0, 2),
            ("a", 0, 0, 1),
            ("1", 1, 1, 2),
            ("b2", 2, 3, 5),
            ("b", 2, 3, 4),
            ("2", 3, 4, 5),
        ],
    ),
    "full-width brackets keep the offsets": ("（ＸＸ）", [("xx", 0, 1, 3)]),
    "mixed": (
        "调度员XX-SR-04开具",
        [
            ("调度", 0, 0, 2),
            ("度员", 1, 1, 3),
            ("xx-sr-04", 2, 3, 11),
            ("xx", 2, 3, 5),
            ("xx-", 2, 3, 6),
            ("x-s", 2, 4, 7),
            ("-sr", 2, 5, 8),
            ("sr", 3, 6, 8),
            ("sr-", 3, 6, 9),
            ("r-0", 3, 7, 10),
            ("-04", 3, 8, 11),
            ("04", 4, 9, 11),
            ("开具", 5, 11, 13),
        ],
    ),
    "CJK ranges": (
        "\u3400\u4dbf \u4e00\u9fff \uf900\ufaff",
        [("\u3400\u4dbf", 0, 0, 2), ("\u4e00\u9fff", 1, 3, 5), ("\uf900\ufaff", 2, 6, 8)],
    ),
    "outside the CJK ranges": ("\u33ff\u3040の\ufb00", []),
    "punctuation only": ("，。 - / _ （）", []),
    "empty": ("", []),
}


@pytest.mark.parametrize("name", CASES)
def test_pieces(name):
    text, expected = CASES[name]
    assert analysis.pieces(text) == [Piece(*p) for p in expected]


@pytest.mark.parametrize("name", CASES)
def test_term_set_holds_the_same_terms(name):
    text, expected = CASES[name]
    assert analysis.term_set(text) == {p[0] for p in expected}


def test_term_set_of_several_texts_and_of_nothing():
    assert analysis.term_set() == set()
    assert analysis.term_set("", None) == set()
    assert analysis.term_set("单", "", "ＡＢ") == {"单", "ab"}
    assert analysis.term_set("派工单", "工单") == {"派工", "工单"}


def test_a_piece_is_named():
    piece = analysis.pieces("单")[0]
    assert (piece.text, piece.pos, piece.start, piece.end) == ("单", 0, 0, 1)


def test_fold_keeps_the_length():
    assert analysis.fold("ＸＸ－ＳＰ　２０！～") == "XX-SP 20!~"
    assert analysis.fold("\uff00\uff5f派") == "\uff00\uff5f派"  # outside the folded block


def test_is_cjk():
    assert analysis.is_cjk("派工") and analysis.is_cjk("\u3400") and analysis.is_cjk("\ufaff")
    assert not analysis.is_cjk("a") and not analysis.is_cjk("\u33ff")
    assert not analysis.is_cjk("\ufb00")


def tokens(value, **kw):
    out = []
    for t in analysis.analyzer()(value, **kw):
        out.append(
            {
                k: getattr(t, k)
                for k in (
                    "text",
                    "pos",
                    "startchar",
                    "endchar",
                    "original",
                    "boost",
                    "stopped",
                    "positions",
                    "chars",
                    "removestops",
                    "mode",
                    "flag",
                )
                if hasattr(t, k)
            }
        )
    return out


def flags(positions=False, chars=False, removestops=True, mode=""):
    """What a Whoosh token carries for the filters after the tokenizer."""
    return {
        "positions": positions,
        "chars": chars,
        "removestops": removestops,
        "mode": mode,
        "boost": 1.0,
        "stopped": False,
    }


def test_the_tokenizer_gives_positions_spans_and_originals():
    assert tokens(
        "ＸＸ单据",
        positions=True,
        chars=True,
        keeporiginal=True,
        start_pos=10,
        start_char=100,
        mode="index",
        flag=7,
    ) == [
        {"text": "xx", "pos": 10, "startchar": 100, "endchar": 102, "original": "ＸＸ", "flag": 7}
        | flags(True, True, mode="index"),
        {"text": "单据", "pos": 11, "startchar": 102, "endchar": 104, "original": "单据", "flag": 7}
        | flags(True, True, mode="index"),
    ]


def test_the_tokenizer_without_positions_or_spans():
    assert tokens("派工单") == [{"text": "派工"} | flags(), {"text": "工单"} | flags()]
    assert tokens("AB", positions=True, removestops=False) == [
        {"text": "ab", "pos": 0} | flags(positions=True, removestops=False)
    ]
    assert tokens("AB", chars=True) == [
        {"text": "ab", "startchar": 0, "endchar": 2} | flags(chars=True)
    ]


def test_the_tokenizer_passes_a_value_through_untokenized():
    assert tokens(
        "XX-SP 单", tokenize=False, positions=True, chars=True, start_pos=3, start_char=7
    ) == [
        {
            "text": "XX-SP 单",
            "original": "XX-SP 单",
            "pos": 3,
            "startchar": 7,
            "endchar": 14,
        }
        | flags(True, True)
    ]
    assert tokens("XX", tokenize=False) == [{"text": "XX", "original": "XX"} | flags()]


@pytest.mark.parametrize(
    "text", ["a1b", "A-1", "x/y", "1.2", "a_b", "ab1", "1ab", "GB/T 9-1 a1b2 x-1-y"]
)
def test_no_term_is_indexed_twice_at_one_place(text):
    """A whole run of three characters made of parts is also its only gram: indexed once, not
    twice at the same position and span (which doubled its frequency in the Whoosh index)."""
    ps = analysis.pieces(text)
    assert len(ps) == len(set(ps)), ps
    assert {p.text for p in ps} == analysis.term_set(text)
    assert [t["text"] for t in tokens(text)] == [p.text for p in ps]
