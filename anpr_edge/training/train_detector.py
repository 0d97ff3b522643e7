"""Train the YOLO11 plate detector from ``yolo11n.yaml`` (no pretrained weights) with ultralytics.

Offline by construction: ``YOLO_OFFLINE``, no AMP check (``amp=False``), no font download (a local TTF
is placed where ultralytics looks for Arial), settings sync off. Resumes from ``last.pt`` when it exists.

    python -m anpr_edge.training.train_detector --data work/det_data/data.yaml --hours 1.5

To train on several datasets at once (imported photos mixed with synthetic scenes, or several tile sets),
give ``--data`` once for each: their training images are pooled (the ratio is the ratio of their sizes)
and the first one's validation images are used. To fine-tune, add
``--init models/checkpoints/plate_yolo11n.pt``.

To train a small model under a larger one (knowledge distillation, ultralytics' ``distill_model``: the
student's neck features are pulled towards the teacher's where the teacher sees a plate), add
``--teacher models/checkpoints/plate_yolo11n.pt``; the saved weights are the student's alone.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
from pathlib import Path

import yaml

logger = logging.getLogger("anpr_edge.training.train_detector")


# Architecture files: ultralytics' own, or ours beside this module (package data).
ARCHITECTURES = {"yolo11n": "yolo11n.yaml", "yolo11n-slim": str(Path(__file__).with_name("yolo11n-slim.yaml"))}


def offline_ultralytics(config_dir: Path) -> None:
    """Make ultralytics work with no network; call before importing it."""
    config_dir.mkdir(parents=True, exist_ok=True)
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "False"
    os.environ["YOLO_CONFIG_DIR"] = str(config_dir)
    font_dir = config_dir / "Ultralytics"
    font_dir.mkdir(parents=True, exist_ok=True)
    arial = font_dir / "Arial.ttf"
    if not arial.exists():
        import matplotlib

        dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
        shutil.copyfile(dejavu, arial)


def _folders(data: Path, key: str) -> list[Path]:
    """The image folders a data.yaml names under ``key`` (a path or a list), under its ``path``; a relative
    ``path``, or none, is taken from the file's own folder (ultralytics alone would try the working directory)."""
    spec = yaml.safe_load(data.read_text())
    if not isinstance(spec, dict) or key not in spec:
        raise SystemExit(f"{data}: no '{key}' entry (a YOLO data.yaml names its train and val images)")
    root = Path(spec.get("path") or data.parent)
    root = root if root.is_absolute() else data.parent / root
    names = spec[key] if isinstance(spec[key], list) else [spec[key]]
    return [(root / str(n)).resolve() for n in names]


def pooled_data(datas: list[Path], out: Path) -> Path:
    """One data.yaml for several: every training folder of each, the first one's validation images."""
    if len(datas) == 1:
        return datas[0].resolve()
    train = [str(f) for d in datas for f in _folders(d, "train")]
    val = [str(f) for f in _folders(datas[0], "val")]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump({"train": train, "val": val, "names": {0: "plate"}}, sort_keys=False))
    return out.resolve()


def parser() -> argparse.ArgumentParser:
    """The command line (also used by ``reproduce`` to check its recipe)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--data",
        type=Path,
        action="append",
        help="a YOLO data.yaml (default work/det_data/data.yaml); repeat it to pool the training images of several",
    )
    p.add_argument("--project", type=Path, default=Path("work/det_runs"))
    p.add_argument("--name", default="plate_yolo11n")
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--hours", type=float, default=0.0, help="time budget; overrides --epochs when > 0")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr0", type=float, default=0.0, help="AdamW learning rate (0: ultralytics' automatic choice)")
    p.add_argument("--no-mosaic", action="store_true", help="train on plain tiles (fine-tuning)")
    p.add_argument(
        "--arch",
        choices=sorted(ARCHITECTURES),
        default="yolo11n",
        help="architecture when training from scratch: ultralytics' yolo11n, or yolo11n-slim (width 0.125, "
        "4 DFL bins; about 3x faster on CPU, see anpr_edge/training/yolo11n-slim.yaml)",
    )
    p.add_argument(
        "--pose",
        action="store_true",
        help="train the plate-corner model (yolo11n-pose with 4 keypoints TL, TR, BR, BL; the data.yaml has "
        "kpt_shape [4, 3], see anpr_edge.training.pose_scenes); --init detection weights start its box branch",
    )
    p.add_argument(
        "--pose-weight",
        type=float,
        help="with --pose: weight of the corner loss against the box losses (ultralytics' pose gain, default 12)",
    )
    p.add_argument(
        "--init", type=Path, help="start from these weights (fine-tuning, e.g. models/checkpoints/plate_yolo11n.pt)"
    )
    p.add_argument(
        "--teacher",
        type=Path,
        help="distil from these weights (a trained detector with the same number of feature levels, e.g. "
        "models/checkpoints/plate_yolo11n.pt); each step also runs the teacher (1.9x the time per step for "
        "yolo11n-slim under yolo11n)",
    )
    p.add_argument(
        "--dis",
        type=float,
        help="weight of the distillation loss (ultralytics' default 6.0). With a student already fine-tuned, "
        "6.0 made its box and class losses rise by a quarter in the first 40 steps; 0.5 puts the "
        "distillation term near the detection losses",
    )
    return p


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    p = parser()
    a = p.parse_args(argv)
    if a.pose and a.arch != "yolo11n":
        p.error("--pose trains yolo11n-pose; --arch is for detection models")
    if a.init and a.arch != "yolo11n":
        p.error("--arch is for training from scratch; --init weights bring their own architecture")
    for flag, path in (("--init", a.init), ("--teacher", a.teacher)):
        if path is not None and not path.is_file():
            p.error(f"{flag} {path}: no such weights file")
    if a.pose_weight is not None and (not a.pose or a.pose_weight <= 0):
        p.error(f"--pose-weight {a.pose_weight}: a weight > 0, and only with --pose")
    if a.dis is not None and not a.teacher:
        p.error("--dis weighs the distillation loss: it needs --teacher")
    if a.dis is not None and a.dis <= 0:
        p.error(f"--dis {a.dis}: the weight must be > 0 (leave out --teacher to train without distillation)")
    offline_ultralytics(Path("work/yolo_config").resolve())
    import torch
    import ultralytics.utils.torch_utils as yolo_torch
    from ultralytics import YOLO, settings

    # ultralytics sets torch to NUM_THREADS (CPU count - 1: one thread on two cores) when it picks the
    # device, after anything we set; --threads goes into that constant so training uses the cores asked for.
    if not hasattr(yolo_torch, "NUM_THREADS"):
        logger.warning("ultralytics has no torch_utils.NUM_THREADS: it may train on fewer threads than %d", a.threads)
    yolo_torch.NUM_THREADS = a.threads
    torch.set_num_threads(a.threads)
    settings.update({"sync": False})
    last = a.project.resolve() / a.name / "weights" / "last.pt"
    if last.exists():
        logger.info("resuming from %s", last)
        YOLO(str(last)).train(resume=True)
        return
    if a.pose and not (a.init and YOLO(str(a.init)).task == "pose"):
        # from box weights: the keypoint branch starts from scratch, every layer whose shape matches takes --init's
        model = YOLO("yolo11n-pose.yaml", task="pose")
        if a.init:
            model.load(str(a.init))
    else:  # box weights, or corner weights continued whole (keypoint branch included)
        model = YOLO(str(a.init) if a.init else ARCHITECTURES[a.arch])
    model.train(
        data=str(pooled_data(a.data or [Path("work/det_data/data.yaml")], a.project / f"{a.name}.data.yaml")),
        imgsz=a.imgsz,
        epochs=a.epochs,
        time=a.hours or None,
        batch=a.batch,
        device="cpu",
        workers=0,
        amp=False,
        seed=a.seed,
        deterministic=True,
        project=str(a.project.resolve()),
        name=a.name,
        exist_ok=True,
        pretrained=bool(a.init),
        single_cls=True,
        warmup_epochs=0 if a.init else 1,
        close_mosaic=2,
        scale=0.5,
        mosaic=0.0 if a.no_mosaic else 1.0,
        optimizer="AdamW" if a.lr0 else "auto",
        lr0=a.lr0 or 0.01,
        fliplr=0.5,
        plots=True,
        patience=100,
        val=True,
        **({"pose": a.pose_weight} if a.pose_weight is not None else {}),
        distill_model=str(a.teacher) if a.teacher else None,
        **({"dis": a.dis} if a.dis is not None else {}),
    )


if __name__ == "__main__":
    main()
