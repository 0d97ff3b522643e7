"""The accuracy-controlled int8 detector's validation: how well a copy's boxes agree with the float model's."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import openvino as ov
import pytest

from anpr_edge.training.quantize import BoxAgreement, agreement, detector_photos
from tests.conftest import needs_models

MODELS = Path(__file__).resolve().parents[2] / "models"


def test_agreement_is_the_mean_best_iou_of_the_reference_boxes() -> None:
    ref = [(0.0, 0.0, 10.0, 10.0), (20.0, 0.0, 30.0, 10.0)]
    assert agreement(ref, ref) == 1.0
    assert agreement(ref, [ref[0]]) == 0.5  # one box missed
    assert agreement(ref, [(0.0, 0.0, 10.0, 5.0)]) == pytest.approx(0.25)  # half a box, the other missed
    assert agreement(ref, [*ref, (50.0, 50.0, 60.0, 60.0)]) == 1.0  # an extra box beside them is not counted
    assert agreement([], []) == 1.0 and agreement([], [ref[0]]) == 0.0  # a box where the float model sees none


@needs_models
def test_the_float_model_agrees_with_itself_and_a_moved_copy_does_not(tmp_path: Path) -> None:
    """Real OpenVINO, the shipped detector, drawn scenes with a plate; the "copy" sees every photo moved."""
    spec = json.loads((MODELS / "plate_detector.json").read_text())
    files = []
    for i in range(3):
        img = np.full((360, 640, 3), 90 + 20 * i, np.uint8)
        cv2.rectangle(img, (250, 200), (390, 232), (240, 240, 240), -1)
        cv2.putText(img, "A123BC77", (256, 226), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (10, 10, 10), 2)
        files.append(tmp_path / f"{i}.png")
        cv2.imwrite(str(files[-1]), img)
    files.append(tmp_path / "broken.jpg")
    files[-1].write_bytes(b"not an image")
    photos = detector_photos(files, spec)
    assert [p.index for p in photos] == [0, 1, 2]  # the unreadable file is left out
    compiled = ov.Core().compile_model(str(MODELS / "plate_detector.xml"), "CPU")
    check = BoxAgreement.of(compiled, photos, conf=0.05)
    assert any(check.reference.values())  # something to agree on
    score, per_photo = check(compiled, photos)
    assert score == 1.0 and per_photo == [1.0, 1.0, 1.0]
    assert check(compiled, photos[1:])[1] == [1.0, 1.0]  # any subset, as NNCF's ranking asks

    def moved(x: np.ndarray) -> list[np.ndarray]:
        return [compiled(np.roll(x, 40, axis=3))[0]]

    score, _ = check(moved, photos)
    assert score < 0.9
