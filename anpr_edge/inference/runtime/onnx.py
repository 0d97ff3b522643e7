"""ONNX Runtime backend (the CUDA path for NVIDIA boxes): the only module that imports onnxruntime."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from anpr_edge.errors import ModelLoadError
from anpr_edge.inference.runtime.base import ShapeSpec, check_shape

logger = logging.getLogger(__name__)


def _dims(shape: list[object]) -> tuple[int | None, ...]:
    return tuple(d if isinstance(d, int) and d > 0 else None for d in shape)


class OnnxBackend:
    def __init__(
        self, path: Path, providers: list[str], input_shape: ShapeSpec, output_shape: ShapeSpec, hint: str = "latency"
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelLoadError("onnxruntime is not installed: pip install 'anpr-edge[cuda]' (or [onnx])") from None
        missing = [p for p in providers if p not in ort.get_available_providers()]
        if missing:
            raise ModelLoadError(
                f"{path}: ONNX Runtime has no {', '.join(missing)} here (available: "
                f"{', '.join(ort.get_available_providers())}); install onnxruntime-gpu for --device cuda"
            )
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if hint == "throughput" and providers == ["CPUExecutionProvider"]:
            # Several cameras' inferences side by side, one thread each, as OpenVINO's throughput hint does.
            opts.intra_op_num_threads = 1
        self.intra_op_threads = opts.intra_op_num_threads  # 0: ONNX Runtime's default, every core
        try:
            self._session = ort.InferenceSession(str(path), sess_options=opts, providers=providers)
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelLoadError(f"{path}: cannot load ONNX model ({first[:200]})") from None
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelLoadError(f"{path}: expected 1 input and 1 output, found {len(inputs)}/{len(outputs)}")
        check_shape(path, "input", input_shape, _dims(inputs[0].shape))
        check_shape(path, "output", output_shape, _dims(outputs[0].shape))
        self._input = inputs[0].name
        self.device = self._session.get_providers()[0]
        self.precision = "f32"
        logger.info("loaded %s with ONNX Runtime on %s (%s)", path.name, self.device, hint)

    def infer(self, x: np.ndarray) -> np.ndarray:
        out = self._session.run(None, {self._input: np.ascontiguousarray(x, dtype=np.float32)})
        return np.asarray(out[0])
