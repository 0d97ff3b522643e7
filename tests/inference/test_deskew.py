"""Level crops: the slope of a plate measured in its box, and the turned crop cut from it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from anpr_edge.inference.ocr_core import crop_plate, deskewed_size, skew_angle


def striped_plate(angle: float) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """A grey frame with a 260x56 'plate' (white field, dark rim, dark character bars) turned by
    ``angle`` degrees (image y down: positive falls to the right), and its axis-aligned box."""
    plate = np.full((56, 260), 230, np.uint8)
    cv2.rectangle(plate, (0, 0), (259, 55), 20, 3)
    for k in range(8):
        cv2.rectangle(plate, (14 + 30 * k, 12), (30 + 30 * k, 44), 30, -1)
    frame = np.full((400, 600), 110, np.uint8)
    m = cv2.getRotationMatrix2D((130.0, 28.0), -angle, 1.0)
    m[:, 2] += (300 - 130, 200 - 28)
    cv2.warpAffine(plate, m, (600, 400), dst=frame, borderMode=cv2.BORDER_TRANSPARENT)
    corners = np.array([[0, 0, 1], [260, 0, 1], [260, 56, 1], [0, 56, 1]], np.float64) @ m.T
    x1, y1 = corners.min(axis=0)
    x2, y2 = corners.max(axis=0)
    return frame, (float(x1), float(y1), float(x2), float(y2))


@pytest.mark.parametrize("angle", [-14.0, -6.0, 0.0, 5.0, 12.0])
def test_slope_is_measured_within_a_degree(angle: float) -> None:
    frame, box = striped_plate(angle)
    assert abs(skew_angle(frame, box) - angle) <= 1.0


@pytest.mark.parametrize("angle", [-14.0, 5.0, 12.0])
def test_turned_crop_looks_like_the_level_plate(angle: float) -> None:
    level_frame, level_box = striped_plate(0.0)
    level = crop_plate(level_frame, level_box, 0.03, 0.08, 128, 32).astype(np.float32)
    frame, box = striped_plate(angle)
    plain = crop_plate(frame, box, 0.03, 0.08, 128, 32).astype(np.float32)
    turned = crop_plate(frame, box, 0.03, 0.08, 128, 32, skew_angle(frame, box)).astype(np.float32)

    def corr(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])

    # The turned crop keeps the box's width (a little side margin), so it is not pixel-equal to the level one.
    assert corr(turned, level) > 0.6 and corr(turned, level) > corr(plain, level) + 0.3


def test_deskewed_height_takes_the_rise_off_and_keeps_a_floor() -> None:
    assert deskewed_size((0, 0, 200, 50), 0.0) == (200, 50)
    w, h = deskewed_size((0, 0, 200, 100), 10.0)
    assert w == 200 and h == pytest.approx(100 * np.cos(np.radians(10)) - 200 * np.sin(np.radians(10)))
    assert deskewed_size((0, 0, 200, 50), 20.0)[1] == pytest.approx(20.0)  # 40 % of the box height
    half = deskewed_size((0, 0, 200, 100), 10.0, rise=0.5)[1]  # a looser crop: half the rise taken off
    assert half == pytest.approx(100 * np.cos(np.radians(10)) - 100 * np.sin(np.radians(10)))


def test_no_slope_in_a_box_too_small_or_featureless() -> None:
    assert skew_angle(np.zeros((50, 50), np.uint8), (0, 0, 5, 3)) == 0.0
    assert skew_angle(np.full((50, 100), 128, np.uint8), (0, 0, 100, 50)) == 0.0
