"""Render clean GOST R 50577 type 1 plates (520 x 112 mm) with the plate font.

The renderer draws in millimetres scaled by ``px_per_mm``: white field, black rim, series letter,
three digits, two letters, a region field with a 2- or 3-digit region, "RUS" and the flag. Glyphs are
cut from the font once (ink bounding box) and scaled to the GOST heights, so the layout does not depend
on the font's own metrics. Training code only: needs Pillow.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from anpr_edge.core.plates import DIGITS, LETTERS, REGIONS_3

PLATE_W_MM, PLATE_H_MM = 520.0, 112.0
DEFAULT_FONT = Path(__file__).resolve().parents[3] / "shared" / "fonts" / "GOST-R-50577-93.ttf"
FALLBACK_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)


# Centre x (mm) of the six main characters and the layout of the region field.
MAIN_CENTRES = (53.0, 113.0, 163.0, 213.0, 277.0, 330.0)
MAIN_WIDTH = {"L": 46.0, "D": 46.0}
MAIN_HEIGHT = {"L": 58.0, "D": 76.0}
MAIN_BOTTOM = 96.0
SEPARATOR_X = 392.0
REGION_TOP, REGION_HEIGHT = 10.0, 56.0


def find_font(font: Path | None = None) -> Path:
    """The plate font: ``font`` if given, else the shared GOST font, else a system font."""
    candidates = [font] if font else [DEFAULT_FONT, *map(Path, FALLBACK_FONTS)]
    for cand in candidates:
        if cand and cand.is_file():
            return cand
    raise FileNotFoundError(f"no plate font found (tried {', '.join(str(c) for c in candidates)})")


@functools.lru_cache(maxsize=4)
def _glyphs(font_path: str) -> dict[str, np.ndarray]:
    """Ink masks (uint8, 255 = ink) of every plate character, tightly cropped."""
    font = ImageFont.truetype(font_path, 200)
    masks: dict[str, np.ndarray] = {}
    for ch in DIGITS + LETTERS + "RUS":
        img = Image.new("L", (400, 400), 0)
        ImageDraw.Draw(img).text((50, 50), ch, font=font, fill=255)
        arr = np.asarray(img)
        ys, xs = np.nonzero(arr > 0)
        masks[ch] = arr[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].copy()
    return masks


def random_plate(rng: random.Random) -> str:
    """A random, valid plate string (Latin look-alike letters)."""
    letters = "".join(rng.choice(LETTERS) for _ in range(3))
    digits = f"{rng.randrange(1000):03d}"
    if rng.random() < 0.05:  # "000" is not issued, but runs like 001, 777 and 555 are common
        digits = rng.choice(("001", "777", "555", "100", "007"))
    region = rng.choice(REGIONS_3) if rng.random() < 0.4 else f"{rng.randint(1, 99):02d}"
    return letters[0] + digits + letters[1:] + region


@dataclass(frozen=True, slots=True)
class RenderedPlate:
    """A clean plate image (BGR uint8) and its text."""

    image: np.ndarray
    text: str


def _paste(canvas: np.ndarray, mask: np.ndarray, x0: float, y0: float, w: float, h: float) -> None:
    wi, hi = max(1, round(w)), max(1, round(h))
    glyph = cv2.resize(mask, (wi, hi), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    xi, yi = round(x0), round(y0)
    region = canvas[yi : yi + hi, xi : xi + wi]
    g = glyph[: region.shape[0], : region.shape[1], None]
    region[:] = (region * (1.0 - g)).astype(canvas.dtype)


def char_boxes(text: str, px_per_mm: float = 2.0) -> list[tuple[float, float, float, float]]:
    """Where :func:`render_plate` draws each character of ``text``: ``(x1, y1, x2, y2)`` in plate pixels."""
    if len(text) not in (8, 9):
        raise ValueError(f"plate text must have 8 or 9 characters, got {text!r}")
    s = px_per_mm
    boxes = []
    for cx, kind in zip(MAIN_CENTRES, "LDDDLL", strict=True):
        gh, gw = MAIN_HEIGHT[kind], MAIN_WIDTH[kind]
        boxes.append(((cx - gw / 2) * s, (MAIN_BOTTOM - gh) * s, (cx + gw / 2) * s, MAIN_BOTTOM * s))
    n = len(text) - 6
    field_w = PLATE_W_MM - SEPARATOR_X - 6.0
    rw = 36.0 if n == 2 else 33.0
    gap = 4.0 if n == 2 else 2.0
    x = SEPARATOR_X + (field_w - (n * rw + (n - 1) * gap)) / 2 + 1.5
    for _ in range(n):
        boxes.append((x * s, REGION_TOP * s, (x + rw) * s, (REGION_TOP + REGION_HEIGHT) * s))
        x += rw + gap
    return boxes


def render_plate(
    text: str,
    px_per_mm: float = 2.0,
    font: Path | None = None,
    ink: tuple[int, int, int] = (20, 20, 20),
    field: tuple[int, int, int] = (245, 245, 245),
) -> RenderedPlate:
    """Draw ``text`` (``L DDD LL DD[D]``) as a plate ``round(520*s) x round(112*s)`` pixels."""
    if len(text) not in (8, 9):
        raise ValueError(f"plate text must have 8 or 9 characters, got {text!r}")
    glyphs = _glyphs(str(find_font(font)))
    s = px_per_mm
    w, h = round(PLATE_W_MM * s), round(PLATE_H_MM * s)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = field
    # Black rim (rounded look approximated by a thick rectangle), inner thin border.
    cv2.rectangle(img, (0, 0), (w - 1, h - 1), ink, max(1, round(2.5 * s)))
    cv2.rectangle(img, (round(4 * s), round(4 * s)), (w - round(4 * s), h - round(4 * s)), ink, max(1, round(1.2 * s)))
    cv2.line(
        img,
        (round(SEPARATOR_X * s), round(4 * s)),
        (round(SEPARATOR_X * s), h - round(4 * s)),
        ink,
        max(1, round(1.5 * s)),
    )
    canvas = img.astype(np.float32)
    for ch, (x1, y1, x2, y2) in zip(text, char_boxes(text, s), strict=True):
        _paste(canvas, glyphs[ch], x1, y1, x2 - x1, y2 - y1)
    # "RUS" and the flag under the region.
    x = SEPARATOR_X + 12.0
    for ch in "RUS":
        _paste(canvas, glyphs[ch], x * s, 77 * s, 14 * s, 20 * s)
        x += 16.0
    fx, fy, fw, fh = SEPARATOR_X + 64.0, 78.0, 34.0, 19.0
    for i, colour in enumerate(((245, 245, 245), (180, 60, 0), (30, 30, 210))):  # BGR white/blue/red
        y0 = round((fy + i * fh / 3) * s)
        y1 = round((fy + (i + 1) * fh / 3) * s)
        canvas[y0:y1, round(fx * s) : round((fx + fw) * s)] = colour
    cv2.rectangle(canvas, (round(fx * s), round(fy * s)), (round((fx + fw) * s), round((fy + fh) * s)), (90, 90, 90), 1)
    return RenderedPlate(np.clip(canvas, 0, 255).astype(np.uint8), text)
