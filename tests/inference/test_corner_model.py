"""The corner model: its window geometry on hand-made arrays, and the shipped model (real OpenVINO runtime) on
GOST plates drawn into a frame at known corners."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr_edge.core.results import Detection
from anpr_edge.errors import ModelLoadError
from anpr_edge.inference.contract import CornerSpec, load_spec
from anpr_edge.inference.corners import CornerModel, corner_crop, corner_window, to_fractions, to_frame
from anpr_edge.inference.models import Models
from tests.drawn_plates import plate_scene

CAMERA = Path(__file__).resolve().parents[2] / "models" / "camera"
SPEC = CornerSpec(input_width=128, input_height=64)


def test_fractions_and_frame_pixels_are_inverse() -> None:
    window = (100.0, 50.0, 300.0, 130.0)
    corners = np.array([[120.0, 60.0], [280.0, 70.0], [279.0, 120.0], [121.0, 110.0]])
    frac = to_fractions(corners, window)
    assert frac[0] == pytest.approx([0.1, 0.125])
    assert np.array(to_frame(frac, window)) == pytest.approx(corners)


def test_corner_crop_shows_the_window_stretched_to_the_input() -> None:
    frame = np.zeros((400, 600), np.uint8)
    box = (200.0, 150.0, 400.0, 200.0)
    window = corner_window(box, SPEC)
    assert window == pytest.approx((170.0, 132.5, 430.0, 217.5))  # 15 % of the width, 35 % of the height
    frame[175, 300] = 255  # a dot; where the crop shows it is where to_fractions puts it
    crop = corner_crop(frame, box, SPEC)
    y, x = np.unravel_index(int(np.argmax(crop)), crop.shape)
    fx, fy = to_fractions(np.array([[300.0, 175.0]] * 4), window)[0]
    assert crop.shape == (64, 128)
    assert abs(x - fx * 128) <= 0.5 and abs(y - fy * 64) <= 0.5  # pixel index coordinates


QUADS = {
    "level, 260 px": [[500, 300], [760, 300], [760, 356], [500, 356]],
    "turned 35 degrees, 180 px": [[400, 200], [580, 225], [580, 262], [400, 270]],
    "rolled, 90 px": [[900, 500], [988, 512], [985, 532], [897, 520]],
}


@pytest.mark.parametrize("name", list(QUADS))
def test_shipped_corner_model_finds_the_corners_of_a_drawn_plate(name: str) -> None:
    quad = np.array(QUADS[name], np.float64)
    frame = plate_scene(quad, seed=len(name))
    model = CornerModel.load(CAMERA / "plate_corners", "cpu")
    w = quad[1, 0] - quad[0, 0]
    x1, y1 = quad.min(axis=0)
    x2, y2 = quad.max(axis=0)
    box = (x1 - 0.03 * w, y1 + 2, x2 + 0.02 * w, y2 - 1)  # a detector's box: a little off
    (found,) = model(frame, [Detection(box, 0.9)])
    assert found.box == box and found.score == 0.9
    error = np.linalg.norm(np.array(found.corners) - quad, axis=1).mean() / w
    assert error < 0.03, f"{name}: corners off by {error:.1%} of the plate's width: {found.corners}"


def test_models_load_the_corner_model_beside_the_detector() -> None:
    camera = Models.load(CAMERA / "plate_detector", CAMERA / "plate_ocr", "cpu")
    assert camera.corners is not None
    frame = np.zeros((100, 200, 3), np.uint8)
    assert camera.with_corners(frame, []) == []
    default = Models.load(CAMERA.parent / "plate_detector", CAMERA.parent / "plate_ocr", "cpu")
    d = [Detection((10, 10, 60, 22), 0.8)]
    assert default.corners is None and default.with_corners(frame, d) is d


def test_bad_corner_metadata_is_one_clear_error(tmp_path: Path) -> None:
    meta = json.loads((CAMERA / "plate_corners.json").read_text())
    meta["crop_margin_x"] = 3
    (tmp_path / "plate_corners.json").write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match=r"plate_corners.json: crop margins must be between 0 and 1"):
        load_spec(tmp_path / "plate_corners", "plate_corners")


def camera_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "camera"
    shutil.copytree(CAMERA, folder)
    return folder


def read_cli(folder: Path, image: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "anpr_edge.cli", "read", str(image), "--models", str(folder), "--device", "cpu"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def one_error_line(r: subprocess.CompletedProcess[str]) -> str:
    errors = [line for line in r.stderr.splitlines() if line.startswith("anpr-edge")]
    assert r.returncode != 0 and "Traceback" not in r.stderr and len(errors) == 1, r.stderr
    return errors[0]


def test_a_broken_corner_model_is_one_line_naming_its_file(tmp_path: Path) -> None:
    folder = camera_copy(tmp_path)
    image = tmp_path / "plate.jpg"
    cv2.imwrite(str(image), plate_scene(np.array(QUADS["level, 260 px"], np.float64), seed=1))
    meta = json.loads((folder / "plate_corners.json").read_text())
    (folder / "plate_corners.json").write_text(json.dumps({**meta, "input_width": "128"}))
    assert "plate_corners.json: a value has the wrong type" in one_error_line(read_cli(folder, image))
    (folder / "plate_corners.json").write_text(json.dumps(meta))
    assert read_cli(folder, image).returncode == 0


def test_a_rectified_reader_without_anything_that_finds_corners_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "boxes"
    shutil.copytree(CAMERA.parent, folder, ignore=shutil.ignore_patterns("camera", "checkpoints", "*.png", "*.md"))
    meta = json.loads((folder / "plate_ocr.json").read_text())
    (folder / "plate_ocr.json").write_text(json.dumps({**meta, "rectified": True}))
    line = one_error_line(read_cli(folder, tmp_path / "none.jpg"))
    assert "reads plates warped from their corners" in line and "plate_corners" in line
