"""OCR datasets: synthetic plate crops (seeded, cached as .npz) and the real-dev crops.

A sample is a grey ``H x W`` uint8 crop cut by :func:`anpr_edge.inference.ocr_core.crop_plate`,
exactly as the runtime cuts it, and its plate text.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.inference.ocr_core import crop_plate
from anpr_edge.labels import read_labels
from anpr_edge.training.augment import ocr_training_crop
from anpr_edge.training.render import random_plate

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CropSpec:
    """How the runtime cuts plates for the OCR (written into the model metadata)."""

    width: int = 128
    height: int = 32
    margin_x: float = 0.03
    margin_y: float = 0.08


@dataclass(frozen=True, slots=True)
class LabelledCrop:
    image: np.ndarray
    text: str
    quality: str = "synthetic"
    source: str = ""


def synthetic_sample(seed: int, spec: CropSpec) -> LabelledCrop:
    """The synthetic sample number ``seed``: same seed, same pixels."""
    rng = random.Random(seed)
    text = random_plate(rng)
    scene, box = ocr_training_crop(text, rng)
    crop = crop_plate(scene, box, spec.margin_x, spec.margin_y, spec.width, spec.height)
    return LabelledCrop(crop, text)


def generate(n: int, seed: int, spec: CropSpec, out: Path) -> Path:
    """Write ``n`` synthetic samples (sample seeds ``seed*10^7 + i``) to ``out`` (.npz)."""
    images = np.empty((n, spec.height, spec.width), np.uint8)
    texts: list[str] = []
    for i in range(n):
        s = synthetic_sample(seed * 10_000_000 + i, spec)
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


def real_crops(folder: Path, spec: CropSpec, qualities: tuple[str, ...] = ("high", "low")) -> list[LabelledCrop]:
    """Crops of the boxed plates of a real-dev style folder (``images/`` + ``labels.csv``)."""
    labels = read_labels(folder / "labels.csv")
    out: list[LabelledCrop] = []
    cache: dict[str, np.ndarray] = {}
    for row in labels:
        if row.quality not in qualities or not row.plate:
            continue
        if row.image not in cache:
            img = cv2.imread(str(folder / "images" / row.image))
            if img is None:
                raise ValueError(f"{folder / 'images' / row.image}: not a readable image")
            cache[row.image] = img
        crop = crop_plate(cache[row.image], row.box, spec.margin_x, spec.margin_y, spec.width, spec.height)
        out.append(LabelledCrop(crop, row.plate, row.quality, row.image))
    return out
