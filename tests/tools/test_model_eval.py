"""``anpr-edge eval`` on a small real-dev-style fixture written here (shipped models, real runtime)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr_edge.tools.evaluate import shake, unshake
from anpr_edge.training.augment import style_plate
from anpr_edge.training.demo_video import Car, background, draw_car
from anpr_edge.training.render import render_plate
from tests.conftest import ROOT, needs_models
from tests.tools.test_end_to_end import font_available

PLATES = [("A123BC77", "high"), ("K777KK777", "high"), ("X623EM199", "low")]


def write_fixture(root: Path) -> None:
    """One 1080p gate scene per plate, boxed in labels.csv; a fourth image with no plate at all."""
    (root / "images").mkdir(parents=True)
    rows = ["image;plate;x1;y1;x2;y2;quality"]
    rng = random.Random(3)
    for i, (text, quality) in enumerate(PLATES):
        frame = background(1920, 1080, seed=i)
        plate = style_plate(render_plate(text, px_per_mm=1.0).image, rng)
        x1, y1, x2, y2 = draw_car(frame, Car(text, 0, 1, lane_x=0.3 + 0.2 * i), plate, 1080 * 0.7, 260.0)
        cv2.imwrite(str(root / "images" / f"{i:03d}.jpg"), frame)
        rows.append(f"{i:03d}.jpg;{text};{x1:.0f};{y1:.0f};{x2:.0f};{y2:.0f};{quality}")
    cv2.imwrite(str(root / "images" / "empty.jpg"), background(1920, 1080, seed=9))
    (root / "labels.csv").write_text("\n".join(rows) + "\n")


def run_eval(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "anpr_edge.cli", "eval", *args, "--models", str(ROOT / "models"), "--device", "cpu"]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)


@needs_models
def test_eval_scores_detector_ocr_and_end_to_end(tmp_path: Path) -> None:
    write_fixture(tmp_path / "set")
    r = run_eval(str(tmp_path / "set"), "--sweep")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    # No --conf: the detector's own operating point from its metadata; the sweep's line at that conf is
    # the detector line itself (one detector run, filtered).
    conf = json.loads((ROOT / "models" / "plate_detector.json").read_text())["conf"]
    sweep = {line.split()[2]: line.split("  ", 1)[1] for line in out if line.startswith("sweep conf ")}
    assert len(sweep) == 11 and out[1] == f"detector  conf {conf:.2f}  {sweep[f'{conf:.2f}']}"
    assert out[0] == "split: all  (3 images)"  # the plate-less image has no row: not part of the set
    assert "plates 3  recall@0.5 100.0%" in out[1] and ">150: 3/3" in out[1]
    assert out[2].startswith("detector  boxes on no labelled plate: ")
    assert out[3] == "detector  second look: zoom 5, conf 0.40"  # the shipped model's input is dynamic
    high = next(line for line in out if line.startswith("ocr[high]"))
    assert "plates 2  exact" in high
    if font_available():  # with a fallback font the glyphs are not the plate font the OCR learnt
        assert "plates 2  exact 100.0% (2/2, CI 34.2%-100.0%)  chars 100.0%" in high
    assert any(line.startswith("ocr[low]") and "plates 1" in line for line in out)
    assert any(line.startswith("end-to-end[high]") and "plates 2" in line for line in out)


@needs_models
def test_eval_clips_score_the_video_pipeline_events(tmp_path: Path) -> None:
    write_fixture(tmp_path / "set")
    r = run_eval(str(tmp_path / "set"), "--clips", "6")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    high = next(line for line in out if line.startswith("clips[high] 6 frames, events plates 2"))
    assert any(line.startswith("clips[low] 6 frames, events plates 1") for line in out)
    assert out[-1].startswith("clips  events on no labelled plate ") and out[-1].endswith("duplicate events 0")
    if font_available():  # the plate font the OCR learnt: each clear plate is one exact event
        assert "exact 100.0%" in high
    bad = run_eval(str(tmp_path / "set"), "--clips", "0")
    assert bad.returncode == 2 and "--clips must be 1-250 frames, got 0" in bad.stderr


@needs_models
def test_eval_against_other_models_pairs_them_plate_by_plate(tmp_path: Path, tiny_models: Path) -> None:
    """Both model sets are scored on the same plates, then compared where one is right and the other not."""
    write_fixture(tmp_path / "set")
    r = run_eval(str(tmp_path / "set"), "--against", str(tiny_models), "--clips", "3")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == f"models: {ROOT / 'models'}" and f"against: {tiny_models}" in out
    pairs = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in out if line.startswith("paired ")}
    assert list(pairs) == [
        "paired detector recall",
        "paired ocr[high] on labelled boxes",
        "paired ocr[low] on labelled boxes",
        "paired end-to-end[high] on detections",
        "paired end-to-end[low] on detections",
        "paired clips[high]",
        "paired clips[low]",
    ]
    for name, line in pairs.items():  # the four counts cover every plate of the measurement
        counts = [int(w) for w in line.split("  (")[0].replace(",", "").split() if w.isdigit()]
        assert sum(counts) == (3 if name == "paired detector recall" else 2 if "high" in name else 1), line
    if font_available():  # the shipped OCR reads both clear plates; the tiny model's reads are noise
        assert pairs["paired ocr[high] on labelled boxes"] == (
            "both right 0, only this 2, only the other 0, both wrong 0  (sign test p = 0.50)"
        )
    bad = run_eval(str(tmp_path / "set"), "--against", str(tmp_path / "nowhere"))
    assert bad.returncode == 2 and f"--against {tmp_path / 'nowhere'}: no plate_detector.json there" in bad.stderr


def test_eval_without_labels_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    r = run_eval(str(tmp_path))
    assert r.returncode == 2 and "labels.csv: labels file not found" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_unshake_maps_a_shaken_box_back_to_the_photo() -> None:
    maps = shake(1600, 900, 5, seed=3)
    assert len(maps) == 5 and not np.allclose(maps[0], maps[1])  # every frame moves
    box = (400.0, 500.0, 600.0, 550.0)
    for m in maps:
        corners = m @ np.array([[box[0], box[2]], [box[1], box[3]], [1.0, 1.0]])
        shaken = (corners[0, 0], corners[1, 0], corners[0, 1], corners[1, 1])
        assert unshake(shaken, m) == pytest.approx(box)
        assert abs(m[0, 0] - 1) <= 0.02 and abs(m[0, 2] - (1 - m[0, 0]) * 800) <= 8.0


@needs_models
def test_eval_sets_aside_boxes_on_listed_unboxed_plates(tmp_path: Path) -> None:
    """A background plate the labels leave unboxed costs precision unless ``--unboxed`` lists it."""
    root = tmp_path / "set"
    (root / "images").mkdir(parents=True)
    frame = background(1920, 1080, seed=0)
    rng = random.Random(3)
    boxes = []
    for text, lane in (("A123BC77", 0.25), ("K777KK777", 0.75)):
        plate = style_plate(render_plate(text, px_per_mm=1.0).image, rng)
        boxes.append(draw_car(frame, Car(text, 0, 1, lane_x=lane), plate, 1080 * 0.7, 260.0))
    cv2.imwrite(str(root / "images" / "000.jpg"), frame)
    (x1, y1, x2, y2), (u1, v1, u2, v2) = boxes
    (root / "labels.csv").write_text(f"image;plate;x1;y1;x2;y2;quality\n000.jpg;A123BC77;{x1};{y1};{x2};{y2};high\n")
    unboxed = tmp_path / "unboxed.csv"
    unboxed.write_text(f"image;x1;y1;x2;y2;what\n000.jpg;{u1};{v1};{u2};{v2};the second car\n")
    out = run_eval(str(root), "--unboxed", str(unboxed))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "precision 100.0%" in lines[1]
    assert (
        lines[2].startswith("detector  1 box(es) on listed unboxed plates set aside;") and "precision 50.0%" in lines[2]
    )
    both = run_eval(str(root), "--unboxed", str(unboxed), "--engine", "crnn")
    assert both.returncode != 0 and "--unboxed scores the detector's boxes" in both.stderr
    unboxed.write_text("image;x1;y1;x2;y2;what\n000.jpg;left;1;2;3;bad\n")
    bad = run_eval(str(root), "--unboxed", str(unboxed))
    assert bad.returncode != 0 and "unboxed.csv:2: expected image;x1;y1;x2;y2;what" in bad.stderr
    assert "Traceback" not in bad.stderr
