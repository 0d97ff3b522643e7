"""Idle frames: no detector while nothing in view changes and no plate is being followed.

A camera at a barrier looks at an empty lane most of the time. Each frame is shrunk to a 32x18 grey
thumbnail (each cell the mean of about 60x60 pixels of a 1080p frame, so sensor noise and compression
flicker average out) and compared with the thumbnail of the last frame the detector saw with no track
open. While no cell changed by ``threshold`` grey levels and no track is open, the frame is idle: the
detector is skipped. It still runs at least every ``recheck_s`` seconds, so a plate that appears without a
visible change (a car already standing there at start-up) waits at most that long. While a track is open no
thumbnail is made: the detector runs on every frame anyway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

THUMB_SIZE = (32, 18)  # width, height: 16:9 cells
_SAMPLES = 15  # pixels sampled per cell, along each side, before averaging (225 per cell)


def thumbnail(frame: np.ndarray) -> np.ndarray:
    """The frame as a ``18 x 32`` float32 grey thumbnail (cell means over a sampled grid)."""
    w, h = THUMB_SIZE
    small = cv2.resize(frame, (w * _SAMPLES, h * _SAMPLES), interpolation=cv2.INTER_NEAREST)
    grey = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    return np.asarray(cv2.resize(grey.astype(np.float32), THUMB_SIZE, interpolation=cv2.INTER_AREA))


def change(a: np.ndarray, b: np.ndarray) -> float:
    """The largest grey-level difference of one cell between two thumbnails."""
    return float(np.abs(a - b).max())


@dataclass
class MotionGate:
    """``idle(frame, t, following)``: may the detector skip this frame? ``threshold`` 0: never."""

    threshold: float
    recheck_s: float
    _ref: np.ndarray | None = field(default=None, repr=False)
    _ref_t: float = -math.inf

    def idle(self, frame: np.ndarray, t: float, following: bool) -> bool:
        """True when nothing changed since the detector's last frame, no track is open (``following``)
        and that frame is less than ``recheck_s`` old (stream time ``t``; a clock going back rechecks)."""
        if self.threshold <= 0:
            return False
        if following:  # the detector runs anyway: no thumbnail; the first frame after the plates are gone sets it
            self._ref = None
            return False
        thumb = thumbnail(frame)
        ref = self._ref
        if ref is not None and 0.0 <= t - self._ref_t < self.recheck_s and change(thumb, ref) < self.threshold:
            return True
        self._ref, self._ref_t = thumb, t
        return False
