"""The second look at detector boxes: geometry, the rule, the shipped model, and once per track."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from anpr_edge.core.results import Detection
from anpr_edge.inference.detector import PlateDetector
from anpr_edge.inference.models import Models
from anpr_edge.inference.ocr import CharThresholds, PlateOCR
from anpr_edge.inference.verify import Verifier, confirms, zoom_region
from anpr_edge.recognition.pipeline import CameraPipeline
from anpr_edge.recognition.settings import RecognitionSettings
from tests.conftest import MODELS, needs_models


def test_zoom_region_is_centred_wide_enough_and_of_the_input_aspect() -> None:
    x1, y1, x2, y2 = zoom_region((100, 100, 200, 120), 5.0, 320 / 192)
    assert (x1 + x2) / 2 == pytest.approx(150) and (y1 + y2) / 2 == pytest.approx(110)
    assert x2 - x1 == pytest.approx(500) and (x2 - x1) / (y2 - y1) == pytest.approx(320 / 192)
    tall = zoom_region((0, 0, 40, 100), 5.0, 2.0)  # a tall box: the height decides
    assert tall[3] - tall[1] == pytest.approx(500) and tall[2] - tall[0] == pytest.approx(1000)


def test_a_box_is_confirmed_by_an_overlapping_look_sure_enough() -> None:
    box = (100.0, 100.0, 200.0, 130.0)
    assert confirms([Detection((105, 100, 205, 131), 0.6)], box, 0.4)
    assert not confirms([Detection((105, 100, 205, 131), 0.3)], box, 0.4)  # not sure enough
    assert not confirms([Detection((300, 100, 400, 130), 0.9)], box, 0.4)  # somewhere else
    assert not confirms([], box, 0.4)


def scene_with_plate() -> tuple[np.ndarray, tuple[float, float, float, float]]:
    from anpr_edge.training.augment import style_plate
    from anpr_edge.training.demo_video import Car, background, draw_car
    from anpr_edge.training.render import render_plate

    frame = background(1920, 1080, seed=4)
    plate = style_plate(render_plate("K777KK777", px_per_mm=1.0).image, random.Random(1))
    return frame, draw_car(frame, Car("K777KK777", 0, 1, lane_x=0.5), plate, 1080 * 0.7, 200.0)


@needs_models
def test_shipped_model_confirms_a_plate_and_drops_a_box_on_plain_road() -> None:
    pytest.importorskip("PIL", reason="the plate renderer needs Pillow")
    verifier = Verifier.load(MODELS / "plate_detector", "cpu")
    assert verifier is not None
    frame, box = scene_with_plate()
    road = (200.0, 950.0, 400.0, 990.0)
    kept = verifier(frame, [Detection(box, 0.6), Detection(road, 0.6)], 5.0, 0.4)
    assert [d.box for d in kept] == [box]


def test_a_fixed_size_model_runs_without_the_second_look(tiny_models: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert Verifier.load(tiny_models / "plate_detector", "cpu") is None
    assert "no second look at detector boxes (recognition.verify_zoom)" in caplog.text


class CountingVerifier(Verifier):
    """The real verifier, counting the boxes it is asked to look at."""

    def __init__(self, real: Verifier) -> None:
        super().__init__(real.detector)
        self.looked = 0

    def __call__(self, frame: np.ndarray, detections: Sequence[Detection], zoom: float, conf: float) -> list[Detection]:
        self.looked += len(detections)
        return super().__call__(frame, detections, zoom, conf)


@needs_models
def test_the_pipeline_looks_twice_once_per_track() -> None:
    pytest.importorskip("PIL", reason="the plate renderer needs Pillow")
    real = Verifier.load(MODELS / "plate_detector", "cpu")
    assert real is not None
    counting = CountingVerifier(real)
    models = Models(
        PlateDetector.load(MODELS / "plate_detector", "cpu", None, 0.5),
        PlateOCR.load(MODELS / "plate_ocr", "cpu", CharThresholds()),
        counting,
    )
    frame, _ = scene_with_plate()
    pipe = CameraPipeline("cam", models, RecognitionSettings())
    for i in range(4):
        assert len(pipe.run(frame, i * 0.1).detections) == 1  # the plate, confirmed
    assert counting.looked == 1  # looked at in the first frame only
    off = CameraPipeline("cam", models, RecognitionSettings(verify_zoom=0))
    found = off.run(frame, 0.0).detections
    assert counting.looked == 1 and len(found) == 1
