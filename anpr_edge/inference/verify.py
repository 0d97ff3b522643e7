"""A second, closer look at each detector box, to drop the boxes that are not plates.

The detector proposes boxes on the whole frame at a small input (512x288 shipped), where a grille or a
lamp a few pixels high can pass for a plate. Each proposed box is cut out with ``zoom`` box widths of
its surroundings and shown again to the same model at :data:`VERIFY_INPUT`, where the plate comes out
about as wide as the plates the detector was trained on (a median of about 60 px). A box is kept when
that look finds a plate overlapping it with at least ``conf``. The first look's box and score are kept:
the zoomed box was not a better crop for the OCR (model card).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.core.geometry import iou
from anpr_edge.core.results import Box, Detection
from anpr_edge.inference.detector import PlateDetector
from anpr_edge.inference.runtime.base import ShapeMismatchError

logger = logging.getLogger(__name__)

#: Input (width, height) of the second look.
VERIFY_INPUT = (320, 192)
#: The second look's box must overlap the first look's this much to confirm it.
CONFIRM_IOU = 0.3


def zoom_region(box: Box, zoom: float, aspect: float) -> Box:
    """The region around ``box`` for the second look: ``zoom`` times as wide as the box (and at least
    ``zoom`` times as high), of width / height ``aspect``, centred on the box."""
    x1, y1, x2, y2 = box
    w = max(zoom * (x2 - x1), zoom * (y2 - y1) * aspect, 1.0)
    h = w / aspect
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def confirms(candidates: Sequence[Detection], box: Box, conf: float) -> bool:
    """Whether a second-look detection (frame coordinates) confirms ``box``."""
    return any(c.score >= conf and iou(c.box, box) >= CONFIRM_IOU for c in candidates)


class Verifier:
    """``verifier(frame, detections, zoom, conf) -> the detections the second look confirms``."""

    def __init__(self, detector: PlateDetector) -> None:
        self.detector = detector

    @classmethod
    def load(
        cls, stem: Path, device: str, cache_dir: Path | None = None, hint: str = "latency", precision: str = "auto"
    ) -> Verifier | None:
        """The same model compiled at :data:`VERIFY_INPUT`; ``None`` (with a warning) when its input is
        fixed at another size (an older export): detection then runs without the second look."""
        try:
            return cls(PlateDetector.load(stem, device, None, 0.5, cache_dir, VERIFY_INPUT, hint, precision))
        except ShapeMismatchError as exc:
            logger.warning("no second look at detector boxes (recognition.verify_zoom): %s", exc)
            return None

    def __call__(self, frame: np.ndarray, detections: Sequence[Detection], zoom: float, conf: float) -> list[Detection]:
        w, h = VERIFY_INPUT
        pad = (self.detector.spec.pad_value,) * 3
        kept = []
        for d in detections:
            x1, y1, x2, y2 = zoom_region(d.box, zoom, w / h)
            m = np.array([[1.0, 0.0, -x1], [0.0, 1.0, -y1]], np.float32)
            size = (max(round(x2 - x1), 1), max(round(y2 - y1), 1))
            crop = cv2.warpAffine(frame, m, size, flags=cv2.INTER_LINEAR, borderValue=pad)
            found = [
                Detection((c.box[0] + x1, c.box[1] + y1, c.box[2] + x1, c.box[3] + y1), c.score)
                for c in self.detector(crop, conf)
            ]
            if confirms(found, d.box, conf):
                kept.append(d)
        return kept
