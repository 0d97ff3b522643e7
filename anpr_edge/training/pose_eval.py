"""Corner accuracy of an exported corner model, and a picture of rectified crops.

    python -m anpr_edge.training.pose_eval corners --data work/pose_data --models models
    python -m anpr_edge.training.pose_eval sheet --models models --out models/rectified_real_dev.png
    python -m anpr_edge.training.pose_eval heldout --seed 2 --models models/camera [--models DIR ...] [--conf C]

``corners``: on the validation tiles of a :mod:`~anpr_edge.training.pose_scenes` dataset (synthetic plates
with exact corners, pasted into held-out photos), each labelled plate is matched to the detection with the
highest IoU (≥ 0.5); its corner error is the mean distance of the four corners over the plate's width (top
edge). Runs our runtime (OpenVINO, our numpy decode), at the tile's own size. The corners are the corner
model's where the folder has one (:mod:`~anpr_edge.inference.corners`), the detector's own with
``--detector-corners``.

``heldout``: the real-train photos that a :mod:`~anpr_edge.training.pose_scenes` dataset of ``--seed`` (and
``--val``) held out as validation backgrounds, so a detector trained on that dataset never saw them. Each
folder's detector boxes them at its own confidence (no second look) and its boxes are matched to the labels at
IoU 0.5: labelled plates found, boxes on a labelled plate, boxes on none.

``sheet``: 20 real-dev plates of the untrained half (high quality): the box crop the reader gets without
corners beside the rectified crop it gets with them (the picture in the model card).
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.core.geometry import iou
from anpr_edge.core.results import Detection
from anpr_edge.errors import AnprError, InputError
from anpr_edge.inference.corners import CornerModel
from anpr_edge.inference.detector import PlateDetector
from anpr_edge.inference.models import Models
from anpr_edge.inference.ocr import crop_kind
from anpr_edge.sources.files import read_image
from anpr_edge.tools.labels import rows_by_image
from anpr_edge.tools.metrics import corner_error
from anpr_edge.training.pose_scenes import Photo, real_train_photos, split_photos

logger = logging.getLogger("anpr_edge.training.pose_eval")


def label_corners(line: str, size: int) -> tuple[tuple[float, float, float, float], np.ndarray] | None:
    """Box and corners (pixels) of a pose label line with labelled corners; None for a box-only line."""
    v = [float(x) for x in line.split()]
    if len(v) != 17 or v[7] == 0:
        return None
    cx, cy, w, h = (x * size for x in v[1:5])
    corners = np.array(v[5:]).reshape(4, 3)[:, :2] * size
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), corners


def corner_errors(detector: PlateDetector, data: Path, model: CornerModel | None = None) -> tuple[list[float], int]:
    """Per matched plate, mean corner error / plate width; and the number of labelled plates. ``model``: the
    corners come from it instead of the detector."""
    errors: list[float] = []
    plates = 0
    for label in sorted((data / "labels" / "val").glob("*.txt")):
        image = cv2.imread(str(data / "images" / "val" / f"{label.stem}.jpg"))
        if image is None:
            continue
        truths = [t for t in (label_corners(ln, image.shape[0]) for ln in label.read_text().splitlines()) if t]
        plates += len(truths)
        found = detector(image) if model is None else model(image, detector(image))
        for box, corners in truths:
            best = max(found, key=lambda d: iou(d.box, box), default=None)
            if best is None or best.corners is None or iou(best.box, box) < 0.5:
                continue
            errors.append(float(corner_error(np.array(best.corners), corners)[0]))
    return errors, plates


def heldout_photos(real_train: Path, n_val: int, seed: int) -> list[Photo]:
    """The photos a ``pose_scenes --seed seed --val n_val`` dataset keeps out of its training tiles."""
    val, _ = split_photos(real_train_photos(real_train), n_val, random.Random(seed))
    return val


def boxes_on_photos(detector: PlateDetector, photos: list[Photo]) -> tuple[int, int, int, int]:
    """(labelled plates, of them found, boxes on a labelled plate, boxes on none) at IoU 0.5."""
    plates = found = on = off = 0
    for photo in photos:
        try:
            img = read_image(photo.path)
        except InputError as exc:
            logger.warning("%s: skipped", exc)
            continue
        h, w = img.shape[:2]
        labels = [(b[0] * w, b[1] * h, b[2] * w, b[3] * h) for b in photo.boxes]
        boxes = [d.box for d in detector(img)]
        plates += len(labels)
        found += sum(any(iou(b, lab) >= 0.5 for b in boxes) for lab in labels)
        hits = [any(iou(b, lab) >= 0.5 for lab in labels) for b in boxes]
        on, off = on + sum(hits), off + len(hits) - sum(hits)
    return plates, found, on, off


def contact_sheet(models: Models, real_dev: Path, out: Path, n: int = 20) -> int:
    """Box crop | rectified crop, for ``n`` high plates of real-dev's untrained half the detector finds."""
    rows = []
    for name, labels in sorted(rows_by_image(real_dev / "labels.csv", "untrained").items()):
        image = read_image(real_dev / "images" / name)
        for d in models.with_corners(image, models.detector(image)):
            if crop_kind(d) != "corners" or not any(r.quality == "high" and iou(r.box, d.box) > 0.5 for r in labels):
                continue
            flat = Detection(d.box, d.score)  # the same box without corners: the crop a box-only model gives
            pair = [cv2.resize(models.ocr.crops(image, [x])[0], (256, 64)) for x in (flat, d)]
            rows.append(np.hstack([pair[0], np.full((64, 8), 255, np.uint8), pair[1]]))
        if len(rows) >= n:
            break
    if rows:
        cols = [np.vstack(rows[i : i + 10]) for i in range(0, len(rows[:n]), 10)]
        height = max(c.shape[0] for c in cols)
        cols = [np.vstack([c, np.full((height - c.shape[0], c.shape[1]), 255, np.uint8)]) for c in cols]
        cv2.imwrite(str(out), np.hstack([x for c in cols for x in (c, np.full((height, 16), 255, np.uint8))]))
    return min(len(rows), n)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("corners", help="corner error on a pose dataset's validation tiles")
    c.add_argument("--data", type=Path, default=Path("work/pose_data"))
    c.add_argument("--models", type=Path, default=Path("models"))
    c.add_argument("--detector-corners", action="store_true", help="the detector's corners, not the corner model's")
    h = sub.add_parser("heldout", help="detector boxes on the real-train photos a pose dataset held out")
    h.add_argument("--models", type=Path, action="append", required=True, help="a folder (repeat to compare)")
    h.add_argument("--seed", type=int, required=True, help="the dataset's pose_scenes --seed")
    h.add_argument("--val", type=int, default=300, help="the dataset's pose_scenes --val")
    h.add_argument("--conf", type=float, help="detector confidence (default: each model's own)")
    h.add_argument("--real-train", type=Path, default=Path("../shared/real-train/k4gl7p"))
    s = sub.add_parser("sheet", help="box crops beside rectified crops of real-dev plates")
    s.add_argument("--models", type=Path, default=Path("models"))
    s.add_argument("--real-dev", type=Path, default=Path("../shared/real-dev"))
    s.add_argument("--out", type=Path, default=Path("models/rectified_real_dev.png"))
    return p


def corners(a: argparse.Namespace) -> None:
    tiles = sorted((a.data / "images" / "val").glob("*.jpg"))
    if not tiles:
        raise SystemExit(f"{a.data}/images/val: no validation tiles (make them with pose_scenes --out {a.data})")
    size = cv2.imread(str(tiles[0])).shape[0]
    det = PlateDetector.load(a.models / "plate_detector", "cpu", None, 0.5, input_size=(size, size))
    model = None if a.detector_corners else CornerModel.beside(a.models / "plate_detector")
    errors, plates = corner_errors(det, a.data, model)
    e = np.array(errors)
    print(
        f"corners from the {'detector' if model is None else 'corner model'}: "
        f"{len(errors)} of {plates} synthetic validation plates matched; corner error / plate width: "
        f"mean {e.mean():.2%}, median {np.median(e):.2%}, 90th percentile {np.percentile(e, 90):.2%}"
    )


def heldout(a: argparse.Namespace) -> None:
    photos = heldout_photos(a.real_train, a.val, a.seed)
    if not photos:
        raise SystemExit(f"{a.real_train}/images: no photos (the real-train folder with images/ and labels/)")
    for folder in a.models:
        det = PlateDetector.load(folder / "plate_detector", "cpu", a.conf, 0.5, precision="f32")
        plates, found, on, off = boxes_on_photos(det, photos)
        print(
            f"{folder} (conf {det.conf:.2f}): {len(photos)} held-out photos, {plates} labelled plates, found {found}; "
            f"boxes on a labelled plate {on}, on none {off}"
        )


def sheet(a: argparse.Namespace) -> None:
    models = Models.load(a.models / "plate_detector", a.models / "plate_ocr", "cpu", precision="f32")
    n = contact_sheet(models, a.real_dev, a.out)
    print(f"{n} plates: box crop (left) and rectified crop (right) in {a.out}")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    a = parser().parse_args(argv)
    try:
        {"corners": corners, "heldout": heldout, "sheet": sheet}[a.cmd](a)
    except AnprError as exc:
        raise SystemExit(str(exc)) from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
