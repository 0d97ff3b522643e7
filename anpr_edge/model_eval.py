"""``anpr-edge eval``: detector recall/precision and OCR accuracy on a real-dev style folder.

Three measurements on the same images, with the shipped runtime (no torch):

* detector: recall/precision at IoU 0.5 on the boxed plates, by plate width, false positives per image
  (predictions on boxed plates that are not scored — unreadable, occluded — are not counted as FP);
* OCR on ground-truth boxes (the model alone), split by label quality;
* end to end: the plate read on the detected box matched to each truth.
"""

from __future__ import annotations

from pathlib import Path

from anpr_edge.errors import InputError
from anpr_edge.evaluation import DetScore, OcrScore, iou
from anpr_edge.labels import rows_by_image
from anpr_edge.pipeline import Models, RecognitionSettings
from anpr_edge.results import Detection
from anpr_edge.sources import read_image

SCORED = ("high", "low")


def evaluate(models: Models, settings: RecognitionSettings, folder: Path, split: str = "all") -> str:
    labels_csv = folder / "labels.csv"
    if not labels_csv.is_file():
        raise InputError(f"{labels_csv}: labels file not found (expected images/ and labels.csv)")
    by_image = rows_by_image(labels_csv, split)
    if not by_image:
        raise InputError(f"{labels_csv}: no labelled images in split {split!r}")
    det = DetScore()
    ocr_gt: dict[str, OcrScore] = {}
    e2e: dict[str, OcrScore] = {}
    thr = settings.thresholds
    for name, rows in sorted(by_image.items()):
        img = read_image(folder / "images" / name)
        preds = models.detector(img, settings.conf, settings.iou)
        det.add([r.box for r in rows], [p.box for p in preds])
        scored = [r for r in rows if r.quality in SCORED and r.plate]
        if not scored:
            continue
        gt_reads = models.ocr(img, [Detection(r.box, 1.0) for r in scored], thr)
        pred_reads = models.ocr(img, preds, thr) if preds else []
        for r, read in zip(scored, gt_reads, strict=True):
            ocr_gt.setdefault(r.quality, OcrScore()).add(r.plate, read.text, [p for _, p in read.chars])
            best = max(pred_reads, key=lambda pr: iou(pr.detection.box, r.box), default=None)
            text, probs = "", []
            if best is not None and iou(best.detection.box, r.box) >= 0.5:
                text, probs = best.text, [p for _, p in best.chars]
            e2e.setdefault(r.quality, OcrScore()).add(r.plate, text, probs)
    lines = [f"split: {split}  ({len(by_image)} images)", f"detector  {det.summary()}"]
    for q in SCORED:
        if q in ocr_gt:
            lines.append(f"ocr[{q}] on labelled boxes   {ocr_gt[q].summary()}")
    for q in SCORED:
        if q in e2e:
            lines.append(f"end-to-end[{q}] on detections {e2e[q].summary()}")
    return "\n".join(lines)
