"""``python -m anpr_edge.training.reproduce``: the one-command recipe parses, orders, resumes and runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from anpr_edge.training.reproduce import Step, check_recipe, main, run, steps_for
from tests.conftest import ROOT


def test_every_step_of_the_recipe_parses_with_its_module(tmp_path: Path) -> None:
    steps = steps_for("all", tmp_path)
    check_recipe(steps)  # a renamed or removed option fails here
    assert [s.module for s in steps][:8] == ["train_ocr"] * 4 + ["pseudo_label", "train_ocr", "train_ocr", "export_ocr"]
    # OCR stage 2 starts from stage 1; stage 3 from stage 2, with the pseudo-labels stage 2 helped make
    stage2, pseudo, stage3, export = steps[3], steps[4], steps[6], steps[7]
    assert str(tmp_path / "ocr" / "best.pt") in stage2.argv and "camera" in stage2.argv
    assert str(tmp_path / "ocr_cam" / "best.pt") in pseudo.argv and str(tmp_path / "ocr_cam" / "best.pt") in stage3.argv
    assert str(tmp_path / "pseudo" / "pseudo.npz") in stage3.argv
    assert str(tmp_path / "ocr3" / "best.pt") in export.argv
    assert [s.module for s in steps].count("train_detector") == 3  # stages 1-3
    assert steps[-1].module == "export_detector" and str(tmp_path / "models" / "plate_detector") in steps[-1].argv
    corners = steps_for("corners", tmp_path)
    check_recipe(corners)
    assert [s.module for s in corners] == ["pose_scenes", "train_detector"] * 3 + ["export_detector"] + [
        "train_corners"
    ] * 3 + ["soup", "export_ocr", "calibrate", "export_ocr"]
    assert "--pose" in corners[1].argv and "--distractors" in corners[2].argv
    # E continues D's weights, F continues E's: each run starts from the one before's last weights
    assert str(tmp_path / "det_runs" / "plate_pose" / "weights" / "last.pt") in corners[3].argv
    assert str(tmp_path / "det_runs" / "plate_pose_e" / "weights" / "last.pt") in corners[5].argv
    seed = corners[4].argv[corners[4].argv.index("--seed") + 1]
    assert "--pose-weight" in corners[5].argv and seed == "2"  # F: its own tiles, corner loss weighted
    export = corners[6]
    assert str(tmp_path / "camera_models" / "plate_detector") in export.argv
    assert str(tmp_path / "det_runs" / "plate_pose_f" / "weights" / "last.pt") in export.argv
    assert export.argv[export.argv.index("--conf") + 1] == "0.55"  # the shipped operating point (model card)
    assert [c.argv[0] for c in corners[7:10]] == ["gen", "train", "export"]
    assert str(tmp_path / "camera_models" / "plate_corners") in corners[9].argv
    soup, export_reader, calibrate, second = corners[10:]  # the camera reader: stage 3 and 4b averaged, calibrated
    assert "models/checkpoints/plate_ocr_crnn.pt" in soup.argv and str(tmp_path / "camera_reader.pt") in soup.argv
    assert str(tmp_path / "camera_models" / "plate_ocr") in export_reader.argv and "--write" in calibrate.argv
    # then its second reader, at the shipped operating point (models/camera/plate_ocr_second.json)
    assert str(tmp_path / "camera_models" / "plate_ocr_second") in second.argv
    sure = second.argv[second.argv.index("--sure") + 1 :][:2]
    shipped = json.loads((ROOT / "models" / "camera" / "plate_ocr_second.json").read_text())
    assert [float(v) for v in sure] == [shipped["sure_letters"], shipped["sure_digits"]]
    assert float(second.argv[second.argv.index("--temperature") + 1]) == shipped["temperature"]
    # stage 3 starts from stage 2's weights and mines with stage 2's export
    ft3 = next(s for s in steps if "plate_yolo11n_ft3" in s.argv and s.module == "train_detector")
    assert str(tmp_path / "det_runs" / "plate_yolo11n_ft2" / "weights" / "last.pt") in ft3.argv
    assert all(str(tmp_path) in " ".join(s.argv) for s in steps)  # nothing lands in models/


def test_dry_run_lists_what_is_left_and_skips_finished_steps(tmp_path: Path) -> None:
    def dry() -> list[str]:
        r = subprocess.run(
            [sys.executable, "-m", "anpr_edge.training.reproduce", "detector", "--out", str(tmp_path), "--dry-run"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr
        return r.stdout.splitlines()

    before = dry()
    assert len(before) == 8 and all(" -m anpr_edge.training." in line for line in before)
    (tmp_path / "det_data").mkdir()
    (tmp_path / "det_data" / "contact_sheet.png").write_bytes(b"")
    (tmp_path / "det_runs" / "plate_yolo11n").mkdir(parents=True)
    (tmp_path / "det_runs" / "plate_yolo11n" / "done").write_text("finished\n")
    assert dry() == before[2:]


def test_detector_steps_without_the_ultralytics_environment_say_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANPR_EDGE_TRAIN_PYTHON", raising=False)
    with pytest.raises(SystemExit, match="--detector-python PATH or set ANPR_EDGE_TRAIN_PYTHON"):
        main(["detector", "--out", str(tmp_path)])


def test_steps_run_as_subprocesses_and_a_failure_names_the_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    data = tmp_path / "ocr_data"
    gen = Step(
        "train_ocr", ("gen", "--data-dir", str(data), "--chunks", "1", "--chunk-size", "3", "--val-size", "2"), "ocr"
    )
    marked = Step("train_ocr", ("gen", "--data-dir", str(data), "--chunks", "1"), "ocr", tmp_path / "done", True)
    run([gen, marked], {"ocr": sys.executable}, dry_run=False)
    assert (data / "chunk_0000.npz").is_file() and (data / "val.npz").is_file()
    assert (tmp_path / "done").read_text() == "finished\n"
    bad = Step("train_ocr", ("gen", "--no-such-option"), "ocr")
    with pytest.raises(SystemExit, match=r"step 1 failed \(exit 2\): .*--no-such-option"):
        run([bad], {"ocr": sys.executable}, dry_run=False)
