from __future__ import annotations

import numpy as np
import pytest

from anpr_edge.core.plates import DIGITS, LETTERS, constrain, is_valid, matches_template, normalise, trim_tail

ALPHABET = DIGITS + LETTERS


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("а123вс77", "A123BC77"), ("Х 623 ЕМ 777", "X623EM777"), ("A123BC77", "A123BC77"), ("о000оо23", "O000OO23")],
)
def test_normalise_cyrillic_to_latin(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("A123BC77", True),
        ("A123BC777", True),
        ("A123BC7", False),
        ("D123BC77", False),
        ("1123BC77", False),
        ("A12BBC77", False),
        ("A123BC7777", False),
        ("A1#3BC77", False),
    ],
)
def test_is_valid(text: str, valid: bool) -> None:
    assert is_valid(text) is valid


def test_matches_template_allows_unread() -> None:
    assert matches_template("A1#3B#77")
    assert not matches_template("11#3B#77")


def one_hot(text: str, p: float = 0.9) -> np.ndarray:
    probs = np.full((len(text), len(ALPHABET)), (1 - p) / (len(ALPHABET) - 1), np.float32)
    for i, c in enumerate(text):
        probs[i, ALPHABET.index(c)] = p
    return probs


def test_constrain_swaps_digit_for_best_letter_at_letter_position() -> None:
    probs = one_hot("8123BC77")  # '8' where a letter belongs
    probs[0, ALPHABET.index("B")] = 0.08  # the best letter is B
    text, chars = constrain(probs, ALPHABET, 0.05, 0.05)
    assert text == "B123BC77"
    assert chars[0][0] == "B" and chars[0][1] == pytest.approx(0.08)


def test_constrain_letter_at_digit_position_becomes_digit() -> None:
    probs = one_hot("AO23BC77")
    probs[1, ALPHABET.index("0")] = 0.07
    text, _ = constrain(probs, ALPHABET, 0.05, 0.05)
    assert text == "A023BC77"


def test_low_confidence_becomes_hash_with_separate_thresholds() -> None:
    probs = one_hot("A123BC77", 0.6)
    assert constrain(probs, ALPHABET, 0.7, 0.5)[0] == "#123##77"
    assert constrain(probs, ALPHABET, 0.5, 0.7)[0] == "A###BC##"


def test_non_plate_length_is_unconstrained() -> None:
    text, chars = constrain(one_hot("A1234"), ALPHABET, 0.5, 0.5)
    assert text == "A1234" and len(chars) == 5


def test_faint_ninth_mark_after_a_two_digit_only_region_is_dropped() -> None:
    probs = one_hot("O862YY783")
    probs[8] = one_hot("3", 0.4)[0]  # a bolt or the frame edge read as a weak '3'
    text, chars = constrain(probs, ALPHABET, 0.5, 0.5)
    assert text == "O862YY78" and len(chars) == 8


def test_faint_ninth_digit_of_a_real_three_digit_region_stays_unread() -> None:
    probs = one_hot("A123BC777")
    probs[8] = one_hot("7", 0.4)[0]
    assert constrain(probs, ALPHABET, 0.5, 0.5)[0] == "A123BC77#"  # 77x can be 777: keep the position


def test_confident_ninth_digit_is_kept_whatever_the_region() -> None:
    assert constrain(one_hot("O862YY783"), ALPHABET, 0.5, 0.5)[0] == "O862YY783"


def test_faint_marks_beyond_the_ninth_position_are_dropped() -> None:
    probs = one_hot("H001XT1773")
    probs[9] = one_hot("3", 0.4)[0]  # a bolt after a 3-digit region
    trimmed = trim_tail(probs, ALPHABET, 0.5)
    assert trimmed.shape == (9, len(ALPHABET))
    assert constrain(probs, ALPHABET, 0.5, 0.5)[0] == "H001XT177"


def test_a_confident_tenth_character_is_kept_and_is_no_plate() -> None:
    text, chars = constrain(one_hot("H001XT1773"), ALPHABET, 0.5, 0.5)
    assert text == "H001XT1773" and len(chars) == 10
