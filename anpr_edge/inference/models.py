"""The compiled models, loaded once and shared by every camera: detector, reader, the detector's second look."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anpr_edge.core.results import Detection
from anpr_edge.inference.detector import PlateDetector
from anpr_edge.inference.ocr import CharThresholds, PlateOCR
from anpr_edge.inference.verify import Verifier


@dataclass(frozen=True, slots=True)
class Models:
    """The compiled models, loaded once and shared by every camera."""

    detector: PlateDetector
    ocr: PlateOCR
    verifier: Verifier | None = None  # the detector at the second look's input (None: fixed-size model)

    @classmethod
    def load(
        cls,
        detector: Path,
        ocr: Path,
        device: str,
        cache_dir: Path | None = None,
        detector_input: tuple[int, int] | None = None,
        hint: str = "latency",
    ) -> Models:
        """``hint``: OpenVINO's performance hint (:data:`~anpr_edge.inference.backend.HINTS`)."""
        return cls(
            PlateDetector.load(detector, device, None, 0.5, cache_dir, detector_input, hint),
            PlateOCR.load(ocr, device, CharThresholds(), cache_dir, hint),
            Verifier.load(detector, device, cache_dir, hint),
        )

    def verified(self, frame: np.ndarray, detections: list[Detection], zoom: float, conf: float) -> list[Detection]:
        """``detections`` that the second look (:mod:`anpr_edge.inference.verify`) confirms; ``zoom`` 0: all."""
        if self.verifier is None or zoom <= 0 or not detections:
            return detections
        return self.verifier(frame, detections, zoom, conf)
