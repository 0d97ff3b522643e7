"""In video the pipeline reads one crop per plate per frame, cycling the box variants (tiny models, real runtime)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from anpr_edge.core.results import Box, Detection
from anpr_edge.inference.detector import PlateDetector
from anpr_edge.inference.ocr import CharThresholds, PlateOCR
from anpr_edge.inference.ocr_core import box_variant
from anpr_edge.recognition.pipeline import CameraPipeline, Models, RecognitionSettings


def crop_boxes_per_frame(
    tiny_models: Path, variants: int, frames: int
) -> tuple[list[list[Box]], Box, CameraPipeline, np.ndarray]:
    models = Models(
        PlateDetector.load(tiny_models / "plate_detector", "cpu", 0.5, 0.5),
        PlateOCR.load(tiny_models / "plate_ocr", "cpu", CharThresholds()),
    )
    seen: list[list[Box]] = []
    real_crops = models.ocr.crops

    def spy(frame: np.ndarray, detections: Sequence[Detection], n: int = 1) -> list[np.ndarray]:
        seen.append([d.box for d in detections])
        return real_crops(frame, detections, n)

    models.ocr.crops = spy  # type: ignore[method-assign,assignment]  # a spy on the real object: records, then crops
    pipe = CameraPipeline("cam", models, RecognitionSettings(ocr_variants=variants))
    img = np.zeros((1080, 1920, 3), np.uint8)
    img[444:540, 960:1056] = 255  # the tiny detector's one-cell plate
    for i in range(frames):
        pipe.process(img, i / 25)
    return seen, pipe.last_detections[0].box, pipe, img


def test_each_frame_reads_the_next_box_variant(tiny_models: Path) -> None:
    seen, box, pipe, img = crop_boxes_per_frame(tiny_models, 9, 10)
    assert [len(s) for s in seen] == [1] * 10  # one crop per plate per frame
    assert [s[0] for s in seen] == [box_variant(box, k % 9) for k in range(10)]
    # The crop kept for --save_crops_dir is the one read on the last frame (variant 9 % 9 = 0).
    kept = pipe.last_crops[0]
    assert np.array_equal(kept, pipe.models.ocr.crops(img, [Detection(box_variant(box, 0), 1.0)])[0])


def test_one_variant_reads_the_plain_box(tiny_models: Path) -> None:
    seen, box, _, _ = crop_boxes_per_frame(tiny_models, 1, 3)
    assert [s[0] for s in seen] == [box] * 3
