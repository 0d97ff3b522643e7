"""The compiled models, loaded once and shared by every camera: detector, reader, the detector's second look,
and, where the models folder has them, a corner model and a second reader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.core.results import Detection
from anpr_edge.errors import ModelLoadError
from anpr_edge.heap import give_back
from anpr_edge.inference.contract import metadata_path
from anpr_edge.inference.corners import CornerModel
from anpr_edge.inference.detector import PlateDetector
from anpr_edge.inference.ocr import CharThresholds, CropReader, PlateOCR
from anpr_edge.inference.runtime.base import resolve_precision
from anpr_edge.inference.runtime.factory import reading_once
from anpr_edge.inference.verify import Verifier

#: The plate readers ``ocr.engine`` chooses from: ours (the model in the models folder), or PP-OCR (RapidOCR's).
OCR_ENGINES = ("crnn", "paddle")


#: What the pipeline needs of a plate reader (:class:`PlateOCR`, or the PP-OCR one).
Reader = CropReader


def load_reader(
    engine: str, stem: Path, device: str, cache_dir: Path | None, hint: str, precision: str = "auto"
) -> Reader:
    """Our reader from ``stem``, or PP-OCR (``paddle``: RapidOCR's wheel, ``scripts/setup.sh --paddle``)."""
    if engine == "paddle":
        from anpr_edge.inference.paddle_ocr import PaddleOCR

        run_at = resolve_precision(precision, "f32", device)
        if run_at == "int8":
            raise ModelLoadError("ocr.engine paddle has no int8 model; choose precision auto, f32 or bf16")
        return PaddleOCR.load(device, CharThresholds(), cache_dir, hint, precision=run_at)
    if engine != "crnn":
        raise ModelLoadError(f"unknown OCR engine {engine!r}; choose one of {', '.join(OCR_ENGINES)}")
    return PlateOCR.load(stem, device, CharThresholds(), cache_dir, hint, precision)


#: The second reader beside the reader: it reads again, warped level from their corners, the plates the reader
#: left unsure (:mod:`~anpr_edge.recognition.second_opinion`).
SECOND_READER = "plate_ocr_second"


def load_second_reader(
    ocr: Path, first: Reader, device: str, cache_dir: Path | None, hint: str, precision: str = "auto"
) -> PlateOCR | None:
    """The second reader beside ``ocr`` (:data:`SECOND_READER`), or ``None`` where the folder has none. It reads
    rectified crops in the first reader's alphabet (their reads are averaged class by class). It has no int8
    copy: at ``precision: int8`` it reads at its card's float choice (it reads few crops: unsure plates only)."""
    stem = ocr.with_name(SECOND_READER)
    if not metadata_path(stem).is_file():
        return None
    at = "auto" if precision == "int8" else precision
    reader = PlateOCR.load(stem, device, CharThresholds(), cache_dir, hint, at)
    if not reader.spec.rectified:
        raise ModelLoadError(f"{stem}: rectified is false; a second reader must read rectified crops (rectified: true)")
    if reader.spec.sure_letters <= 0.0 or reader.spec.sure_digits <= 0.0:
        raise ModelLoadError(
            f"{stem}: a second reader needs sure_letters and sure_digits above 0 (the probabilities at which it is "
            f"heard), got {reader.spec.sure_letters} and {reader.spec.sure_digits}"
        )
    if reader.spec.alphabet != first.spec.alphabet:
        raise ModelLoadError(
            f"{stem}: alphabet {reader.spec.alphabet!r} differs from the reader's {first.spec.alphabet!r}"
        )
    return reader


@dataclass(frozen=True, slots=True)
class Models:
    """The compiled models, loaded once and shared by every camera."""

    detector: PlateDetector
    ocr: Reader
    verifier: Verifier | None = None  # the detector at the second look's input (None: fixed-size model)
    corners: CornerModel | None = None  # plate_corners beside the detector (None: the folder has none)
    second: PlateOCR | None = None  # plate_ocr_second beside the reader (None: the folder has none)

    @classmethod
    def load(
        cls,
        detector: Path,
        ocr: Path,
        device: str,
        cache_dir: Path | None = None,
        detector_input: tuple[int, int] | None = None,
        hint: str = "latency",
        engine: str = "crnn",
        precision: str = "auto",
    ) -> Models:
        """``hint``: OpenVINO's performance hint (:data:`~anpr_edge.inference.runtime.base.HINTS`); ``engine``:
        the reader (:data:`OCR_ENGINES`); ``precision``: :data:`~anpr_edge.inference.runtime.base.PRECISIONS`.

        OpenCV is set to run its own operations (resizing, crops) on the calling thread: its thread pool would
        compete with the inference threads and the decoders for the same cores (about 5 % more frames per
        second on 2 cores, docs/benchmarks.md).

        A corner model (``plate_corners`` beside the detector, :mod:`~anpr_edge.inference.corners`) is loaded
        when the folder has one, and so is a second reader (:func:`load_second_reader`; ours only)."""
        cv2.setNumThreads(1)
        try:
            with reading_once():  # the detector and its second look: one file, read once
                found = PlateDetector.load(detector, device, None, 0.5, cache_dir, detector_input, hint, precision)
                reader = load_reader(engine, ocr, device, cache_dir, hint, precision)
                models = cls(
                    found,
                    reader,
                    Verifier.load(detector, device, cache_dir, hint, precision),
                    CornerModel.beside(detector, device, cache_dir, hint, precision),
                    load_second_reader(ocr, reader, device, cache_dir, hint, precision) if engine == "crnn" else None,
                )
        finally:
            give_back()  # what compiling allocated and freed, loaded or not
        no_corners = models.corners is None and not models.detector.spec.keypoints
        warped = ((ocr, models.ocr.spec.rectified), (ocr.with_name(SECOND_READER), models.second is not None))
        for stem, reads_warped in warped:
            if reads_warped and no_corners:
                raise ModelLoadError(
                    f"{stem}: this reader reads plates warped from their corners, and nothing beside {detector} "
                    "finds corners: add a corner model (plate_corners) or a detector with corners to the folder"
                )
        return models

    def with_corners(self, frame: np.ndarray, detections: list[Detection]) -> list[Detection]:
        """``detections`` with the corner model's corners (as they are when there is no corner model)."""
        if self.corners is None or not detections:
            return detections
        return self.corners(frame, detections)

    def verified(self, frame: np.ndarray, detections: list[Detection], zoom: float, conf: float) -> list[Detection]:
        """``detections`` that the second look (:mod:`anpr_edge.inference.verify`) confirms; ``zoom`` 0: all."""
        if self.verifier is None or zoom <= 0 or not detections:
            return detections
        return self.verifier(frame, detections, zoom, conf)
