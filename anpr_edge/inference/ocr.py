"""CTC plate OCR: crops of one frame batched into one inference, decoded with the plate rules."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.core.plates import constrain, trim_tail
from anpr_edge.core.results import Detection, PlateRead
from anpr_edge.inference.contract import OcrSpec, load_spec
from anpr_edge.inference.ocr_core import (
    BOX_VARIANTS,
    box_variant,
    crop_plate,
    ctc_greedy_decode,
    skew_angle,
    temper,
    to_tensor,
    vote_variants,
)
from anpr_edge.inference.rectify import plausible, rectify
from anpr_edge.inference.runtime.base import Backend, resolve_precision
from anpr_edge.inference.runtime.factory import open_backend


@dataclass(frozen=True, slots=True)
class PlateGate:
    """A plate whose mean character probability (its positions' best allowed characters) is under
    ``quality`` is unclear (blurred, small, dark): its characters are written only at ``unsure`` or above."""

    quality: float
    unsure: float


@dataclass(frozen=True, slots=True)
class CharThresholds:
    """Probability under which a character is written ``#`` (stricter on an unclear plate with a gate)."""

    letters: float = 0.5
    digits: float = 0.5
    gate: PlateGate | None = None

    @classmethod
    def from_options(cls, common: float, letters: float | None, digits: float | None) -> CharThresholds:
        return cls(letters if letters is not None else common, digits if digits is not None else common)

    def read(self, probs: np.ndarray, alphabet: str) -> tuple[str, tuple[tuple[str, float], ...]]:
        """``probs`` (positions x alphabet) as text and per-position (character, probability): the plate
        template's :func:`constrain` at these thresholds, or at the gate's ``unsure`` on an unclear plate."""
        text, chars = constrain(probs, alphabet, self.letters, self.digits)
        g = self.gate
        if g is None or not chars or float(np.mean([p for _, p in chars])) >= g.quality:
            return text, chars
        return constrain(probs, alphabet, max(self.letters, g.unsure), max(self.digits, g.unsure))


def combine_reads(reads: Sequence[np.ndarray], alphabet: str, thr_digits: float) -> np.ndarray:
    """One plate's per-position probabilities from the decodes of its crops (first = the plain box).

    Each read loses its faint tail first (:func:`trim_tail`), so a bolt that some crops see splits no
    length vote; several reads are then voted (:func:`vote_variants`). The result has exactly the
    plate's positions, which is what the tracker adds up frame by frame.
    """
    group = [trim_tail(r, alphabet, thr_digits) for r in reads]
    return group[0] if len(group) == 1 else trim_tail(vote_variants(group), alphabet, thr_digits)


def crop_kind(d: Detection) -> str:
    """How the reader's crop of ``d`` is cut: ``corners`` (rectified), ``box`` (no corners), or ``fallback``
    (corners there but implausible, :func:`~anpr_edge.inference.rectify.plausible`: the box is cut)."""
    if d.corners is None:
        return "box"
    return "corners" if plausible(d.corners, d.box) else "fallback"


def plate_reads(
    decoded: Sequence[np.ndarray], detections: Sequence[Detection], alphabet: str, thr: CharThresholds
) -> list[PlateRead]:
    """One read per detection from its crops' decodes (``len(decoded) / len(detections)`` each, in order):
    voted (:func:`combine_reads`), then fitted to the plate template with ``#`` under the thresholds."""
    k = len(decoded) // len(detections)
    if k < 1 or k * len(detections) != len(decoded):
        raise ValueError(f"{len(decoded)} crops for {len(detections)} detections")
    reads = []
    for i, det in enumerate(detections):
        probs = combine_reads(decoded[i * k : (i + 1) * k], alphabet, thr.digits)
        text, chars = thr.read(probs, alphabet)
        reads.append(PlateRead(text, chars, probs, det))
    return reads


class CropReader(ABC):
    """What both readers share: ``reader(frame, detections)`` cuts each plate's crops and reads them."""

    spec: OcrSpec
    backend: Backend

    @abstractmethod
    def crops(self, frame: np.ndarray, detections: Sequence[Detection], variants: int = 1) -> list[np.ndarray]:
        """``variants`` crops per detection, plate by plate."""

    @abstractmethod
    def variant_crops(self, frame: np.ndarray, detections: Sequence[Detection], variant: int) -> list[np.ndarray]:
        """The ``variant``-th crop of each detection (the video path reads one per plate per frame)."""

    @abstractmethod
    def read_crops(
        self, crops: Sequence[np.ndarray], detections: Sequence[Detection], thresholds: CharThresholds | None = None
    ) -> list[PlateRead]:
        """One read per detection from its crops (characters voted over a plate's variants)."""

    def __call__(
        self,
        frame: np.ndarray,
        detections: Sequence[Detection],
        thresholds: CharThresholds | None = None,
        variants: int = 1,
    ) -> list[PlateRead]:
        if not detections:
            return []
        return self.read_crops(self.crops(frame, detections, variants), detections, thresholds)


class PlateOCR(CropReader):
    """``ocr(frame, detections) -> list[PlateRead]`` (one batched inference per call)."""

    def __init__(self, backend: Backend, spec: OcrSpec, thresholds: CharThresholds, max_batch: int = 16) -> None:
        self.backend, self.spec, self.thresholds, self.max_batch = backend, spec, thresholds, max_batch

    @classmethod
    def load(
        cls,
        stem: Path,
        device: str,
        thresholds: CharThresholds,
        cache_dir: Path | None = None,
        hint: str = "latency",
        precision: str = "auto",
    ) -> PlateOCR:
        spec = load_spec(stem, "plate_ocr")
        assert isinstance(spec, OcrSpec)
        shapes = (None, 1, spec.input_height, spec.input_width), (None, None, len(spec.alphabet) + 1)
        run_at = resolve_precision(precision, spec.cpu_precision, device)
        backend = open_backend(stem, device, *shapes, cache_dir, hint, run_at)
        return cls(backend, spec, thresholds)

    def crops(self, frame: np.ndarray, detections: Sequence[Detection], variants: int = 1) -> list[np.ndarray]:
        """The OCR input of each detection: ``variants`` jittered crops per plate, plate by plate.

        A detection with plausible corners (:func:`crop_kind`) is rectified from them; otherwise the box is
        cut, turned level by its measured slope when the model was trained on level crops (``deskew``).
        """
        if not 1 <= variants <= len(BOX_VARIANTS):
            raise ValueError(f"variants must be 1-{len(BOX_VARIANTS)}, got {variants}")
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        return [crop for d in detections for crop in self._cut(grey, d, range(variants))]

    def variant_crops(self, frame: np.ndarray, detections: Sequence[Detection], variant: int) -> list[np.ndarray]:
        """Crop number ``variant`` (:data:`~anpr_edge.inference.ocr_core.BOX_VARIANTS`) of each detection: the
        one crop per plate a video frame reads (the frame is greyed once for all of them)."""
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        return [self._cut(grey, d, (variant,))[0] for d in detections]

    def _cut(self, grey: np.ndarray, d: Detection, variants: Sequence[int]) -> list[np.ndarray]:
        """The crops of ``d`` for the variant numbers given: rectified from its corners, or cut from its box."""
        s = self.spec
        if crop_kind(d) == "corners":
            assert d.corners is not None
            margins = (s.crop_margin_x, s.crop_margin_y)
            return [
                rectify(grey, d.corners, s.input_width, s.input_height, *margins, BOX_VARIANTS[i]) for i in variants
            ]
        angle = skew_angle(grey, d.box) if s.deskew else 0.0
        return [
            crop_plate(grey, box, s.crop_margin_x, s.crop_margin_y, s.input_width, s.input_height, angle, s.deskew_rise)
            for box in (box_variant(d.box, i) for i in variants)
        ]

    def read_crops(
        self, crops: Sequence[np.ndarray], detections: Sequence[Detection], thresholds: CharThresholds | None = None
    ) -> list[PlateRead]:
        """Read ``crops`` (cut by :meth:`crops`) in batches of ``max_batch``; with several variants per
        detection their characters are voted (:func:`vote_variants`)."""
        if not detections:
            return []
        return plate_reads(self.decode(crops), detections, self.spec.alphabet, thresholds or self.thresholds)

    def decode(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Each crop's characters (positions x alphabet, calibrated), in batches of ``max_batch``."""
        decoded: list[np.ndarray] = []
        for start in range(0, len(crops), self.max_batch):
            part = list(crops[start : start + self.max_batch])
            out = temper(self.backend.infer(to_tensor(part, self.spec.mean, self.spec.std)), self.spec.temperature)
            decoded += [ctc_greedy_decode(p, self.spec.alphabet, self.spec.blank).probs for p in out]
        return decoded
