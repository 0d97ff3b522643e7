"""Pure OCR edges: plate crop, input tensor, greedy CTC decode with per-character probabilities.

Shared by the runtime wrapper and the training code, so a model sees at run time exactly what it was
trained on. Numpy in, numpy out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from anpr_edge.core.results import Box


def expand_box(box: Box, margin_x: float, margin_y: float) -> Box:
    """Grow ``box`` by a fraction of its width / height on every side."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    return (x1 - margin_x * w, y1 - margin_y * h, x2 + margin_x * w, y2 + margin_y * h)


def crop_plate(
    frame: np.ndarray,
    box: Box,
    margin_x: float,
    margin_y: float,
    out_w: int,
    out_h: int,
    angle: float = 0.0,
    rise: float = 1.0,
) -> np.ndarray:
    """Cut ``box`` plus margin out of a BGR frame, as a ``out_h x out_w`` grey image.

    Parts of the expanded box outside the frame are filled by edge replication (a plate at the
    border keeps its size). The aspect ratio is not kept: the model is trained on stretched crops.
    With ``angle`` (degrees, the text line's slope, :func:`skew_angle`), the crop is a rectangle turned
    by that angle about the box centre, as wide as the box and as high as a plate of that slope leaves
    room for (:func:`deskewed_size`, ``rise``), so the characters come out level.
    """
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if angle:
        return _crop_turned(grey, box, margin_x, margin_y, out_w, out_h, angle, rise)
    x1, y1, x2, y2 = expand_box(box, margin_x, margin_y)
    w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    # Affine map from the crop rectangle to the output: one warp does crop, pad and resize.
    m = np.array([[out_w / w, 0.0, -x1 * out_w / w], [0.0, out_h / h, -y1 * out_h / h]], np.float32)
    shrink = min(out_w / w, out_h / h)
    interp = cv2.INTER_AREA if shrink < 0.5 else cv2.INTER_LINEAR
    if interp == cv2.INTER_AREA:
        xi1, yi1 = max(int(x1), 0), max(int(y1), 0)
        xi2, yi2 = min(int(np.ceil(x2)), grey.shape[1]), min(int(np.ceil(y2)), grey.shape[0])
        shrunk = _preshrink(grey, (xi1, yi1, xi2, yi2), shrink)
        if shrunk is not None:
            grey, sx, sy = shrunk
            m = np.array(
                [[out_w / w / sx, 0.0, (xi1 - x1) * out_w / w], [0.0, out_h / h / sy, (yi1 - y1) * out_h / h]],
                np.float32,
            )
    return cv2.warpAffine(grey, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _preshrink(
    grey: np.ndarray, region: tuple[int, int, int, int], shrink: float
) -> tuple[np.ndarray, float, float] | None:
    """warpAffine has no area filter: the pixel ``region`` (x1, y1, x2, y2) shrunk by ``2 * shrink`` with
    INTER_AREA, and its x / y scale, for the warp to go the rest of the way; ``None`` if it is empty."""
    xi1, yi1, xi2, yi2 = region
    if xi2 <= xi1 or yi2 <= yi1:
        return None
    part = cv2.resize(grey[yi1:yi2, xi1:xi2], None, fx=2.0 * shrink, fy=2.0 * shrink, interpolation=cv2.INTER_AREA)
    return part, part.shape[1] / (xi2 - xi1), part.shape[0] / (yi2 - yi1)


def deskewed_size(box: Box, angle: float, rise: float = 1.0) -> tuple[float, float]:
    """Width and height of a plate turned by ``angle`` degrees whose axis-aligned box is ``box``.

    The width is the box's; the height is what is left once ``rise`` of the slope's rise is taken off
    (``H cos a - rise W |sin a|``; 1 = all of it, a tight crop), never under 40 % of the box's height.
    """
    x1, y1, x2, y2 = box
    w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    t = np.deg2rad(angle)
    return w, max(h * float(np.cos(t)) - rise * w * abs(float(np.sin(t))), 0.4 * h)


def _crop_turned(
    grey: np.ndarray, box: Box, margin_x: float, margin_y: float, out_w: int, out_h: int, angle: float, rise: float
) -> np.ndarray:
    w, h = deskewed_size(box, angle, rise)
    bx1, by1, bx2, by2 = expand_box((-w / 2, -h / 2, w / 2, h / 2), margin_x, margin_y)
    t = np.deg2rad(angle)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    # Output pixel (u, v) -> frame point  rot @ (bx1 + u * cw / out_w, by1 + v * ch / out_h) + box centre.
    a = rot @ np.diag([(bx2 - bx1) / out_w, (by2 - by1) / out_h])
    b = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]) + rot @ np.array([bx1, by1])
    shrink = min(out_w / (bx2 - bx1), out_h / (by2 - by1))
    if shrink < 0.5:  # pre-shrink the region the turned crop covers
        corners = np.array([[0, 0], [out_w, 0], [0, out_h], [out_w, out_h]], np.float64) @ a.T + b
        xi1, yi1 = max(int(corners[:, 0].min()) - 2, 0), max(int(corners[:, 1].min()) - 2, 0)
        xi2 = min(int(np.ceil(corners[:, 0].max())) + 2, grey.shape[1])
        yi2 = min(int(np.ceil(corners[:, 1].max())) + 2, grey.shape[0])
        shrunk = _preshrink(grey, (xi1, yi1, xi2, yi2), shrink)
        if shrunk is not None:
            grey, sx, sy = shrunk
            scale = np.diag([sx, sy])
            a, b = scale @ a, scale @ (b - np.array([xi1, yi1]))
    m = np.hstack([a, b[:, None]]).astype(np.float32)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(grey, m, (out_w, out_h), flags=flags, borderMode=cv2.BORDER_REPLICATE)


#: Largest slope :func:`skew_angle` looks for, in degrees.
MAX_SKEW = 20.0


def skew_angle(grey: np.ndarray, box: Box, max_deg: float = MAX_SKEW, work_width: int = 96) -> float:
    """Slope of a plate's text lines inside ``box`` of a grey frame, in whole degrees (image y down:
    positive = falling to the right); 0 when the box holds too little to tell.

    Near-horizontal edges (the plate's rims, the tops and feet of the characters) are projected onto
    the vertical at each candidate slope; the slope that stacks them into the sharpest rows wins.
    """
    x1, y1 = max(round(box[0]), 0), max(round(box[1]), 0)
    x2, y2 = min(round(box[2]), grey.shape[1]), min(round(box[3]), grey.shape[0])
    if x2 - x1 < 8 or y2 - y1 < 4:
        return 0.0
    part = grey[y1:y2, x1:x2]
    height = max(4, round(part.shape[0] * work_width / part.shape[1]))
    g = cv2.resize(part, (work_width, height), interpolation=cv2.INTER_AREA).astype(np.float32)
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.hypot(gx, gy)
    ys, xs = np.nonzero((np.abs(gy) > np.abs(gx)) & (mag > np.percentile(mag, 75)))
    if len(xs) < 20:
        return 0.0
    weight = mag[ys, xs]
    xc, yc = xs - work_width / 2, ys - height / 2
    degrees = np.arange(-int(max_deg), int(max_deg) + 1)
    t = np.deg2rad(degrees)[:, None]
    rows = yc * np.cos(t) - xc * np.sin(t)  # per slope, each edge pixel's row once the slope is taken out
    bins = np.round(rows - rows.min(axis=1, keepdims=True)).astype(np.int64)
    span = int(bins.max()) + 1
    flat = (bins + span * np.arange(len(degrees))[:, None]).ravel()
    hist = np.bincount(flat, np.tile(weight, len(degrees)), minlength=span * len(degrees))
    score = (hist.reshape(len(degrees), span) ** 2).sum(axis=1)
    return float(degrees[int(np.argmax(score))])  # the first of equal scores, as a loop from -max_deg would


# Box jitters for reading one plate several times: (dx, dy) shift and (sx, sy) growth of every side, in box
# widths / heights. The first is the box itself; the others move and resize the crop about as much as
# detector boxes wander from frame to frame. Most variants first: a small ``n`` takes a spread subset.
BOX_VARIANTS: tuple[tuple[float, float, float, float], ...] = (
    (0.0, 0.0, 0.0, 0.0),
    (-0.04, -0.08, 0.04, 0.08),
    (0.04, 0.08, -0.03, -0.06),
    (0.04, -0.08, 0.04, 0.08),
    (-0.04, 0.08, -0.03, -0.06),
    (-0.04, -0.08, -0.03, -0.06),
    (0.04, 0.08, 0.04, 0.08),
    (0.04, -0.08, -0.03, -0.06),
    (-0.04, 0.08, 0.04, 0.08),
)


def jitter_box(box: Box, dx: float, dy: float, sx: float, sy: float) -> Box:
    """``box`` moved by ``(dx, dy)`` and grown by ``(sx, sy)`` per side, in box widths / heights."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    return (x1 + (dx - sx) * w, y1 + (dy - sy) * h, x2 + (dx + sx) * w, y2 + (dy + sy) * h)


def box_variant(box: Box, i: int) -> Box:
    """Variant ``i`` of :data:`BOX_VARIANTS` applied to ``box``."""
    return jitter_box(box, *BOX_VARIANTS[i])


def box_variants(box: Box, n: int) -> list[Box]:
    """The first ``n`` (1-9) of :data:`BOX_VARIANTS` applied to ``box``."""
    if not 1 <= n <= len(BOX_VARIANTS):
        raise ValueError(f"variants must be 1-{len(BOX_VARIANTS)}, got {n}")
    return [box_variant(box, i) for i in range(n)]


def vote_variants(reads: Sequence[np.ndarray]) -> np.ndarray:
    """Soft per-character vote over the decodes of one plate's variant crops (first = the plain box).

    The reads agree on a length (the most common; the plain crop's on a tie); the probability vectors of
    the reads of that length are summed position by position and divided by the number of *all* reads, so
    a character the variants disagree on, or a plate whose length they disagree on, keeps a low
    probability and becomes ``#`` rather than a confident wrong character.
    """
    if not reads:
        raise ValueError("no reads to vote over")
    lengths = Counter(len(r) for r in reads)
    top = max(lengths.values())
    n = len(reads[0]) if lengths[len(reads[0])] == top else lengths.most_common(1)[0][0]
    same = [r for r in reads if len(r) == n]
    return np.asarray(np.sum(same, axis=0) / len(reads), np.float32)


def temper(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax outputs (classes on the last axis, the CTC blank included) at another temperature:
    ``p^(1/T)`` renormalised; ``T`` > 1 softens an over-confident reader. ``T`` = 1 returns ``probs``."""
    if temperature == 1.0:
        return probs
    logp = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    logp -= logp.max(axis=-1, keepdims=True)
    e = np.exp(logp)
    return np.asarray(e / e.sum(axis=-1, keepdims=True), np.float32)


def to_tensor(crops: list[np.ndarray], mean: float, std: float) -> np.ndarray:
    """Stack grey ``H x W`` uint8 crops into an ``N x 1 x H x W`` float32 tensor."""
    batch = np.stack(crops).astype(np.float32)[:, None, :, :]
    return (batch - mean) / std


@dataclass(frozen=True, slots=True)
class CtcRead:
    """One decoded sequence: text and, per emitted character, the class probability vector."""

    text: str
    probs: np.ndarray  # (len(text), len(alphabet)), the blank column removed

    @property
    def char_probs(self) -> tuple[float, ...]:
        return tuple(float(p.max()) for p in self.probs)


def class_runs(probs: np.ndarray) -> Iterator[tuple[int, int, int]]:
    """The greedy CTC path of ``(T, C)`` probabilities as runs: (class, first frame, end frame exclusive)."""
    best = probs.argmax(axis=1)
    t, n = 0, len(best)
    while t < n:
        end = t + 1
        while end < n and best[end] == best[t]:
            end += 1
        yield int(best[t]), t, end
        t = end


def ctc_greedy_decode(probs: np.ndarray, alphabet: str, blank: int = 0) -> CtcRead:
    """Greedy CTC over ``(T, C)`` probabilities (class ``blank`` is the CTC blank).

    Consecutive frames with the same best class form one character; its probability vector is
    taken at the frame where that class peaks, without the blank column (absolute probabilities, so
    a character that was nearly a blank keeps a low probability).
    """
    if probs.ndim != 2 or probs.shape[1] != len(alphabet) + 1:
        raise ValueError(f"expected (T, {len(alphabet) + 1}) probabilities, got {probs.shape}")
    text: list[str] = []
    rows: list[np.ndarray] = []
    for k, start, end in class_runs(probs):
        if k != blank:
            seg = probs[start:end]
            peak = seg[int(seg[:, k].argmax())]
            text.append(alphabet[k - 1 if k > blank else k])
            rows.append(np.delete(peak, blank))
    arr = np.stack(rows) if rows else np.zeros((0, len(alphabet)), np.float32)
    return CtcRead("".join(text), arr.astype(np.float32))
