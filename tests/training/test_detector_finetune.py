"""Detector fine-tune on an imported YOLO set → export → the runtime loads and runs it.

ultralytics cannot live in the runtime environment (it needs torch 2.14.1 + torchvision from a separate
venv, see ../shared/TOOLCHAIN.md), so this runs the training tools with the interpreter named by
``ANPR_EDGE_TRAIN_PYTHON`` and skips, saying so, where there is none.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr_edge.inference.detector import PlateDetector
from anpr_edge.training.importers import import_yolo
from anpr_edge.training.render import random_plate, render_plate
from tests.conftest import MODELS, ROOT

TRAIN_PYTHON = os.environ.get("ANPR_EDGE_TRAIN_PYTHON", "")


def have_ultralytics() -> bool:
    if not TRAIN_PYTHON:
        return False
    r = subprocess.run([TRAIN_PYTHON, "-c", "import ultralytics"], capture_output=True, env=offline_env())
    return r.returncode == 0


def offline_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "YOLO_OFFLINE": "1"}


pytestmark = pytest.mark.skipif(
    not have_ultralytics(),
    reason="no ultralytics interpreter: set ANPR_EDGE_TRAIN_PYTHON to a venv's python with the detector-train extra",
)


def write_yolo_set(root: Path, n_train: int = 8, n_val: int = 2) -> None:
    """Grey street-like tiles with one rendered plate each, labelled as class 1 of (car, plate)."""
    rng = random.Random(7)
    for split, n in (("train", n_train), ("val", n_val)):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for i in range(n):
            img = np.full((320, 320, 3), rng.randint(40, 160), np.uint8)
            plate = render_plate(random_plate(rng), px_per_mm=0.25).image  # 130 x 28 px
            h, w = plate.shape[:2]
            x, y = rng.randint(10, 320 - w - 10), rng.randint(150, 320 - h - 10)
            img[y : y + h, x : x + w] = plate
            cv2.imwrite(str(root / "images" / split / f"{i}.jpg"), img)
            cx, cy = (x + w / 2) / 320, (y + h / 2) / 320
            car = "0 0.5 0.5 0.9 0.9\n"  # a car box the import must leave out
            (root / "labels" / split / f"{i}.txt").write_text(f"{car}1 {cx:.6f} {cy:.6f} {w / 320:.6f} {h / 320:.6f}\n")
    (root / "data.yaml").write_text("names: [car, plate]\n")


@pytest.mark.parametrize(
    "start",
    [
        ["--init", str(MODELS / "checkpoints" / "plate_yolo11n.pt")],  # fine-tune the shipped weights
        ["--arch", "yolo11n-slim"],  # our slim architecture, from scratch
        # distilled, with our distillation weight
        ["--arch", "yolo11n-slim", "--teacher", str(MODELS / "checkpoints" / "plate_yolo11n.pt"), "--dis", "0.5"],
    ],
    ids=["fine-tune", "slim-from-scratch", "slim-distilled"],
)
def test_train_export_and_load(tmp_path: Path, start: list[str]) -> None:
    write_yolo_set(tmp_path / "set")
    report = import_yolo(tmp_path / "set", tmp_path / "det_mine")
    assert report.kept == 10 and report.classes == "1=plate (by name)"
    run = [
        TRAIN_PYTHON,
        "-m",
        "anpr_edge.training.train_detector",
        "--data",
        str(tmp_path / "det_mine" / "data.yaml"),
        *start,
        "--project",
        str(tmp_path / "runs"),
        "--name",
        "ft",
        "--epochs",
        "1",
        "--batch",
        "4",
        "--no-mosaic",
    ]
    r = subprocess.run(run, capture_output=True, text=True, cwd=ROOT, env=offline_env(), timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    weights = tmp_path / "runs" / "ft" / "weights" / "best.pt"
    assert weights.is_file()
    log = (tmp_path / "runs" / "ft" / "results.csv").read_text().splitlines()
    columns = dict(zip([c.strip() for c in log[0].split(",")], log[1].split(","), strict=True))
    if "--teacher" in start:  # the teacher ran, its feature loss was logged, with the weight asked for
        assert float(columns["train/dis_loss"]) > 0
        assert "\ndis: 0.5\n" in (tmp_path / "runs" / "ft" / "args.yaml").read_text()
    else:
        assert "train/dis_loss" not in columns
    out = tmp_path / "models" / "plate_detector"
    export = [
        TRAIN_PYTHON,
        "-m",
        "anpr_edge.training.export_detector",
        "--weights",
        str(weights),
        "--out",
        str(out),
        "--real-dev",
        str(tmp_path / "no-real-dev"),
        "--no-int8",
    ]
    r = subprocess.run(export, capture_output=True, text=True, cwd=ROOT, env=offline_env(), timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    det = PlateDetector.load(out, "cpu", 0.35, 0.5)
    frame = cv2.imread(str(tmp_path / "set" / "images" / "val" / "0.jpg"))
    assert frame is not None
    assert isinstance(det(frame), list)  # loads, runs, boxes in frame pixels (what it finds is not the point)
    arch = json.loads(out.with_suffix(".json").read_text())["info"]["architecture"]
    # yolo11n: 2.59 M parameters; the slim file (width 0.125, 4 DFL bins): 0.60 M
    assert arch == ("yolo11n-slim.yaml, 0.60 M parameters" if "--arch" in start else "yolo11n.yaml, 2.59 M parameters")
    card = (tmp_path / "models" / "README.md").read_text()
    assert "### `plate_detector` as last exported" in card and f"`{weights}`" in card and "FP32" in card
