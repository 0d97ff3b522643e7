"""Reading from corners: ``rectify`` unset follows the reader's metadata; with the camera folder's corner model a
turned plate in a video frame is read from its rectified crop, or by a reader of box crops from the box around
its corners (real OpenVINO runtime, shipped models)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from anpr_edge.core.results import Detection
from anpr_edge.inference.models import Models
from anpr_edge.inference.ocr import PlateOCR
from anpr_edge.inference.rectify import corner_box
from anpr_edge.recognition.pipeline import CameraPipeline, boxed_by_corners, read_still, rectifies
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


def test_a_reader_of_boxes_reads_the_box_around_the_corners_and_the_tracker_keeps_the_detectors(
    camera: Models,
) -> None:
    frame = turned_plate()
    boxed = CameraPipeline("gate", camera, RecognitionSettings(rectify=False, motion_threshold=0))
    for t in (0.0, 0.25):
        result = boxed.run(frame, t)
        (det,), (read,) = result.detections, result.reads
        assert det.corners is not None and read is not None and read.detection.corners is None
        assert read.detection.box == corner_box(det.corners) != det.box  # read from the corners' box
        (view,) = result.tracks
        assert view.box == det.box  # followed by the detector's
    assert boxed.stats().crops_rectified == 0 and boxed.stats().crops_fallback == 0
    plain = CameraPipeline("gate", dataclasses.replace(camera, corners=None), RecognitionSettings(motion_threshold=0))
    result = plain.run(frame, 0.0)
    (det,), (read,) = result.detections, result.reads
    assert det.corners is None and read is not None and read.detection.box == det.box  # no corner model: the box


def test_a_still_is_read_as_the_video_pipeline_reads_it(camera: Models) -> None:
    frame = turned_plate()
    (with_corners,) = read_still(camera, frame, RecognitionSettings(rectify=True))
    (boxed,) = read_still(camera, frame, RecognitionSettings())
    assert with_corners.detection.corners is not None and boxed.detection.corners is None
    assert boxed.detection.box == corner_box(with_corners.detection.corners) != with_corners.detection.box
    (detector_box,) = read_still(dataclasses.replace(camera, corners=None), frame, RecognitionSettings())
    assert detector_box.detection.box == with_corners.detection.box


def test_boxes_from_corners_only_where_the_corners_make_a_plate() -> None:
    box = (100.0, 50.0, 300.0, 100.0)
    tight = ((110.0, 60.0), (290.0, 58.0), (292.0, 95.0), (108.0, 97.0))
    crossed = ((110.0, 60.0), (292.0, 95.0), (290.0, 58.0), (108.0, 97.0))  # edges cross: no plate
    dets = [Detection(box, 0.9, tight), Detection(box, 0.8, crossed), Detection(box, 0.7)]
    out = boxed_by_corners(dets)
    assert [d.box for d in out] == [(108.0, 58.0, 292.0, 97.0), box, box]
    assert [d.score for d in out] == [0.9, 0.8, 0.7] and all(d.corners is None for d in out)
