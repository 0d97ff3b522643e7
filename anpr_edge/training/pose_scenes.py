"""Plate-corner (pose) training tiles: real photos with their boxes, and synthetic plates with exact corners.

The detector predicts a box and the plate's four corners (TL, TR, BR, BL). Its training set is a YOLO
pose dataset (``kpt_shape: [4, 3]``) of ``size``-pixel tiles cut at many scales, so that a plate can be
8-300 px wide at the model's input:

* real photos of ``../shared/real-train/k4gl7p`` (1,814 scenes, boxes only) and the trained half of
  ``../shared/real-dev``: their boxes are kept, their corners are marked *not labelled* (v = 0), so they
  train the box and not the corners. Boxes only, not corner pseudo-labels: no model measures corners on
  real plates yet, and a wrong corner label teaches a wrong warp;
* synthetic GOST-font plates pasted into those photos with exact corners (v = 2): yaw up to 45 degrees,
  pitch and roll, 8-300 px wide, night IR, blur, noise, JPEG, dirt, rain, bars of a gate in front.

* with ``--distractors F``: in a fraction F of the tiles, lettering that is not a plate (car badges and model
  names in stroke fonts, chrome or dark, sometimes in an oval; photographers' watermarks with a year), with
  no label, so the detector learns that text alone is not a plate.
* with ``--signs F``: in a fraction F of the tiles, signs, shop boards and advertisements
  (:mod:`anpr_edge.training.signs`: dark or light text on a flat board, СТОП octagons), with no label,
  ``--sign-min-width`` (15) to 250 px wide.
* with ``--mine-with MODELS``: the false boxes of that models folder's detector on the real-train training
  photos (IoU under 0.3 with every labelled plate, listed in ``mined.csv``). Half the tiles of a photo that
  has one are cut at its scale, most of them around it, unlabelled, so the detector learns what it mistook
  for a plate. A false box that may be a plate nobody boxed (its read has 7-9 characters, 3 or more of them
  read), or that is under 40 px wide at the camera detector's input, is greyed out instead: neither taught as
  a plate nor as background; one that overlaps a labelled plate is always taught.

``../shared/camera-dev`` is never read. The validation split is synthetic only (other seed, held-out
photos as backgrounds): its corner error is the corner metric of the model card.

    python -m anpr_edge.training.pose_scenes --out work/pose_data --per-image 2 --val 300
"""

from __future__ import annotations

import argparse
import logging
import math
import random
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.core.plates import known_chars
from anpr_edge.core.results import Box
from anpr_edge.inference.detector import fit
from anpr_edge.inference.models import Models
from anpr_edge.tools.labels import read_labels, trained_on
from anpr_edge.training.augment import degrade, perspective_quad, photometric, style_plate
from anpr_edge.training.render import random_plate, render_plate
from anpr_edge.training.scenes import MinedBox, false_boxes
from anpr_edge.training.signs import sign

logger = logging.getLogger("anpr_edge.training.pose_scenes")

GREY = 114
#: The keypoints of a box whose corners are not labelled (x, y, visibility 0 for each of the four).
UNLABELLED_CORNERS = " ".join(["0"] * 12)
#: The camera detector's input: tiles are pieces of a frame at this scale, and mined boxes are sized at it.
CAMERA_INPUT = (960, 544)
#: A mined false box narrower than this at :data:`CAMERA_INPUT` is greyed out, not taught as background: a
#: plate that small reads too poorly to tell it from lettering.
MIN_NEGATIVE_WIDTH = 40.0


@dataclass(frozen=True, slots=True)
class Photo:
    """A real photo and its plate boxes: in pixels, or as fractions of the image when ``normalised``."""

    path: Path
    boxes: tuple[Box, ...]
    normalised: bool = False
    mined: tuple[MinedBox, ...] = ()  # a detector's false boxes, in pixels (:func:`mine_photos`)


#: How wide (px at the tile's scale) unlabelled lettering and signs are pasted: from the first to the second.
DISTRACTOR_WIDTH = (15.0, 250.0)


@dataclass(frozen=True, slots=True)
class SignMix:
    """How many training tiles get unlabelled signs, and how small a sign can be (px at the tile's scale)."""

    fraction: float = 0.0
    min_width: float = DISTRACTOR_WIDTH[0]


NO_SIGNS = SignMix()


@dataclass(frozen=True, slots=True)
class Plate:
    """One labelled plate of a tile: its box, and its corners when known (synthetic plates)."""

    box: Box
    corners: np.ndarray | None  # (4, 2) TL, TR, BR, BL in tile pixels


def yolo_boxes(label: Path, w: int, h: int) -> tuple[Box, ...]:
    """The boxes of a YOLO label file, in pixels of a ``w x h`` image."""
    out = []
    for line in label.read_text().splitlines():
        parts = line.split()
        if len(parts) < 5:
            continue
        cx, cy, bw, bh = (float(v) for v in parts[1:5])
        out.append(((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h))
    return tuple(out)


def real_train_photos(root: Path) -> list[Photo]:
    """The k4gl7p photos with their YOLO boxes (a photo whose label is missing has no plate)."""
    photos = []
    for img in sorted((root / "images").glob("*.jpg")):
        label = root / "labels" / f"{img.stem}.txt"
        photos.append(Photo(img, yolo_boxes(label, 1, 1) if label.exists() else (), normalised=True))
    return photos


def real_dev_photos(root: Path, trained: bool) -> list[Photo]:
    """real-dev photos of one half of its split, with their boxes."""
    by_image: dict[str, list[Box]] = {}
    for row in read_labels(root / "labels.csv"):
        if trained_on(row.image) == trained:
            by_image.setdefault(row.image, []).append(row.box)
    return [Photo(root / "images" / name, tuple(boxes)) for name, boxes in sorted(by_image.items())]


def synthetic_plate(rng: random.Random, width: float) -> tuple[np.ndarray, np.ndarray]:
    """A styled, relit plate image and its corners warped to about ``width`` px around (0, 0)."""
    px = int(min(520, max(120, width * 2)))
    plate = photometric(style_plate(render_plate(random_plate(rng), px_per_mm=px / 520.0).image, rng), rng)
    ph, pw = plate.shape[:2]
    quad = perspective_quad(pw, ph, rng, max_yaw=45.0) * (width / pw)
    return plate, quad


def overlaps(box: Box, boxes: list[Box]) -> bool:
    """Whether ``box`` shares any area with one of ``boxes``."""
    return any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes)


def paste(tile: np.ndarray, rng: random.Random, width: float, taken: list[Box]) -> Plate | None:
    """Warp a synthetic plate into ``tile`` where it overlaps no box of ``taken``; None when no place fits."""
    plate, quad = synthetic_plate(rng, width)
    size = tile.shape[0]
    lo, hi = quad.min(axis=0), quad.max(axis=0)
    for _ in range(6):
        centre = np.array([rng.uniform(-lo[0], size - hi[0]), rng.uniform(-lo[1], size - hi[1])], np.float32)
        q = quad + centre
        box = (float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max()))
        if box[0] < 0 or box[1] < 0 or box[2] > size or box[3] > size:
            continue
        if overlaps(box, taken):
            continue
        ph, pw = plate.shape[:2]
        src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
        m = cv2.getPerspectiveTransform(src, q)
        flags = cv2.INTER_AREA if width < pw else cv2.INTER_LINEAR
        warped = cv2.warpPerspective(plate, m, (size, size), flags=flags)
        mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (size, size), flags=cv2.INTER_LINEAR)
        a = (mask.astype(np.float32) / 255.0)[:, :, None]
        tile[:] = (tile * (1 - a) + warped * a).astype(np.uint8)
        if rng.random() < 0.15:
            bars(tile, rng, box)
        return Plate(box, q)
    return None


#: Lettering found on cars and photos that is not a plate (badges, model names, watermarks).
BADGE_WORDS = (
    "SONATA",
    "HYUNDAI",
    "FOCUS",
    "FORD",
    "KAMAZ",
    "TOYOTA",
    "LADA",
    "SKODA",
    "OCTAVIA",
    "SOLARIS",
    "POLO",
    "KIA",
    "RIO",
    "CAMRY",
    "LOGAN",
    "RENAULT",
    "GAZELLE",
    "VOLVO",
    "AUDI",
    "NISSAN",
    "OPEL",
    "ASTRA",
    "MAZDA",
    "HONDA",
    "LEXUS",
    "MERCEDES",
    "PRIORA",
    "GRANTA",
    "VESTA",
    "LARGUS",
    "DUSTER",
    "TIGUAN",
    "PASSAT",
    "COROLLA",
    "PAJERO",
    "LANCER",
    "OUTLANDER",
    "QASHQAI",
    "X-TRAIL",
    "SPORTAGE",
    "CRETA",
    "4MATIC",
    "TDI",
    "QUATTRO",
    "GTI",
    "16V",
    "2.0",
    "V6",
    "HYBRID",
    "DIESEL",
    "TURBO",
    "AWD",
    "4x4",
    "",  # a bare oval, or nothing: in the word list E's training tiles were drawn from (kept to reproduce them)
)
STROKE_FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
)


def lettering(rng: random.Random) -> np.ndarray:
    """A badge or watermark on a transparent background: (h, w, 4) BGRA, text 40 px high."""
    if rng.random() < 0.25:
        text = rng.choice(("Photo", "AUTO", "foto", rng.choice(BADGE_WORDS))) + f" {rng.randint(1998, 2026)}"
    else:
        text = rng.choice(BADGE_WORDS)
    font = rng.choice(STROKE_FONTS) | (cv2.FONT_ITALIC if rng.random() < 0.3 else 0)
    thick = rng.randint(2, 5)
    (tw, th), base = cv2.getTextSize(text, font, 1.4, thick)
    pad = 10
    img = np.zeros((th + base + 2 * pad, tw + 2 * pad, 4), np.uint8)
    chrome = rng.random() < 0.6
    colour = (rng.randint(170, 255),) * 3 if chrome else (rng.randint(0, 70),) * 3
    if chrome and rng.random() < 0.5:  # a dark rim around chrome letters
        cv2.putText(img, text, (pad, pad + th), font, 1.4, (40, 40, 40, 255), thick + 2, cv2.LINE_AA)
    cv2.putText(img, text, (pad, pad + th), font, 1.4, (*colour, 255), thick, cv2.LINE_AA)
    if rng.random() < 0.2:  # an oval badge
        h, w = img.shape[:2]
        cv2.ellipse(img, (w // 2, h // 2), (w // 2 - 2, h // 2 - 2), 0, 0, 360, (*colour, 255), 2, cv2.LINE_AA)
    return img


def distract(
    tile: np.ndarray,
    rng: random.Random,
    taken: list[Box],
    patch: np.ndarray | None = None,
    min_width: float = DISTRACTOR_WIDTH[0],
) -> None:
    """Paste ``patch`` (BGRA; by default :func:`lettering`) ``min_width`` to :data:`DISTRACTOR_WIDTH`'s widest px
    wide into ``tile`` where it overlaps no plate of ``taken`` (no label)."""
    patch = lettering(rng) if patch is None else patch
    size = tile.shape[0]
    width = math.exp(rng.uniform(math.log(min_width), math.log(DISTRACTOR_WIDTH[1])))
    patch = cv2.resize(patch, None, fx=width / patch.shape[1], fy=width / patch.shape[1], interpolation=cv2.INTER_AREA)
    ph, pw = patch.shape[:2]
    if pw >= size or ph >= size or ph < 3:
        return
    for _ in range(6):
        x, y = rng.randint(0, size - pw), rng.randint(0, size - ph)
        if overlaps((x, y, x + pw, y + ph), taken):
            continue
        a = patch[:, :, 3:4].astype(np.float32) / 255.0
        region = tile[y : y + ph, x : x + pw]
        region[:] = (region * (1 - a) + patch[:, :, :3] * a).astype(np.uint8)
        return


def bars(tile: np.ndarray, rng: random.Random, box: Box) -> None:
    """Thin bars of a gate or fence across a plate (they hide parts of characters, not the plate)."""
    x1, y1, x2, y2 = box
    shade = rng.randint(20, 200)
    thick = max(1, round((x2 - x1) * rng.uniform(0.01, 0.03)))
    step = (x2 - x1) / rng.randint(2, 5)
    x = x1 + rng.uniform(0, step)
    while x < x2:
        cv2.line(tile, (round(x), round(y1 - 10)), (round(x + rng.uniform(-3, 3)), round(y2 + 10)), (shade,) * 3, thick)
        x += step


def rain(tile: np.ndarray, rng: random.Random) -> None:
    """Light streaks of rain or snow over the whole tile."""
    size = tile.shape[0]
    angle = rng.uniform(-0.3, 0.3)
    for _ in range(rng.randint(30, 150)):
        x, y = rng.uniform(0, size), rng.uniform(0, size)
        length = rng.uniform(4, 14)
        v = rng.randint(150, 230)
        cv2.line(tile, (round(x), round(y)), (round(x + length * angle), round(y + length)), (v, v, v), 1)


def maybe_plate(read: str) -> bool:
    """Whether a false box's read could be a plate nobody boxed: 7-9 characters, 3 or more of them read."""
    return 7 <= len(read) <= 9 and known_chars(read) >= 3


def input_scale(w: int, h: int) -> float:
    """The scale of a ``w x h`` photo at the camera detector's input (:data:`CAMERA_INPUT`), as the detector
    fits it (:func:`~anpr_edge.inference.detector.fit`)."""
    return fit(w, h, *CAMERA_INPUT)[0]


def mine_photos(models: Path, photos: list[Photo], conf: float = 0.2) -> list[Photo]:
    """``photos`` with the false boxes of ``models``' detector, each read by the reader beside it
    (:func:`~anpr_edge.training.scenes.false_boxes`); ``unboxed_plate`` marks those to grey out
    (:func:`maybe_plate`, or under :data:`MIN_NEGATIVE_WIDTH`). A false box on a labelled plate (a second box
    on part of it) is always taught: greying it would blank a plate the tile still labels."""
    loaded = Models.load(models / "plate_detector.xml", models / "plate_ocr.xml", "cpu", precision="f32")
    out = []
    for photo in photos:
        image = cv2.imread(str(photo.path))
        if image is None:
            logger.warning("%s: unreadable, not mined", photo.path)
            out.append(photo)
            continue
        h, w = image.shape[:2]
        boxes = [(b[0] * w, b[1] * h, b[2] * w, b[3] * h) for b in photo.boxes] if photo.normalised else photo.boxes
        found = false_boxes(loaded, photo.path.name, image, list(boxes), conf, maybe_plate)
        small = MIN_NEGATIVE_WIDTH / input_scale(w, h)
        mined = tuple(
            replace(m, unboxed_plate=(m.unboxed_plate or m.box[2] - m.box[0] < small) and not overlaps(m.box, boxes))
            for m in found
        )
        out.append(replace(photo, mined=mined))
    return out


def write_mined(path: Path, photos: list[Photo]) -> None:
    """``mined.csv``: every mined box, its score and read, and whether it was greyed out (1) or taught (0)."""
    rows = [
        f"{m.image};{';'.join(f'{v:.1f}' for v in m.box)};{m.score:.3f};{m.read};{int(m.unboxed_plate)}\n"
        for p in photos
        for m in p.mined
    ]
    path.write_text("image;x1;y1;x2;y2;score;read;greyed\n" + "".join(rows))


def reference(
    boxes: tuple[Box, ...], mined: tuple[MinedBox, ...], rng: random.Random, w: int, h: int
) -> tuple[Box | None, float]:
    """What a tile is cut around, and at what width it is shown: a mined false box half the time when the
    photo has one (at 0.6-1.6x its width at the camera detector's input), else a plate at 8-300 px."""
    negatives = [m.box for m in mined if not m.unboxed_plate]
    if negatives and rng.random() < 0.5:  # only drawn with mined boxes: older recipes' tiles stay the same
        ref = rng.choice(negatives)
        return ref, (ref[2] - ref[0]) * input_scale(w, h) * math.exp(rng.uniform(math.log(0.6), math.log(1.6)))
    if boxes:
        return rng.choice(boxes), math.exp(rng.uniform(math.log(8), math.log(300)))
    return None, 0.0


def cut(
    image: np.ndarray, boxes: tuple[Box, ...], rng: random.Random, size: int, mined: tuple[MinedBox, ...] = ()
) -> tuple[np.ndarray, list[Plate]]:
    """A ``size`` tile of ``image`` at a random scale (a boxed plate 8-300 px wide), its whole plates kept;
    mined boxes to grey out are greyed (:func:`mine_photos`)."""
    h, w = image.shape[:2]
    greyed = [m.box for m in mined if m.unboxed_plate]
    if greyed:
        image = image.copy()
        for x1, y1, x2, y2 in greyed:
            image[max(int(y1), 0) : max(math.ceil(y2), 0), max(int(x1), 0) : max(math.ceil(x2), 0)] = GREY
    ref, target = reference(boxes, mined, rng, w, h)
    if ref is not None:
        scale = target / max(ref[2] - ref[0], 1.0)
    else:
        ref = None
        scale = math.exp(rng.uniform(math.log(320), math.log(1100))) / max(w, h)
    # The photo covers the tile (a small plate is small in a large frame, not a small photo on grey).
    scale = min(max(scale, size / min(w, h)), 3.0, 4000.0 / max(w, h))
    img = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    ih, iw = img.shape[:2]
    if ref is not None and rng.random() < 0.85:
        cx = (ref[0] + ref[2]) / 2 * scale + rng.uniform(-size / 3, size / 3)
        cy = (ref[1] + ref[3]) / 2 * scale + rng.uniform(-size / 3, size / 3)
    else:
        cx, cy = rng.uniform(0, iw), rng.uniform(0, ih)
    x0, y0 = int(cx - size / 2), int(cy - size / 2)
    tile = np.full((size, size, 3), GREY, np.uint8)
    sx1, sy1, sx2, sy2 = max(x0, 0), max(y0, 0), min(x0 + size, iw), min(y0 + size, ih)
    if sx2 > sx1 and sy2 > sy1:
        tile[sy1 - y0 : sy2 - y0, sx1 - x0 : sx2 - x0] = img[sy1:sy2, sx1:sx2]
    plates = []
    for b in boxes:
        bx1, by1, bx2, by2 = b[0] * scale - x0, b[1] * scale - y0, b[2] * scale - x0, b[3] * scale - y0
        kx1, ky1, kx2, ky2 = max(bx1, 0), max(by1, 0), min(bx2, size), min(by2, size)
        if kx2 <= kx1 or ky2 <= ky1:
            continue
        if kx2 - kx1 < 0.6 * (bx2 - bx1) or ky2 - ky1 < 0.6 * (by2 - by1):  # mostly cut off: not taught either way
            tile[int(ky1) : math.ceil(ky2), int(kx1) : math.ceil(kx2)] = GREY
            continue
        plates.append(Plate((kx1, ky1, kx2, ky2), None))
    return tile, plates


def make_tile(
    image: np.ndarray,
    boxes: tuple[Box, ...],
    rng: random.Random,
    size: int,
    synth: float,
    distractors: float = 0.0,
    mined: tuple[MinedBox, ...] = (),
    signs: SignMix = NO_SIGNS,
) -> tuple[np.ndarray, list[Plate]]:
    """One training tile: a cut of a real photo (around a mined false box half the time when it has one), with
    synthetic plates pasted in ``synth`` of the time, unlabelled lettering in ``distractors`` of the time and
    unlabelled signs (:func:`~anpr_edge.training.signs.sign`) in ``signs.fraction`` of the time."""
    tile, plates = cut(image, boxes, rng, size, mined)
    if rng.random() < synth:
        for _ in range(rng.choice((1, 1, 2, 3))):
            p = paste(tile, rng, math.exp(rng.uniform(math.log(8), math.log(300))), [pl.box for pl in plates])
            if p is not None:
                plates.append(p)
    if distractors and rng.random() < distractors:
        for _ in range(rng.choice((1, 1, 2))):
            distract(tile, rng, [pl.box for pl in plates])
    if signs.fraction and rng.random() < signs.fraction:
        for _ in range(rng.choice((1, 1, 2))):
            distract(tile, rng, [pl.box for pl in plates], sign(rng), signs.min_width)
    if rng.random() < 0.1:
        rain(tile, rng)
    if rng.random() < 0.3:
        tile = photometric(tile, rng)
    return degrade(tile, rng), plates


def label_lines(plates: list[Plate], size: int) -> list[str]:
    """YOLO pose lines: class, box, then (x, y, v) for TL, TR, BR, BL (v = 0: corners not labelled)."""
    lines = []
    for p in plates:
        x1, y1, x2, y2 = p.box
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        fields = [(x1 + x2) / 2 / size, (y1 + y2) / 2 / size, (x2 - x1) / size, (y2 - y1) / size]
        corners = [] if p.corners is None else [f"{x / size:.6f} {y / size:.6f} 2" for x, y in p.corners]
        kpts = " ".join(corners) if corners else UNLABELLED_CORNERS
        lines.append("0 " + " ".join(f"{v:.6f}" for v in fields) + " " + kpts)
    return lines


def write_split(
    out: Path,
    split: str,
    photos: list[Photo],
    per_image: int,
    rng: random.Random,
    size: int,
    synth: float,
    distractors: float = 0.0,
    first: int = 0,
    signs: SignMix = NO_SIGNS,
) -> int:
    """Tiles of every photo, ``per_image`` each, into ``images/<split>`` and ``labels/<split>``, numbered from
    ``first`` (a second call into the same split starts after the first call's tiles); returns how many."""
    (out / "images" / split).mkdir(parents=True, exist_ok=True)
    (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    n = 0
    for photo in photos:
        image = cv2.imread(str(photo.path))
        if image is None:
            logger.warning("%s: unreadable, skipped", photo.path)
            continue
        h, w = image.shape[:2]
        boxes = (
            tuple((b[0] * w, b[1] * h, b[2] * w, b[3] * h) for b in photo.boxes) if photo.normalised else photo.boxes
        )
        for _ in range(per_image):
            tile, plates = make_tile(image, boxes, rng, size, synth, distractors, photo.mined, signs)
            name = f"{split}_{first + n:06d}"
            cv2.imwrite(str(out / "images" / split / f"{name}.jpg"), tile, [cv2.IMWRITE_JPEG_QUALITY, 92])
            lines = label_lines(plates, size)
            (out / "labels" / split / f"{name}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
            n += 1
    return n


def val_labels_only_synthetic(out: Path) -> None:
    """Validation keeps only plates with exact corners: real boxes there are greyed out, not scored."""
    for label in (out / "labels" / "val").glob("*.txt"):
        every = label.read_text().splitlines()
        lines = [ln for ln in every if not ln.endswith(UNLABELLED_CORNERS)]
        real = [ln for ln in every if ln.endswith(UNLABELLED_CORNERS)]
        if real:
            image = out / "images" / "val" / f"{label.stem}.jpg"
            tile = cv2.imread(str(image))
            if tile is None:
                raise SystemExit(f"{image}: written a moment ago, now unreadable")
            for ln in real:
                cx, cy, bw, bh = (float(v) * tile.shape[0] for v in ln.split()[1:5])
                tile[int(cy - bh / 2) : math.ceil(cy + bh / 2), int(cx - bw / 2) : math.ceil(cx + bw / 2)] = GREY
            cv2.imwrite(str(image), tile, [cv2.IMWRITE_JPEG_QUALITY, 92])
        label.write_text("\n".join(lines) + ("\n" if lines else ""))


def split_photos(photos: list[Photo], n_val: int, rng: random.Random) -> tuple[list[Photo], list[Photo]]:
    """The photos shuffled by ``rng``, split into the validation tiles' backgrounds (``n_val / 2`` photos, two
    tiles each) and the training photos. The corner model's data takes the same split (its seed's)."""
    rng.shuffle(photos)
    k = max(n_val // 2, 1)
    return photos[:k], photos[k:]


def build(
    out: Path,
    real_train: Path,
    real_dev: Path,
    per_image: int,
    n_val: int,
    size: int,
    seed: int,
    distractors: float = 0.0,
    mine_with: Path | None = None,
    signs: SignMix = NO_SIGNS,
) -> None:
    """The whole dataset: ``data.yaml`` with ``kpt_shape: [4, 3]`` and a left-right ``flip_idx``; with
    ``mine_with`` (a models folder) also ``mined.csv`` (:func:`mine_photos`)."""
    rng = random.Random(seed)
    photos = real_train_photos(real_train) if real_train.is_dir() else []
    if not photos:
        logger.warning("%s: no real-train photos; tiles come from real-dev alone", real_train)
    val_photos, train_photos = split_photos(photos, n_val, rng)
    if mine_with is not None:
        out.mkdir(parents=True, exist_ok=True)
        train_photos = mine_photos(mine_with, train_photos)
        write_mined(out / "mined.csv", train_photos)
        found = [m for p in train_photos for m in p.mined]
        taught = sum(not m.unboxed_plate for m in found)
        logger.info(
            "mined %d false boxes of %s: %d taught as background, %d greyed out",
            len(found),
            mine_with,
            taught,
            len(found) - taught,
        )
    dev = real_dev_photos(real_dev, trained=True) if (real_dev / "labels.csv").exists() else []
    n_train = write_split(out, "train", train_photos, per_image, rng, size, 0.5, distractors, signs=signs)
    n_train += write_split(out, "train", dev * 4, per_image, rng, size, 0.5, distractors, n_train, signs)
    n_val_written = write_split(out, "val", val_photos, 2, random.Random(seed + 1000), size, synth=1.0)
    val_labels_only_synthetic(out)
    (out / "data.yaml").write_text(
        f"path: {out.resolve()}\ntrain: images/train\nval: images/val\n"
        "kpt_shape: [4, 3]\nflip_idx: [1, 0, 3, 2]\nnames:\n  0: plate\n"
    )
    logger.info("%d training tiles (%d real-dev photos x4), %d validation tiles", n_train, len(dev), n_val_written)


def parser() -> argparse.ArgumentParser:
    """The command line (also used by ``reproduce`` to check its recipe)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("work/pose_data"))
    p.add_argument("--real-train", type=Path, default=Path("../shared/real-train/k4gl7p"))
    p.add_argument("--real-dev", type=Path, default=Path("../shared/real-dev"))
    p.add_argument("--per-image", type=int, default=2, help="training tiles cut from each photo")
    p.add_argument("--val", type=int, default=300, help="synthetic validation tiles (from held-out photos)")
    p.add_argument("--size", type=int, default=320)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--distractors", type=float, default=0.0, help="fraction of training tiles with unlabelled lettering"
    )
    p.add_argument(
        "--signs", type=float, default=0.0, help="fraction of training tiles with unlabelled signs and shop boards"
    )
    p.add_argument(
        "--sign-min-width",
        type=float,
        default=DISTRACTOR_WIDTH[0],
        help=f"narrowest sign pasted, px at the tile's scale (the widest is {DISTRACTOR_WIDTH[1]:g})",
    )
    p.add_argument(
        "--mine-with",
        type=Path,
        help="a models folder (plate_detector + plate_ocr): its false boxes on the real-train photos become "
        "background tiles",
    )
    return p


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    a = parser().parse_args(argv)
    for needed in ("plate_detector.xml", "plate_ocr.xml"):
        if a.mine_with is not None and not (a.mine_with / needed).exists():
            raise SystemExit(f"--mine-with {a.mine_with}: no {needed} there (a detector and the reader beside it)")
    for flag, share in (("--distractors", a.distractors), ("--signs", a.signs)):
        if not 0.0 <= share <= 1.0:
            raise SystemExit(f"{flag} {share:g}: a fraction of the tiles, from 0 to 1")
    if not 1.0 <= a.sign_min_width < DISTRACTOR_WIDTH[1]:
        raise SystemExit(
            f"--sign-min-width {a.sign_min_width:g}: from 1 to under {DISTRACTOR_WIDTH[1]:g} px (the widest sign)"
        )
    signs = SignMix(a.signs, a.sign_min_width)
    build(a.out, a.real_train, a.real_dev, a.per_image, a.val, a.size, a.seed, a.distractors, a.mine_with, signs)


if __name__ == "__main__":
    main()
