"""OpenVINO backend: the only module that imports openvino.

Compiles once (latency or throughput hint), reshapes a dynamic input to the metadata's size, checks shapes at
load, and keeps one infer request per calling thread so cameras share one compiled model.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from anpr_edge.errors import ModelLoadError
from anpr_edge.inference.runtime.base import INT8_SUFFIX, ShapeSpec, check_shape

logger = logging.getLogger(__name__)


def telemetry_opt_out() -> None:
    """Record the user's telemetry opt-out the way ``opt_in_out --opt_out`` does (``~/intel/openvino_telemetry``
    = ``0``), so no OpenVINO tool ever asks or sends from this user. Does nothing if a choice exists."""
    consent = Path.home() / "intel" / "openvino_telemetry"
    if consent.exists():
        return
    try:
        consent.parent.mkdir(parents=True, exist_ok=True)
        consent.write_text("0")
    except OSError as exc:
        logger.debug("cannot write %s: %s", consent, exc)


def cpu_precision_config(device: str, precision: str = "f32") -> dict[str, object]:
    """Compile options that pin the CPU's inference precision (``f32`` or ``bf16``), for ``CPU`` and for
    ``AUTO``, which may pick the CPU (a GPU keeps its own default, f16). Pinned, because OpenVINO's CPU plugin
    otherwise picks bf16 by itself on CPUs with native bf16: the precision is chosen by measurement instead."""
    if "CPU" in device.upper() or device.upper().startswith("AUTO"):
        return {"DEVICE_PROPERTIES": {"CPU": {"INFERENCE_PRECISION_HINT": precision}}}
    return {}


def _dims(partial_shape: object) -> tuple[int | None, ...]:
    return tuple(None if d.is_dynamic else d.get_length() for d in partial_shape)  # type: ignore[attr-defined]


def _first_line(exc: Exception) -> str:
    """OpenVINO raises RuntimeError subclasses with long C++ traces: their first line, or the type's name."""
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


_reads = threading.local()  # .models: path -> the model as read, while reading_once() is open on this thread


@contextlib.contextmanager
def reading_once() -> Iterator[None]:
    """Within: a model file loaded again on this thread is not read again; its backend compiles a copy of the first
    read (one mapping of the weights: the detector's second look is the same file at another input)."""
    outer = getattr(_reads, "models", None)
    _reads.models = outer if outer is not None else {}
    try:
        yield
    finally:
        _reads.models = outer


def _read_file(core: object, path: Path) -> Any:
    models: dict[Path, Any] | None = getattr(_reads, "models", None)
    key = path.resolve()
    if models is None or key not in models:
        model = core.read_model(str(path))  # type: ignore[attr-defined]
        if models is None:
            return model
        models[key] = model
    return models[key].clone()


def _read(core: object, path: Path, input_shape: ShapeSpec, output_shape: ShapeSpec) -> object:
    """Read the model, check its one input and output, and fix what the metadata fixes of a dynamic input."""
    import openvino as ov

    try:
        model = _read_file(core, path)
    except Exception as exc:
        raise ModelLoadError(f"{path}: cannot read OpenVINO model ({_first_line(exc)})") from None
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelLoadError(f"{path}: expected 1 input and 1 output, found {len(model.inputs)}/{len(model.outputs)}")
    found_in = _dims(model.input(0).get_partial_shape())
    check_shape(path, "input", input_shape, found_in)
    if any(d is None for d, e in zip(found_in, input_shape, strict=True) if e is not None):
        # A dynamic export: fix the dimensions the metadata fixes, keep the others dynamic.
        model.reshape({0: ov.PartialShape([e if e is not None else -1 for e in input_shape])})
    check_shape(path, "output", output_shape, _dims(model.output(0).get_partial_shape()))
    return model


def _property(compiled: object, name: str, default: str) -> str:
    """A compiled model's property as text (a list joined by commas), or ``default`` where the device has none."""
    try:
        value = compiled.get_property(name)  # type: ignore[attr-defined]
    except Exception:
        return default
    return ",".join(value) if isinstance(value, list) else str(value)


class OpenVinoBackend:
    def __init__(
        self,
        path: Path,
        device: str,
        input_shape: ShapeSpec,
        output_shape: ShapeSpec,
        cache_dir: Path | None,
        hint: str = "LATENCY",
        cpu_precision: str = "f32",
    ) -> None:
        telemetry_opt_out()
        import openvino as ov

        core = ov.Core()
        model = _read(core, path, input_shape, output_shape)
        precision = cpu_precision_config(device, cpu_precision)
        config: dict[str, object] = {"PERFORMANCE_HINT": hint, **precision}
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            config["CACHE_DIR"] = str(cache_dir)
        try:
            self._compiled = core.compile_model(model, device, config)
        except Exception as exc:
            raise ModelLoadError(f"{path}: cannot compile for device {device} ({_first_line(exc)})") from None
        chosen = self.device = _property(self._compiled, "EXECUTION_DEVICES", device)
        # What the device took: "LATENCY" from the CPU, "PerformanceMode.LATENCY" from AUTO.
        self.hint = _property(self._compiled, "PERFORMANCE_HINT", hint).rsplit(".", 1)[-1]
        self._local = threading.local()
        self._warm_up()
        kind = "int8" if path.name.endswith(INT8_SUFFIX) else cpu_precision
        self.precision = kind if "CPU" in chosen else "device default"
        pinned = f", CPU in {kind}" if "CPU" in chosen and precision else ""
        logger.info("loaded %s on %s (asked for %s%s, %s)", path.name, chosen, device, pinned, hint.lower())

    def _warm_up(self) -> None:
        """One inference here, on the loading thread, before any camera thread calls ``infer``.

        The first ``tensor.data`` access in a process runs a C++ static initialiser in OpenVINO's
        Python binding that needs the GIL; two camera threads making their first inference at the
        same moment deadlocked on it (one holds the GIL waiting on the init guard, the other holds
        the guard waiting on the GIL — seen as a daemon that never pinged the watchdog). It also
        moves the first-inference cost out of the first camera frame."""
        dims = _dims(self._compiled.input(0).get_partial_shape())
        self.infer(np.zeros([d if d is not None else 1 for d in dims], np.float32))

    def infer(self, x: np.ndarray) -> np.ndarray:
        req = getattr(self._local, "request", None)
        if req is None:
            req = self._local.request = self._compiled.create_infer_request()
        # share_inputs: OpenVINO reads the array in place (no copy of a 1.7 MB frame tensor); the call is
        # synchronous, so the array outlives its use.
        req.infer({0: np.ascontiguousarray(x, dtype=np.float32)}, share_inputs=True)
        return np.array(req.get_output_tensor(0).data, copy=True)
