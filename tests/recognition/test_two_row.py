"""Square plates (two rows of characters) are found by shape and reported unread, never read as one row."""

from __future__ import annotations

import pytest

from anpr_edge.core.results import Detection
from anpr_edge.recognition.pipeline import is_two_row, unread_two_row


@pytest.mark.parametrize(
    ("det", "square"),
    [
        (Detection((0, 0, 104, 22), 0.9), False),  # a type 1 plate's box, 520x112 mm
        (Detection((0, 0, 58, 34), 0.9), False),  # no corners: a box this square may be a rolled single-row plate
        (Detection((0, 0, 104, 40), 0.9, ((0, 10), (104, 0), (104, 22), (0, 32))), False),  # turned: corners say 1 row
        (Detection((0, 0, 60, 40), 0.9, ((0, 2), (58, 0), (60, 34), (2, 36))), True),  # square by its corners
        (Detection((0, 0, 70, 30), 0.9, ((0, 0), (70, 5), (70, 30), (0, 26))), False),  # single row, turned 50°
    ],
)
def test_is_two_row(det: Detection, square: bool) -> None:
    assert is_two_row(det) is square


def test_a_square_plate_reads_unread_and_says_so() -> None:
    r = unread_two_row(Detection((0, 0, 58, 34), 0.9), 22)
    assert r.text == "########" and r.format == "two-row" and r.confidence == 0.0 and r.probs.shape == (8, 22)
