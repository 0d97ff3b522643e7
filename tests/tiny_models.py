"""Tiny ONNX graphs with the shapes of our models, converted to OpenVINO IR: runtime tests without torch.

* detector: ``(1, 3, 384, 640)`` → ``(1, 5, 240)``: a 96x32 box centred on every 32x32 cell, scored
  by the cell's mean brightness, so a white patch in a black frame gives a known box;
* OCR: ``(N, 1, 32, 128)`` → AveragePool (32, 4) → ``(N, 32, 1)`` → MatMul → Softmax → ``(N, 32, 23)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from anpr_edge.core.plates import DIGITS, LETTERS
from anpr_edge.inference.contract import DetectorSpec, OcrSpec, write_spec

ALPHABET = DIGITS + LETTERS


def detector_graph(width: int = 640, height: int = 384) -> onnx.ModelProto:
    gw, gh = width // 32, height // 32
    cells = gw * gh
    ys, xs = np.mgrid[0:gh, 0:gw]
    boxes = np.stack([xs.ravel() * 32 + 16, ys.ravel() * 32 + 16, np.full(cells, 96), np.full(cells, 32)])
    boxes = boxes.astype(np.float32)[None]  # (1, 4, cells): a 96x32 box centred on every 32x32 cell
    w = np.full((1, 3, 1, 1), 1.0 / 3.0, np.float32)  # score = mean brightness of the cell (0..1)
    nodes = [
        helper.make_node("AveragePool", ["images"], ["pooled"], kernel_shape=[32, 32], strides=[32, 32]),
        helper.make_node("Conv", ["pooled", "w"], ["score_map"]),
        helper.make_node("Reshape", ["score_map", "shape"], ["score"]),
        helper.make_node("Concat", ["boxes", "score"], ["output0"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_detector",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, height, width])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 5, cells])],
        [
            numpy_helper.from_array(w, "w"),
            numpy_helper.from_array(boxes, "boxes"),
            numpy_helper.from_array(np.array([1, 1, cells], np.int64), "shape"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def ocr_graph(width: int = 128, height: int = 32, classes: int = len(ALPHABET) + 1) -> onnx.ModelProto:
    steps = width // 4
    rng = np.random.default_rng(0)
    w = rng.normal(0, 3, (1, classes)).astype(np.float32)
    nodes = [
        helper.make_node("AveragePool", ["image"], ["pooled"], kernel_shape=[height, 4], strides=[height, 4]),
        helper.make_node("Reshape", ["pooled", "shape"], ["seq"]),
        helper.make_node("MatMul", ["seq", "w"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_ocr",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, height, width])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", steps, classes])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.array([-1, steps, 1], np.int64), "shape")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def save(model: onnx.ModelProto, stem: Path) -> None:
    import openvino as ov

    onnx.save(model, str(stem.with_suffix(".onnx")))
    ov.save_model(ov.convert_model(str(stem.with_suffix(".onnx"))), str(stem.with_suffix(".xml")))


def build_tiny_models(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    save(detector_graph(), folder / "plate_detector")
    write_spec(folder / "plate_detector", DetectorSpec(640, 384))
    save(ocr_graph(), folder / "plate_ocr")
    write_spec(folder / "plate_ocr", OcrSpec(128, 32, ALPHABET))
    return folder
