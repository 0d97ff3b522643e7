"""Plate corners from a closer look: a small network finds a plate's four corners in a crop of its box.

The pose detector's corners are loose (about 5 % of the plate's width at every plate size, model card). The
corner model sees each box again, cut from the full frame with a margin (``crop_margin_x`` / ``crop_margin_y``
of the box's width / height on every side) and stretched to its input, and returns the corners (TL, TR, BR,
BL) as fractions of that cut; they are mapped back to frame pixels here. Any box detector's boxes can be
given corners this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.core.results import Box, Corners, Detection
from anpr_edge.inference.contract import CornerSpec, load_spec, metadata_path
from anpr_edge.inference.ocr_core import crop_plate, expand_box, to_tensor
from anpr_edge.inference.rectify import as_corners
from anpr_edge.inference.runtime.base import Backend, resolve_precision
from anpr_edge.inference.runtime.factory import open_backend

#: The corner model's file name in a models folder (``plate_corners.xml`` / ``.bin`` / ``.onnx`` / ``.json``).
STEM = "plate_corners"


def corner_window(box: Box, spec: CornerSpec) -> Box:
    """The part of the frame the corner model sees for ``box``: the box and its margins."""
    return expand_box(box, spec.crop_margin_x, spec.crop_margin_y)


def corner_crop(grey: np.ndarray, box: Box, spec: CornerSpec) -> np.ndarray:
    """The corner model's input for ``box``: its window cut from a grey frame, stretched to the input size."""
    return crop_plate(grey, box, spec.crop_margin_x, spec.crop_margin_y, spec.input_width, spec.input_height)


def to_frame(fractions: np.ndarray, window: Box) -> Corners:
    """Corners given as (x, y) fractions of ``window`` (4 x 2) in frame pixels."""
    x1, y1, x2, y2 = window
    f = np.asarray(fractions, np.float64).reshape(4, 2)
    return as_corners(np.stack([x1 + f[:, 0] * (x2 - x1), y1 + f[:, 1] * (y2 - y1)], axis=1))


def to_fractions(corners: np.ndarray, window: Box) -> np.ndarray:
    """The inverse of :func:`to_frame`: frame-pixel corners (4 x 2) as fractions of ``window``."""
    x1, y1, x2, y2 = window
    q = np.asarray(corners, np.float64).reshape(4, 2)
    return np.stack([(q[:, 0] - x1) / max(x2 - x1, 1e-6), (q[:, 1] - y1) / max(y2 - y1, 1e-6)], axis=1)


class CornerModel:
    """``corners(frame, detections) -> detections`` with the corners this model finds in their boxes."""

    def __init__(self, backend: Backend, spec: CornerSpec, max_batch: int = 16) -> None:
        self.backend, self.spec, self.max_batch = backend, spec, max_batch

    @classmethod
    def load(
        cls, stem: Path, device: str, cache_dir: Path | None = None, hint: str = "latency", precision: str = "auto"
    ) -> CornerModel:
        """Load and compile; it has no int8 copy (0.3 M parameters): an int8 run finds corners in f32."""
        spec = load_spec(stem, "plate_corners")
        assert isinstance(spec, CornerSpec)
        shapes = (None, 1, spec.input_height, spec.input_width), (None, 8)
        run_at = resolve_precision(precision, spec.cpu_precision, device)
        return cls(open_backend(stem, device, *shapes, cache_dir, hint, "f32" if run_at == "int8" else run_at), spec)

    @classmethod
    def beside(
        cls,
        stem: Path,
        device: str = "cpu",
        cache_dir: Path | None = None,
        hint: str = "latency",
        precision: str = "f32",
    ) -> CornerModel | None:
        """The corner model in the folder of the model ``stem`` (``plate_corners``), or None if it has none."""
        corners = stem.with_name(STEM)
        return cls.load(corners, device, cache_dir, hint, precision) if metadata_path(corners).is_file() else None

    def fractions(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """``(N, 4, 2)`` corner fractions of their windows for crops cut by :func:`corner_crop`."""
        out = [
            self.backend.infer(to_tensor(list(crops[i : i + self.max_batch]), self.spec.mean, self.spec.std))
            for i in range(0, len(crops), self.max_batch)
        ]
        return np.concatenate(out).reshape(-1, 4, 2) if out else np.zeros((0, 4, 2), np.float32)

    def __call__(self, frame: np.ndarray, detections: Sequence[Detection]) -> list[Detection]:
        if not detections:
            return []
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        found = self.fractions([corner_crop(grey, d.box, self.spec) for d in detections])
        return [
            Detection(d.box, d.score, to_frame(f, corner_window(d.box, self.spec)))
            for d, f in zip(detections, found, strict=True)
        ]
