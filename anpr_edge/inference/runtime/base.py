"""The runtime seam: a backend runs one model on one device and knows nothing of plates.

``factory.open_backend`` picks OpenVINO (``auto``, ``cpu``, ``gpu``, ``npu``) or ONNX Runtime (``cuda``,
``onnx-cpu``) and checks the model's input and output against what its metadata promises.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from anpr_edge.errors import ModelLoadError

OPENVINO_DEVICES = {"auto": "AUTO", "cpu": "CPU", "gpu": "GPU", "npu": "NPU"}
ONNX_DEVICES = {"cuda": ["CUDAExecutionProvider"], "onnx-cpu": ["CPUExecutionProvider"]}
DEVICES = tuple(OPENVINO_DEVICES) + tuple(ONNX_DEVICES)
#: OpenVINO performance hints: ``latency`` runs one inference on every core (the fastest frame, one camera);
#: ``throughput`` runs several inferences side by side, a core or so each (the most frames per second
#: over several cameras). ONNX Runtime on the CPU (``onnx-cpu``) gets the same with one thread per
#: inference; with CUDA the hint changes nothing.
HINTS = {"latency": "LATENCY", "throughput": "THROUGHPUT"}


def auto_hint(cameras: int) -> str:
    """The hint ``models.performance: auto`` picks for a daemon with ``cameras`` enabled cameras: latency
    for one (each frame sooner), throughput for several (more frames served; ``anpr-edge bench --cameras``)."""
    return "latency" if cameras <= 1 else "throughput"


#: Expected shape: ints must match, None is free (a dynamic batch, say). The first entry is the input.
ShapeSpec = tuple[int | None, ...]


class Backend(Protocol):
    """One compiled model. ``infer`` is safe to call from several threads at once."""

    device: str  # what actually runs it, e.g. "CPU" or "CUDAExecutionProvider"

    def infer(self, x: np.ndarray) -> np.ndarray: ...


def model_file(stem: Path, device: str) -> Path:
    """The file a device needs: ``.xml`` for OpenVINO, ``.onnx`` for ONNX Runtime."""
    suffix = ".onnx" if device in ONNX_DEVICES else ".xml"
    return stem.with_suffix(suffix) if stem.suffix in ("", ".xml", ".onnx") else stem


class ShapeMismatchError(ModelLoadError):
    """A model's input or output shape is not the one its metadata (or the user) asks for."""


def check_shape(where: Path, what: str, expected: ShapeSpec, found: tuple[int | None, ...]) -> None:
    """Raise ``ModelLoadError`` naming expected vs found unless every fixed dimension agrees."""
    ok = len(expected) == len(found) and all(
        e is None or f is None or e == f for e, f in zip(expected, found, strict=True)
    )
    if not ok:
        raise ShapeMismatchError(f"{where}: {what} shape {_fmt(found)} does not match expected {_fmt(expected)}")


def _fmt(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"
