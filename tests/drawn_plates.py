"""GOST plates drawn into a frame at known corners: for the corner model and rectified reading tests."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest


def plate_scene(quad: np.ndarray, seed: int) -> np.ndarray:
    """A 1280x720 street-grey frame with a rendered GOST plate warped onto ``quad`` (TL, TR, BR, BL)."""
    pytest.importorskip("PIL", reason="rendering plates needs Pillow (pip install -e '.[train]')")
    from anpr_edge.training.render import random_plate, render_plate

    plate = render_plate(random_plate(random.Random(seed)), px_per_mm=1.0).image
    plate = plate if plate.ndim == 3 else cv2.cvtColor(plate, cv2.COLOR_GRAY2BGR)
    h, w = plate.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    m = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    rng = np.random.default_rng(seed)
    noise = np.clip(rng.normal(90, 25, (720, 1280, 3)), 0, 255).astype(np.uint8)
    frame: np.ndarray = cv2.GaussianBlur(noise, (0, 0), 3)
    warped = cv2.warpPerspective(plate, m, (1280, 720), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, (1280, 720)) > 127
    frame[mask] = warped[mask]
    return frame
