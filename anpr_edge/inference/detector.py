"""YOLO11 plate detector: letterbox → infer → decode + NMS → boxes in frame pixels.

The pure functions (:func:`letterbox`, :func:`decode`) take and return numpy; :class:`PlateDetector`
glues them to a backend. Works for any input shape the metadata gives (512x288 for 16:9 cameras) or a user picks.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.core.geometry import intersection
from anpr_edge.core.results import Corners, Detection
from anpr_edge.errors import InputError
from anpr_edge.inference.contract import DetectorSpec, load_spec
from anpr_edge.inference.runtime.base import Backend, ShapeMismatchError, resolve_precision
from anpr_edge.inference.runtime.factory import open_backend


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a frame was fitted into the model input: ``input = frame * scale + (pad_x, pad_y)``."""

    scale: float
    pad_x: float
    pad_y: float


def parse_size(text: str) -> tuple[int, int]:
    """``"512x288"`` → ``(512, 288)``; ``ValueError`` for anything else."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m or int(m[1]) <= 0 or int(m[2]) <= 0:
        raise ValueError(f"expected WIDTHxHEIGHT such as 512x288, got {text!r}")
    return int(m[1]), int(m[2])


def fit(w: int, h: int, width: int, height: int) -> tuple[float, int, int, int, int]:
    """How a ``w x h`` frame fits a ``width x height`` input keeping its aspect ratio: the scale, the resized
    size and the (centred) padding on the left and top."""
    if h == 0 or w == 0:
        raise InputError(f"empty frame of size {w}x{h}")
    r = min(width / w, height / h)
    nw, nh = max(round(w * r), 1), max(round(h * r), 1)  # a 2x4000 frame still gives a 1 px row
    return r, nw, nh, round((width - nw) / 2 - 0.1), round((height - nh) / 2 - 0.1)


def letterbox(frame: np.ndarray, width: int, height: int, pad_value: int = 114) -> tuple[np.ndarray, Letterbox]:
    """Resize keeping the aspect ratio and pad (centred) to ``height x width``."""
    h, w = frame.shape[:2]
    r, nw, nh, left, top = fit(w, h, width, height)
    resized = frame if (nw, nh) == (w, h) else cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_LINEAR)
    out = cv2.copyMakeBorder(
        resized, top, height - nh - top, left, width - nw - left, cv2.BORDER_CONSTANT, value=(pad_value,) * 3
    )
    return out, Letterbox(r, float(left), float(top))


def to_input(img: np.ndarray, scale: float) -> np.ndarray:
    """BGR ``H x W x 3`` uint8 → RGB ``1 x 3 x H x W`` float32 times ``scale`` (one C++ pass)."""
    return np.asarray(cv2.dnn.blobFromImage(img, scalefactor=scale, swapRB=True), dtype=np.float32)


class InputBuffer:
    """The detector's input made again and again in the same memory, as :func:`letterbox` then
    :func:`to_input` make it: the letterboxed frame (uint8, its padding written once) and the model's tensor.

    A fresh 1.7 MB tensor for every frame is paged in each time: alone, on a 512x288 input, ``blobFromImage``
    took about 2.5 ms and filling this tensor channel by channel 0.3 ms; in the pipeline preprocessing takes
    0.25-0.5 ms a frame less (docs/benchmarks.md). The tensor is overwritten by the next :meth:`fill`: use it
    before then. One buffer per thread."""

    def __init__(self, width: int, height: int, pad_value: int) -> None:
        self.pad_value = pad_value
        self.image = np.full((height, width, 3), pad_value, np.uint8)
        self.tensor = np.empty((1, 3, height, width), np.float32)
        self._placed: tuple[int, int, int, int] | None = None  # (nw, nh, left, top) of the last frame

    def fill(self, frame: np.ndarray, scale: float) -> tuple[np.ndarray, Letterbox]:
        """The tensor of ``frame`` (BGR uint8) times ``scale``, and how the frame was fitted into it."""
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise InputError(f"the detector takes BGR frames of uint8, got {frame.dtype} of shape {frame.shape}")
        height, width = self.image.shape[:2]
        h, w = frame.shape[:2]
        r, nw, nh, left, top = fit(w, h, width, height)
        if self._placed != (nw, nh, left, top):  # another frame size: the padding moves
            self.image[:] = self.pad_value
            self._placed = (nw, nh, left, top)
        inner = self.image[top : top + nh, left : left + nw]
        if (nw, nh) == (w, h):
            inner[:] = frame
        else:
            cv2.resize(frame, (nw, nh), dst=inner, interpolation=cv2.INTER_LINEAR)
        for c in range(3):  # BGR → RGB planes, times the scale
            np.multiply(self.image[:, :, 2 - c], np.float32(scale), out=self.tensor[0, c], casting="unsafe")
        return self.tensor, Letterbox(r, float(left), float(top))


#: A box whose area lies this much inside a box of higher score is dropped: a second box on part of a plate
#: (its region, its right half), which NMS keeps because the two overlap little by IoU. A plate holds no plate.
INSIDE = 0.7


def not_inside(rects: np.ndarray, order: list[int]) -> list[int]:
    """``order`` (indices of ``rects``, ``x, y, w, h`` rows, best first) without each box whose area lies
    :data:`INSIDE` or more inside a box kept before it."""
    boxes = [(float(x), float(y), float(x + w), float(y + h)) for x, y, w, h in rects]
    kept: list[int] = []
    for i in order:
        area = float(rects[i, 2] * rects[i, 3])
        if not any(intersection(boxes[i], boxes[j]) >= INSIDE * area for j in kept):
            kept.append(i)
    return kept


def decode(
    output: np.ndarray,
    lb: Letterbox,
    frame_w: int,
    frame_h: int,
    conf: float,
    iou: float,
    max_det: int = 50,
    classes: int = 1,
) -> list[Detection]:
    """Turn a YOLO ``(1, 4 + classes + 3k, anchors)`` output (centre x/y, w/h in input pixels, class scores,
    then x, y, visibility of ``k`` keypoints) into NMS-filtered detections in frame pixels, clipped to the
    frame, best first, none lying mostly inside a better one (:func:`not_inside`). With 4 keypoints each
    detection carries the plate's corners (TL, TR, BR, BL)."""
    if output.ndim != 3 or output.shape[0] != 1 or output.shape[1] < 4 + classes:
        raise ValueError(f"expected (1, 4+classes[+3k], anchors), got {output.shape}")
    k, extra = divmod(output.shape[1] - 4 - classes, 3)
    if extra or k not in (0, 4):
        raise ValueError(f"expected 0 or 4 keypoints after {4 + classes} values, got {output.shape[1]} values")
    pred = output[0]
    scores = pred[4 : 4 + classes].max(axis=0)
    keep = scores >= conf
    if not keep.any():
        return []
    cx, cy, bw, bh = pred[:4, keep]
    s = scores[keep]
    x1 = (cx - bw / 2 - lb.pad_x) / lb.scale
    y1 = (cy - bh / 2 - lb.pad_y) / lb.scale
    rects = np.stack([x1, y1, bw / lb.scale, bh / lb.scale], axis=1)
    kpts = pred[4 + classes :, keep].reshape(k, 3, -1) if k else None
    idx = cv2.dnn.NMSBoxes(rects.tolist(), s.tolist(), conf, iou)
    best_first = sorted((int(i) for i in np.array(idx).reshape(-1)), key=lambda i: -float(s[i]))
    out: list[Detection] = []
    for i in not_inside(rects, best_first)[:max_det]:
        bx1, by1 = float(np.clip(rects[i, 0], 0, frame_w)), float(np.clip(rects[i, 1], 0, frame_h))
        bx2 = float(np.clip(rects[i, 0] + rects[i, 2], 0, frame_w))
        by2 = float(np.clip(rects[i, 1] + rects[i, 3], 0, frame_h))
        if bx2 - bx1 >= 1 and by2 - by1 >= 1:
            out.append(Detection((bx1, by1, bx2, by2), float(s[i]), None if kpts is None else _corners(kpts, i, lb)))
    return out


def _corners(kpts: np.ndarray, i: int, lb: Letterbox) -> Corners:
    """Keypoints ``(4, 3, n)`` of detection ``i`` in frame pixels (not clipped: a corner may lie outside)."""
    xs = (kpts[:, 0, i] - lb.pad_x) / lb.scale
    ys = (kpts[:, 1, i] - lb.pad_y) / lb.scale
    p = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
    return (p[0], p[1], p[2], p[3])


class PlateDetector:
    """``detector(frame) -> list[Detection]``."""

    def __init__(self, backend: Backend, spec: DetectorSpec, conf: float | None, iou: float) -> None:
        self.backend, self.spec, self.iou = backend, spec, iou
        self.conf = spec.conf if conf is None else conf  # None: the model's own operating point
        self._local = threading.local()  # each camera thread fills its own InputBuffer

    @classmethod
    def load(
        cls,
        stem: Path,
        device: str,
        conf: float | None,
        iou: float,
        cache_dir: Path | None = None,
        input_size: tuple[int, int] | None = None,
        hint: str = "latency",
        precision: str = "auto",
    ) -> PlateDetector:
        """Load and compile; ``input_size`` (width, height) overrides the metadata's input, which a model
        exported with a dynamic input (``export_detector``) allows at any multiple of its stride."""
        spec = load_spec(stem, "plate_detector")
        assert isinstance(spec, DetectorSpec)
        resized = input_size is not None and input_size != (spec.input_width, spec.input_height)
        if input_size is not None and resized:
            spec = replace(spec, input_width=input_size[0], input_height=input_size[1])
            spec.validate(f"detector input {input_size[0]}x{input_size[1]}")
        try:
            shapes = (1, 3, spec.input_height, spec.input_width), (1, spec.outputs, None)
            run_at = resolve_precision(precision, spec.cpu_precision, device)
            backend = open_backend(stem, device, *shapes, cache_dir, hint, run_at)
        except ShapeMismatchError as exc:
            if not resized:
                raise
            raise ShapeMismatchError(
                f"detector input {spec.input_width}x{spec.input_height}: {exc} (this model's input is fixed; "
                "export it again with export_detector to choose the size at run time)"
            ) from None
        return cls(backend, spec, conf, iou)

    def preprocess(self, frame: np.ndarray) -> tuple[np.ndarray, Letterbox]:
        """The model's input for ``frame``: this thread's :class:`InputBuffer`, valid until its next call."""
        buf = getattr(self._local, "buffer", None)
        if buf is None:
            s = self.spec
            buf = self._local.buffer = InputBuffer(s.input_width, s.input_height, s.pad_value)
        return buf.fill(frame, self.spec.scale)

    def postprocess(
        self, raw: np.ndarray, lb: Letterbox, frame_w: int, frame_h: int, conf: float | None, iou: float | None
    ) -> list[Detection]:
        """Detections in frame pixels from the model's output (``None``: this detector's conf / iou)."""
        c, i = self.conf if conf is None else conf, self.iou if iou is None else iou
        return decode(raw, lb, frame_w, frame_h, c, i, classes=len(self.spec.classes))

    def __call__(self, frame: np.ndarray, conf: float | None = None, iou: float | None = None) -> list[Detection]:
        x, lb = self.preprocess(frame)
        return self.postprocess(self.backend.infer(x), lb, frame.shape[1], frame.shape[0], conf, iou)
