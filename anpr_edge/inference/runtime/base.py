"""The runtime seam: a backend runs one model on one device and knows nothing of plates.

``factory.open_backend`` picks OpenVINO (``auto``, ``cpu``, ``gpu``, ``npu``) or ONNX Runtime (``cuda``,
``onnx-cpu``) and checks the model's input and output against what its metadata promises.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Protocol

import numpy as np

from anpr_edge.errors import ModelLoadError, PrecisionError

OPENVINO_DEVICES = {"auto": "AUTO", "cpu": "CPU", "gpu": "GPU", "npu": "NPU"}
ONNX_DEVICES = {"cuda": ["CUDAExecutionProvider"], "onnx-cpu": ["CPUExecutionProvider"]}
DEVICES = tuple(OPENVINO_DEVICES) + tuple(ONNX_DEVICES)
#: OpenVINO performance hints: ``latency`` runs one inference on every core (the fastest frame, one camera);
#: ``throughput`` runs several inferences side by side, a core or so each (the most frames per second
#: over several cameras). ONNX Runtime on the CPU (``onnx-cpu``) gets the same with one thread per
#: inference; with CUDA the hint changes nothing.
HINTS = {"latency": "LATENCY", "throughput": "THROUGHPUT"}


#: Inference precision: ``f32`` (the reference), ``bf16`` (OpenVINO's CPU plugin, native on CPUs with AVX512-BF16
#: or AMX), ``int8`` (the model's NNCF-quantized copy ``<stem>.int8.xml``, ``python -m
#: anpr_edge.training.quantize``); ``auto``: what the model's metadata records as measured best on the CPU
#: (``cpu_precision``; models/README.md, "Precision"). A GPU keeps its own default (f16); ONNX Runtime runs f32.
PRECISIONS = ("auto", "f32", "bf16", "int8")


#: The CPU instruction sets that make a precision fast (without them bf16 is emulated, int8 gains little).
NATIVE = {"bf16": ("avx512_bf16", "amx_bf16"), "int8": ("avx512_vnni", "avx_vnni", "amx_int8")}


def parse_cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The first CPU's ``flags`` in ``/proc/cpuinfo`` text (empty where there is none)."""
    line = next((ln for ln in cpuinfo.splitlines() if ln.split(":")[0].strip() == "flags"), "")
    return frozenset(line.partition(":")[2].split())


@functools.cache
def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """This machine's CPU flags (:func:`parse_cpu_flags`; empty without ``/proc/cpuinfo``), read once: every
    model load asks."""
    try:
        return parse_cpu_flags(cpuinfo.read_text())
    except OSError:
        return frozenset()


#: How the quantized copy of ``<stem>.xml`` is named.
INT8_SUFFIX = ".int8.xml"


def int8_file(stem: Path) -> Path:
    """``models/plate_detector`` (or ``.xml``) → ``models/plate_detector.int8.xml``, the model's quantized copy."""
    return stem.with_name(stem.with_suffix("").name + INT8_SUFFIX)


def resolve_precision(asked: str, measured: str, device: str, flags: frozenset[str] | None = None) -> str:
    """The precision a model runs at: ``asked``, or for ``auto`` the ``measured`` choice of its metadata where
    this CPU (``flags``, default: this machine's) runs it natively, f32 where it does not. The choice is the
    CPU's: on ``gpu`` and ``npu`` ``auto`` keeps f32 weights and the device its own default."""
    if asked not in PRECISIONS:
        raise PrecisionError(f"unknown precision {asked!r}; choose one of {', '.join(PRECISIONS)}")
    precision = measured if asked == "auto" else asked
    if asked == "auto" and device not in ("cpu", "auto"):
        return "f32"
    if asked == "auto" and precision in NATIVE:
        have = cpu_flags() if flags is None else flags
        precision = precision if have & set(NATIVE[precision]) else "f32"
    if device in ONNX_DEVICES and precision != "f32":
        if asked == "auto":
            return "f32"
        raise PrecisionError(f"precision {precision} needs an OpenVINO device (auto, cpu, gpu, npu), not {device}")
    return precision


def auto_hint(cameras: int) -> str:
    """The hint ``models.performance: auto`` picks for a daemon with ``cameras`` enabled cameras: latency
    for one (each frame sooner), throughput for several (more frames served; ``anpr-edge bench --cameras``)."""
    return "latency" if cameras <= 1 else "throughput"


#: Expected shape: ints must match, None is free (a dynamic batch, say). The first entry is the input.
ShapeSpec = tuple[int | None, ...]


class Backend(Protocol):
    """One compiled model. ``infer`` is safe to call from several threads at once."""

    device: str  # what actually runs it, e.g. "CPU" or "CUDAExecutionProvider"
    precision: str  # f32, bf16 or int8 on the CPU; "device default" elsewhere (a GPU's f16)

    def infer(self, x: np.ndarray) -> np.ndarray: ...


def model_file(stem: Path, device: str, precision: str = "f32") -> Path:
    """The file a device needs: ``.xml`` for OpenVINO (``.int8.xml`` at ``int8``), ``.onnx`` for ONNX Runtime."""
    if stem.suffix not in ("", ".xml", ".onnx"):
        return stem
    if precision == "int8":
        return int8_file(stem)
    return stem.with_suffix(".onnx" if device in ONNX_DEVICES else ".xml")


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
