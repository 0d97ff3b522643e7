"""In video the pipeline reads one crop per plate per frame, cycling the crop variants (tiny models, real runtime)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from anpr_edge.core.results import Box, Detection, FrameResult
from anpr_edge.inference.detector import PlateDetector
from anpr_edge.inference.models import Models
from anpr_edge.inference.ocr import CharThresholds, PlateOCR
from anpr_edge.inference.ocr_core import box_variant
from anpr_edge.recognition.pipeline import CameraPipeline
from anpr_edge.recognition.settings import RecognitionSettings


def variants_per_frame(
    tiny_models: Path, variants: int, frames: int
) -> tuple[list[list[int]], Box, CameraPipeline, np.ndarray, FrameResult]:
    models = Models(
        PlateDetector.load(tiny_models / "plate_detector", "cpu", 0.5, 0.5),
        PlateOCR.load(tiny_models / "plate_ocr", "cpu", CharThresholds()),
    )
    seen: list[list[int]] = []
    real = models.ocr.variant_crops

    def spy(frame: np.ndarray, detections: Sequence[Detection], variant: int) -> list[np.ndarray]:
        seen.append([variant] * len(detections))
        return real(frame, detections, variant)

    models.ocr.variant_crops = spy  # type: ignore[method-assign]  # a spy on the real object: records, then crops
    pipe = CameraPipeline("cam", models, RecognitionSettings(ocr_variants=variants))
    img = np.zeros((1080, 1920, 3), np.uint8)
    img[444:540, 960:1056] = 255  # the tiny detector's one-cell plate
    results = [pipe.run(img, i / 25) for i in range(frames)]
    return seen, results[-1].detections[0].box, pipe, img, results[-1]


def test_each_frame_reads_the_next_crop_variant(tiny_models: Path) -> None:
    seen, box, pipe, img, last = variants_per_frame(tiny_models, 9, 10)
    assert seen == [[k % 9] for k in range(10)]  # one crop per plate per frame, the next variant each time
    # The crop returned for --save_crops_dir is the one read on the last frame (variant 9 % 9 = 0): the box's.
    kept = last.crops[0]
    assert kept is not None
    assert np.array_equal(kept, pipe.models.ocr.crops(img, [Detection(box_variant(box, 0), 1.0)])[0])


def test_one_variant_reads_the_plain_box(tiny_models: Path) -> None:
    seen, _, _, _, _ = variants_per_frame(tiny_models, 1, 3)
    assert seen == [[0]] * 3
