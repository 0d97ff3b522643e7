"""Which way a plate went over a pass. Pure.

With a line drawn across the lane (``recognition.direction_line``, two points in frame pixels), a plate whose
centre crossed it from the left of the line (looking from its first point to its second) went ``in``, the
other way ``out``. Without one, a plate that grew by ``growth`` or more was ``approaching`` and one that
shrank by as much ``departing``. Otherwise the direction is unknown (``None``).
"""

from __future__ import annotations

from anpr_edge.core.results import Box

Point = tuple[float, float]


def _centre(b: Box) -> Point:
    return ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)


def side(line: tuple[Point, Point], p: Point) -> float:
    """Positive on the left of ``line`` (image coordinates, y down: left as seen walking along it)."""
    (x1, y1), (x2, y2) = line
    return (x2 - x1) * (y1 - p[1]) - (y2 - y1) * (x1 - p[0])


def direction(first: Box, last: Box, line: tuple[Point, Point] | None, growth: float) -> str | None:
    """``in`` / ``out`` across ``line``, or ``approaching`` / ``departing`` by width; ``None`` when unknown."""
    if line is not None:
        a, b = side(line, _centre(first)), side(line, _centre(last))
        if a > 0 >= b:
            return "in"
        if a <= 0 < b:
            return "out"
        return None
    w0, w1 = first[2] - first[0], last[2] - last[0]
    if w0 <= 0 or w1 <= 0:
        return None
    if w1 / w0 >= growth:
        return "approaching"
    if w0 / w1 >= growth:
        return "departing"
    return None
