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

``--accuracy-control`` makes the detector's copy with NNCF's accuracy-aware quantization instead: layers go back
to float, the most harmful first, until the copy's boxes agree with the float model's on ``--images / 2``
other real-train photos (:func:`agreement`) within ``--max-drop``.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from anpr_edge.core.geometry import iou
from anpr_edge.core.results import Box
from anpr_edge.errors import AnprError
from anpr_edge.inference.detector import Letterbox, decode, letterbox, to_input
from anpr_edge.inference.ocr_core import crop_plate, to_tensor
from anpr_edge.inference.runtime.base import int8_file
from anpr_edge.recognition.settings import DEFAULTS

logger = logging.getLogger("anpr_edge.training.quantize")

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def pick(folders: list[Path], n: int, seed: int) -> list[Path]:
    files = sorted(p for f in folders if f.is_dir() for p in f.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise SystemExit(f"no calibration images in {', '.join(map(str, folders))}")
    random.Random(seed).shuffle(files)
    return files[:n]


@dataclass(frozen=True, slots=True)
class Photo:
    """A photo as the detector sees it (a calibration sample, or a validation photo): its number, its input,
    how it was fitted, and its size."""

    index: int
    tensor: np.ndarray
    letterbox: Letterbox
    width: int
    height: int


def detector_photos(files: list[Path], spec: dict[str, Any]) -> list[Photo]:
    """``files`` letterboxed as the runtime does at the model's input size (unreadable ones left out)."""
    w, h = int(spec["input_width"]), int(spec["input_height"])
    out: list[Photo] = []
    for f in files:
        img = cv2.imread(str(f))
        if img is not None:
            boxed, lb = letterbox(img, w, h, int(spec["pad_value"]))
            out.append(Photo(len(out), to_input(boxed, float(spec["scale"])), lb, img.shape[1], img.shape[0]))
    return out


def agreement(reference: list[Box], boxes: list[Box]) -> float:
    """How well ``boxes`` agree with the ``reference`` boxes of one photo: the mean, over the reference boxes,
    of the best IoU of one of ``boxes`` (0 where none overlaps); with no reference box, 1 if ``boxes`` is
    empty too, else 0."""
    if not reference:
        return 0.0 if boxes else 1.0
    return float(np.mean([max((iou(r, b) for b in boxes), default=0.0) for r in reference]))


@dataclass(frozen=True, slots=True)
class BoxAgreement:
    """NNCF's validation function: each photo's :func:`agreement` with the float model's boxes at ``conf``."""

    reference: dict[int, list[Box]]
    conf: float

    @classmethod
    def of(cls, compiled_float: Any, photos: list[Photo], conf: float) -> BoxAgreement:
        """The float model's boxes on ``photos`` as the reference."""
        found = boxes_of(compiled_float, photos, conf)
        return cls({p.index: b for p, b in zip(photos, found, strict=True)}, conf)

    def __call__(self, compiled: Any, data: Any) -> tuple[float, list[float]]:
        photos = list(data)
        found = boxes_of(compiled, photos, self.conf)
        per_photo = [agreement(self.reference[p.index], b) for p, b in zip(photos, found, strict=True)]
        return float(np.mean(per_photo)), per_photo


def boxes_of(compiled: Any, photos: list[Photo], conf: float) -> list[list[Box]]:
    """The boxes a compiled detector finds on each photo at ``conf`` (NMS at the runtime's default IoU)."""
    out = []
    for p in photos:
        raw = np.asarray(compiled(p.tensor)[0])
        out.append([d.box for d in decode(raw, p.letterbox, p.width, p.height, conf, DEFAULTS.iou)])
    return out


def accuracy_controlled(
    xml: Path,
    samples: list[np.ndarray],
    photos: list[Photo],
    conf: float,
    ignored: list[str],
    out: Path,
    max_drop: float,
    fast_bias: bool = True,
) -> Path:
    """``xml`` quantized by NNCF's accuracy-aware quantization against :class:`BoxAgreement` on ``photos``."""
    import nncf
    import openvino as ov

    core = ov.Core()
    model = core.read_model(str(xml))
    check = BoxAgreement.of(core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"}), photos, conf)
    q = nncf.quantize_with_accuracy_control(
        model,
        nncf.Dataset(samples),
        nncf.Dataset(photos, lambda p: p.tensor),
        check,
        max_drop=max_drop,
        drop_type=nncf.DropType.ABSOLUTE,
        **nncf_options(len(samples), ignored, fast_bias),
    )
    ov.save_model(q, str(out), compress_to_fp16=False)
    logger.info("%s: accuracy-controlled, %d validation photos → %s", xml.name, len(photos), out)
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


def nncf_options(samples: int, ignored: list[str], fast_bias: bool) -> dict[str, Any]:
    """The options both ways of quantizing give NNCF: mixed preset, every sample, ``ignored`` ops in float."""
    import nncf

    return {
        "preset": nncf.QuantizationPreset.MIXED,
        "subset_size": samples,
        "ignored_scope": nncf.IgnoredScope(names=ignored, validate=False) if ignored else None,
        "fast_bias_correction": fast_bias,
    }


def quantize(xml: Path, samples: list[np.ndarray], ignored: list[str], out: Path, fast_bias: bool = True) -> Path:
    import nncf
    import openvino as ov

    model = ov.Core().read_model(str(xml))
    q = nncf.quantize(model, nncf.Dataset(samples), **nncf_options(len(samples), ignored, fast_bias))
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
    p.add_argument("--accuracy-control", action="store_true", help="the detector by accuracy-aware quantization")
    p.add_argument("--max-drop", type=float, default=0.01, help="with --accuracy-control: the agreement's bound")
    a = p.parse_args(argv)
    try:
        require_nncf()
    except AnprError as exc:
        raise SystemExit(str(exc)) from None
    import openvino as ov

    det_xml, ocr_xml = a.models / "plate_detector.xml", a.models / "plate_ocr.xml"
    det_spec = json.loads((a.models / "plate_detector.json").read_text())
    ocr_spec = json.loads((a.models / "plate_ocr.json").read_text())
    photos = pick([a.real_train / "k4gl7p" / "images"], a.images + a.images // 2, a.seed)
    photos, held = photos[: a.images], photos[a.images :]
    crops = pick([a.real_train / "beeline", a.real_train / "k4gl7p" / "crops"], a.images, a.seed)
    out = a.out or a.models
    out.mkdir(parents=True, exist_ok=True)
    fast = not a.bias_correction
    if a.only != "ocr":
        head = head_scope(ov.Core().read_model(str(det_xml)), a.whole_head)
        samples, dest = [p.tensor for p in detector_photos(photos, det_spec)], int8_file(out / det_xml.name)
        if a.accuracy_control:
            checked = detector_photos(held, det_spec)
            accuracy_controlled(
                det_xml, samples, checked, float(det_spec.get("conf", 0.5)), head, dest, a.max_drop, fast
            )
        else:
            quantize(det_xml, samples, head, dest, fast)
    if a.only != "detector":
        quantize(ocr_xml, reader_samples(crops, ocr_spec), [], int8_file(out / ocr_xml.name), fast)


if __name__ == "__main__":
    main()
