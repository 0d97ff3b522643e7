"""Export the CRNN to ONNX and OpenVINO IR (FP16 weights) with its metadata; fail on a parity mismatch.

    python -m anpr_edge.training.export_ocr --checkpoint work/ocr/best.pt --out models/plate_ocr

Parity: the same crops through torch, ONNX Runtime and OpenVINO; the largest probability difference
must stay under ``--tol`` and the greedy decodes must agree, or the export fails (non-zero exit).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from anpr_edge.core.results import Detection
from anpr_edge.errors import ModelLoadError
from anpr_edge.inference.contract import OcrSpec, metadata_path, write_spec
from anpr_edge.inference.corners import CornerModel
from anpr_edge.inference.ocr import CharThresholds, PlateOCR
from anpr_edge.inference.ocr_core import ctc_greedy_decode
from anpr_edge.inference.runtime.openvino import cpu_precision_config
from anpr_edge.tools.labels import TRAINED_FRACTION
from anpr_edge.tools.metrics import OcrScore
from anpr_edge.training.crnn import CRNN, CRNNWithSoftmax
from anpr_edge.training.model_card import update_card
from anpr_edge.training.ocr_data import CropSpec, real_plates, synthetic_sample, with_found_corners
from anpr_edge.training.train_ocr import ALPHABET, MEAN, STD, split_real

logger = logging.getLogger("anpr_edge.training.export_ocr")


class ParityError(RuntimeError):
    pass


def export_onnx(model: torch.nn.Module, path: Path, height: int, width: int, output: str = "probs") -> None:
    """A grey-crop model to ONNX: input ``image`` ``(batch, 1, height, width)``, output ``output``."""
    model.eval()
    dummy = torch.zeros(1, 1, height, width)
    torch.onnx.export(
        model,
        (dummy,),
        str(path),
        input_names=["image"],
        output_names=[output],
        dynamic_axes={"image": {0: "batch"}, output: {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )


def export_openvino(onnx_path: Path, xml_path: Path, fp16: bool) -> None:
    import openvino as ov

    ov_model = ov.convert_model(str(onnx_path))
    ov.save_model(ov_model, str(xml_path), compress_to_fp16=fp16)


def check_parity(
    model: torch.nn.Module, onnx_path: Path, xml_path: Path, x: np.ndarray, tol: float, alphabet: str = ALPHABET
) -> dict[str, float]:
    """Compare the three runtimes on ``x``; raise :class:`ParityError` on a mismatch."""
    import onnxruntime as ort
    import openvino as ov

    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    onnx_out = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    compiled = ov.Core().compile_model(str(xml_path), "CPU", cpu_precision_config("CPU"))  # as the runtime
    ov_out = compiled(x)[0]
    diffs = {"onnx": float(np.abs(onnx_out - ref).max()), "openvino": float(np.abs(ov_out - ref).max())}
    for name, out in (("onnx", onnx_out), ("openvino", ov_out)):
        if diffs[name] > tol:
            raise ParityError(f"{name} differs from torch by {diffs[name]:.2e} > {tol:.0e}")
        for i, (a, b) in enumerate(zip(ref, out, strict=True)):
            ta, tb = ctc_greedy_decode(a, alphabet).text, ctc_greedy_decode(b, alphabet).text
            if ta != tb:
                raise ParityError(f"{name} decodes sample {i} as {tb!r}, torch as {ta!r}")
    return diffs


def reader_metadata(spec: CropSpec, alphabet: str, operating: dict[str, float], out: Path) -> OcrSpec:
    """The runtime's contract for a reader cut as ``spec``, at the operating point given; checked, so that a
    bad operating point fails before anything is written."""
    level = {"deskew": spec.deskew, "deskew_rise": spec.deskew_rise, "rectified": spec.rectified}
    meta = OcrSpec(spec.width, spec.height, alphabet, MEAN, STD, 0, spec.margin_x, spec.margin_y, **level, **operating)
    meta.validate(str(out))
    return meta


def export(
    checkpoint: Path,
    out: Path,
    tol: float = 2e-2,
    fp16: bool = True,
    samples: int = 64,
    info: dict[str, Any] | None = None,
    real_dev: Path | None = None,
    operating: dict[str, float] | None = None,
) -> dict[str, float]:
    """``operating``: metadata fields of the reader's operating point (``temperature``; as a second reader,
    ``sure_letters`` and ``sure_digits``) written as given; ``calibrate --write`` fits the temperature instead."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    alphabet = state.get("alphabet", ALPHABET)  # a reader trained with unreadable characters has UNREAD too
    crnn = CRNN(len(alphabet) + 1)
    crnn.load_state_dict(state["model"])
    model = CRNNWithSoftmax(crnn).eval()
    spec = CropSpec(**state.get("crop_spec", {}))  # checkpoints from before crop_spec cut plain crops
    meta = reader_metadata(spec, alphabet, operating or {}, out)
    scored = real_dev is not None and (real_dev / "labels.csv").is_file()
    if spec.rectified and scored and not metadata_path(out.with_name("plate_corners")).is_file():
        raise SystemExit(f"{checkpoint} reads rectified crops: export it beside a corner model (plate_corners)")
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx_path, xml_path = out.with_suffix(".onnx"), out.with_suffix(".xml")
    export_onnx(model, onnx_path, spec.height, spec.width)
    export_openvino(onnx_path, xml_path, fp16)
    crops = np.stack([synthetic_sample(10**9 + i, spec).image for i in range(samples)])
    x = ((crops.astype(np.float32) - MEAN) / STD)[:, None]
    diffs = check_parity(model, onnx_path, xml_path, x, tol, alphabet)
    write_spec(
        out,
        meta,
        {
            "checkpoint": str(checkpoint),
            "epoch": state.get("epoch"),
            "precision": "FP16" if fp16 else "FP32",
            "parity_max_abs_diff": diffs,
            **(info or {}),
        },
    )
    logger.info("exported %s (.onnx/.xml/.bin/.json); parity max |diff| %s", out, diffs)
    facts: dict[str, object] = {
        "from": f"`{checkpoint}` (epoch {state.get('epoch')})",
        "precision": "FP16" if fp16 else "FP32",
        "parity max abs diff": ", ".join(f"{k} {v:.2e}" for k, v in diffs.items()),
    }
    if real_dev is not None and scored:
        # Checkpoints from before the swap option were all trained on the shipped models' split.
        split = state.get("real_split", {"fraction": TRAINED_FRACTION, "swapped": False})
        fold = " (the swapped fold: the trained split)" if split["swapped"] else ""
        facts[f"real-dev, images not trained on{fold}, labelled boxes, 1 crop per plate"] = real_dev_score(
            out, real_dev, spec, split["fraction"], split["swapped"]
        )
    update_card(out.parent / "README.md", out.name, facts)
    return diffs


def real_dev_score(stem: Path, real_dev: Path, spec: CropSpec, fraction: float, swapped: bool) -> str:
    """The exported model, through the runtime, on the high-quality plates of the real-dev images its
    training left out (``train_ocr``'s split: ``fraction``, ``swapped``). A reader of rectified crops gets
    the corners of the corner model beside it."""
    ocr = PlateOCR.load(stem, "cpu", CharThresholds(), precision="f32")  # the reference, on any CPU
    plates = real_plates(real_dev, ("high",))
    model = CornerModel.beside(stem) if spec.rectified else None
    plates = plates if model is None else with_found_corners(plates, model)
    _, held_out = split_real(plates, fraction, swapped)
    crops = [plate.crop(spec) for plate in held_out]
    reads = ocr.read_crops([c.image for c in crops], [Detection((0.0, 0.0, 1.0, 1.0), 1.0)] * len(crops))
    score = OcrScore()
    for crop, read in zip(crops, reads, strict=True):
        score.add(crop.text, read.text, [p for _, p in read.chars])
    return score.summary()


def parser() -> argparse.ArgumentParser:
    """The command line (also used by ``reproduce`` to check its recipe)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, default=Path("work/ocr/best.pt"))
    p.add_argument("--out", type=Path, default=Path("models/plate_ocr"))
    p.add_argument("--tol", type=float, default=2e-2, help="max |probability difference| allowed")
    p.add_argument("--fp32", action="store_true", help="keep FP32 weights in the IR")
    p.add_argument("--real-dev", type=Path, default=Path("../shared/real-dev"), help="scored into the model card")
    p.add_argument("--temperature", type=float, help="the confidence calibration to write (default 1; see calibrate)")
    p.add_argument(
        "--sure",
        type=float,
        nargs=2,
        metavar=("LETTERS", "DIGITS"),
        help="as a second reader (plate_ocr_second): the least probability at which its letter and digit are heard",
    )
    return p


def operating_point(a: argparse.Namespace) -> dict[str, float]:
    """The metadata fields ``--temperature`` and ``--sure`` ask for."""
    point = {} if a.temperature is None else {"temperature": a.temperature}
    if a.sure is not None:
        point |= {"sure_letters": a.sure[0], "sure_digits": a.sure[1]}
    return point


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    a = parser().parse_args(argv)
    try:
        export(a.checkpoint, a.out, a.tol, not a.fp32, real_dev=a.real_dev, operating=operating_point(a))
    except ParityError as exc:
        logger.error("export failed parity check: %s", exc)
        return 1
    except ModelLoadError as exc:
        logger.error("%s", exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
