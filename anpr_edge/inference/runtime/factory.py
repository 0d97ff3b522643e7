"""Which runtime runs a model: OpenVINO (``auto``, ``cpu``, ``gpu``, ``npu``) or ONNX Runtime (``cuda``,
``onnx-cpu``). The one module that knows both implementations; they know only :mod:`.base`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from anpr_edge.errors import ModelLoadError, PrecisionError
from anpr_edge.inference.runtime.base import (
    DEVICES,
    HINTS,
    ONNX_DEVICES,
    OPENVINO_DEVICES,
    Backend,
    ShapeSpec,
    model_file,
)


@contextlib.contextmanager
def reading_once() -> Iterator[None]:
    """Within (on this thread): an OpenVINO model file loaded again is not read again
    (:func:`.openvino.reading_once`: its weights are mapped once); ONNX Runtime reads each load."""
    from anpr_edge.inference.runtime.openvino import reading_once as once

    with once():
        yield


def open_backend(
    stem: Path,
    device: str,
    input_shape: ShapeSpec,
    output_shape: ShapeSpec,
    cache_dir: Path | None = None,
    hint: str = "latency",
    precision: str = "f32",
) -> Backend:
    """Load ``stem`` (``.xml`` or ``.onnx`` by device) and check its shapes; ``hint``: :data:`HINTS`;
    ``precision``: a resolved one of :data:`PRECISIONS` (:func:`resolve_precision`)."""
    if device not in DEVICES:
        raise ModelLoadError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    if hint not in HINTS:
        raise ModelLoadError(f"unknown performance hint {hint!r}; choose one of {', '.join(HINTS)}")
    path = model_file(stem, device, precision)
    if not path.is_file() and precision == "int8":
        raise PrecisionError(f"{path}: model file not found (make it with python -m anpr_edge.training.quantize)")
    if not path.is_file():
        raise ModelLoadError(f"{path}: model file not found")
    if device in ONNX_DEVICES:
        from anpr_edge.inference.runtime.onnx import OnnxBackend

        return OnnxBackend(path, ONNX_DEVICES[device], input_shape, output_shape, hint)
    from anpr_edge.inference.runtime.openvino import OpenVinoBackend

    cpu = "bf16" if precision == "bf16" else "f32"  # an int8 model keeps its float parts in f32
    return OpenVinoBackend(path, OPENVINO_DEVICES[device], input_shape, output_shape, cache_dir, HINTS[hint], cpu)
