"""Per-camera recognition chain: detect → OCR (every n-th frame) → track and vote → events.

The models are shared between cameras; each camera has its own :class:`CameraPipeline` (tracker,
event gate). Timing is injected: ``process(frame, t)`` with ``t`` the frame's stream time.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.core.geometry import iou
from anpr_edge.core.results import Detection, PlateEvent, PlateRead
from anpr_edge.inference.detector import PlateDetector, decode
from anpr_edge.inference.ocr import CharThresholds, PlateOCR
from anpr_edge.inference.ocr_core import box_variant
from anpr_edge.inference.verify import Verifier
from anpr_edge.recognition.events import EventConfig, EventGate
from anpr_edge.recognition.motion import MotionGate
from anpr_edge.recognition.tracking import Tracker, TrackerConfig


@dataclass(frozen=True, slots=True)
class RecognitionSettings:
    """Every threshold and window of the chain (CLI options and the YAML ``recognition`` section)."""

    conf: float | None = None  # None: the detector's own operating point (plate_detector.json ``conf``)
    iou: float = 0.5
    match_iou: float = 0.3
    max_misses: int = 5
    ocr_every_n: int = 1
    ocr_variants: int = 9
    verify_zoom: float = 5.0  # second look at each box (inference.verify); 0: off
    verify_conf: float = 0.4
    motion_threshold: float = 8.0  # idle frames (motion.MotionGate): grey levels; 0: detector on every frame
    idle_check_s: float = 1.0
    char_conf_thr: float = 0.5
    char_conf_thr_letters: float | None = None
    char_conf_thr_digits: float | None = None
    min_reads: int = 3
    emit_conf: float = 0.8
    dedup_window_ms: float = 200.0
    repeat_window_s: float = 10.0

    @property
    def thresholds(self) -> CharThresholds:
        return CharThresholds.from_options(self.char_conf_thr, self.char_conf_thr_letters, self.char_conf_thr_digits)


#: The defaults, for code that has no settings of its own (model loading, export scoring).
DEFAULTS = RecognitionSettings()


@dataclass
class StageTimes:
    """Milliseconds per stage, per frame (for ``anpr-edge bench``)."""

    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, stage: str, ms: float) -> None:
        self.samples[stage].append(ms)


@dataclass(frozen=True, slots=True)
class Models:
    """The compiled models, loaded once and shared by every camera."""

    detector: PlateDetector
    ocr: PlateOCR
    verifier: Verifier | None = None  # the detector at the second look's input (None: fixed-size model)

    @classmethod
    def load(
        cls,
        detector: Path,
        ocr: Path,
        device: str,
        cache_dir: Path | None = None,
        detector_input: tuple[int, int] | None = None,
        hint: str = "latency",
    ) -> Models:
        """``hint``: OpenVINO's performance hint (:data:`~anpr_edge.inference.backend.HINTS`)."""
        return cls(
            PlateDetector.load(detector, device, DEFAULTS.conf, DEFAULTS.iou, cache_dir, detector_input, hint),
            PlateOCR.load(ocr, device, CharThresholds(), cache_dir, hint),
            Verifier.load(detector, device, cache_dir, hint),
        )

    def verified(
        self, frame: np.ndarray, detections: list[Detection], settings: RecognitionSettings
    ) -> list[Detection]:
        """``detections`` that the second look (:mod:`anpr_edge.inference.verify`) confirms."""
        if self.verifier is None or settings.verify_zoom <= 0 or not detections:
            return detections
        return self.verifier(frame, detections, settings.verify_zoom, settings.verify_conf)


def inside(poly: np.ndarray | None, box: tuple[float, float, float, float]) -> bool:
    """True when the box centre lies in the ROI polygon (or there is no ROI)."""
    if poly is None:
        return True
    c = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    return cv2.pointPolygonTest(poly, c, False) >= 0


def roi_view(frame: np.ndarray, poly: np.ndarray | None) -> np.ndarray:
    """The part of the frame inside the ROI polygon's bounding rectangle (the whole frame without one)."""
    if poly is None:
        return frame
    h, w = frame.shape[:2]
    x, y, rw, rh = cv2.boundingRect(poly.reshape(-1, 2))
    x1, y1, x2, y2 = max(x, 0), max(y, 0), min(x + rw, w), min(y + rh, h)
    return frame[y1:y2, x1:x2] if x2 - x1 >= 32 and y2 - y1 >= 18 else frame


def touches_edge(box: tuple[float, float, float, float], w: int, h: int, margin: float = 2.0) -> bool:
    """True when the box reaches within ``margin`` px of the frame border."""
    return box[0] <= margin or box[1] <= margin or box[2] >= w - margin or box[3] >= h - margin


class CameraPipeline:
    def __init__(
        self,
        camera: str,
        models: Models,
        settings: RecognitionSettings,
        roi: Sequence[tuple[float, float]] | None = None,
        new_id: Callable[[], str] | None = None,
        timings: StageTimes | None = None,
    ) -> None:
        self.camera, self.models, self.settings = camera, models, settings
        self.roi = np.array(roi, np.float32).reshape(-1, 1, 2) if roi else None
        self.tracker = Tracker(TrackerConfig(settings.match_iou, settings.max_misses))
        self.gate = EventGate(
            EventConfig(
                min_reads=settings.min_reads,
                emit_conf=settings.emit_conf,
                dedup_window_ms=settings.dedup_window_ms,
                repeat_window_s=settings.repeat_window_s,
            ),
            camera,
            models.ocr.spec.alphabet,
            settings.thresholds,
            new_id,
        )
        self.timings = timings
        self.motion = MotionGate(settings.motion_threshold, settings.idle_check_s)
        self.idle_frames = 0  # frames the detector skipped: nothing changed, no track open
        self.frame_index = 0
        self.ocr_rounds = 0  # frames OCR ran on: picks the box variant
        self.frame_size = (0, 0)
        self.last_detections: list[Detection] = []
        self.last_reads: list[PlateRead | None] = []
        self.last_crops: dict[int, np.ndarray] = {}  # detection index -> the crop its read came from
        self.confirmed: list[tuple[float, float, float, float]] = []  # last frame's boxes the second look kept

    def _timed(self, stage: str, start: float) -> float:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings.add(stage, (now - start) * 1000.0)
        return now

    def _verified(self, frame: np.ndarray, dets: list[Detection]) -> list[Detection]:
        """The second look, once per track: a box that continues a box confirmed in the previous frame
        (``match_iou``) is kept without another look; the others are looked at."""
        s = self.settings
        known = [any(iou(d.box, b) >= s.match_iou for b in self.confirmed) for d in dets]
        fresh = [d for d, k in zip(dets, known, strict=True) if not k]
        kept = {id(d) for d in self.models.verified(frame, fresh, s)}
        out = [d for d, k in zip(dets, known, strict=True) if k or id(d) in kept]
        self.confirmed = [d.box for d in out]
        return out

    def process(self, frame: np.ndarray, t: float) -> list[PlateEvent]:
        """Run one frame taken at stream time ``t`` (seconds); return the events it completes."""
        s = self.settings
        t0 = time.perf_counter()
        # A plate counts only inside the ROI: motion elsewhere need not wake the detector.
        idle = self.motion.idle(roi_view(frame, self.roi), t, following=bool(self.tracker.tracks))
        t_checked = self._timed("motion", t0)
        if idle:
            self.idle_frames += 1
            self.last_detections, self.last_reads, self.last_crops = [], [], {}
            return []
        det = self.models.detector
        x, lb = det.preprocess(frame)
        t1 = self._timed("preprocess", t_checked)
        raw = det.backend.infer(x)
        t2 = self._timed("detector", t1)
        h, w = frame.shape[:2]
        self.frame_size = (w, h)
        conf = det.conf if s.conf is None else s.conf
        dets = [d for d in decode(raw, lb, w, h, conf, s.iou) if inside(self.roi, d.box)]
        t_decoded = self._timed("decode", t2)
        dets = self._verified(frame, dets)
        t3 = self._timed("verify", t_decoded)
        reads: list[PlateRead | None] = [None] * len(dets)
        crops: list[np.ndarray] = []
        # Plates cut by the frame edge are tracked but not read: a half plate reads as a wrong plate.
        readable = [i for i, d in enumerate(dets) if not touches_edge(d.box, w, h)]
        if readable and self.frame_index % s.ocr_every_n == 0:
            ocr = self.models.ocr
            chosen = [dets[i] for i in readable]
            # One crop per plate per frame; its box variant cycles frame by frame, so the tracker's
            # per-character vote over frames does what the ocr_variants vote does on a single image.
            k = self.ocr_rounds % s.ocr_variants
            crops = ocr.crops(frame, [Detection(box_variant(d.box, k), d.score) for d in chosen])
            for i, r in zip(readable, ocr.read_crops(crops, chosen, s.thresholds), strict=True):
                reads[i] = r
            self.ocr_rounds += 1
        t4 = self._timed("ocr", t3)
        ended = self.tracker.update(dets, reads, t)
        events = self.gate.update(self.tracker.tracks, ended, t, self.frame_size)
        self._timed("tracking", t4)
        self.frame_index += 1
        self.last_detections, self.last_reads = dets, reads
        self.last_crops = dict(zip(readable, crops, strict=True)) if crops else {}
        return events

    def flush(self, t: float) -> list[PlateEvent]:
        """End every open track (end of stream or shutdown) and return their events."""
        return self.gate.update([], self.tracker.close_all(), t, self.frame_size)
