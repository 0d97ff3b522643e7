"""Which runtime runs a model: OpenVINO (``auto``, ``cpu``, ``gpu``, ``npu``) or ONNX Runtime (``cuda``,
``onnx-cpu``). The one module that knows both implementations; they know only :mod:`.base`."""

from __future__ import annotations

from pathlib import Path

from anpr_edge.errors import ModelLoadError
from anpr_edge.inference.runtime.base import (
    DEVICES,
    HINTS,
    ONNX_DEVICES,
    OPENVINO_DEVICES,
    Backend,
    ShapeSpec,
    model_file,
)


def open_backend(
    stem: Path,
    device: str,
    input_shape: ShapeSpec,
    output_shape: ShapeSpec,
    cache_dir: Path | None = None,
    hint: str = "latency",
) -> Backend:
    """Load ``stem`` (``.xml`` or ``.onnx`` by device) and check its shapes; ``hint``: :data:`HINTS`."""
    if device not in DEVICES:
        raise ModelLoadError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    if hint not in HINTS:
        raise ModelLoadError(f"unknown performance hint {hint!r}; choose one of {', '.join(HINTS)}")
    path = model_file(stem, device)
    if not path.is_file():
        raise ModelLoadError(f"{path}: model file not found")
    if device in ONNX_DEVICES:
        from anpr_edge.inference.runtime.onnx import OnnxBackend

        return OnnxBackend(path, ONNX_DEVICES[device], input_shape, output_shape, hint)
    from anpr_edge.inference.runtime.openvino import OpenVinoBackend

    return OpenVinoBackend(path, OPENVINO_DEVICES[device], input_shape, output_shape, cache_dir, HINTS[hint])
