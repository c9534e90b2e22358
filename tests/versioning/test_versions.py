"""Version codes: pure rules, no app."""

import pytest

from docmgmt.versioning import versions as v


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("A0", "A1"),
        ("A8", "A9"),
        ("A9", "B0"),
        ("H9", "J0"),
        ("N9", "P0"),
        ("Y9", "Z0"),
    ],
)
def test_next_revision_raises_the_digit_and_rolls_to_the_next_letter(code, expected):
    assert v.next_revision(code) == expected


@pytest.mark.parametrize(
    ("code", "expected"), [("A0", "B0"), ("A7", "B0"), ("H2", "J0"), ("N0", "P0")]
)
def test_reedition_moves_to_the_next_letter_skipping_i_and_o(code, expected):
    assert v.next_edition(code) == expected


def test_skipped_letters_are_a_setting():
    assert v.next_edition("H0", skip="") == "I0"
    assert v.next_revision("N9", skip="") == "O0"


@pytest.mark.parametrize("bad", ["", "a0", "A", "A10", "AA", "0A", "I0", "O3", "A-1", " B"])
def test_invalid_codes_are_rejected_with_a_reason(bad):
    with pytest.raises(v.InvalidVersionCode) as err:
        v.parse(bad)
    assert str(err.value)


def test_no_letters_after_z():
    with pytest.raises(v.InvalidVersionCode):
        v.next_revision("Z9")


def test_successor_must_be_the_next_revision_or_edition():
    assert v.check_successor("A1", "A2") == "A2"
    assert v.check_successor("A1", "B0") == "B0"
    assert v.check_successor(None, "C3") == "C3"
    for bad in ("A1", "A3", "C0", "A0"):
        with pytest.raises(v.InvalidVersionCode) as err:
            v.check_successor("A1", bad)
        assert "A2" in str(err.value) and "B0" in str(err.value)


def test_sort_key_orders_codes():
    codes = ["B0", "A9", "A0", "J1", "H9"]
    assert sorted(codes, key=v.sort_key) == ["A0", "A9", "B0", "H9", "J1"]
