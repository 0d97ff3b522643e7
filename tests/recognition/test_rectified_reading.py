"""Reading from corners: ``rectify`` unset follows the reader's metadata, and with the camera folder's corner
model a turned plate in a video frame is read from its rectified crop (real OpenVINO runtime, shipped models)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from anpr_edge.inference.models import Models
from anpr_edge.inference.ocr import PlateOCR
from anpr_edge.recognition.pipeline import CameraPipeline, read_still, rectifies
from anpr_edge.recognition.settings import RecognitionSettings
from tests.drawn_plates import plate_scene

CAMERA = Path(__file__).resolve().parents[2] / "models" / "camera"


@pytest.fixture(scope="module")
def camera() -> Models:
    return Models.load(CAMERA / "plate_detector", CAMERA / "plate_ocr", "cpu")


def test_rectify_unset_reads_as_the_reader_was_trained(camera: Models) -> None:
    assert isinstance(camera.ocr, PlateOCR) and not camera.ocr.spec.rectified
    assert rectifies(RecognitionSettings(), camera) is False
    assert rectifies(RecognitionSettings(rectify=True), camera) is True
    ocr = camera.ocr
    rectified_reader = PlateOCR(ocr.backend, dataclasses.replace(ocr.spec, rectified=True), ocr.thresholds)
    trained_so = dataclasses.replace(camera, ocr=rectified_reader)
    assert rectifies(RecognitionSettings(), trained_so) is True
    assert rectifies(RecognitionSettings(rectify=False), trained_so) is False


QUAD = np.array([[400, 300], [640, 330], [640, 380], [400, 385]], np.float64)  # turned about 30 degrees


def turned_plate() -> np.ndarray:
    return plate_scene(QUAD, seed=3)


def corner_error(models: Models, frame: np.ndarray) -> float:
    """Mean distance of the read plate's corners from the drawn ones, in px, through the video pipeline."""
    pipe = CameraPipeline("gate", models, RecognitionSettings(rectify=True, motion_threshold=0))
    (det,) = pipe.run(frame, 0.0).detections
    assert det.corners is not None
    return float(np.linalg.norm(np.array(det.corners) - QUAD, axis=1).mean())


def test_a_turned_plate_is_read_from_its_corners(camera: Models) -> None:
    frame = turned_plate()
    pipe = CameraPipeline("gate", camera, RecognitionSettings(rectify=True, motion_threshold=0))
    results = [pipe.run(frame, i / 4) for i in range(3)]
    assert all(len(r.detections) == 1 for r in results)
    # the corners come from the corner model, closer to the drawn ones than the detector's own
    assert corner_error(camera, frame) < 0.03 * 240 < corner_error(dataclasses.replace(camera, corners=None), frame)
    stats = pipe.stats()
    assert stats.crops_rectified == 3 and stats.crops_fallback == 0
    boxed = CameraPipeline("gate", camera, RecognitionSettings(rectify=False, motion_threshold=0))
    boxed.run(frame, 0.0)
    assert boxed.stats().crops_rectified == 0 and all(d.corners is None for d in boxed.run(frame, 0.25).detections)


def test_a_still_is_read_from_corners_only_when_rectify_says_so(camera: Models) -> None:
    frame = turned_plate()
    (with_corners,) = read_still(camera, frame, RecognitionSettings(rectify=True))
    (boxed,) = read_still(camera, frame, RecognitionSettings())
    assert with_corners.detection.corners is not None and boxed.detection.corners is None
    assert with_corners.detection.box == boxed.detection.box
