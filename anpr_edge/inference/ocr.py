"""CTC plate OCR: crops of one frame batched into one inference, decoded with the plate rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anpr_edge.inference.backend import Backend, open_backend
from anpr_edge.inference.contract import OcrSpec, load_spec
from anpr_edge.inference.ocr_core import crop_plate, ctc_greedy_decode, to_tensor
from anpr_edge.plates import constrain
from anpr_edge.results import Detection, PlateRead


@dataclass(frozen=True, slots=True)
class CharThresholds:
    """Probability under which a character is written ``#``."""

    letters: float = 0.5
    digits: float = 0.5

    @classmethod
    def from_options(cls, common: float, letters: float | None, digits: float | None) -> CharThresholds:
        return cls(letters if letters is not None else common, digits if digits is not None else common)


class PlateOCR:
    """``ocr(frame, detections) -> list[PlateRead]`` (one batched inference per call)."""

    def __init__(self, backend: Backend, spec: OcrSpec, thresholds: CharThresholds, max_batch: int = 16) -> None:
        self.backend, self.spec, self.thresholds, self.max_batch = backend, spec, thresholds, max_batch

    @classmethod
    def load(cls, stem: Path, device: str, thresholds: CharThresholds, cache_dir: Path | None = None) -> PlateOCR:
        spec = load_spec(stem, "plate_ocr")
        assert isinstance(spec, OcrSpec)
        backend = open_backend(
            stem,
            device,
            (None, 1, spec.input_height, spec.input_width),
            (None, None, len(spec.alphabet) + 1),
            cache_dir,
        )
        return cls(backend, spec, thresholds)

    def crops(self, frame: np.ndarray, detections: Sequence[Detection]) -> list[np.ndarray]:
        s = self.spec
        return [
            crop_plate(frame, d.box, s.crop_margin_x, s.crop_margin_y, s.input_width, s.input_height)
            for d in detections
        ]

    def read_crops(
        self, crops: Sequence[np.ndarray], detections: Sequence[Detection], thresholds: CharThresholds | None = None
    ) -> list[PlateRead]:
        """Read ``crops`` (cut by :meth:`crops`) in batches of ``max_batch``."""
        thr = thresholds or self.thresholds
        reads: list[PlateRead] = []
        for start in range(0, len(crops), self.max_batch):
            part = list(crops[start : start + self.max_batch])
            probs = self.backend.infer(to_tensor(part, self.spec.mean, self.spec.std))
            for p, det in zip(probs, detections[start : start + self.max_batch], strict=True):
                reads.append(self.decode(p, det, thr))
        return reads

    def decode(self, probs: np.ndarray, det: Detection, thr: CharThresholds) -> PlateRead:
        ctc = ctc_greedy_decode(probs, self.spec.alphabet, self.spec.blank)
        text, chars = constrain(ctc.probs, self.spec.alphabet, thr.letters, thr.digits)
        return PlateRead(text, chars, ctc.probs, det)

    def __call__(
        self, frame: np.ndarray, detections: Sequence[Detection], thresholds: CharThresholds | None = None
    ) -> list[PlateRead]:
        if not detections:
            return []
        return self.read_crops(self.crops(frame, detections), detections, thresholds)
