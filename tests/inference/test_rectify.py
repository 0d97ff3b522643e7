"""Rectification from plate corners, on hand-made frames: a level plate drawn then turned by a known warp."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from anpr_edge.core.results import Corners, Detection
from anpr_edge.inference.ocr import crop_kind
from anpr_edge.inference.rectify import plate_aspect, plausible, rectify

LEVEL: Corners = ((0.0, 0.0), (104.0, 0.0), (104.0, 22.4), (0.0, 22.4))


def level_plate() -> np.ndarray:
    """A grey 104x22 'plate': white field, black bars at known columns."""
    img = np.full((22, 104), 230, np.uint8)
    for x in (10, 30, 50, 70, 90):
        img[4:18, x : x + 6] = 20
    return img


def warped_scene(quad: np.ndarray) -> np.ndarray:
    src = np.array([[0, 0], [104, 0], [104, 22], [0, 22]], np.float32)
    m = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    return cv2.warpPerspective(level_plate(), m, (400, 300), borderValue=120)


def test_rectify_undoes_a_perspective_warp() -> None:
    quad = np.array([[150, 120], [260, 100], [262, 140], [148, 150]], np.float32)  # yawed and rolled
    crop = rectify(warped_scene(quad), tuple(map(tuple, quad)), 104, 22, 0.0, 0.0)  # type: ignore[arg-type]
    ref = level_plate()
    assert crop.shape == (22, 104)
    assert np.abs(crop[3:19, 3:101].astype(int) - ref[3:19, 3:101]).mean() < 25  # bars line up after the warp
    assert crop[10, 12] < 100 and crop[10, 20] > 150  # a bar, then the field between bars


def test_rectify_margin_shows_the_surroundings() -> None:
    quad = np.array([[100, 100], [204, 100], [204, 122], [100, 122]], np.float32)
    crop = rectify(warped_scene(quad), tuple(map(tuple, quad)), 128, 32, 0.1, 0.2)  # type: ignore[arg-type]
    assert crop[:, 0].mean() == pytest.approx(120, abs=3)  # left margin: the background
    assert crop[16, 64] > 150 or crop[16, 64] < 60  # the middle: the plate


def test_rectify_shrinks_large_plates_without_aliasing() -> None:
    big = cv2.resize(level_plate(), (1040, 224), interpolation=cv2.INTER_NEAREST)
    quad = ((0.0, 0.0), (1040.0, 0.0), (1040.0, 224.0), (0.0, 224.0))
    crop = rectify(big, quad, 104, 22, 0.0, 0.0)
    assert np.abs(crop.astype(int) - level_plate()).mean() < 12


@pytest.mark.parametrize(
    ("corners", "ok"),
    [
        (((10, 10), (110, 10), (110, 32), (10, 32)), True),
        (((10, 10), (110, 32), (110, 10), (10, 32)), False),  # edges cross
        (((10, 32), (110, 32), (110, 10), (10, 10)), False),  # upside down (counter-clockwise)
        (((10, 10), (30, 10), (30, 14), (10, 14)), False),  # far smaller than its box
        (((10, 10), (300, 10), (300, 32), (10, 32)), False),  # a corner far outside the box
    ],
)
def test_plausible_corners(corners: Corners, ok: bool) -> None:
    assert plausible(corners, (10, 10, 110, 32)) is ok


def test_crop_kind_falls_back_to_the_box_on_implausible_corners() -> None:
    box = (10.0, 10.0, 110.0, 32.0)
    assert crop_kind(Detection(box, 0.9)) == "box"
    assert crop_kind(Detection(box, 0.9, ((10, 10), (110, 10), (110, 32), (10, 32)))) == "corners"
    assert crop_kind(Detection(box, 0.9, ((10, 10), (110, 32), (110, 10), (10, 32)))) == "fallback"


def test_plate_aspect_tells_one_row_from_two() -> None:
    assert plate_aspect(LEVEL) == pytest.approx(104 / 22.4)
    assert plate_aspect(((0, 0), (29, 0), (29, 17), (0, 17))) < 3.0  # type 1A: 290x170 mm
