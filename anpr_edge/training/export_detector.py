"""Export the trained YOLO11 detector to ONNX and OpenVINO IR (FP32 or FP16 weights, dynamic input) with metadata.

    python -m anpr_edge.training.export_detector --weights work/det_runs/plate_yolo11n/weights/best.pt

Its recall on the held-out real-dev images goes into ``models/plate_detector.json`` (``info``). An INT8 copy
for ``models.precision: int8`` is made afterwards by ``python -m anpr_edge.training.quantize``.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

from anpr_edge.training.model_card import update_card
from anpr_edge.training.train_detector import offline_ultralytics

logger = logging.getLogger("anpr_edge.training.export_detector")


def _export(weights: Path, fmt: str, imgsz: tuple[int, int], **kw: object) -> Path:
    from ultralytics import YOLO

    return Path(str(YOLO(str(weights)).export(format=fmt, imgsz=list(imgsz), **kw)))


def architecture_of(weights: Path) -> str:
    """The architecture file the weights were built from and their size, e.g. ``yolo11n-slim.yaml, 0.60 M parameters``
    (unfused: batch-norm parameters counted)."""
    from ultralytics import YOLO

    model = YOLO(str(weights)).model
    params = sum(p.numel() for p in model.parameters())
    return f"{Path(str(model.yaml.get('yaml_file', '?'))).name}, {params / 1e6:.2f} M parameters"


def keypoints_of(weights: Path) -> int:
    """4 for the plate-corner (pose) model, 0 for a box-only detector."""
    from ultralytics import YOLO

    model = YOLO(str(weights))
    if model.task != "pose":
        return 0
    shape = tuple(model.model.yaml.get("kpt_shape", ()))
    if shape != (4, 3):
        raise SystemExit(f"{weights}: a pose model with kpt_shape {shape}; plate corners need [4, 3]")
    return 4


def recall_of(stem: Path, real_dev: Path, device: str = "cpu") -> tuple[float, float, str]:
    """(recall, precision, summary) of a model on the untrained real-dev split, with our runtime."""
    from anpr_edge.inference.detector import PlateDetector
    from anpr_edge.recognition.settings import DEFAULTS
    from anpr_edge.sources.files import read_image
    from anpr_edge.tools.labels import SCORED, rows_by_image
    from anpr_edge.tools.metrics import DetScore

    det = PlateDetector.load(stem, device, None, DEFAULTS.iou, precision="f32")  # at its metadata's conf
    score = DetScore()
    for name, rows in sorted(rows_by_image(real_dev / "labels.csv", "untrained").items()):
        found = [d.box for d in det(read_image(real_dev / "images" / name))]
        score.add([r.box for r in rows], found, readable=[r.quality in SCORED for r in rows])
    return score.recall, score.precision, score.summary()


def parser() -> argparse.ArgumentParser:
    """The command line (also used by ``reproduce`` to check its recipe)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", type=Path, default=Path("work/det_runs/plate_yolo11n/weights/best.pt"))
    p.add_argument("--data", type=Path, default=Path("work/det_data/data.yaml"), help="the training data (recorded)")
    p.add_argument("--out", type=Path, default=Path("models/plate_detector"))
    p.add_argument(
        "--width", type=int, default=512, help="input width the metadata names (the runtime's default; 512 shipped)"
    )
    p.add_argument("--height", type=int, default=288, help="input height (288 shipped; 384 with --width 640)")
    p.add_argument("--real-dev", type=Path, default=Path("../shared/real-dev"))
    p.add_argument("--no-int8", action="store_true", help="accepted for old recipes: the export is always float")
    p.add_argument(
        "--fp16-weights",
        action="store_true",
        help="store the IR's weights in FP16 (half the file, and half the memory it maps); the CPU still computes "
        "in the precision it is asked for",
    )
    p.add_argument(
        "--conf",
        type=float,
        default=0.5,
        help="the model's operating point, written to its .json: runs that set no conf use it "
        "(choose it with `anpr-edge eval --sweep` on labelled photos it was not trained on; default 0.5)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    p = parser()
    a = p.parse_args(argv)
    offline_ultralytics(Path("work/yolo_config").resolve())
    from anpr_edge.inference.contract import DetectorSpec, write_spec

    if not 0.0 < a.conf < 1.0:
        p.error(f"--conf must be between 0 and 1, got {a.conf}")
    imgsz = (a.height, a.width)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    # A dynamic input: the runtime compiles the float model at the metadata's size or at the one a user
    # picks (``models.detector_input``); YOLO's attention block otherwise bakes the export size in.
    onnx = _export(a.weights, "onnx", imgsz, simplify=True, opset=17, dynamic=True)
    shutil.copyfile(onnx, a.out.with_suffix(".onnx"))
    import openvino as ov

    float_dir = a.out.parent / "_fp32"
    float_dir.mkdir(exist_ok=True)
    ov.save_model(ov.convert_model(str(onnx)), str(float_dir / "plate_detector.xml"), compress_to_fp16=a.fp16_weights)
    spec = DetectorSpec(a.width, a.height, conf=a.conf, keypoints=keypoints_of(a.weights))
    write_spec(float_dir / "plate_detector", spec)
    arch = architecture_of(a.weights)
    info: dict[str, object] = {
        "weights": str(a.weights),
        "data": str(a.data),
        "architecture": arch,
        "imgsz": [a.width, a.height],
        "dynamic_input": True,
    }
    have_real = (a.real_dev / "labels.csv").exists()
    r32 = recall_of(float_dir / "plate_detector", a.real_dev) if have_real else None
    precision = "FP16 weights" if a.fp16_weights else "FP32"  # int8 copies: python -m anpr_edge.training.quantize
    if r32:
        info["recall_fp32"] = round(r32[0], 4)
    for suffix in (".xml", ".bin"):
        shutil.copyfile(float_dir / f"plate_detector{suffix}", a.out.with_suffix(suffix))
    info["precision"] = precision
    write_spec(a.out, spec, info)
    facts: dict[str, object] = {
        "from": f"`{a.weights}`",
        "architecture": arch,
        "input": f"{a.width}x{a.height}",
        "precision": precision,
        "conf": a.conf,
    }
    if r32:
        facts["real-dev, images not trained on, FP32"] = r32[2]
    update_card(a.out.parent / "README.md", a.out.name, facts)
    shutil.rmtree(float_dir, ignore_errors=True)
    logger.info("shipped %s IR at %s (%s)", precision, a.out, info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
