"""Plane geometry of boxes: overlap. Pure."""

from __future__ import annotations

from anpr_edge.core.results import Box


def centre_gap(a: Box, b: Box) -> float:
    """Distance of the two boxes' centres, in widths of the wider box (at least 1 px wide)."""
    dx, dy = (a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2
    return float((dx * dx + dy * dy) ** 0.5 / max(a[2] - a[0], b[2] - b[0], 1.0))


def intersection(a: Box, b: Box) -> float:
    """The area the two boxes share (0 when they do not overlap)."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def iou(a: Box, b: Box) -> float:
    inter = intersection(a, b)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
