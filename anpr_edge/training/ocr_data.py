"""OCR datasets: synthetic plate crops (seeded, cached as .npz) and the real-dev crops.

A sample is a grey ``H x W`` uint8 crop cut by :func:`anpr_edge.inference.ocr_core.crop_plate` (or, for a
reader of rectified crops, warped from the plate's corners by :func:`anpr_edge.inference.rectify.rectify`),
exactly as the runtime cuts it, and its plate text.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.core.plates import DIGITS, LETTERS, UNREAD
from anpr_edge.core.results import Detection
from anpr_edge.inference.corners import CornerModel
from anpr_edge.inference.ocr_core import crop_plate, jitter_box, skew_angle
from anpr_edge.inference.rectify import as_corners, plausible, rectify
from anpr_edge.tools.labels import read_labels
from anpr_edge.training.augment import PLATE_WIDTH, degrade, ocr_training_crop, photometric
from anpr_edge.training.render import random_plate

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CropSpec:
    """How the runtime cuts plates for the OCR (written into the model metadata)."""

    width: int = 128
    height: int = 32
    margin_x: float = 0.03
    margin_y: float = 0.08
    deskew: bool = False  # turn each crop level by the plate's measured slope (ocr_core.skew_angle)
    deskew_rise: float = 1.0  # share of the slope's rise taken off a level crop's height
    rectified: bool = False  # warp each plate level from its corners (inference.rectify), the box without them

    def cut(
        self,
        frame: np.ndarray,
        box: tuple[float, float, float, float],
        corners: np.ndarray | None = None,
        jitter: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
    ) -> np.ndarray:
        """The runtime's crop of ``box`` (``PlateOCR.crops`` with one variant): rectified from ``corners``
        (its window moved and grown by ``jitter``, in plate sizes) when the spec is ``rectified`` and they are
        plausible; otherwise the box (the caller has jittered it)."""
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        quad = as_corners(corners) if self.rectified and corners is not None else None
        if quad is not None and plausible(quad, box):
            return rectify(grey, quad, self.width, self.height, self.margin_x, self.margin_y, jitter)
        angle = skew_angle(grey, box) if self.deskew else 0.0
        return crop_plate(grey, box, self.margin_x, self.margin_y, self.width, self.height, angle, self.deskew_rise)


#: How far a corner model's corners lie from a plate's own, per coordinate, in plate widths (standard
#: deviation; the shipped corner model is 1 % of the width off on average): what rectified crops learn.
CORNER_NOISE = 0.01

SPEC_FILE = "crop_spec.json"


def save_spec(data_dir: Path, spec: CropSpec) -> None:
    """Record how a data folder's crops were cut, so training and export cannot mix up crop kinds."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / SPEC_FILE).write_text(json.dumps(asdict(spec), indent=2) + "\n")


def load_spec(data_dir: Path) -> CropSpec:
    """The crop spec of a data folder (folders from before the file existed hold plain crops)."""
    path = data_dir / SPEC_FILE
    return CropSpec(**json.loads(path.read_text())) if path.exists() else CropSpec()


@dataclass(frozen=True, slots=True)
class LabelledCrop:
    image: np.ndarray
    text: str
    quality: str = "synthetic"
    source: str = ""


SCENE_FILE = "synthetic.json"
#: The characters a reader reads (its classes, the CTC blank aside).
READ_ALPHABET = DIGITS + LETTERS


@dataclass(frozen=True, slots=True)
class Synthesis:
    """How a data folder's synthetic plates are made, beyond the crop cut (recorded in ``synthetic.json``)."""

    wide_roll: float = 0.0  # share of plates rolled uniformly up to 18 degrees (augment.perspective_quad)
    plate_width: tuple[float, float] = PLATE_WIDTH  # plate width at camera resolution, px, log-uniform
    dusk: float = 0.0  # share of plates given the dusk look (augment.dusk)
    unreadable: float = 0.0  # share of plates with one or two characters made unreadable, labelled UNREAD

    @property
    def alphabet(self) -> str:
        """The reader's classes (the CTC blank aside): with unreadable characters, ``UNREAD`` is one."""
        return READ_ALPHABET + UNREAD if self.unreadable else READ_ALPHABET

    def problem(self) -> str | None:
        """What is wrong with these settings, in the words of ``train_ocr gen``'s options, or None."""
        lo, hi = self.plate_width
        if not 0.0 <= self.wide_roll <= 1.0:
            return f"--wide-roll {self.wide_roll:g}: must be a share, 0-1"
        if not 16.0 <= lo < hi <= 520.0:
            return f"--plate-width {lo:g} {hi:g}: must be MIN < MAX within 16-520 px"
        if not 0.0 <= self.dusk <= 1.0:
            return f"--dusk {self.dusk:g}: must be a share, 0-1"
        if not 0.0 <= self.unreadable <= 1.0:
            return f"--unreadable {self.unreadable:g}: must be a share, 0-1"
        return None

    def describe(self) -> str:
        """These settings as the ``train_ocr gen`` options that make them."""
        lo, hi = self.plate_width
        dusk = f" --dusk {self.dusk:g}" if self.dusk else ""
        unreadable = f" --unreadable {self.unreadable:g}" if self.unreadable else ""
        return f"--wide-roll {self.wide_roll:g} --plate-width {lo:g} {hi:g}{dusk}{unreadable}"


def save_synthesis(data_dir: Path, synthesis: Synthesis) -> None:
    """Record how a data folder's plates were made."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / SCENE_FILE).write_text(json.dumps(asdict(synthesis), indent=2) + "\n")


def load_synthesis(data_dir: Path) -> Synthesis:
    """How a data folder's plates were made; keys a folder's file predates take their defaults."""
    path = data_dir / SCENE_FILE
    held = json.loads(path.read_text()) if path.exists() else {}
    default = Synthesis()
    lo, hi = held.get("plate_width", default.plate_width)
    return Synthesis(
        float(held.get("wide_roll", default.wide_roll)),
        (float(lo), float(hi)),
        float(held.get("dusk", default.dusk)),
        float(held.get("unreadable", default.unreadable)),
    )


def unreadable_positions(text: str, share: float, rng: random.Random) -> tuple[int, ...]:
    """For a share ``share`` of plates, one character (two on a third of them) to make unreadable; none
    otherwise. With ``share`` 0 nothing is drawn, so folders made without it keep their pixels."""
    if not share or rng.random() >= share:
        return ()
    return tuple(sorted(rng.sample(range(len(text)), 2 if rng.random() < 1 / 3 else 1)))


def synthetic_sample(seed: int, spec: CropSpec, synthesis: Synthesis = Synthesis()) -> LabelledCrop:
    """The synthetic sample number ``seed``: same seed, same pixels."""
    rng = random.Random(seed)
    text = random_plate(rng)
    unread = unreadable_positions(text, synthesis.unreadable, rng)
    scene, box, corners = ocr_training_crop(
        text, rng, synthesis.wide_roll, synthesis.plate_width, synthesis.dusk, unread
    )
    text = "".join(UNREAD if i in unread else c for i, c in enumerate(text))
    if not spec.rectified:  # no draws here otherwise: box-crop folders stay reproducible
        return LabelledCrop(spec.cut(scene, box), text)
    width = float(np.linalg.norm(corners[1] - corners[0]))
    found = corners + np.array([[rng.gauss(0, CORNER_NOISE * width) for _ in range(2)] for _ in range(4)])
    jitter = (rng.uniform(-0.02, 0.02), rng.uniform(-0.05, 0.05), rng.uniform(-0.01, 0.03), rng.uniform(-0.03, 0.06))
    return LabelledCrop(spec.cut(scene, box, found, jitter), text)


def generate(n: int, seed: int, spec: CropSpec, out: Path, synthesis: Synthesis = Synthesis()) -> Path:
    """Write ``n`` synthetic samples (sample seeds ``seed*10^7 + i``) to ``out`` (.npz)."""
    images = np.empty((n, spec.height, spec.width), np.uint8)
    texts: list[str] = []
    for i in range(n):
        s = synthetic_sample(seed * 10_000_000 + i, spec, synthesis)
        images[i] = s.image
        texts.append(s.text)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.npz")
    np.savez(tmp, images=images, texts=np.array(texts))
    tmp.replace(out)
    return out


def load_npz(path: Path) -> tuple[np.ndarray, list[str]]:
    with np.load(path) as data:
        return data["images"], [str(t) for t in data["texts"]]


@dataclass(frozen=True, slots=True)
class RealPlate:
    """A boxed real plate with its whole (grey) photo, so training can cut it with box jitter."""

    frame: np.ndarray
    box: tuple[float, float, float, float]
    text: str
    quality: str
    source: str
    corners: np.ndarray | None = None  # 4 x 2, from a corner model (:func:`with_found_corners`)

    def crop(self, spec: CropSpec, jitter: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)) -> LabelledCrop:
        """The runtime's crop of the box moved by ``(dx, dy)`` and grown by ``(sx, sy)`` per side (a rectified
        spec: of the plate warped from its corners, its window moved and grown as much)."""
        box = jitter_box(self.box, *jitter)
        corners = self.corners if spec.rectified else None
        return LabelledCrop(spec.cut(self.frame, box, corners, jitter), self.text, self.quality, self.source)


def with_found_corners(plates: list[RealPlate], model: CornerModel) -> list[RealPlate]:
    """The plates with the corners ``model`` finds in their boxes (what a rectified reader is shown)."""
    out = []
    for p in plates:
        (found,) = model(p.frame, [Detection(p.box, 1.0)])
        corners = np.array(found.corners, np.float32)
        out.append(RealPlate(p.frame, p.box, p.text, p.quality, p.source, corners))
    return out


# Box jitter for real training crops, per side in box widths / heights: (dx, dy, sx, sy) drawn uniformly from
# these ranges. They cover the runtime's variant boxes (ocr_core.BOX_VARIANTS) with some room, the way detector
# boxes wander, and a loose edge shows the real car around the plate instead of replicated border pixels.
REAL_JITTER = ((-0.05, 0.05), (-0.1, 0.1), (-0.04, 0.06), (-0.07, 0.1))


def random_jitter(rng: np.random.Generator) -> tuple[float, float, float, float]:
    """One box jitter drawn from :data:`REAL_JITTER`."""
    dx, dy, sx, sy = (float(rng.uniform(lo, hi)) for lo, hi in REAL_JITTER)
    return dx, dy, sx, sy


#: How :func:`camera_variant` re-shoots a real plate: its roll (degrees, uniform ±), the narrowest plate
#: width it shrinks to (px, log-uniform down from the photo's), and how often it relights it.
CAMERA_ROLL, CAMERA_MIN_WIDTH, CAMERA_RELIGHT = 8.0, 50.0, 0.5


def camera_variant(plate: RealPlate, rng: np.random.Generator) -> RealPlate:
    """The real plate as another camera might see it: rolled, smaller, relit, blurred, noisy, JPEG'd.

    The region around the box (0.3 box widths either side, a box height above and below, about the
    extent of the synthetic plates' scenes, so lighting and dirt have their scale) is turned about
    the box centre by up to :data:`CAMERA_ROLL` degrees, shrunk so the plate is between
    :data:`CAMERA_MIN_WIDTH` px and its width in the photo (log-uniform), relit (the synthetic plates'
    :func:`~anpr_edge.training.augment.photometric`, with probability :data:`CAMERA_RELIGHT`) and degraded
    at that resolution (:func:`~anpr_edge.training.augment.degrade`). The new box is the axis-aligned
    box of the turned one, as a detector would draw it. The real glyphs stay; only the camera changes.
    """
    x1, y1, x2, y2 = plate.box
    w, h = x2 - x1, y2 - y1
    fh, fw = plate.frame.shape[:2]
    rx1, ry1 = max(0, int(x1 - 0.3 * w)), max(0, int(y1 - h))
    rx2, ry2 = min(fw, int(x2 + 0.3 * w) + 1), min(fh, int(y2 + h) + 1)
    roi = plate.frame[ry1:ry2, rx1:rx2]
    corners = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32) - np.array([rx1, ry1], np.float32)
    target_w = float(np.exp(rng.uniform(np.log(min(CAMERA_MIN_WIDTH, w)), np.log(w))))
    scale = target_w / w
    out_w, out_h = max(8, round(roi.shape[1] * scale)), max(8, round(roi.shape[0] * scale))
    turn_scale, shrunk = scale, 1.0
    if scale < 0.5:  # shrink first (area-averaged), then turn at that size: a turn that shrinks aliases
        roi = cv2.resize(roi, (out_w, out_h), interpolation=cv2.INTER_AREA)
        corners, turn_scale, shrunk = corners * scale, 1.0, scale
    centre = corners.mean(axis=0)
    roll = float(rng.uniform(-CAMERA_ROLL, CAMERA_ROLL))
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), roll, turn_scale)
    m[:, 2] += centre * turn_scale - centre  # the centre lands where the scaled photo has it
    img = cv2.warpAffine(roi, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    moved = cv2.transform(corners[None], m)[0]
    py = random.Random(int(rng.integers(2**31)))
    if py.random() < CAMERA_RELIGHT:
        img = cv2.cvtColor(photometric(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR), py), cv2.COLOR_BGR2GRAY)
    img = degrade(img, py)
    box = (float(moved[:, 0].min()), float(moved[:, 1].min()), float(moved[:, 0].max()), float(moved[:, 1].max()))
    found = None
    if plate.corners is not None:  # the plate's corners go where its pixels went
        c = (plate.corners - np.array([rx1, ry1], np.float32)) * shrunk
        found = cv2.transform(c[None].astype(np.float32), m)[0]
    return RealPlate(img, box, plate.text, plate.quality, plate.source, found)


#: How :func:`small_shot` re-shoots a reader-sized crop: the crop widths (px, log-uniform) it shrinks it to
#: (the plate, inside the crop's margins, about 6 % narrower), small but still readable, as camera-dev's
#: ``low`` plates are.
SMALL_SHOT_WIDTH = (70.0, 120.0)


def small_shot(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A reader-sized crop as a camera that saw it :data:`SMALL_SHOT_WIDTH` px wide would give it:
    shrunk (area-averaged); at that size lightly blurred (0.3-0.7 px, a third of them), noisy (σ 2-6, half)
    and JPEG'd (quality 30-80, most); stretched back to the crop's size, as the runtime stretches a small
    plate's crop. Milder than :func:`~anpr_edge.training.augment.degrade`, whose motion blur at this size
    leaves characters nobody could read: a label on an unreadable crop teaches the reader to guess."""
    h, w = crop.shape[:2]
    scale = float(np.exp(rng.uniform(*np.log(SMALL_SHOT_WIDTH)))) / w
    if scale >= 1.0:
        return crop
    out = cv2.resize(crop, (max(8, round(w * scale)), max(4, round(h * scale))), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.33:
        out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.3, 0.7)))
    if rng.random() < 0.5:
        noisy = out.astype(np.float32) + rng.normal(0.0, float(rng.uniform(2, 6)), out.shape)
        out = np.clip(noisy, 0, 255).astype(np.uint8)
    if rng.random() < 0.8:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 81))])
        out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE) if ok else out
    return cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)


def real_plates(folder: Path, qualities: tuple[str, ...] = ("high", "low")) -> list[RealPlate]:
    """The boxed plates of a real-dev style folder (``images/`` + ``labels.csv``), with their photos."""
    labels = read_labels(folder / "labels.csv")
    out: list[RealPlate] = []
    cache: dict[str, np.ndarray] = {}
    for row in labels:
        if row.quality not in qualities or not row.plate:
            continue
        if row.image not in cache:
            img = cv2.imread(str(folder / "images" / row.image))
            if img is None:
                raise ValueError(f"{folder / 'images' / row.image}: not a readable image")
            cache[row.image] = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)  # as the runtime greys a frame
        out.append(RealPlate(cache[row.image], row.box, row.plate, row.quality, row.image))
    return out


def real_crops(folder: Path, spec: CropSpec, qualities: tuple[str, ...] = ("high", "low")) -> list[LabelledCrop]:
    """Crops of the boxed plates of a real-dev style folder (``images/`` + ``labels.csv``)."""
    return [plate.crop(spec) for plate in real_plates(folder, qualities)]
