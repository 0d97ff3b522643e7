"""``anpr-edge eval``: detector recall/precision and OCR accuracy on a real-dev style folder.

Measurements on the same images, with the shipped runtime (no torch):

* detector: recall/precision at IoU 0.5 on the boxed plates, by plate width, false positives per image
  (predictions on boxed plates that are not scored — unreadable, occluded — are not counted as FP);
* OCR on ground-truth boxes (the model alone), split by label quality;
* end to end: the plate read on the detected box matched to each truth;
* how many false boxes would ever reach a user: those whose read fits the plate template with at
  least five known characters (what the event gate needs) — most false boxes are text or lights that
  read as no plate at all;
* with ``clips``, the video path: each photo becomes a short clip with a little camera shake, run
  through :class:`~anpr_edge.pipeline.CameraPipeline` (what ``process`` and the daemon run: one crop
  per plate per frame, tracking, per-character voting, the event gate), and its events are scored.

Each measurement keeps its per-plate outcomes, so two model folders scored on the same plates can be
compared plate by plate (:func:`compare`, ``eval --against``).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.core.geometry import iou
from anpr_edge.core.plates import known_chars, matches_template
from anpr_edge.core.results import Box, Detection, PlateEvent
from anpr_edge.errors import InputError
from anpr_edge.inference.models import Models
from anpr_edge.recognition.events import EventConfig
from anpr_edge.recognition.pipeline import CameraPipeline, corners_if, read_detections, rectifies
from anpr_edge.recognition.settings import RecognitionSettings
from anpr_edge.sources.files import read_image
from anpr_edge.tools.labels import SCORED, LabelRow, rows_by_image
from anpr_edge.tools.metrics import DetScore, OcrScore, paired

SWEEP = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)
CLIP_FPS = 10.0


def labelled_images(folder: Path, split: str) -> dict[str, list[LabelRow]]:
    """The folder's label rows by image, or a one-line error (checked before any model loads)."""
    labels_csv = folder / "labels.csv"
    if not labels_csv.is_file():
        raise InputError(f"{labels_csv}: labels file not found (expected images/ and labels.csv)")
    by_image = rows_by_image(labels_csv, split)
    if not by_image:
        raise InputError(f"{labels_csv}: no labelled images in split {split!r}")
    return by_image


def second_look(models: Models, settings: RecognitionSettings) -> str:
    """How the detector's boxes were checked (``recognition.verify_zoom``), for the report."""
    if models.verifier is None:
        return "unavailable (this model's input is fixed)"
    if settings.verify_zoom <= 0:
        return "off (verify_zoom 0)"
    return f"zoom {settings.verify_zoom:g}, conf {settings.verify_conf:.2f}"


@dataclass
class EvalReport:
    """What :func:`evaluate` measured; :meth:`lines` is the report ``anpr-edge eval`` prints."""

    split: str
    images: int
    conf: float
    second_look: str
    det: DetScore = field(default_factory=DetScore)
    false_boxes: int = 0
    false_plates: int = 0
    ocr_gt: dict[str, OcrScore] = field(default_factory=dict)
    e2e: dict[str, OcrScore] = field(default_factory=dict)
    swept: dict[float, DetScore] = field(default_factory=dict)
    unboxed: DetScore | None = None  # the detector scored without the unboxed plates set aside

    def lines(self) -> list[str]:
        lines = [
            f"split: {self.split}  ({self.images} images)",
            f"detector  conf {self.conf:.2f}  {self.det.summary()}",
            f"detector  boxes on no labelled plate: {self.false_boxes}, of which read as a plate: {self.false_plates}",
            f"detector  second look: {self.second_look}",
        ]
        if self.unboxed is not None:
            aside = self.unboxed.false_pos - self.det.false_pos
            lines.insert(
                2, f"detector  {aside} box(es) on listed unboxed plates set aside; counted: {self.unboxed.summary()}"
            )
        lines += [f"ocr[{q}] on labelled boxes   {self.ocr_gt[q].summary()}" for q in SCORED if q in self.ocr_gt]
        lines += [f"end-to-end[{q}] on detections {self.e2e[q].summary()}" for q in SCORED if q in self.e2e]
        return lines + [f"sweep conf {c:.2f}  {score.summary()}" for c, score in self.swept.items()]

    def score_boxes(self, rows: list[LabelRow], preds: list[Detection], aside: list[Box]) -> list[Detection]:
        """Score one image's detector boxes (every swept threshold too); the boxes kept at ``conf``."""
        truths, readable = [r.box for r in rows], [r.quality in SCORED for r in rows]
        for c, score in self.swept.items():
            score.add(truths, [p.box for p in preds if p.score >= c], aside, readable)
        kept = [p for p in preds if p.score >= self.conf]
        self.det.add(truths, [p.box for p in kept], aside, readable)
        if self.unboxed is not None:
            self.unboxed.add(truths, [p.box for p in kept], readable=readable)
        return kept

    def outcomes(self) -> dict[str, list[bool]]:
        """Per plate, in a fixed order: found (detector), read exactly (OCR, end to end)."""
        out = {"detector recall": self.det.outcomes}
        out.update({f"ocr[{q}] on labelled boxes": self.ocr_gt[q].outcomes for q in SCORED if q in self.ocr_gt})
        out.update({f"end-to-end[{q}] on detections": self.e2e[q].outcomes for q in SCORED if q in self.e2e})
        return out


def evaluate(
    models: Models,
    settings: RecognitionSettings,
    folder: Path,
    by_image: dict[str, list[LabelRow]],
    split: str,
    sweep: bool = False,
    unboxed: dict[str, list[Box]] | None = None,
) -> EvalReport:
    """Score ``by_image`` (from :func:`labelled_images`) of ``folder``; ``split`` only labels the report.

    ``unboxed``: background plates the labels leave unboxed (:func:`~anpr_edge.tools.labels.read_unboxed`);
    boxes on them are neither found nor false, and the report also gives the score with them counted.
    ``sweep`` adds the detector's recall/precision at each confidence of :data:`SWEEP` (one detector
    run per image at the lowest; a higher threshold after NMS keeps the same boxes as before it).
    """
    conf = models.detector.conf if settings.conf is None else settings.conf
    report = EvalReport(split, len(by_image), conf, second_look(models, settings))
    report.unboxed = None if unboxed is None else DetScore()
    swept = report.swept
    swept.update({c: DetScore() for c in SWEEP} if sweep else {})
    rectify = rectifies(settings, models)
    for name, rows in sorted(by_image.items()):
        img = read_image(folder / "images" / name)
        found = corners_if(rectify, models.detector(img, min(conf, *swept) if swept else conf, settings.iou))
        preds = models.verified(img, found, settings.verify_zoom, settings.verify_conf)
        aside = (unboxed or {}).get(name, [])
        preds = report.score_boxes(rows, preds, aside)
        pred_reads = read_detections(models, img, preds, settings)
        for pr in pred_reads:
            if max((iou(pr.detection.box, b) for b in [*(r.box for r in rows), *aside]), default=0.0) < 0.5:
                report.false_boxes += 1
                report.false_plates += int(plate_like(pr.text))
        scored = [r for r in rows if r.quality in SCORED and r.plate]
        if not scored:
            continue
        gt_reads = read_detections(models, img, [Detection(r.box, 1.0) for r in scored], settings)
        for r, read in zip(scored, gt_reads, strict=True):
            report.ocr_gt.setdefault(r.quality, OcrScore()).add(r.plate, read.text, [p for _, p in read.chars])
            best = max(pred_reads, key=lambda pr: iou(pr.detection.box, r.box), default=None)
            text, probs = "", []
            if best is not None and iou(best.detection.box, r.box) >= 0.5:
                text, probs = best.text, [p for _, p in best.chars]
            report.e2e.setdefault(r.quality, OcrScore()).add(r.plate, text, probs)
    return report


def shake(width: int, height: int, frames: int, seed: int) -> list[np.ndarray]:
    """Per-frame 2x3 affine maps of a hand-held-steady camera: scale within ±2 %, shift within ±0.5 %."""
    rng = np.random.default_rng(seed)
    maps = []
    for _ in range(frames):
        s = rng.uniform(0.98, 1.02)
        tx, ty = rng.uniform(-0.005, 0.005) * width, rng.uniform(-0.005, 0.005) * height
        cx, cy = width / 2, height / 2
        maps.append(np.array([[s, 0.0, cx - s * cx + tx], [0.0, s, cy - s * cy + ty]]))
    return maps


def unshake(box: Box, m: np.ndarray) -> Box:
    """A box of a shaken frame back in the photo's pixels."""
    s, tx, ty = m[0, 0], m[0, 2], m[1, 2]
    x1, y1, x2, y2 = box
    return ((x1 - tx) / s, (y1 - ty) / s, (x2 - tx) / s, (y2 - ty) / s)


@dataclass
class ClipReport:
    """What :func:`evaluate_clips` measured; :meth:`lines` is its part of the ``eval`` report."""

    frames: int
    scores: dict[str, OcrScore] = field(default_factory=dict)
    false_events: list[str] = field(default_factory=list)
    duplicates: int = 0

    def lines(self) -> list[str]:
        lines = [
            f"clips[{q}] {self.frames} frames, events {self.scores[q].summary()}" for q in SCORED if q in self.scores
        ]
        listed = f" ({', '.join(self.false_events)})" if self.false_events else ""
        return [
            *lines,
            f"clips  events on no labelled plate {len(self.false_events)}{listed}  duplicate events {self.duplicates}",
        ]

    def outcomes(self) -> dict[str, list[bool]]:
        """Per plate, in a fixed order: its event read exactly."""
        return {f"clips[{q}]": self.scores[q].outcomes for q in SCORED if q in self.scores}


def evaluate_clips(
    models: Models, settings: RecognitionSettings, folder: Path, by_image: dict[str, list[LabelRow]], frames: int
) -> ClipReport:
    """Score the events of each photo played as a ``frames``-frame clip (see the module docstring).

    Each scored plate takes the event whose box (mapped back through that frame's shake) overlaps it at
    IoU ≥ 0.5; no event is an empty read. An event on no labelled plate is a false event; a second event
    on the same plate is a duplicate (one vehicle must be one event).
    """
    report = ClipReport(frames)
    for name, rows in sorted(by_image.items()):
        img = read_image(folder / "images" / name)
        h, w = img.shape[:2]
        maps = shake(w, h, frames, zlib.crc32(name.encode()))
        pipeline = CameraPipeline("eval", models, settings)
        emitted: list[PlateEvent] = []
        for i, m in enumerate(maps):
            frame = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            emitted += pipeline.run(frame, i / CLIP_FPS).events
        emitted += pipeline.flush(frames / CLIP_FPS).events
        matched: dict[int, list[PlateEvent]] = {}
        for event in emitted:
            # The event's box is from the frame its track was last seen in: undo that frame's shake.
            box = unshake(event.box, maps[min(round(event.last_seen * CLIP_FPS), frames - 1)])
            best = max(range(len(rows)), key=lambda k: iou(box, rows[k].box), default=None)
            if best is None or iou(box, rows[best].box) < 0.5:
                report.false_events.append(event.plate)
            else:
                matched.setdefault(best, []).append(event)
        report.duplicates += sum(len(evs) - 1 for evs in matched.values())
        for k, r in enumerate(rows):
            if r.quality in SCORED and r.plate:
                first = matched.get(k, [None])[0]
                text, probs = ("", []) if first is None else (first.plate, [p for _, p in first.chars])
                report.scores.setdefault(r.quality, OcrScore()).add(r.plate, text, probs)
    return report


def compare(ours: dict[str, list[bool]], theirs: dict[str, list[bool]]) -> list[str]:
    """Paired lines for every measurement both runs made on the same plates (see :func:`paired`)."""
    return [f"paired {name}: {paired(ours[name], theirs[name])}" for name in ours if name in theirs]


def plate_like(text: str) -> bool:
    """A read the event gate could report: fits the template with at least five known characters."""
    return matches_template(text) and known_chars(text) >= EventConfig().min_known_chars
