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


def test_a_reedition_must_be_the_next_edition():
    assert v.check_successor("A3", "B0", reedition=True) == "B0"
    for bad in ("A4", "C0", "A3"):
        with pytest.raises(v.InvalidVersionCode) as err:
            v.check_successor("A3", bad, reedition=True)
        assert str(err.value) == f"After A3 the re-edition is B0, not {bad}."


def test_after_x9_the_message_names_the_one_next_code_once():
    with pytest.raises(v.InvalidVersionCode) as err:
        v.check_successor("A9", "C0")
    message = str(err.value)
    assert message == (
        "After A9 the next version is B0, for a revision and a re-edition alike, not C0."
    )
    assert message.count("B0") == 1


def test_after_x9_revision_or_reedition_is_what_was_asked():
    assert not v.is_reedition("A9", "B0")
    assert v.is_reedition("A9", "B0", asked=True)
    assert v.is_reedition("A3", "B0")
    assert not v.is_reedition("A3", "A4", asked=True)
