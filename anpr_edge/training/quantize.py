"""INT8 copies of the shipped models: NNCF post-training quantization with real calibration images.

Writes ``plate_detector.int8.xml`` and ``plate_ocr.int8.xml`` (with their ``.bin``) beside the float models.
The runtime loads them for ``models.precision: int8`` (or ``auto`` where the model card's measurement chose
INT8); the float models stay the reference.

* detector: ``--images`` real photos (default 300 of ``../shared/real-train/k4gl7p/images``, drawn with
  ``--seed``), letterboxed exactly as the runtime does at the model's input size. The head's box decoding
  (distribution focal loss, sigmoid, the keypoint decoding of a corner model) stays in float: only the
  convolutions are quantized;
* reader: real plate crops (``../shared/real-train/beeline`` and ``k4gl7p/crops``), cut and normalised as
  the runtime cuts a detected plate.

Neither set is scored on afterwards: accuracy is measured with ``anpr-edge eval --precision int8`` on real-dev's
untrained half and camera-dev, speed with ``anpr-edge bench --precision int8``.

    python -m anpr_edge.training.quantize --models models
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import random
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from anpr_edge.errors import AnprError
from anpr_edge.inference.detector import letterbox, to_input
from anpr_edge.inference.ocr_core import crop_plate, to_tensor
from anpr_edge.inference.runtime.base import int8_file

logger = logging.getLogger("anpr_edge.training.quantize")

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def pick(folders: list[Path], n: int, seed: int) -> list[Path]:
    files = sorted(p for f in folders if f.is_dir() for p in f.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise SystemExit(f"no calibration images in {', '.join(map(str, folders))}")
    random.Random(seed).shuffle(files)
    return files[:n]


def detector_samples(files: list[Path], spec: dict[str, Any]) -> list[np.ndarray]:
    w, h = int(spec["input_width"]), int(spec["input_height"])
    out = []
    for f in files:
        img = cv2.imread(str(f))
        if img is not None:
            out.append(to_input(letterbox(img, w, h, int(spec["pad_value"]))[0], float(spec["scale"])))
    return out


def reader_samples(files: list[Path], spec: dict[str, Any]) -> list[np.ndarray]:
    w, h = int(spec["input_width"]), int(spec["input_height"])
    out = []
    for f in files:
        img = cv2.imread(str(f))
        if img is None:
            continue
        box = (0.0, 0.0, float(img.shape[1]), float(img.shape[0]))
        crop = crop_plate(img, box, 0.0, 0.0, w, h)
        out.append(to_tensor([crop], float(spec["mean"]), float(spec["std"])))
    return out


def head_scope(model: Any, whole_head: bool) -> list[str]:
    """The detection head's ops: its decoding (everything of the last ``/model.N/`` that is not a ``cv`` conv
    branch), or with ``whole_head`` its convolutions too (the box regression is where int8 moves boxes)."""
    names = [op.get_friendly_name() for op in model.get_ordered_ops()]
    heads = sorted({n.split("/")[1] for n in names if n.startswith("/model.")}, key=lambda s: int(s.split(".")[1]))
    last = f"/{heads[-1]}/"
    return [n for n in names if n.startswith(last) and (whole_head or not n.startswith(f"{last}cv"))]


def require_nncf() -> None:
    """One clear line where nncf is missing (it comes with the training environment), before any work."""
    if importlib.util.find_spec("nncf") is None:
        raise AnprError("quantize needs nncf, which the training environment has (docs/training.md, 'The detector')")


def quantize(xml: Path, samples: list[np.ndarray], ignored: list[str], out: Path, fast_bias: bool = True) -> Path:
    import nncf
    import openvino as ov

    model = ov.Core().read_model(str(xml))
    scope = nncf.IgnoredScope(names=ignored, validate=False) if ignored else None
    q = nncf.quantize(
        model,
        nncf.Dataset(samples),
        preset=nncf.QuantizationPreset.MIXED,
        subset_size=len(samples),
        ignored_scope=scope,
        fast_bias_correction=fast_bias,
    )
    ov.save_model(q, str(out), compress_to_fp16=False)
    logger.info("%s: %d calibration samples, %d ops kept in float → %s", xml.name, len(samples), len(ignored), out)
    return out


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", type=Path, default=Path("models"))
    p.add_argument("--real-train", type=Path, default=Path("../shared/real-train"))
    p.add_argument("--images", type=int, default=300, help="calibration samples per model")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="folder for the int8 copies (default: --models)")
    p.add_argument("--whole-head", action="store_true", help="keep the detector's whole head in float")
    p.add_argument("--bias-correction", action="store_true", help="NNCF's full bias correction (slower)")
    p.add_argument("--only", choices=("detector", "ocr"), help="quantize one model")
    a = p.parse_args(argv)
    try:
        require_nncf()
    except AnprError as exc:
        raise SystemExit(str(exc)) from None
    import openvino as ov

    det_xml, ocr_xml = a.models / "plate_detector.xml", a.models / "plate_ocr.xml"
    det_spec = json.loads((a.models / "plate_detector.json").read_text())
    ocr_spec = json.loads((a.models / "plate_ocr.json").read_text())
    photos = pick([a.real_train / "k4gl7p" / "images"], a.images, a.seed)
    crops = pick([a.real_train / "beeline", a.real_train / "k4gl7p" / "crops"], a.images, a.seed)
    out = a.out or a.models
    out.mkdir(parents=True, exist_ok=True)
    fast = not a.bias_correction
    if a.only != "ocr":
        head = head_scope(ov.Core().read_model(str(det_xml)), a.whole_head)
        quantize(det_xml, detector_samples(photos, det_spec), head, int8_file(out / det_xml.name), fast)
    if a.only != "detector":
        quantize(ocr_xml, reader_samples(crops, ocr_spec), [], int8_file(out / ocr_xml.name), fast)


if __name__ == "__main__":
    main()
