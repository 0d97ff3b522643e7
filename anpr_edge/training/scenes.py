"""Synthetic detector scenes: plates pasted into street-like images, as a YOLO dataset.

Images are made at the detector's own scale (a 1080p frame shrunk to the 640-wide model input), so a
``size x size`` training tile is a native-scale crop of a full frame: plates 14-250 px wide. Sources:

* procedural scenes: sky/road gradients, car-like bodies with a plate low in the middle, hard
  negatives (signs with text, stripes, grilles, headlights, white rectangles);
* the real-dev photos of the training split, scaled to inference size, their boxed plates kept as
  labels, with extra synthetic plates pasted in.

``python -m anpr_edge.training.scenes --out work/det_data`` writes ``images/``, ``labels/``,
``data.yaml``, ``manifest.csv`` and ``contact_sheet.png``.
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from anpr_edge.core.geometry import iou
from anpr_edge.core.results import Box
from anpr_edge.inference.models import Models
from anpr_edge.inference.ocr import CharThresholds
from anpr_edge.tools.evaluate import plate_like
from anpr_edge.tools.labels import LabelRow, read_labels, trained_on
from anpr_edge.training.augment import degrade, perspective_quad, photometric, style_plate
from anpr_edge.training.render import random_plate, render_plate

logger = logging.getLogger("anpr_edge.training.scenes")


@dataclass(frozen=True, slots=True)
class Scene:
    image: np.ndarray
    boxes: list[Box]
    texts: list[str]
    source: str


@dataclass(frozen=True, slots=True)
class MinedBox:
    """A box the previous detector found on a trained real photo, on no boxed plate."""

    image: str
    box: Box
    score: float
    read: str
    unboxed_plate: bool  # greyed out, not taught as background: maybe a plate nobody boxed (see the miner)


def unboxed_plate(read: str, max_unread: int | None = None) -> bool:
    """Whether a false box's read is a real plate nobody boxed: plate-like (what the event gate would
    report) and, with ``max_unread``, at most that many ``#``."""
    return plate_like(read) and (max_unread is None or read.count("#") <= max_unread)


def false_boxes(
    loaded: Models, name: str, img: np.ndarray, boxes: list[Box], conf: float, masked: Callable[[str], bool]
) -> list[MinedBox]:
    """``loaded``'s boxes on one photo that overlap none of ``boxes`` (IoU < 0.3), each read; ``masked(read)``
    marks a box to grey out rather than teach as background (a plate nobody boxed)."""
    preds = loaded.detector(img, conf, 0.5)
    out = []
    for read in loaded.ocr(img, preds, CharThresholds()) if preds else []:
        box = read.detection.box
        if max((iou(box, b) for b in boxes), default=0.0) < 0.3:
            out.append(MinedBox(name, box, read.detection.score, read.text, masked(read.text)))
    return out


def mine(
    models: Path,
    real_dev: Path,
    by_image: dict[str, list[LabelRow]],
    conf: float = 0.2,
    unboxed_max_unread: int | None = None,
) -> list[MinedBox]:
    """Hard negatives from the previous release: its boxes on the photos of ``by_image`` (name -> label
    rows) that match no label.

    Uses the shipped runtime (no torch). A box whose read fits the plate template is a background plate
    that real-dev does not box (its README says such plates exist); it is masked, not taught as background.
    With ``unboxed_max_unread`` the read must also have at most that many ``#``: the stage-3 rule
    (``None``, any read the event gate would report) let a photographer's watermark with a year
    (``H627##046``) pass as a plate.
    """
    loaded = Models.load(models / "plate_detector.xml", models / "plate_ocr.xml", "cpu", precision="f32")
    out = []
    for name, rows in by_image.items():
        img = cv2.imread(str(real_dev / "images" / name))
        boxes = [r.box for r in rows]
        out += false_boxes(loaded, name, img, boxes, conf, lambda read: unboxed_plate(read, unboxed_max_unread))
    return out


def _random_colour(rng: random.Random, lo: int = 0, hi: int = 255) -> tuple[int, int, int]:
    return (rng.randint(lo, hi), rng.randint(lo, hi), rng.randint(lo, hi))


def street_background(h: int, w: int, rng: random.Random) -> np.ndarray:
    """Sky / buildings / road bands with texture and clutter."""
    img = np.zeros((h, w, 3), np.float32)
    horizon = rng.randint(0, h // 2)
    top, bottom = np.array(_random_colour(rng, 60, 230), np.float32), np.array(_random_colour(rng, 30, 140), np.float32)
    img[:horizon] = top
    img[horizon:] = bottom
    for _ in range(rng.randint(2, 10)):  # buildings, fences, poles
        x, y = rng.randrange(w), rng.randrange(h)
        cv2.rectangle(img, (x, y), (x + rng.randint(10, w // 2), y + rng.randint(10, h // 2)), _random_colour(rng), -1)
    noise = np.random.default_rng(rng.randrange(2**31)).standard_normal((h // 4 + 1, w // 4 + 1, 3), np.float32)
    img += cv2.resize(noise, (w, h)) * rng.uniform(3, 20)
    return np.clip(img, 0, 255).astype(np.uint8)


# Shares of the negative kinds (cumulative): ``basic`` is the generator of stages 1 and 2, kept so that
# their recipes still reproduce; ``extended`` adds what the stage-2 model mistook for plates on real photos;
# ``grilles`` adds the chrome radiator grilles the stage-3 model still took for plates (and mounts one
# above some procedural cars' plates).
NEGATIVE_MIXES = {
    "basic": (0.35, 0.55, 0.7, 1.0, 1.0, 1.0, 1.0, 1.0),
    "extended": (0.2, 0.3, 0.38, 0.48, 0.63, 0.76, 0.86, 1.0),
    "grilles": (0.16, 0.23, 0.29, 0.37, 0.49, 0.59, 0.67, 0.75),
}


def hard_negatives(img: np.ndarray, rng: random.Random, mix: str = "extended") -> None:
    """Things that look a little like plates: signs with text, stripes, grilles, headlights, light
    rectangles; ``extended`` adds script watermarks, car badges, lettering and lamps; ``grilles`` adds
    chrome radiator grilles."""
    sign, stripes, lights, rect, script, badges, letters, lamps = NEGATIVE_MIXES[mix]
    h, w = img.shape[:2]
    for _ in range(rng.randint(1, 6)):
        kind = rng.random()
        x, y = rng.randrange(w), rng.randrange(h)
        bw, bh = rng.randint(15, 200), rng.randint(6, 60)
        if kind < sign:  # sign or sticker with text
            cv2.rectangle(img, (x, y), (x + bw, y + bh), _random_colour(rng, 150, 255), -1)
            text = "".join(rng.choice("0123456789ABCDEFGHKMOPTXYZ -") for _ in range(rng.randint(2, 9)))
            cv2.putText(
                img,
                text,
                (x + 2, y + int(bh * 0.8)),
                rng.choice((0, 1, 2, 3, 4)),
                bh / 40.0,
                _random_colour(rng, 0, 90),
                max(1, bh // 15),
            )
        elif kind < stripes:  # stripes / grille
            step = rng.randint(2, 8)
            for k in range(0, bh, step):
                cv2.line(img, (x, y + k), (x + bw, y + k), _random_colour(rng, 0, 255), 1)
        elif kind < lights:  # headlight pair
            r = rng.randint(3, 20)
            cv2.ellipse(img, (x, y), (r * 2, r), 0, 0, 360, (250, 250, 250), -1)
            cv2.ellipse(img, (x + rng.randint(40, 200), y), (r * 2, r), 0, 0, 360, (250, 250, 250), -1)
        elif kind < rect:  # plain light rectangle with a dark rim, the hardest negative
            cv2.rectangle(img, (x, y), (x + bw, y + bh), _random_colour(rng, 170, 255), -1)
            cv2.rectangle(img, (x, y), (x + bw, y + bh), _random_colour(rng, 0, 60), 1)
        elif kind < script:
            script_text(img, rng, x, y)
        elif kind < badges:
            badge(img, rng, x, y)
        elif kind < letters:
            lettering(img, rng, x, y)
        elif kind < lamps:
            lamp(img, rng, x, y)
        else:
            grille(img, rng, x, y, bw, max(5, round(bw / rng.uniform(1.8, 6.0))))


_WORD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CYRILLIC = "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЭЮЯабвгдежзиклмнопрстуфхцчшэюя"
_SIGN_FONTS = sorted(Path("/usr/share/fonts/truetype/dejavu").glob("DejaVuSans*.ttf"))


def _word(rng: random.Random, alphabet: str = _WORD) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 9)))


def script_text(img: np.ndarray, rng: random.Random, x: int, y: int) -> None:
    """A photographer's watermark: handwriting-like text and a year straight on the picture."""
    text = _word(rng) + rng.choice(("", " ", "/", " | ")) + (str(rng.randint(1995, 2025)) if rng.random() < 0.7 else "")
    font = rng.choice((cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX)) | (
        cv2.FONT_ITALIC if rng.random() < 0.5 else 0
    )
    scale = rng.uniform(0.3, 1.6)
    colour = (20, 20, 20) if rng.random() < 0.5 else (235, 235, 235)
    if rng.random() < 0.3:
        colour = _random_colour(rng)
    cv2.putText(img, text, (x, y), font, scale, colour, rng.randint(1, 3), cv2.LINE_AA)


def badge(img: np.ndarray, rng: random.Random, x: int, y: int) -> None:
    """A chrome car badge: a model name in outlined italic letters, or an emblem ring with a shape inside."""
    hi, lo = (rng.randint(170, 250),) * 3, (rng.randint(20, 90),) * 3
    if rng.random() < 0.6:
        font = rng.choice((0, 2, 3, 4, 6)) | (cv2.FONT_ITALIC if rng.random() < 0.5 else 0)
        text = _word(rng).upper() if rng.random() < 0.6 else _word(rng).capitalize()
        scale, thick = rng.uniform(0.3, 1.4), rng.randint(1, 3)
        cv2.putText(img, text, (x, y), font, scale, lo, thick + 2, cv2.LINE_AA)
        cv2.putText(img, text, (x, y), font, scale, hi, thick, cv2.LINE_AA)
    else:
        ax, ay = rng.randint(8, 60), rng.randint(5, 30)
        cv2.ellipse(img, (x, y), (ax, ay), 0, 0, 360, lo, rng.randint(2, 4))
        cv2.ellipse(img, (x, y), (ax, ay), 0, 0, 360, hi, rng.randint(1, 2))
        for _ in range(rng.randint(1, 3)):
            cv2.line(img, (x + rng.randint(-ax, ax), y - ay), (x + rng.randint(-ax, ax), y + ay), hi, rng.randint(1, 3))


def lettering(img: np.ndarray, rng: random.Random, x: int, y: int) -> None:
    """Shop signs and cab lettering: Latin or Cyrillic words, often light on dark, sometimes dark on light."""
    if not _SIGN_FONTS:
        return
    h = rng.randint(8, 48)
    text = _word(rng, _CYRILLIC if rng.random() < 0.6 else _WORD)
    if rng.random() < 0.5:
        text = text.upper()
    font = ImageFont.truetype(str(rng.choice(_SIGN_FONTS)), h)
    _, _, x2, y2 = font.getbbox(text)
    pad = rng.randint(1, max(2, h // 3))
    tw, th = x2 + 2 * pad, y2 + 2 * pad
    bg, fg = _random_colour(rng, 0, 80), _random_colour(rng, 170, 255)
    if rng.random() < 0.4:
        bg, fg = fg, _random_colour(rng, 0, 200)
    canvas = Image.new("RGB", (tw, th), bg)
    ImageDraw.Draw(canvas).text((pad, pad), text, font=font, fill=fg)
    patch = np.asarray(canvas)[:, :, ::-1]
    H, W = img.shape[:2]
    ph, pw = min(th, H - y), min(tw, W - x)
    if ph > 0 and pw > 0:
        if rng.random() < 0.5:  # painted on the body: no panel
            sub = img[y : y + ph, x : x + pw]
            ink = np.abs(patch[:ph, :pw].astype(np.int16) - np.array(bg, np.int16)).sum(axis=2) > 60
            sub[ink] = patch[:ph, :pw][ink]
        else:
            img[y : y + ph, x : x + pw] = patch[:ph, :pw]


def lamp(img: np.ndarray, rng: random.Random, x: int, y: int) -> None:
    """A turn signal or tail light: an amber, red or white lens with ribs."""
    ax, ay = rng.randint(6, 50), rng.randint(4, 20)
    colour = rng.choice(((40, 150, 250), (40, 40, 220), (220, 220, 220), (90, 200, 250)))
    cv2.ellipse(img, (x, y), (ax, ay), rng.uniform(-15, 15), 0, 360, colour, -1)
    dark = tuple(int(c * 0.6) for c in colour)
    for k in range(-ay, ay, max(2, ay // 3)):
        cv2.line(img, (x - ax, y + k), (x + ax, y + k), dark, 1)
    cv2.ellipse(img, (x, y), (ax, ay), 0, 0, 360, (40, 40, 40), 1)


def grille(img: np.ndarray, rng: random.Random, x: int, y: int, w: int, h: int) -> None:
    """A radiator grille about ``w x h`` at ``(x, y)``: chrome or black slats (horizontal, sometimes
    vertical or a mesh) over dark gaps, in a chrome frame, square or oval, maybe with a central emblem."""
    if w < 8 or h < 4:
        return
    hi = rng.randint(140, 250)
    gap = rng.randint(5, 70)
    patch = np.full((h, w), gap, np.float32)
    style = rng.random()
    n = rng.randint(3, max(3, min(14, h // 2)))
    across = h if style < 0.75 else w  # slats stacked down (horizontal slats) or across (vertical)
    pitch = across / n
    for k in range(n):
        a, b = round(k * pitch), round(k * pitch + pitch * rng.uniform(0.45, 0.8))
        if b <= a:
            continue
        shade = np.linspace(hi, hi * rng.uniform(0.3, 0.7), b - a, dtype=np.float32)  # lit top, dark bottom
        if style < 0.75:
            patch[a:b, :] = shade[:, None]
        else:
            patch[:, a:b] = shade[None, :]
    if style > 0.9:  # mesh: vertical bars across the horizontal slats
        for k in range(0, w, max(3, w // rng.randint(4, 16))):
            patch[:, k : k + max(1, w // 40)] = gap
    rim = max(1, round(min(h, w) * rng.uniform(0.05, 0.15)))
    oval = rng.random() < 0.3
    mask = np.zeros((h, w), np.uint8)
    if oval:
        cv2.ellipse(mask, (w // 2, h // 2), (w // 2, h // 2), 0, 0, 360, 255, -1)
        cv2.ellipse(patch, (w // 2, h // 2), (w // 2 - rim // 2, h // 2 - rim // 2), 0, 0, 360, float(hi), rim)
    else:
        mask[:] = 255
        cv2.rectangle(patch, (0, 0), (w - 1, h - 1), float(hi), rim)
    if rng.random() < 0.35:  # emblem in the middle
        r = max(2, h // 4)
        cv2.ellipse(patch, (w // 2, h // 2), (r + r // 2, r), 0, 0, 360, float(rng.randint(180, 255)), -1)
    tint = np.array([rng.uniform(0.85, 1.0) for _ in range(3)], np.float32)
    colour = np.clip(patch[:, :, None] * tint, 0, 255).astype(np.uint8)
    H, W = img.shape[:2]
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, W), min(y + h, H)
    if x1 <= x0 or y1 <= y0:
        return
    sub = img[y0:y1, x0:x1]
    m = mask[y0 - y : y1 - y, x0 - x : x1 - x] > 0
    sub[m] = colour[y0 - y : y1 - y, x0 - x : x1 - x][m]


def grille_above(img: np.ndarray, rng: random.Random, plate: Box, plates: list[Box]) -> None:
    """A grille on the car, above its plate (what a car front looks like); never over any of ``plates``."""
    x1, y1, x2, y2 = plate
    pw, ph = x2 - x1, y2 - y1
    w = round(pw * rng.uniform(1.2, 3.0))
    h = max(5, round(w / rng.uniform(2.0, 5.0)))
    gx = round((x1 + x2) / 2 - w / 2 + rng.gauss(0, pw * 0.1))
    gy = round(y1 - ph * rng.uniform(0.3, 1.5) - h)
    if any(gx < b[2] and b[0] < gx + w and gy < b[3] and b[1] < gy + h for b in plates):
        return
    grille(img, rng, gx, gy, w, h)


def paste_plate(img: np.ndarray, rng: random.Random, width: float, centre: tuple[float, float]) -> tuple[Box, str]:
    """Warp a rendered plate of about ``width`` px into ``img`` at ``centre``; return its box."""
    text = random_plate(rng)
    px = int(min(520, max(120, width * 2)))
    plate = style_plate(render_plate(text, px_per_mm=px / 520.0).image, rng)
    plate = photometric(plate, rng)
    ph, pw = plate.shape[:2]
    quad = perspective_quad(pw, ph, rng, max_yaw=35.0) * (width / pw)
    quad += np.array(centre, np.float32)
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    m = cv2.getPerspectiveTransform(src, quad)
    h, w = img.shape[:2]
    warped = cv2.warpPerspective(plate, m, (w, h), flags=cv2.INTER_AREA if width < pw else cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (w, h), flags=cv2.INTER_LINEAR)
    a = (mask.astype(np.float32) / 255.0)[:, :, None]
    img[:] = (img * (1 - a) + warped * a).astype(np.uint8)
    x1, y1 = quad.min(axis=0)
    x2, y2 = quad.max(axis=0)
    return (float(max(x1, 0)), float(max(y1, 0)), float(min(x2, w)), float(min(y2, h))), text


def car_with_plate(img: np.ndarray, rng: random.Random, width: float) -> tuple[Box, str]:
    """Draw a car-like body and mount a plate low in its middle."""
    h, w = img.shape[:2]
    cw, ch = width * rng.uniform(3.5, 5.0), width * rng.uniform(2.0, 3.2)
    cx, cy = rng.uniform(0, w), rng.uniform(h * 0.3, h)
    colour = _random_colour(rng)
    x1, y1, x2, y2 = int(cx - cw / 2), int(cy - ch * 0.7), int(cx + cw / 2), int(cy + ch * 0.3)
    cv2.rectangle(img, (x1, y1), (x2, y2), colour, -1)
    cv2.rectangle(img, (x1, y1), (x2, int(y1 + ch * 0.3)), tuple(int(c * 0.4) for c in colour), -1)  # windscreen
    r = max(2, int(width * 0.25))
    cv2.circle(img, (int(x1 + cw * 0.15), int(cy - ch * 0.15)), r, (230, 230, 230), -1)
    cv2.circle(img, (int(x2 - cw * 0.15), int(cy - ch * 0.15)), r, (230, 230, 230), -1)
    return paste_plate(img, rng, width, (cx + rng.gauss(0, width * 0.2), cy))


def plate_width(rng: random.Random) -> float:
    """Plate width in model-input pixels: log-uniform 14-250 px."""
    return math.exp(rng.uniform(math.log(14), math.log(250)))


def procedural_scene(size: int, rng: random.Random, mix: str = "extended") -> Scene:
    img = street_background(size, size, rng)
    if rng.random() < 0.8:
        hard_negatives(img, rng, mix)
    boxes: list[Box] = []
    texts: list[str] = []
    for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3))):
        width = plate_width(rng)
        if rng.random() < 0.7:
            box, text = car_with_plate(img, rng, width)
            if mix == "grilles" and rng.random() < 0.6:
                grille_above(img, rng, box, [*boxes, box])
        else:
            box, text = paste_plate(img, rng, width, (rng.uniform(0, size), rng.uniform(0, size)))
        boxes.append(box)
        texts.append(text)
    return Scene(degrade(img, rng), boxes, texts, "procedural")


def real_scene(
    size: int,
    rng: random.Random,
    image: np.ndarray,
    rows: list[LabelRow],
    name: str,
    mined: list[MinedBox] | None = None,
) -> Scene:
    """A ``size`` tile of a real photo at inference scale, its plates kept, maybe one synthetic added.

    With ``mined`` boxes (:func:`mine`), half the tiles are centred on a false box of the previous model,
    and unboxed background plates are greyed out so that they are not taught as background.
    """
    h, w = image.shape[:2]
    scale = min(640 / w, 384 / h) * math.exp(rng.uniform(math.log(0.5), math.log(1.6)))
    img = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    boxes = [tuple(v * scale for v in r.box) for r in rows]
    ih, iw = img.shape[:2]
    mined = mined or []
    for m in mined:
        if m.unboxed_plate:
            x1, y1, x2, y2 = (round(v * scale) for v in m.box)
            img[max(y1, 0) : max(y2, 0), max(x1, 0) : max(x2, 0)] = 114
    negatives = [tuple(v * scale for v in m.box) for m in mined if not m.unboxed_plate]
    if negatives and rng.random() < 0.5:  # centre the tile near a false box of the previous model
        b = rng.choice(negatives)
        cx, cy = (
            (b[0] + b[2]) / 2 + rng.uniform(-size / 4, size / 4),
            (b[1] + b[3]) / 2 + rng.uniform(-size / 4, size / 4),
        )
    elif boxes and rng.random() < 0.8:  # centre the tile near a plate
        b = rng.choice(boxes)
        cx, cy = (
            (b[0] + b[2]) / 2 + rng.uniform(-size / 3, size / 3),
            (b[1] + b[3]) / 2 + rng.uniform(-size / 3, size / 3),
        )
    else:
        cx, cy = rng.uniform(0, iw), rng.uniform(0, ih)
    x0, y0 = int(cx - size / 2), int(cy - size / 2)
    tile = np.full((size, size, 3), 114, np.uint8)
    sx1, sy1, sx2, sy2 = max(x0, 0), max(y0, 0), min(x0 + size, iw), min(y0 + size, ih)
    if sx2 > sx1 and sy2 > sy1:
        tile[sy1 - y0 : sy2 - y0, sx1 - x0 : sx2 - x0] = img[sy1:sy2, sx1:sx2]
    out_boxes, texts = [], []
    for b, r in zip(boxes, rows, strict=True):
        bx1, by1, bx2, by2 = b[0] - x0, b[1] - y0, b[2] - x0, b[3] - y0
        cx1, cy1, cx2, cy2 = max(bx1, 0), max(by1, 0), min(bx2, size), min(by2, size)
        if cx2 - cx1 < 0.6 * (bx2 - bx1) or cy2 - cy1 < 0.6 * (by2 - by1):
            if cx2 > cx1 and cy2 > cy1:  # mostly cut off: grey it out rather than teach a half plate
                tile[int(cy1) : math.ceil(cy2), int(cx1) : math.ceil(cx2)] = 114
            continue
        out_boxes.append((cx1, cy1, cx2, cy2))
        texts.append(r.plate)
    if rng.random() < 0.4:
        box, text = paste_plate(tile, rng, plate_width(rng), (rng.uniform(0, size), rng.uniform(0, size)))
        out_boxes.append(box)
        texts.append(text)
    return Scene(degrade(photometric(tile, rng) if rng.random() < 0.3 else tile, rng), out_boxes, texts, name)


def yolo_lines(boxes: list[Box], w: int, h: int) -> list[str]:
    """YOLO label lines (class 0, normalised centre/size), boxes clipped to the image."""
    lines = []
    for x1, y1, x2, y2 in boxes:
        x1, x2 = max(0.0, x1), min(float(w), x2)
        y1, y2 = max(0.0, y1), min(float(h), y2)
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        lines.append(f"0 {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}")
    return lines


def build(
    out: Path,
    n_train: int,
    size: int,
    seed: int,
    real_dev: Path | None,
    real_fraction: float,
    mix: str = "extended",
    mine_with: Path | None = None,
    unboxed_max_unread: int | None = None,
) -> None:
    """Write the dataset; the real-dev split follows :func:`anpr_edge.labels.trained_on` (as the OCR).

    ``mix`` picks the procedural hard negatives (:data:`NEGATIVE_MIXES`); ``mine_with`` (a models folder)
    adds the false boxes of that release on the trained photos (:func:`mine`, listed in ``mined.csv``).
    """
    rng = random.Random(seed)
    real: dict[str, list[LabelRow]] = {}
    if real_dev and (real_dev / "labels.csv").exists():
        for row in read_labels(real_dev / "labels.csv"):
            real.setdefault(row.image, []).append(row)
    else:
        logger.warning("real-dev not found at %s: procedural scenes only, no real validation", real_dev)
    train_names = sorted(n for n in real if trained_on(n))
    val_names = sorted(n for n in real if not trained_on(n))
    for split in ("train", "val"):
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    mined: dict[str, list[MinedBox]] = {}
    if mine_with is not None and real_dev is not None and train_names:
        found = mine(mine_with, real_dev, {n: real[n] for n in train_names}, unboxed_max_unread=unboxed_max_unread)
        for m in found:
            mined.setdefault(m.image, []).append(m)
        (out / "mined.csv").write_text(
            "image;x1;y1;x2;y2;score;read;unboxed_plate\n"
            + "".join(
                f"{m.image};{';'.join(f'{v:.1f}' for v in m.box)};{m.score:.3f};{m.read};{int(m.unboxed_plate)}\n"
                for m in found
            )
        )
        logger.info(
            "mined %d false boxes of %s on %d trained photos (%d read as unboxed plates, masked)",
            len(found),
            mine_with,
            len(train_names),
            sum(m.unboxed_plate for m in found),
        )
    cache: dict[str, np.ndarray] = {}
    manifest = [("file", "split", "source", "plates", "texts")]
    for i in range(n_train):
        if train_names and rng.random() < real_fraction:
            name = rng.choice(train_names)
            if name not in cache:
                cache[name] = cv2.imread(str(real_dev / "images" / name)) if real_dev else None
            scene = real_scene(size, rng, cache[name], real[name], name, mined.get(name))
        else:
            scene = procedural_scene(size, rng, mix)
        fname = f"s{seed}_{i:06d}"
        cv2.imwrite(str(out / "images" / "train" / f"{fname}.jpg"), scene.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
        lines = yolo_lines(scene.boxes, size, size)
        (out / "labels" / "train" / f"{fname}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
        manifest.append((f"{fname}.jpg", "train", scene.source, str(len(lines)), " ".join(scene.texts)))
    for name in val_names:  # real held-out photos, whole, shrunk to the inference scale
        img = cv2.imread(str(real_dev / "images" / name)) if real_dev else None
        if img is None:
            continue
        h, w = img.shape[:2]
        s = min(640 / w, 384 / h, 1.0)
        small = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        stem = Path(name).stem
        cv2.imwrite(str(out / "images" / "val" / f"{stem}.jpg"), small)
        boxes = [tuple(v * s for v in r.box) for r in real[name]]
        lines = yolo_lines(boxes, small.shape[1], small.shape[0])
        (out / "labels" / "val" / f"{stem}.txt").write_text("\n".join(lines) + "\n")
        manifest.append((f"{stem}.jpg", "val", name, str(len(lines)), " ".join(r.plate for r in real[name])))
    with (out / "manifest.csv").open("w", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(manifest)
    (out / "data.yaml").write_text(f"path: {out.resolve()}\ntrain: images/train\nval: images/val\nnames:\n  0: plate\n")
    contact_sheet(out, out / "contact_sheet.png")


def contact_sheet(root: Path, png: Path, n: int = 24, cols: int = 6, tile: int = 256) -> None:
    """First ``n`` training images with their boxes drawn, for a person to judge realism."""
    files = sorted((root / "images" / "train").glob("*.jpg"))[:n]
    tiles = []
    for f in files:
        img = cv2.imread(str(f))
        h, w = img.shape[:2]
        for line in (root / "labels" / "train" / f"{f.stem}.txt").read_text().split("\n"):
            if line.strip():
                _, cx, cy, bw, bh = map(float, line.split())
                cv2.rectangle(
                    img,
                    (int((cx - bw / 2) * w), int((cy - bh / 2) * h)),
                    (int((cx + bw / 2) * w), int((cy + bh / 2) * h)),
                    (0, 255, 0),
                    1,
                )
        tiles.append(cv2.resize(img, (tile, tile)))
    while len(tiles) % cols:
        tiles.append(np.zeros((tile, tile, 3), np.uint8))
    rows = [np.hstack(tiles[i : i + cols]) for i in range(0, len(tiles), cols)]
    cv2.imwrite(str(png), np.vstack(rows))


def parser() -> argparse.ArgumentParser:
    """The command line (also used by ``reproduce`` to check its recipe)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("work/det_data"))
    p.add_argument("--n", type=int, default=4000, help="training tiles")
    p.add_argument("--size", type=int, default=320)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--real-dev", type=Path, default=Path("../shared/real-dev"))
    p.add_argument("--real-fraction", type=float, default=0.3, help="share of tiles cut from real photos")
    p.add_argument(
        "--negatives",
        choices=sorted(NEGATIVE_MIXES),
        default="extended",
        help="procedural hard negatives: basic (stages 1-2), extended (stage 3: + watermarks, badges, lettering, "
        "lamps) or grilles (+ chrome radiator grilles, also mounted above procedural plates)",
    )
    p.add_argument(
        "--mine-with",
        type=Path,
        default=None,
        help="models folder of a previous release: centre half the real tiles on its false boxes",
    )
    p.add_argument(
        "--unboxed-max-unread",
        type=int,
        default=None,
        help="a mined box counts as an unboxed plate (masked) only if its read has at most this many '#' "
        "(default: any plate-like read, the stage-3 rule)",
    )
    return p


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    a = parser().parse_args(argv)
    build(a.out, a.n, a.size, a.seed, a.real_dev, a.real_fraction, a.negatives, a.mine_with, a.unboxed_max_unread)
    logger.info("dataset written to %s", a.out)


if __name__ == "__main__":
    main()
