"""``anpr-edge eval FOLDER --engine crnn,paddle``: both engines scored on the same labelled boxes, one table."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr_edge.errors import AnprError
from anpr_edge.tools.engines import parse_engines
from tests.conftest import needs_models

PLATES = ("A123BC77", "K777KK777", "E014CX86")


def test_parse_engines() -> None:
    assert parse_engines("crnn, paddle") == ["crnn", "paddle"]
    for bad in ("", "crnn,tesseract", "crnn,crnn"):
        with pytest.raises(AnprError, match="--engine"):
            parse_engines(bad)


def labelled_folder(root: Path) -> Path:
    """A real-dev style folder: one white plate with black text per image, boxed in labels.csv."""
    (root / "images").mkdir(parents=True)
    rows = ["image;plate;x1;y1;x2;y2;quality"]
    for i, text in enumerate(PLATES):
        img = np.full((240, 720, 3), 90, np.uint8)
        cv2.rectangle(img, (30, 50), (690, 180), (255, 255, 255), -1)
        cv2.putText(img, text, (50, 150), cv2.FONT_HERSHEY_SIMPLEX, 2.4, (0, 0, 0), 6, cv2.LINE_AA)
        cv2.imwrite(str(root / "images" / f"{i}.jpg"), img)
        rows.append(f"{i}.jpg;{text};30;50;690;180;high")
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return root


@needs_models
@pytest.mark.skipif(importlib.util.find_spec("rapidocr_onnxruntime") is None, reason="scripts/setup.sh --paddle")
def test_eval_engine_prints_a_row_per_engine_and_the_paired_line(tmp_path: Path) -> None:
    folder = labelled_folder(tmp_path / "photos")
    r = subprocess.run(
        [sys.executable, "-m", "anpr_edge.cli", "eval", str(folder), "--engine", "crnn,paddle", "--device", "cpu"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| engine | device | plates | exact |")
    paddle = next(line for line in rows if line.startswith("| paddle [high] | CPU | 3 |"))
    assert "100.0% (3/3" in paddle  # printed text on a white plate: PP-OCR reads it
    assert any(line.startswith("| crnn [high] | CPU | 3 |") for line in rows)
    assert float(paddle.rstrip(" |").rsplit("|", 1)[1]) > 0  # ms per crop
    assert "paired ocr[high] crnn vs paddle: both right" in r.stdout


def test_an_unknown_engine_fails_before_any_model_loads(tmp_path: Path) -> None:
    folder = labelled_folder(tmp_path / "photos")
    r = subprocess.run(
        [sys.executable, "-m", "anpr_edge.cli", "eval", str(folder), "--engine", "crnn,tesseract"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "choose from crnn, paddle" in r.stderr and "Traceback" not in r.stderr
