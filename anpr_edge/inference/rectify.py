"""Plate rectification: the reader's crop warped from the plate's four corners. Pure numpy / OpenCV.

A corner model gives each plate its corners (TL, TR, BR, BL). The crop is the plate mapped onto a level
rectangle: a plate turned 30 degrees, pitched or rolled comes out as a head-on plate. Corners that make
no plate (crossing edges, an area far from the box's, a corner far outside the box) are *implausible*: the
caller falls back to the box crop and counts it.

A plate's shape tells its format: a single-row plate (type 1, 520x112 mm) is about 4.6 times as wide as
high; square plates (type 1A and trailers 1.7, motorcycles 1.3) have two rows of characters. Turned by an
angle a, a plate looks cos(a) as wide on the image: a single-row plate turned 50 degrees looks 3.0 times as
wide as high, so the line between the two (:data:`TWO_ROW_ASPECT`) sits below that.
"""

from __future__ import annotations

import cv2
import numpy as np

from anpr_edge.core.results import Box, Corners

#: Width / height under which a plate's corners say it has two rows of characters: single-row plates turned
#: up to 60 degrees stay above it, square plates (1.7 head-on at most, less when turned) below.
TWO_ROW_ASPECT = 2.3
#: Plausible corners: quad area over box area, and how far (in box sizes) a corner may lie outside the box.
AREA_RATIO = (0.2, 1.25)
OUTSIDE = 0.25


def _quad(corners: Corners) -> np.ndarray:
    return np.array(corners, np.float64).reshape(4, 2)


def as_corners(points: np.ndarray) -> Corners:
    """Four (x, y) points (a 4 x 2 array: TL, TR, BR, BL) as the corners of a detection."""
    p = [(float(x), float(y)) for x, y in np.asarray(points, np.float64).reshape(4, 2)]
    return (p[0], p[1], p[2], p[3])


def corner_box(corners: Corners) -> Box:
    """The box around a plate's corners: tight where a detector's box may be loose or cut."""
    q = _quad(corners)
    return float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())


def plate_aspect(corners: Corners) -> float:
    """Mean edge width over mean edge height of the plate the corners outline."""
    q = _quad(corners)
    width = float(np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
    height = float(np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
    return width / max(height, 1e-6)


def plausible(corners: Corners, box: Box) -> bool:
    """Whether the corners outline a plate inside ``box``: a convex quad, clockwise on the image (TL, TR,
    BR, BL), its area :data:`AREA_RATIO` of the box's, no corner more than :data:`OUTSIDE` outside the box."""
    q = _quad(corners)
    if not np.isfinite(q).all():
        return False
    edges = np.roll(q, -1, axis=0) - q
    turns = edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1] - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    if not (turns > 0).all():  # y points down: a clockwise quad turns right (positive cross) at every corner
        return False
    x1, y1, x2, y2 = box
    bw, bh = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    area = 0.5 * abs(float(np.dot(q[:, 0], np.roll(q[:, 1], -1)) - np.dot(q[:, 1], np.roll(q[:, 0], -1))))
    if not AREA_RATIO[0] <= area / (bw * bh) <= AREA_RATIO[1]:
        return False
    inside_x = (q[:, 0] >= x1 - OUTSIDE * bw) & (q[:, 0] <= x2 + OUTSIDE * bw)
    inside_y = (q[:, 1] >= y1 - OUTSIDE * bh) & (q[:, 1] <= y2 + OUTSIDE * bh)
    return bool((inside_x & inside_y).all())


def rectify(
    grey: np.ndarray,
    corners: Corners,
    out_w: int,
    out_h: int,
    margin_x: float,
    margin_y: float,
    jitter: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
) -> np.ndarray:
    """The plate warped level into ``out_h x out_w``, with ``margin_x`` / ``margin_y`` of its width / height
    around it; ``jitter`` (dx, dy, sx, sy) moves and grows that window in plate widths / heights, as
    :func:`~anpr_edge.inference.ocr_core.jitter_box` does to a box. Outside the frame: edge pixels."""
    dx, dy, sx, sy = jitter
    u0, u1 = dx - sx - margin_x, 1.0 + dx + sx + margin_x
    v0, v1 = dy - sy - margin_y, 1.0 + dy + sy + margin_y
    unit = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    plate_to_frame = cv2.getPerspectiveTransform(unit, _quad(corners).astype(np.float32)).astype(np.float64)
    out_to_plate = np.array([[(u1 - u0) / out_w, 0, u0], [0, (v1 - v0) / out_h, v0], [0, 0, 1]], np.float64)
    m = plate_to_frame @ out_to_plate
    q = _quad(corners)
    plate_w = float(np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
    shrink = out_w / ((u1 - u0) * max(plate_w, 1.0))
    if shrink < 0.5:  # warpPerspective has no area filter: shrink the region first, then warp the rest
        grey, m = _preshrunk(grey, m, out_w, out_h, 2.0 * shrink)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpPerspective(grey, m.astype(np.float32), (out_w, out_h), flags=flags, borderMode=cv2.BORDER_REPLICATE)


def _preshrunk(grey: np.ndarray, m: np.ndarray, out_w: int, out_h: int, f: float) -> tuple[np.ndarray, np.ndarray]:
    """The frame region the output covers, shrunk by ``f`` with INTER_AREA, and the map into it."""
    box = np.array([[0, 0, 1], [out_w, 0, 1], [out_w, out_h, 1], [0, out_h, 1]], np.float64) @ m.T
    pts = box[:, :2] / box[:, 2:3]
    h, w = grey.shape[:2]
    x1, y1 = max(int(pts[:, 0].min()) - 2, 0), max(int(pts[:, 1].min()) - 2, 0)
    x2, y2 = min(int(np.ceil(pts[:, 0].max())) + 2, w), min(int(np.ceil(pts[:, 1].max())) + 2, h)
    if x2 - x1 < 2 or y2 - y1 < 2:
        return grey, m
    part = cv2.resize(grey[y1:y2, x1:x2], None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    sx, sy = part.shape[1] / (x2 - x1), part.shape[0] / (y2 - y1)
    into = np.array([[sx, 0, -x1 * sx], [0, sy, -y1 * sy], [0, 0, 1]], np.float64)
    return part, into @ m
