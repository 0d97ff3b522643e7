"""Boxes come back where the plates are, on 16:9, 4:3, 1:1 and 9:16 frames, whole or through an ROI.

The tiny detector (tests/tiny_models.py) answers a white 32x32 input cell with a 96x32 box centred on it:
a patch painted where a cell falls in the frame must come back as that box, mapped through the letterbox
(and the ROI crop) into frame pixels, within 2 px. The real runtime runs it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anpr_edge.core.results import Box
from anpr_edge.inference.detector import PlateDetector
from anpr_edge.inference.models import Models
from anpr_edge.inference.ocr import CharThresholds, PlateOCR
from anpr_edge.recognition.pipeline import CameraPipeline
from anpr_edge.recognition.settings import RecognitionSettings

INPUT = (640, 384)


def cells(view: tuple[int, int, int, int]) -> list[tuple[int, int]]:
    """Two input cells whose whole 96x32 box lies on the view's picture (not the letterbox padding)."""
    w, h = view[2] - view[0], view[3] - view[1]
    r = min(INPUT[0] / w, INPUT[1] / h)
    nw, nh = round(w * r), round(h * r)
    x0, y0 = (INPUT[0] - nw) / 2, (INPUT[1] - nh) / 2
    cols = [c for c in range(INPUT[0] // 32) if c * 32 + 16 - 48 >= x0 + 2 and c * 32 + 16 + 48 <= x0 + nw - 2]
    rows = [r_ for r_ in range(INPUT[1] // 32) if r_ * 32 >= y0 + 2 and r_ * 32 + 32 <= y0 + nh - 2]
    return [(cols[0], rows[0]), (cols[-1], rows[-1])]


def expected(view: tuple[int, int, int, int], cell: tuple[int, int]) -> tuple[tuple[int, int, int, int], Box]:
    """For an input cell of a view (x1, y1, x2, y2 of the frame): the frame pixels to paint, and the box."""
    x1, y1, x2, y2 = view
    w, h = x2 - x1, y2 - y1
    r = min(INPUT[0] / w, INPUT[1] / h)
    pad_x, pad_y = round((INPUT[0] - round(w * r)) / 2 - 0.1), round((INPUT[1] - round(h * r)) / 2 - 0.1)
    cx, cy = cell[0] * 32 + 16, cell[1] * 32 + 16

    def frame(px: float, py: float) -> tuple[float, float]:
        return (px - pad_x) / r + x1, (py - pad_y) / r + y1

    p1, p2 = frame(cx - 16, cy - 16), frame(cx + 16, cy + 16)
    b1, b2 = frame(cx - 48, cy - 16), frame(cx + 48, cy + 16)
    paint = (round(p1[0]) - 2, round(p1[1]) - 2, round(p2[0]) + 2, round(p2[1]) + 2)
    return paint, (b1[0], b1[1], b2[0], b2[1])


@pytest.mark.parametrize("size", [(1920, 1080), (1600, 1200), (1080, 1080), (1080, 1920)])
@pytest.mark.parametrize("roi", [False, True])
def test_a_plate_at_a_known_spot_comes_back_within_2_px(tiny_models: Path, size: tuple[int, int], roi: bool) -> None:
    w, h = size
    view = (w // 4, h // 3, w // 4 + w // 2, h // 3 + h // 2) if roi else (0, 0, w, h)
    poly = [(view[0], view[1]), (view[2], view[1]), (view[2], view[3]), (view[0], view[3])] if roi else None
    models = Models(
        PlateDetector.load(tiny_models / "plate_detector", "cpu", 0.5, 0.5),
        PlateOCR.load(tiny_models / "plate_ocr", "cpu", CharThresholds()),
    )
    for cell in cells(view):
        paint, box = expected(view, cell)
        frame = np.zeros((h, w, 3), np.uint8)
        frame[paint[1] : paint[3], paint[0] : paint[2]] = 255
        pipe = CameraPipeline("cam", models, RecognitionSettings(motion_threshold=0, verify_zoom=0), roi=poly)
        found = pipe.run(frame, 0.0).detections
        best = min(found, key=lambda d: sum(abs(a - b) for a, b in zip(d.box, box, strict=True)))
        assert np.abs(np.array(best.box) - np.array(box)).max() <= 2.0, (best.box, box)
