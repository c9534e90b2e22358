"""Version codes, pinned with values written here (never computed by the code under test)."""

import pytest

from docmgmt.versioning import versions as v
from docmgmt.versioning.versions import InvalidVersionCode


def refusal(fn, *args, **kw) -> str:
    with pytest.raises(InvalidVersionCode) as err:
        fn(*args, **kw)
    return str(err.value)


@pytest.mark.parametrize(
    ("code", "skip", "expected"),
    [
        ("A0", "IO", ("A", 0)),
        ("Z9", "IO", ("Z", 9)),
        (" B1 ", "IO", ("B", 1)),
        ("I3", "", ("I", 3)),
        ("O0", "", ("O", 0)),
        ("I3", "O", ("I", 3)),
    ],
)
def test_parse_gives_the_letter_and_the_digit(code, skip, expected):
    assert v.parse(code, skip) == expected


@pytest.mark.parametrize(
    ("code", "shown"),
    [("", ""), (None, ""), ("a0", "a0"), ("A10", "A10"), (" AA ", "AA"), ("0A", "0A"), ("A", "A")],
)
def test_a_malformed_code_is_named_in_the_message(code, shown):
    assert refusal(v.parse, code) == (
        f'"{shown}" is not a version code: use one capital letter and one digit, such as A0 or B1.'
    )


@pytest.mark.parametrize(
    ("code", "skip", "message"),
    [
        ("I3", "IO", 'Version letter "I" is not used (letters skipped: I, O).'),
        ("O0", "IO", 'Version letter "O" is not used (letters skipped: I, O).'),
        ("I3", "io", 'Version letter "I" is not used (letters skipped: I, O).'),
        ("O3", "oi", 'Version letter "O" is not used (letters skipped: I, O).'),
        ("X1", "XOIo", 'Version letter "X" is not used (letters skipped: I, O, X).'),
        ("A0", "A", 'Version letter "A" is not used (letters skipped: A).'),
    ],
)
def test_a_skipped_letter_is_refused_naming_the_letter_and_the_skipped_ones(code, skip, message):
    assert refusal(v.parse, code, skip) == message


@pytest.mark.parametrize(
    ("code", "skip", "key"),
    [
        ("A0", "IO", (0, 0)),
        ("H9", "IO", (7, 9)),
        ("J1", "IO", (8, 1)),
        ("P2", "IO", (13, 2)),
        ("Z9", "IO", (23, 9)),
        ("J1", "", (9, 1)),
        ("I3", "", (8, 3)),
        ("B0", "A", (0, 0)),
    ],
)
def test_sort_key_is_the_letter_rank_then_the_digit(code, skip, key):
    assert v.sort_key(code, skip) == key


def test_sort_key_refuses_a_skipped_letter():
    assert refusal(v.sort_key, "I3") == 'Version letter "I" is not used (letters skipped: I, O).'


@pytest.mark.parametrize(("skip", "code"), [("IO", "A0"), ("", "A0"), ("A", "B0"), ("ab", "C0")])
def test_first_is_the_first_unskipped_letter_at_zero(skip, code):
    assert v.first(skip) == code


def test_first_defaults_to_a0():
    assert v.first() == "A0"


@pytest.mark.parametrize(
    ("code", "skip", "expected"),
    [
        ("A0", "IO", "A1"),
        ("A8", "IO", "A9"),
        ("A9", "IO", "B0"),
        ("H9", "IO", "J0"),
        ("H9", "", "I0"),
        ("H9", "O", "I0"),
        ("I3", "", "I4"),
        ("I9", "", "J0"),
        ("N9", "IO", "P0"),
        ("N9", "", "O0"),
        ("Y9", "IO", "Z0"),
        ("Z8", "IO", "Z9"),
        (" C4 ", "IO", "C5"),
    ],
)
def test_next_revision(code, skip, expected):
    assert v.next_revision(code, skip) == expected


@pytest.mark.parametrize(
    ("code", "skip", "expected"),
    [
        ("A0", "IO", "B0"),
        ("A7", "IO", "B0"),
        ("A9", "IO", "B0"),
        ("H2", "IO", "J0"),
        ("H2", "", "I0"),
        ("I3", "", "J0"),
        ("I3", "O", "J0"),
        ("N0", "IO", "P0"),
        ("N0", "I", "O0"),
        ("Y5", "IO", "Z0"),
    ],
)
def test_next_edition(code, skip, expected):
    assert v.next_edition(code, skip) == expected


@pytest.mark.parametrize(("fn", "code"), [(v.next_revision, "Z9"), (v.next_edition, "Z0")])
def test_no_letters_are_left_after_z(fn, code):
    assert refusal(fn, code) == "No version letters are left after Z."
    assert refusal(fn, code, skip="") == "No version letters are left after Z."


def test_no_letters_left_after_the_last_unskipped_one():
    assert refusal(v.next_edition, "Y3", skip="Z") == "No version letters are left after Y."


def test_the_defaults_skip_i_and_o():
    assert v.next_revision("H9") == "J0"
    assert v.next_edition("N1") == "P0"
    assert v.sort_key("J0") == (8, 0)
    assert refusal(v.parse, "I3") == 'Version letter "I" is not used (letters skipped: I, O).'


@pytest.mark.parametrize(
    ("previous", "proposed", "skip", "reedition", "expected"),
    [
        (None, "C3", "IO", False, "C3"),
        (None, " C3 ", "IO", False, "C3"),
        (None, "I3", "", False, "I3"),
        ("A1", "A2", "IO", False, "A2"),
        ("A1", "B0", "IO", False, "B0"),
        ("A1", " A2 ", "IO", False, "A2"),
        ("A9", "B0", "IO", False, "B0"),
        ("A9", "B0", "IO", True, "B0"),
        ("A1", "B0", "IO", True, "B0"),
        ("H3", "I0", "", True, "I0"),
        ("H9", "I0", "", False, "I0"),
        ("H9", "J0", "IO", False, "J0"),
        ("I3", "I4", "", False, "I4"),
    ],
)
def test_check_successor_accepts(previous, proposed, skip, reedition, expected):
    assert v.check_successor(previous, proposed, skip, reedition=reedition) == expected


def test_check_successor_defaults():
    assert v.check_successor("H9", "J0") == "J0"
    assert v.check_successor(None, "A0") == "A0"


@pytest.mark.parametrize(
    ("previous", "proposed", "skip", "reedition", "message"),
    [
        (
            "A1",
            "A3",
            "IO",
            False,
            "After A1 the next version is A2 (revision) or B0 (re-edition), not A3.",
        ),
        (
            "A1",
            "A1",
            "IO",
            False,
            "After A1 the next version is A2 (revision) or B0 (re-edition), not A1.",
        ),
        (
            "H1",
            "J0",
            "",
            False,
            "After H1 the next version is H2 (revision) or I0 (re-edition), not J0.",
        ),
        (
            "A9",
            "A0",
            "IO",
            False,
            "After A9 the next version is B0, for a revision and a re-edition alike, not A0.",
        ),
        (
            "H9",
            "K0",
            "O",
            False,
            "After H9 the next version is I0, for a revision and a re-edition alike, not K0.",
        ),
        ("A1", "A2", "IO", True, "After A1 the re-edition is B0, not A2."),
        ("H4", "J0", "", True, "After H4 the re-edition is I0, not J0."),
        ("A9", "C0", "IO", True, "After A9 the re-edition is B0, not C0."),
    ],
)
def test_check_successor_refuses_naming_the_expected_codes(
    previous, proposed, skip, reedition, message
):
    assert refusal(v.check_successor, previous, proposed, skip, reedition=reedition) == message


def test_check_successor_refuses_a_malformed_or_skipped_proposal():
    assert refusal(v.check_successor, None, "A10") == (
        '"A10" is not a version code: use one capital letter and one digit, such as A0 or B1.'
    )
    assert refusal(v.check_successor, None, "I3") == (
        'Version letter "I" is not used (letters skipped: I, O).'
    )
    assert refusal(v.check_successor, "A1", "O0", "O") == (
        'Version letter "O" is not used (letters skipped: O).'
    )


@pytest.mark.parametrize(
    ("previous", "code", "skip", "asked", "expected"),
    [
        (None, "A0", "IO", False, False),
        (None, "A0", "IO", True, False),
        ("A1", "A2", "IO", False, False),
        ("A1", "A2", "IO", True, False),
        ("A1", "B0", "IO", False, True),
        ("A1", "B0", "IO", True, True),
        ("A9", "B0", "IO", False, False),
        ("A9", "B0", "IO", True, True),
        ("H2", "I0", "", False, True),
        ("H2", "J0", "IO", False, True),
        ("H2", "J0", "", False, False),
        ("H9", "I0", "", True, True),
        ("A1", "C0", "IO", True, False),
    ],
)
def test_is_reedition(previous, code, skip, asked, expected):
    assert v.is_reedition(previous, code, skip, asked=asked) is expected


def test_is_reedition_defaults():
    assert v.is_reedition("H2", "J0") is True
    assert v.is_reedition("A9", "B0") is False


def test_the_defaults_use_every_other_letter():
    """Only I and O are skipped by default: X (or any other letter) is a version letter."""
    assert v.parse("X1") == ("X", 1)
    assert v.sort_key("X0") == (21, 0)
    assert v.next_revision("W9") == "X0"
    assert v.next_edition("W3") == "X0"
    assert v.check_successor("W9", "X0") == "X0"
    assert v.is_reedition("W3", "X0") is True
    assert v.is_reedition("W9", "X0", asked=True) is True


def test_a_revision_is_not_a_reedition_by_default():
    assert v.check_successor("A1", "A2") == "A2"


@pytest.mark.parametrize(
    ("previous", "code", "asked", "expected"),
    [("H9", "I0", False, False), ("H9", "I0", True, True), ("H8", "H9", False, False)],
)
def test_is_reedition_with_i_in_use(previous, code, asked, expected):
    assert v.is_reedition(previous, code, "", asked=asked) is expected


def test_check_successor_after_h9_with_i_in_use():
    assert refusal(v.check_successor, "H9", "K0", "") == (
        "After H9 the next version is I0, for a revision and a re-edition alike, not K0."
    )
    assert refusal(v.check_successor, "H9", "J0", "", reedition=True) == (
        "After H9 the re-edition is I0, not J0."
    )
