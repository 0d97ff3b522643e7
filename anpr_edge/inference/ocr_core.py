"""Pure OCR edges: plate crop, input tensor, greedy CTC decode with per-character probabilities.

Shared by the runtime wrapper and the training code, so a model sees at run time exactly what it was
trained on. Numpy in, numpy out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

Box = tuple[float, float, float, float]


def expand_box(box: Box, margin_x: float, margin_y: float) -> Box:
    """Grow ``box`` by a fraction of its width / height on every side."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    return (x1 - margin_x * w, y1 - margin_y * h, x2 + margin_x * w, y2 + margin_y * h)


def crop_plate(frame: np.ndarray, box: Box, margin_x: float, margin_y: float, out_w: int, out_h: int) -> np.ndarray:
    """Cut ``box`` plus margin out of a BGR frame, as a ``out_h x out_w`` grey image.

    Parts of the expanded box outside the frame are filled by edge replication (a plate at the
    border keeps its size). The aspect ratio is not kept: the model is trained on stretched crops.
    """
    x1, y1, x2, y2 = expand_box(box, margin_x, margin_y)
    w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    # Affine map from the crop rectangle to the output: one warp does crop, pad and resize.
    m = np.array([[out_w / w, 0.0, -x1 * out_w / w], [0.0, out_h / h, -y1 * out_h / h]], np.float32)
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    shrink = min(out_w / w, out_h / h)
    interp = cv2.INTER_AREA if shrink < 0.5 else cv2.INTER_LINEAR
    if interp == cv2.INTER_AREA:
        # warpAffine has no area filter: pre-shrink the region, then warp the rest of the way.
        xi1, yi1 = max(int(x1), 0), max(int(y1), 0)
        xi2, yi2 = min(int(np.ceil(x2)), grey.shape[1]), min(int(np.ceil(y2)), grey.shape[0])
        if xi2 > xi1 and yi2 > yi1:
            f = 2.0 * shrink
            part = cv2.resize(grey[yi1:yi2, xi1:xi2], None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
            sx, sy = part.shape[1] / (xi2 - xi1), part.shape[0] / (yi2 - yi1)
            m = np.array(
                [[out_w / w / sx, 0.0, (xi1 - x1) * out_w / w], [0.0, out_h / h / sy, (yi1 - y1) * out_h / h]],
                np.float32,
            )
            grey = part
    return cv2.warpAffine(grey, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


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


def ctc_greedy_decode(probs: np.ndarray, alphabet: str, blank: int = 0) -> CtcRead:
    """Greedy CTC over ``(T, C)`` probabilities (class ``blank`` is the CTC blank).

    Consecutive frames with the same best class form one character; its probability vector is
    taken at the frame where that class peaks, without the blank column (absolute probabilities, so
    a character that was nearly a blank keeps a low probability).
    """
    if probs.ndim != 2 or probs.shape[1] != len(alphabet) + 1:
        raise ValueError(f"expected (T, {len(alphabet) + 1}) probabilities, got {probs.shape}")
    best = probs.argmax(axis=1)
    text: list[str] = []
    rows: list[np.ndarray] = []
    t, n = 0, len(best)
    while t < n:
        k = int(best[t])
        end = t
        while end + 1 < n and best[end + 1] == k:
            end += 1
        if k != blank:
            seg = probs[t : end + 1]
            peak = seg[int(seg[:, k].argmax())]
            row = np.delete(peak, blank)
            text.append(alphabet[k - 1 if k > blank else k])
            rows.append(row)
        t = end + 1
    arr = np.stack(rows) if rows else np.zeros((0, len(alphabet)), np.float32)
    return CtcRead("".join(text), arr.astype(np.float32))
