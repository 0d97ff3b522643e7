"""Per-camera recognition chain: motion gate → detect → rectify and read (every n-th frame) → track and vote
→ events.

The models are shared between cameras; each camera has its own :class:`CameraPipeline` (tracker, event
gate). Timing is injected: ``run(frame, t)`` with ``t`` the frame's stream time returns a
:class:`~anpr_edge.core.results.FrameResult`.
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

import cv2
import numpy as np

from anpr_edge.core.geometry import iou
from anpr_edge.core.plates import UNREAD
from anpr_edge.core.results import Detection, FrameResult, PlateEvent, PlateRead, TrackView
from anpr_edge.inference.models import Models
from anpr_edge.inference.ocr import crop_kind
from anpr_edge.inference.rectify import TWO_ROW_ASPECT, corner_box, plate_aspect
from anpr_edge.recognition.events import EventConfig, EventGate
from anpr_edge.recognition.motion import MotionGate
from anpr_edge.recognition.second_opinion import with_second_opinions
from anpr_edge.recognition.settings import RecognitionSettings
from anpr_edge.recognition.tracking import Tracker, TrackerConfig

logger = logging.getLogger(__name__)


@dataclass
class StageTimes:
    """Milliseconds per stage, per frame (for ``anpr-edge bench``)."""

    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, stage: str, ms: float) -> None:
        self.samples[stage].append(ms)


def inside(poly: np.ndarray | None, box: tuple[float, float, float, float]) -> bool:
    """True when the box centre lies in the ROI polygon (or there is no ROI)."""
    if poly is None:
        return True
    c = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    return cv2.pointPolygonTest(poly, c, False) >= 0


def roi_rect(shape: tuple[int, ...], poly: np.ndarray | None) -> tuple[int, int, int, int]:
    """The ROI polygon's bounding rectangle ``(x1, y1, x2, y2)`` clipped to the frame; the whole frame without
    an ROI, or when the rectangle is under 32x18 px."""
    h, w = shape[:2]
    if poly is None:
        return 0, 0, w, h
    x, y, rw, rh = cv2.boundingRect(poly.reshape(-1, 2))
    x1, y1, x2, y2 = max(x, 0), max(y, 0), min(x + rw, w), min(y + rh, h)
    return (x1, y1, x2, y2) if x2 - x1 >= 32 and y2 - y1 >= 18 else (0, 0, w, h)


def roi_view(frame: np.ndarray, poly: np.ndarray | None) -> np.ndarray:
    """The part of the frame inside the ROI polygon's bounding rectangle (the whole frame without one)."""
    x1, y1, x2, y2 = roi_rect(frame.shape, poly)
    whole = (x1, y1, x2, y2) == (0, 0, frame.shape[1], frame.shape[0])
    return frame if whole else frame[y1:y2, x1:x2]


def touches_edge(box: tuple[float, float, float, float], w: int, h: int, margin: float = 2.0) -> bool:
    """True when the box reaches within ``margin`` px of the frame border."""
    return box[0] <= margin or box[1] <= margin or box[2] >= w - margin or box[3] >= h - margin


def fault_frame_width() -> int | None:
    """Fault injection for the skip tests: ``ANPR_EDGE_FAULT=frame:W`` makes every frame W px wide fail in
    the pipeline, as a frame no stage can take would. Unset in production."""
    spec = os.environ.get("ANPR_EDGE_FAULT", "")
    return int(spec.split(":", 1)[1]) if spec.startswith("frame:") and spec.split(":", 1)[1].isdigit() else None


def rectifies(s: RecognitionSettings, models: Models) -> bool:
    """Whether plates are read warped level from their corners: ``rectify``; ``auto``, as the reader was trained."""
    return models.ocr.spec.rectified if s.rectify == "auto" else bool(s.rectify)


def corners_if(rectify: bool, dets: list[Detection]) -> list[Detection]:
    """The detections, without their corners unless plates are read from them (:func:`rectifies`)."""
    return dets if rectify else [Detection(d.box, d.score) for d in dets]


def boxed_by_corners(dets: list[Detection]) -> list[Detection]:
    """What a reader of box crops reads of detections a corner model gave corners: each with plausible corners
    boxed by them (:func:`~anpr_edge.inference.rectify.corner_box`: tight where the detector's box is loose or
    cuts the plate), the others by their own box; no corners either way."""
    return [
        Detection(corner_box(d.corners) if d.corners is not None and crop_kind(d) == "corners" else d.box, d.score)
        for d in dets
    ]


def needs_corners(s: RecognitionSettings, models: Models) -> bool:
    """Whether plates read get corners first: to be warped level from them, or, for a reader of box crops, to
    be boxed by them when the models folder has a corner model."""
    return rectifies(s, models) or models.corners is not None


def is_two_row(d: Detection) -> bool:
    """Whether the plate is square (type 1A, motorcycle, trailer), by its plausible corners. A box alone does not
    tell: a single-row plate rolled 15-20 degrees has a box as square as a type 1A plate's."""
    if crop_kind(d) != "corners":
        return False
    assert d.corners is not None
    return plate_aspect(d.corners) < TWO_ROW_ASPECT


def unread_two_row(d: Detection, classes: int) -> PlateRead:
    """The read of a square plate: not read, ``#`` in every position, marked two-row."""
    return PlateRead(UNREAD * 8, ((UNREAD, 0.0),) * 8, np.zeros((8, classes), np.float32), d, "two-row")


@dataclass(frozen=True, slots=True)
class PipelineStats:
    """Counts since the pipeline started."""

    frames: int  # frames the detector ran on
    idle_frames: int  # frames it skipped: nothing moved, no plate followed
    crops_rectified: int  # reader crops warped from plate corners
    crops_fallback: int  # corners implausible: the box was cut instead
    two_row: int  # square plates seen (reported unread)
    updates: int  # event updates sent (a better read of a pass already reported)
    suppressed: int  # ready tracks that joined an earlier pass with nothing better to say
    second_reads: int  # unsure reads read again by the models folder's second reader
    coasted_frames: int  # frames the detector skipped: every plate followed was settled (detect_settled_s)


class CameraPipeline:
    def __init__(
        self,
        camera: str,
        models: Models,
        settings: RecognitionSettings,
        roi: Sequence[tuple[float, float]] | None = None,
        new_id: Callable[[], str] | None = None,
        timings: StageTimes | None = None,
        keep_frames: bool = False,
    ) -> None:
        """``keep_frames``: keep the frame of each track's most sure read for its events (the snapshot store's
        picture; a 1080p frame is 5.9 MiB, so without snapshots none is kept and events carry no frame)."""
        self.camera, self.models, self.settings = camera, models, settings
        self.keep_frames = keep_frames
        self.rectify = rectifies(settings, models)
        self.corners = needs_corners(settings, models)
        if self.rectify:
            source = "the corner model" if models.corners is not None else "the detector"
            logger.info("camera %s: plates read warped level from their corners (%s)", camera, source)
        elif self.corners:
            logger.info("camera %s: plates read from the box around their corners (the corner model)", camera)
        self.roi = np.array(roi, np.float32).reshape(-1, 1, 2) if roi else None
        self.tracker = Tracker(TrackerConfig(settings.match_iou, settings.max_misses))
        self.gate = EventGate(event_config(settings), camera, models.ocr.spec.alphabet, settings.thresholds, new_id)
        self.timings = timings
        self.motion = MotionGate(settings.motion_threshold, settings.idle_check_s)
        self.idle_frames = 0  # frames the detector skipped: nothing changed, no track open
        self.frame_index = 0
        self.ocr_rounds = 0  # frames OCR ran on: picks the crop variant
        self.frame_size = (0, 0)
        self.confirmed: list[tuple[float, float, float, float]] = []  # last frame's boxes the second look kept
        self.crop_kinds = {"corners": 0, "box": 0, "fallback": 0}
        self.two_row = 0
        self.settled_skips = 0  # plate crops not read: their track was settled (settings.settled_every)
        self.second_reads = 0  # unsure reads read again by the second reader (second_opinion)
        self.coasted_frames = 0  # frames the detector skipped: every plate followed was settled
        self.detector_t: float | None = None  # stream time of the detector's last run
        self.last_views: tuple[TrackView, ...] = ()  # the tracks seen on the detector's last frame
        self.best_frames: dict[int, np.ndarray] = {}  # track id -> the frame of its most sure read
        self._fault_width = fault_frame_width()

    @property
    def frames_without_detector(self) -> int:
        """Frames the detector skipped: idle ones and (``detect_settled_s``) those of settled plates."""
        return self.idle_frames + self.coasted_frames

    def stats(self) -> PipelineStats:
        k = self.crop_kinds
        g = self.gate
        return PipelineStats(
            self.frame_index,
            self.idle_frames,
            k["corners"],
            k["fallback"],
            self.two_row,
            g.updates,
            g.suppressed,
            self.second_reads,
            self.coasted_frames,
        )

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
        kept = {id(d) for d in self.models.verified(frame, fresh, s.verify_zoom, s.verify_conf)}
        out = [d for d, k in zip(dets, known, strict=True) if k or id(d) in kept]
        self.confirmed = [d.box for d in out]
        return out

    def _detect(self, frame: np.ndarray, start: float) -> tuple[list[Detection], float]:
        """Detections in frame pixels; with an ROI (and ``roi_detect``) only its rectangle is looked at."""
        s, det = self.settings, self.models.detector
        h, w = frame.shape[:2]
        self.frame_size = (w, h)
        x1, y1, x2, y2 = roi_rect(frame.shape, self.roi) if s.roi_detect else (0, 0, w, h)
        x, lb = det.preprocess(frame[y1:y2, x1:x2])
        t1 = self._timed("preprocess", start)
        raw = det.backend.infer(x)
        t2 = self._timed("detector", t1)
        found = corners_if(self.rectify, det.postprocess(raw, lb, x2 - x1, y2 - y1, s.conf, s.iou))
        dets = [m for m in (d.moved(x1, y1) for d in found) if inside(self.roi, m.box)]
        t3 = self._timed("decode", t2)
        dets = self._verified(frame, dets)
        return dets, self._timed("verify", t3)

    def _read(
        self, frame: np.ndarray, found: list[Detection]
    ) -> tuple[list[Detection], list[PlateRead | None], list[np.ndarray | None]]:
        """One crop per plate per frame (square plates are not read); its variant cycles frame by frame,
        so the tracker's vote over frames does what the ``ocr_variants`` vote does on a single image.
        Plates cut by the frame edge are tracked but not read: a half plate reads as a wrong plate.
        With a corner model, the plates read get their corners from it first: a reader of rectified crops reads
        them warped level, a reader of box crops the box around them (:func:`boxed_by_corners`); the tracker
        keeps the detector's box. An unsure read gets the folder's second reader's opinion
        (:mod:`~anpr_edge.recognition.second_opinion`)."""
        s, ocr = self.settings, self.models.ocr
        dets = list(found)
        reads: list[PlateRead | None] = [None] * len(dets)
        crops: list[np.ndarray | None] = [None] * len(dets)
        w, h = self.frame_size
        if self.frame_index % s.ocr_every_n:
            return dets, reads, crops
        readable = self._unsettled(dets, [i for i, d in enumerate(dets) if not touches_edge(d.box, w, h)])
        if self.corners:
            for i, d in zip(readable, self.models.with_corners(frame, [dets[i] for i in readable]), strict=True):
                dets[i] = d
        for i in [i for i in readable if is_two_row(dets[i])]:
            reads[i] = unread_two_row(dets[i], len(ocr.spec.alphabet))
            self.two_row += 1
        chosen = [i for i in readable if reads[i] is None]
        if not chosen:
            return dets, reads, crops
        k = self.ocr_rounds % s.ocr_variants
        to_read = [dets[i] for i in chosen]
        to_read = to_read if self.rectify else boxed_by_corners(to_read)
        cut = ocr.variant_crops(frame, to_read, k)
        for i, d, crop, r in zip(chosen, to_read, cut, ocr.read_crops(cut, to_read, s.thresholds), strict=True):
            reads[i], crops[i] = r, crop
            self.crop_kinds[crop_kind(d)] += 1
        reads, again = with_second_opinions(self.models, frame, dets, reads, s.thresholds, s.ocr_variants, k)
        self.second_reads += again
        self.ocr_rounds += 1
        return dets, reads, crops

    def _unsettled(self, dets: list[Detection], chosen: list[int]) -> list[int]:
        """``chosen`` without the plates of settled tracks (:attr:`Track.settled`), except on every
        ``settled_every``-th OCR frame. A box is skipped only when every track it overlaps (``match_iou``) is
        settled and was seen on the last frame: a track that just lost its plate may be the next car's."""
        if self._settled_read_due():
            return chosen
        s, tracks = self.settings, self.tracker.tracks

        def settled(d: Detection) -> bool:
            near = [tr for tr in tracks if iou(d.box, tr.box) >= s.match_iou]
            return bool(near) and all(tr.settled and tr.misses == 0 for tr in near)

        kept = [i for i in chosen if not settled(dets[i])]
        self.settled_skips += len(chosen) - len(kept)
        return kept

    def run(self, frame: np.ndarray, t: float) -> FrameResult:
        """Run one frame taken at stream time ``t`` (seconds)."""
        if frame.shape[1] == self._fault_width:
            raise ValueError(f"injected bad frame (ANPR_EDGE_FAULT=frame:{self._fault_width})")
        t0 = time.perf_counter()
        # A plate counts only inside the ROI: motion elsewhere need not wake the detector.
        idle = self.motion.idle(roi_view(frame, self.roi), t, following=bool(self.tracker.tracks))
        t_checked = self._timed("motion", t0)
        if idle:
            self.idle_frames += 1
            return FrameResult(idle=True)
        if self._coasting(t):
            self.coasted_frames += 1
            return FrameResult(tracks=self.last_views, idle=True)
        dets, t3 = self._detect(frame, t_checked)
        dets, reads, crops = self._read(frame, dets)
        t4 = self._timed("ocr", t3)
        ended = self.tracker.update(dets, reads, t)
        for tr in self.tracker.tracks:
            if tr.improved and self.keep_frames:
                self.best_frames[tr.track_id] = frame
        events = self._events(self.gate.update(self.tracker.tracks, ended, t, self.frame_size), frame)
        for tr in ended:
            self.best_frames.pop(tr.track_id, None)
        self._timed("tracking", t4)
        self.frame_index += 1
        self.detector_t = t
        self.last_views = self._views(t, dets)
        return FrameResult(
            tuple(e for e, _ in events),
            tuple(f for _, f in events),
            tuple(dets),
            tuple(reads),
            tuple(crops),
            self.last_views,
        )

    def _coasting(self, t: float) -> bool:
        """Whether the frame at stream time ``t`` skips the detector: it ran less than ``detect_settled_s``
        before, every plate followed is settled and was found on that frame (the tracker knows them), and this
        is not a frame on which settled plates are read (:meth:`_settled_read_due`: another car in their box is
        caught as soon as without skipping). A stream clock that went back never skips."""
        last, tracks = self.detector_t, self.tracker.tracks
        if last is None or not 0 <= t - last < self.settings.detect_settled_s or not tracks:
            return False
        return not self._settled_read_due() and all(tr.settled and tr.misses == 0 for tr in tracks)

    def _settled_read_due(self) -> bool:
        """Whether settled plates are read on this frame: every ``settled_every``-th frame looked at (idle ones
        not counted, frames the detector skipped for settled plates counted)."""
        s = self.settings
        looked = self.frame_index + self.coasted_frames  # frames not idle: the detector ran, or skipped them
        return (looked // s.ocr_every_n) % s.settled_every == 0

    def _views(self, t: float, dets: list[Detection]) -> tuple[TrackView, ...]:
        """The tracks seen on this frame, with their voted plate so far (what ``--annotate`` draws)."""
        views = []
        for tr in self.tracker.tracks:
            if tr.last_seen != t:
                continue
            voted = tr.plate(self.models.ocr.spec.alphabet, self.settings.thresholds)
            plate = "two-row" if tr.format == "two-row" else (voted[0] if voted else "")
            det = next((d for d in dets if d.box == tr.box), None)
            views.append(TrackView(tr.track_id, tr.box, plate, det.corners if det else None))
        return tuple(views)

    def _events(self, events: list[PlateEvent], frame: np.ndarray) -> list[tuple[PlateEvent, np.ndarray | None]]:
        """Each event with the frame of its track's most sure read (the current frame if none is kept; None
        without ``keep_frames``)."""
        if not self.keep_frames:
            return [(e, None) for e in events]
        return [(e, self.best_frames.get(e.track_id, frame)) for e in events]

    def flush(self, t: float) -> FrameResult:
        """End every open track (end of stream or shutdown): their events, each with its best read's frame."""
        events = self.gate.update([], self.tracker.close_all(), t, self.frame_size)
        frames = tuple(self.best_frames.get(e.track_id) for e in events)
        self.best_frames.clear()
        return FrameResult(tuple(events), frames)


def read_detections(
    models: Models, frame: np.ndarray, dets: list[Detection], s: RecognitionSettings
) -> list[PlateRead]:
    """Read each detection of a still image with every crop variant voted (square plates: unread). With a corner
    model, each plate gets its corners from it first, and is read as :meth:`CameraPipeline._read` reads it, a
    second opinion included."""
    rectify = rectifies(s, models)
    dets = models.with_corners(frame, dets) if needs_corners(s, models) else dets
    square = [is_two_row(d) for d in dets]
    to_read = [d for d, sq in zip(dets, square, strict=True) if not sq]
    first = models.ocr(frame, to_read if rectify else boxed_by_corners(to_read), s.thresholds, s.ocr_variants)
    merged, _ = with_second_opinions(models, frame, to_read, first, s.thresholds, s.ocr_variants)
    reads = iter(cast(list[PlateRead], merged))  # every plate was read: none is None
    classes = len(models.ocr.spec.alphabet)
    return [unread_two_row(d, classes) if sq else next(reads) for d, sq in zip(dets, square, strict=True)]


def read_still(models: Models, frame: np.ndarray, s: RecognitionSettings) -> list[PlateRead]:
    """Detect (with the second look) and read every plate of a still image: no tracking."""
    found = corners_if(rectifies(s, models), models.detector(frame, s.conf, s.iou))
    dets = models.verified(frame, found, s.verify_zoom, s.verify_conf)
    return read_detections(models, frame, dets, s)


def event_config(s: RecognitionSettings) -> EventConfig:
    """The event gate's part of the settings."""
    return EventConfig(
        min_reads=s.min_reads,
        emit_conf=s.emit_conf,
        dedup_window_ms=s.dedup_window_ms,
        repeat_window_s=s.repeat_window_s,
        pass_gap_s=s.pass_gap_s,
        pass_distance=s.pass_distance,
        direction_line=s.direction_line,
        direction_growth=s.direction_growth,
    )
