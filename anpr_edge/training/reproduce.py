"""Reproduce the shipped models from this repository with one command (given ``../shared``).

    python -m anpr_edge.training.reproduce [ocr|detector|all] [--out work/reproduce] [--dry-run]

Hours of CPU (about 3 for the OCR, 5 for the detector on 2 cores). Each step is the documented recipe
of ``models/README.md``, in order; re-running the same command after an interruption resumes: the
trainers continue from their ``last.pt``, and finished steps (their output present) are skipped. The
models land in ``OUT/models``, never in ``models/``: compare them with
``anpr-edge eval ../shared/real-dev --split untrained --models OUT/models``, then copy them over.

The OCR steps run in this interpreter (torch, the ``train`` extra). The detector steps need the
ultralytics environment (README, "Reproduce the models"), named by ``--detector-python`` or
``ANPR_EDGE_TRAIN_PYTHON``. ``--dry-run`` prints the commands.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from anpr_edge.training.pose_scenes import CAMERA_INPUT

logger = logging.getLogger("anpr_edge.training.reproduce")

#: The shipped OCR reads the boxes mined for the detector's stage 3 (``scenes --mine-with``). The shipped
#: detector's stage 3 was mined with the stage-1 OCR (``models/checkpoints/plate_ocr_crnn_stage1.pt``); the
#: shipped OCR now is stage 2, which reads a few more of the mined boxes, so a reproduction may sort a few
#: boxes differently between negatives and unboxed plates.
SHIPPED_OCR = Path("models/plate_ocr")


@dataclass(frozen=True, slots=True)
class Step:
    """One command of the recipe: ``python -m anpr_edge.training.<module> <argv>``."""

    module: str
    argv: tuple[str, ...]
    env: str  # "ocr" (this interpreter) or "detector" (the ultralytics environment)
    done: Path | None = None  # skip the step when this exists
    marks_done: bool = False  # write ``done`` after the step succeeds (trainers leave no other sign)

    def command(self, python: str) -> list[str]:
        return [python, "-m", f"anpr_edge.training.{self.module}", *self.argv]


def ocr_steps(out: Path) -> list[Step]:
    """Stage 1: synthetic chunks 0-4, 30 epochs with the real-dev trained split mixed in. Stage 2: chunks
    5-9 with plates as wide as real ones, 12 epochs from stage 1 with the real plates re-shot as by other
    cameras (``--real-crops camera``). Stage 3 (:func:`ocr_stage3_steps`). Export with parity checks."""
    data, run = out / "ocr_data", out / "ocr"
    data2, run2 = out / "ocr_data_w", out / "ocr_cam"
    chunks = ("--chunks", "5", "--chunk-size", "5000")
    real_widths = ("--plate-width", "81", "385")  # the trained split's plate widths (quartiles 120/202/261 px)
    batches = ("--steps", "300", "--batch", "64", "--real-train-fraction", "0.5")
    return [
        Step("train_ocr", ("gen", "--data-dir", str(data), *chunks), "ocr"),
        Step(
            "train_ocr",
            ("train", "--data-dir", str(data), "--out", str(run), "--epochs", "30", *batches, "--real-per-batch", "6"),
            "ocr",
        ),
        Step("train_ocr", ("gen", "--data-dir", str(data2), "--first", "5", *chunks, *real_widths), "ocr"),
        Step(
            "train_ocr",
            (
                "train",
                "--data-dir",
                str(data2),
                "--out",
                str(run2),
                "--init",
                str(run / "best.pt"),
                "--epochs",
                "12",
                *batches,
                "--lr",
                "1e-3",
                "--seed",
                "2",
                "--real-crops",
                "camera",
                "--real-per-batch",
                "8",
            ),
            "ocr",
        ),
        *ocr_stage3_steps(out, run2 / "best.pt", batches),
    ]


def ocr_stage3_steps(out: Path, stage2: Path, batches: tuple[str, ...]) -> list[Step]:
    """Stage 3: pseudo-labels for the 1,338 unlabelled real-train crops (stage 2 and the synthetic-only reader
    agree, whole template, every character p >= 0.9), chunks 10-14 with plates 40-385 px wide, 12 epochs from
    stage 2 at lr 5e-4 with 12 pseudo-labelled crops per batch; then the export."""
    data3, run3, pseudo = out / "ocr_data3", out / "ocr3", out / "pseudo" / "pseudo.npz"
    readers = ("--reader", str(stage2), "--reader", "models/checkpoints/plate_ocr_crnn_synthetic_only.pt")
    chunks3 = ("--chunks", "5", "--chunk-size", "5000")
    recipe = (*batches, "--lr", "5e-4", "--seed", "3", "--real-crops", "camera", "--real-per-batch", "8")
    recipe = (*recipe, "--extra", str(pseudo), "--extra-per-batch", "12")
    return [
        Step("pseudo_label", (*readers, "--out", str(pseudo)), "ocr", done=pseudo),
        Step(
            "train_ocr",
            ("gen", "--data-dir", str(data3), "--first", "10", *chunks3, "--plate-width", "40", "385"),
            "ocr",
        ),
        Step(
            "train_ocr",
            ("train", "--data-dir", str(data3), "--out", str(run3), "--init", str(stage2), "--epochs", "12", *recipe),
            "ocr",
        ),
        Step(
            "export_ocr",
            ("--checkpoint", str(run3 / "best.pt"), "--out", str(out / "models" / "plate_ocr")),
            "ocr",
            done=out / "models" / "plate_ocr.xml",
        ),
    ]


def _tiles(out: Path, name: str, seed: int, *extra: str) -> Step:
    folder = out / name
    argv = ("--out", str(folder), "--n", "3000", "--seed", str(seed), "--real-fraction", "0.5", *extra)
    return Step("scenes", argv, "detector", done=folder / "contact_sheet.png")


def _train(out: Path, data: str, name: str, *extra: str) -> Step:
    runs = out / "det_runs"
    argv = ("--data", str(out / data / "data.yaml"), "--project", str(runs), "--name", name, *extra)
    return Step("train_detector", argv, "detector", done=runs / name / "done", marks_done=True)


def _export(
    out: Path, run: str, data: str, stem: Path, size: tuple[int, int] = (512, 288), conf: str = "0.5", *extra: str
) -> Step:
    """Stage 2 shipped (and mined stage 3) at 640x384; stage 3 ships at 512x288. ``conf``: the operating point
    written to the model's metadata; ``extra``: more ``export_detector`` options."""
    weights = out / "det_runs" / run / "weights" / "last.pt"
    argv = ("--weights", str(weights), "--data", str(out / data / "data.yaml"), "--no-int8", "--out", str(stem))
    size_argv = ("--width", str(size[0]), "--height", str(size[1]))
    argv = (*argv, *size_argv, "--conf", conf, *extra)
    return Step("export_detector", argv, "detector", done=stem.with_suffix(".xml"))


def detector_steps(out: Path) -> list[Step]:
    """Stages 1-3 of the detector (tiles, training, the stage-2 export that mines stage 3's negatives)."""
    runs = out / "det_runs"
    stage2 = out / "stage2_models"
    return [
        _tiles(out, "det_data", 0, "--negatives", "basic"),
        # Stage 1 ran on a 1.7 h budget, which ultralytics turned into 8 epochs: the epochs are the recipe.
        _train(out, "det_data", "plate_yolo11n", "--epochs", "8"),
        _tiles(out, "det_data2", 1, "--negatives", "basic"),
        _train(
            out,
            "det_data2",
            "plate_yolo11n_ft2",
            "--init",
            str(runs / "plate_yolo11n" / "weights" / "best.pt"),
            "--lr0",
            "0.001",
            "--epochs",
            "7",
            "--threads",
            "2",
        ),
        _export(out, "plate_yolo11n_ft2", "det_data2", stage2 / "plate_detector", (640, 384)),
        _tiles(out, "det_data3", 2, "--mine-with", str(stage2)),
        _train(
            out,
            "det_data3",
            "plate_yolo11n_ft3",
            "--init",
            str(runs / "plate_yolo11n_ft2" / "weights" / "last.pt"),
            "--lr0",
            "0.001",
            "--epochs",
            "5",
            "--threads",
            "2",
        ),
        _export(out, "plate_yolo11n_ft3", "det_data3", out / "models" / "plate_detector"),
    ]


#: The input the corner detector is exported at (the largest a 2-core box runs a 25 fps camera at, by bench).
CORNER_INPUT = CAMERA_INPUT


def corner_steps(out: Path, stage3: Path = Path("models/checkpoints/plate_yolo11n.pt")) -> list[Step]:
    """The camera detector (``models/camera``; models/README.md): pose tiles (real-train boxes, synthetic
    corners; no camera-dev), 12 epochs of yolo11n-pose from the shipped detector's weights on one thread (D),
    then D continued whole on new tiles with unlabelled lettering for 1.3 hours on two threads (E, 23 epochs
    here), then E on fresh tiles with the corner loss weighted twice for 1.3 hours on one thread (F, 18 epochs
    here), exported at :data:`CORNER_INPUT` into ``OUT/camera_models`` at conf 0.55 with FP16 weights; its corner
    model (synthetic plates on the photos of E's training split, 24 epochs on two threads, ``train_corners``); and
    its reader (:func:`camera_reader_steps`). Each tile set holds 3,616 tiles; the shipped runs saw 3,328 (their
    288 real-dev tiles replaced as many real-train ones, models/README.md)."""
    data, data2, data3 = out / "pose_data", out / "pose_data2", out / "pose_data3"
    tiles = ("--out", str(data), "--per-image", "2", "--val", "300")
    tiles2 = ("--out", str(data2), "--per-image", "2", "--val", "300", "--seed", "1", "--distractors", "0.4")
    tiles3 = ("--out", str(data3), "--per-image", "2", "--val", "300", "--seed", "2", "--distractors", "0.4")
    recipe = ("--pose", "--init", str(stage3), "--epochs", "12", "--lr0", "0.001", "--threads", "1", "--batch", "32")
    d = out / "det_runs" / "plate_pose" / "weights" / "last.pt"
    recipe2 = ("--pose", "--init", str(d), "--hours", "1.3", "--lr0", "0.0005", "--threads", "2", "--batch", "32")
    e = out / "det_runs" / "plate_pose_e" / "weights" / "last.pt"
    recipe3 = ("--pose", "--init", str(e), "--hours", "1.3", "--lr0", "0.0003", "--threads", "1", "--batch", "32")
    cdata, cruns, cstem = out / "corner_data", out / "corners", out / "camera_models" / "plate_corners"
    camera_det = out / "camera_models" / "plate_detector"
    crecipe = ("--seed", "1", "--threads", "2", "--resume")
    cdone = cruns / "done"
    return [
        Step("pose_scenes", tiles, "ocr", done=data / "data.yaml"),
        _train(out, "pose_data", "plate_pose", *recipe),
        Step("pose_scenes", tiles2, "ocr", done=data2 / "data.yaml"),
        _train(out, "pose_data2", "plate_pose_e", *recipe2),
        Step("pose_scenes", tiles3, "ocr", done=data3 / "data.yaml"),
        _train(out, "pose_data3", "plate_pose_f", *recipe3, "--pose-weight", "24"),
        # conf 0.55: the highest threshold that loses none of the held-out real-train plates (preregistration.md)
        _export(out, "plate_pose_f", "pose_data3", camera_det, CORNER_INPUT, "0.55", "--fp16-weights"),
        Step("train_corners", ("gen", "--out", str(cdata), "--seed", "1"), "ocr", done=cdata / "train.npz"),
        Step(
            "train_corners",
            ("train", "--data", str(cdata), "--out", str(cruns), *crecipe),
            "ocr",
            done=cdone,
            marks_done=True,
        ),
        Step("train_corners", ("export", "--checkpoint", str(cruns / "best.pt"), "--out", str(cstem)), "ocr"),
        *camera_reader_steps(out),
    ]


#: The camera folder's reader: stage 3 (:data:`SHIPPED_OCR`'s checkpoint) averaged half and half with stage 4b,
#: the reader fine-tuned from it on plates seen at dusk (docs/preregistration.md, "D4W").
CAMERA_READER_PARTS = (
    Path("models/checkpoints/plate_ocr_crnn_dusk_candidate.pt"),
    Path("models/checkpoints/plate_ocr_crnn.pt"),
)


#: The camera folder's second reader (``plate_ocr_second``): the rectified reader fine-tuned on plates seen at
#: dusk (docs/preregistration.md, "Q6" and "SO3"), at Q4's temperature, heard where it passes Q6t's thresholds.
SECOND_READER_CHECKPOINT = Path("models/checkpoints/plate_ocr_crnn_dusk_rectified_candidate.pt")
SECOND_READER_POINT = ("--temperature", "0.95", "--sure", "0.8", "0.6")


def camera_reader_steps(out: Path) -> list[Step]:
    """The camera folder's reader (:data:`CAMERA_READER_PARTS` averaged), exported in FP32 beside the camera
    detector and its corner model, then its temperature fitted (``calibrate --write``; ``models.precision:
    auto`` reads it in bf16 where the CPU has it, as measured, models/README.md); then its second reader
    (:data:`SECOND_READER_CHECKPOINT`) in FP32 at :data:`SECOND_READER_POINT`."""
    soup, folder = out / "camera_reader.pt", out / "camera_models"
    parts = [arg for part in CAMERA_READER_PARTS for arg in ("--checkpoint", str(part))]
    second = ("--checkpoint", str(SECOND_READER_CHECKPOINT), "--out", str(folder / "plate_ocr_second"), "--fp32")
    return [
        Step("soup", (*parts, "--weight", "0.5", "--out", str(soup)), "ocr", done=soup),
        Step("export_ocr", ("--checkpoint", str(soup), "--out", str(folder / "plate_ocr"), "--fp32"), "ocr"),
        Step("calibrate", ("--models", str(folder), "--write"), "ocr"),
        Step("export_ocr", (*second, *SECOND_READER_POINT), "ocr"),
    ]


def steps_for(what: str, out: Path) -> list[Step]:
    chosen = {"ocr": ocr_steps, "detector": detector_steps, "corners": corner_steps}
    return chosen.get(what, lambda o: ocr_steps(o) + detector_steps(o))(out)


def check_recipe(steps: list[Step]) -> None:
    """Parse every step's arguments with its module's own parser: a renamed option fails here, not hours in."""
    for step in steps:
        module = importlib.import_module(f"anpr_edge.training.{step.module}")
        try:
            module.parser().parse_args(list(step.argv))
        except SystemExit:
            raise SystemExit(f"reproduce: the recipe's {step.module} arguments no longer parse: {step.argv}") from None


def _prepare(step: Step) -> None:
    """Stage 3 mines with the stage-2 detector and the shipped OCR: put the OCR beside that detector."""
    if step.module == "scenes" and "--mine-with" in step.argv:
        folder = Path(step.argv[step.argv.index("--mine-with") + 1])
        for suffix in (".xml", ".bin", ".json"):
            shutil.copyfile(SHIPPED_OCR.with_suffix(suffix), folder / f"plate_ocr{suffix}")


def run(steps: list[Step], pythons: dict[str, str], dry_run: bool) -> None:
    for i, step in enumerate(steps, 1):
        cmd = step.command(pythons[step.env])
        line = shlex.join(cmd)
        if step.done is not None and step.done.exists():
            logger.info("[%d/%d] done already (%s): %s", i, len(steps), step.done, line)
            continue
        if dry_run:
            print(line)
            continue
        logger.info("[%d/%d] %s", i, len(steps), line)
        _prepare(step)
        result = subprocess.run(cmd, check=False)
        if result.returncode != 0:
            raise SystemExit(f"reproduce: step {i} failed (exit {result.returncode}): {line}")
        if step.marks_done and step.done is not None:
            step.done.write_text("finished\n")


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "what",
        nargs="?",
        choices=("ocr", "detector", "corners", "all"),
        default="all",
        help="all: the shipped models (ocr, then detector); corners: the camera detector (models/camera)",
    )
    p.add_argument("--out", type=Path, default=Path("work/reproduce"), help="everything is written under here")
    p.add_argument(
        "--detector-python",
        default=os.environ.get("ANPR_EDGE_TRAIN_PYTHON"),
        help="python of the ultralytics environment (default: $ANPR_EDGE_TRAIN_PYTHON)",
    )
    p.add_argument("--dry-run", action="store_true", help="print the commands still to run, run nothing")
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    a = parser().parse_args(argv)
    steps = steps_for(a.what, a.out)
    check_recipe(steps)
    needs_detector = any(s.env == "detector" for s in steps)
    if needs_detector and not a.detector_python and not a.dry_run:
        raise SystemExit(
            "reproduce: the detector steps need the ultralytics environment: pass --detector-python PATH or set "
            "ANPR_EDGE_TRAIN_PYTHON (README, 'Reproduce the models', says how to make it)"
        )
    if not Path("../shared/fonts").is_dir() or not Path("../shared/real-dev/labels.csv").is_file():
        logger.warning("../shared (font, real-dev photos) not found: the models will not be the shipped ones")
    run(steps, {"ocr": sys.executable, "detector": a.detector_python or "python"}, a.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
