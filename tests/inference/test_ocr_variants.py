"""Reading one plate from several jittered crops (``ocr_variants``), on the real runtime."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from anpr_edge.core.results import Detection
from anpr_edge.inference.ocr import CharThresholds, PlateOCR
from anpr_edge.training.augment import style_plate
from anpr_edge.training.demo_video import Car, background, draw_car
from anpr_edge.training.render import render_plate
from tests.conftest import MODELS, needs_models
from tests.tools.test_end_to_end import font_available


def test_variants_cut_n_crops_per_plate_and_give_one_read_each(tiny_models: Path) -> None:
    ocr = PlateOCR.load(tiny_models / "plate_ocr", "cpu", CharThresholds())
    frame = np.random.default_rng(2).integers(0, 255, (300, 600, 3), dtype=np.uint8)
    dets = [Detection((10, 10, 200, 60), 0.9), Detection((300, 100, 590, 190), 0.8)]
    crops = ocr.crops(frame, dets, 9)
    assert len(crops) == 18  # more than one inference batch (16): the groups are kept apart
    reads = ocr.read_crops(crops, dets)
    assert [r.detection for r in reads] == dets
    assert all(len(r.text) == r.probs.shape[0] for r in reads)  # the tracker votes these position by position
    with pytest.raises(ValueError, match="17 crops for 2 detections"):
        ocr.read_crops(crops[:17], dets)


@needs_models
def test_shipped_ocr_reads_a_clear_plate_the_same_with_nine_crops() -> None:
    text = "K777KK777"
    frame = background(1920, 1080, seed=4)
    plate = style_plate(render_plate(text, px_per_mm=1.0).image, random.Random(1))
    box = draw_car(frame, Car(text, 0, 1, lane_x=0.5), plate, 1080 * 0.7, 260.0)
    ocr = PlateOCR.load(MODELS / "plate_ocr", "cpu", CharThresholds())
    one, nine = ocr(frame, [Detection(box, 0.9)], variants=1)[0], ocr(frame, [Detection(box, 0.9)], variants=9)[0]
    assert len(nine.chars) == len(one.chars) == 9
    assert all(0.0 <= p <= 1.0 for _, p in nine.chars)
    if font_available():  # the plate font the OCR learnt
        assert one.text == nine.text == text
        assert min(p for _, p in nine.chars) > 0.8  # every crop agrees on a clear plate
