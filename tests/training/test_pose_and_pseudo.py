"""The plate-corner dataset's labels and the pseudo-label rule, on hand-made inputs."""

from __future__ import annotations

import random

import numpy as np
import pytest

from anpr_edge.training.pose_eval import label_corners
from anpr_edge.training.pose_scenes import Plate, label_lines
from anpr_edge.training.pseudo_label import Read, judge
from tests.tools.test_end_to_end import needs_font


def test_pose_labels_carry_corners_or_mark_them_unlabelled() -> None:
    corners = np.array([[10, 20], [110, 18], [112, 40], [9, 42]], np.float32)
    lines = label_lines([Plate((9, 18, 112, 42), corners), Plate((200, 200, 260, 215), None)], 320)
    first, second = (ln.split() for ln in lines)
    assert len(first) == len(second) == 17 and first[0] == second[0] == "0"
    assert [float(v) for v in first[5:8]] == pytest.approx([10 / 320, 20 / 320, 2])
    assert second[5:] == ["0"] * 12  # a real box: its corners are not labelled
    box, back = label_corners(lines[0], 320)  # type: ignore[misc]
    assert np.allclose(back, corners, atol=0.01) and box == pytest.approx((9, 18, 112, 42), abs=0.01)
    assert label_corners(lines[1], 320) is None


@needs_font
def test_a_pasted_plate_lies_inside_the_tile_with_its_exact_corners() -> None:
    from anpr_edge.training.pose_scenes import paste

    tile = np.full((320, 320, 3), 114, np.uint8)
    plate = paste(tile, random.Random(3), 120.0, [(0.0, 0.0, 100.0, 100.0)])
    assert plate is not None and plate.corners is not None
    x1, y1, x2, y2 = plate.box
    assert 0 <= x1 < x2 <= 320 and 0 <= y1 < y2 <= 320 and not (x1 < 100 and y1 < 100)  # not on the taken box
    assert plate.corners[:, 0].min() == pytest.approx(x1) and plate.corners[:, 1].max() == pytest.approx(y2)
    inside = tile[round(plate.corners[:, 1].mean()), round(plate.corners[:, 0].mean())]
    assert (inside != 114).any()  # the plate was drawn where its corners say


@pytest.mark.parametrize(
    ("reads", "label"),
    [
        ((Read("A123BC77", 0.95), Read("A123BC77", 0.97)), "A123BC77"),
        ((Read("A123BC77", 0.95), Read("A123BC78", 0.97)), None),  # the readers disagree
        ((Read("A123BC77", 0.85), Read("A123BC77", 0.97)), None),  # one character not sure enough
        ((Read("A123BC7", 0.99), Read("A123BC7", 0.99)), None),  # not a whole plate of the template
    ],
)
def test_a_pseudo_label_needs_agreement_the_template_and_sure_characters(
    reads: tuple[Read, Read], label: str | None
) -> None:
    assert judge(reads, 0.9).label == label


def test_lettering_is_pasted_beside_the_plates_never_on_them() -> None:
    from anpr_edge.training.pose_scenes import distract

    rng = random.Random(5)
    placed = 0
    for _ in range(20):
        tile = np.full((320, 320, 3), 114, np.uint8)
        distract(tile, rng, [(0.0, 0.0, 320.0, 160.0)])  # the top half holds a plate
        assert (tile[:160] == 114).all()  # nothing drawn over the plate
        placed += int((tile[160:] != 114).any())  # the lettering went below it (when a spot was found)
    assert placed >= 15
