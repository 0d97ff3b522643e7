"""Pseudo-labels for unlabelled real plate crops: kept only where two differently trained readers agree.

A crop gets a label when (1) both readers read the same text, (2) the text is a complete plate of the
Russian template, and (3) every character of both reads has probability >= ``--min-prob``. The error of that
rule is measured by running it on labelled real-dev plates as if they were unlabelled (``--measure``):
the plates of real-dev's *untrained* half by default, which neither shipped reader saw.

    python -m anpr_edge.training.pseudo_label --out work/pseudo.npz \\
        --reader models/checkpoints/plate_ocr_crnn.pt --reader models/checkpoints/plate_ocr_crnn_synthetic_only.pt
    python -m anpr_edge.training.pseudo_label --measure ../shared/real-dev --reader ... --reader ...

The kept crops are written as an ``.npz`` chunk (``train_ocr train --extra``), with ``pseudo_labels.csv``
beside it (file, text, lowest character probability) for a person to check.
"""

from __future__ import annotations

import argparse
import csv
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from anpr_edge.core.plates import is_valid
from anpr_edge.inference.ocr_core import ctc_greedy_decode
from anpr_edge.tools.labels import read_labels, trained_on
from anpr_edge.training.ocr_data import READ_ALPHABET, CropSpec

logger = logging.getLogger("anpr_edge.training.pseudo_label")

ALPHABET = READ_ALPHABET
CROP_FOLDERS = ("k4gl7p/crops", "beeline")


@dataclass(frozen=True, slots=True)
class Read:
    """One reader's greedy read of a crop: text and its lowest character probability."""

    text: str
    min_prob: float


@dataclass(frozen=True, slots=True)
class Verdict:
    """The rule's answer for one crop: the label it keeps (or None) and what the readers said."""

    label: str | None
    reads: tuple[Read, ...]


def load_reader(path: Path) -> Any:
    """A CRNN checkpoint of ``train_ocr``, in eval mode (torch is imported here: the rule needs none)."""
    import torch

    from anpr_edge.training.crnn import CRNN

    state = torch.load(path, map_location="cpu", weights_only=False)
    if state.get("alphabet", ALPHABET) != ALPHABET:
        raise SystemExit(f"--reader {path}: reads {state['alphabet']!r}; the rule compares readers of {ALPHABET!r}")
    model = CRNN(len(ALPHABET) + 1)
    model.load_state_dict(state["model"])
    return model.eval()


def read_batch(model: Any, crops: np.ndarray) -> list[Read]:
    """Greedy CTC reads of ``(N, 32, 128)`` uint8 crops."""
    import torch

    x = torch.from_numpy((crops.astype(np.float32)[:, None] - 127.5) / 127.5)
    with torch.no_grad():
        probs = model(x).softmax(-1).numpy()
    out = []
    for p in probs:
        r = ctc_greedy_decode(p, ALPHABET)
        out.append(Read(r.text, min(r.char_probs, default=0.0)))
    return out


def judge(reads: tuple[Read, ...], min_prob: float) -> Verdict:
    """The rule: every reader the same complete plate, every character at least ``min_prob``."""
    first = reads[0].text
    agree = all(r.text == first for r in reads)
    sure = all(r.min_prob >= min_prob for r in reads)
    return Verdict(first if agree and sure and is_valid(first) else None, reads)


def label_crops(readers: list[Any], crops: np.ndarray, min_prob: float, batch: int = 128) -> list[Verdict]:
    """The verdict for every crop."""
    per_reader = [
        [r for i in range(0, len(crops), batch) for r in read_batch(m, crops[i : i + batch])] for m in readers
    ]
    return [judge(tuple(rs), min_prob) for rs in zip(*per_reader, strict=True)]


def crop_files(root: Path, folders: Iterable[str] = CROP_FOLDERS) -> list[Path]:
    """The unlabelled crop images of ``../shared/real-train``."""
    files: list[Path] = []
    for f in folders:
        files += sorted(p for p in (root / f).glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp"))
    return files


def cut_whole(files: list[Path], spec: CropSpec) -> tuple[list[Path], np.ndarray]:
    """Each file as the reader sees a box around the whole image (the crops are cut around their plate)."""
    kept, crops = [], []
    for f in files:
        img = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
        if img is None or min(img.shape) < 8:
            logger.warning("%s: unreadable or under 8 px, skipped", f)
            continue
        h, w = img.shape
        kept.append(f)
        crops.append(spec.cut(img, (0.0, 0.0, float(w), float(h))))
    return kept, np.stack(crops) if crops else np.zeros((0, spec.height, spec.width), np.uint8)


def cut_photo_plates(root: Path, spec: CropSpec, min_width: float) -> tuple[list[str], np.ndarray]:
    """The plates of the k4gl7p photos as the reader sees a box around each (``name.jpg#k`` for the k-th box);
    boxes under ``min_width`` px are left out (nothing a reader could be taught from)."""
    from anpr_edge.training.pose_scenes import real_train_photos

    names, crops = [], []
    for photo in real_train_photos(root / "k4gl7p"):
        img = cv2.imread(str(photo.path), cv2.IMREAD_GRAYSCALE)
        if img is None:
            logger.warning("%s: unreadable, skipped", photo.path)
            continue
        h, w = img.shape
        for k, (x1, y1, x2, y2) in enumerate(photo.boxes):
            box = (x1 * w, y1 * h, x2 * w, y2 * h)
            if box[2] - box[0] >= min_width:
                names.append(f"{photo.path}#{k}")
                crops.append(spec.cut(img, box))
    return names, np.stack(crops) if crops else np.zeros((0, spec.height, spec.width), np.uint8)


def measure(readers: list[Any], real_dev: Path, min_prob: float, trained: bool) -> tuple[int, int, int]:
    """The rule on labelled real-dev plates (high and low) of one half: (plates, labels kept, wrong)."""
    spec = CropSpec()
    rows = [r for r in read_labels(real_dev / "labels.csv") if r.plate and r.quality in ("high", "low")]
    rows = [r for r in rows if trained_on(r.image) == trained]
    crops = []
    for r in rows:
        img = cv2.imread(str(real_dev / "images" / r.image), cv2.IMREAD_GRAYSCALE)
        crops.append(spec.cut(img, r.box))
    verdicts = label_crops(readers, np.stack(crops), min_prob)
    kept = [(v.label, r.plate) for v, r in zip(verdicts, rows, strict=True) if v.label is not None]
    return len(rows), len(kept), sum(a != b for a, b in kept)


def write(out: Path, files: list[str], crops: np.ndarray, verdicts: list[Verdict]) -> int:
    """The kept crops as an ``.npz`` chunk, and a CSV of every crop's verdict beside it."""
    keep = [i for i, v in enumerate(verdicts) if v.label is not None]
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, images=crops[keep], texts=np.array([verdicts[i].label for i in keep]))
    with out.with_name("pseudo_labels.csv").open("w", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["file", "label", *(f"read_{k}" for k in range(len(verdicts[0].reads) if verdicts else 0))])
        for f, v in zip(files, verdicts, strict=True):
            w.writerow([f, v.label or "", *(f"{r.text}@{r.min_prob:.3f}" for r in v.reads)])
    return len(keep)


def _width(text: str) -> float:
    """An argparse type: a width in pixels, above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a width in pixels, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a width above 0 px, got {text}")
    return value


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reader", type=Path, action="append", required=True, help="a CRNN checkpoint (give two)")
    p.add_argument("--real-train", type=Path, default=Path("../shared/real-train"))
    p.add_argument("--out", type=Path, default=Path("work/pseudo/pseudo.npz"))
    p.add_argument("--min-prob", type=float, default=0.9, help="every character of every read at least this")
    p.add_argument(
        "--photos",
        type=_width,
        metavar="MIN_WIDTH",
        help="also the plates of real-train's k4gl7p photos, cut by their boxes, those at least MIN_WIDTH px wide",
    )
    p.add_argument("--measure", type=Path, help="a labelled real-dev folder: report the rule's error there instead")
    p.add_argument("--trained-half", action="store_true", help="with --measure: the trained half of real-dev")
    return p


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    a = parser().parse_args(argv)
    if len(a.reader) < 2:
        raise SystemExit("pseudo_label: give --reader twice (two differently trained readers must agree)")
    import torch

    torch.set_num_threads(1)
    readers = [load_reader(r) for r in a.reader]
    if a.measure:
        n, kept, wrong = measure(readers, a.measure, a.min_prob, a.trained_half)
        half = "trained" if a.trained_half else "untrained"
        print(
            f"{half} half of {a.measure}: {n} plates, {kept} labelled ({kept / max(n, 1):.1%}), {wrong} wrong "
            f"({wrong / max(kept, 1):.1%} of labels) at min-prob {a.min_prob}"
        )
        return
    paths, crops = cut_whole(crop_files(a.real_train), CropSpec())
    files = [str(f) for f in paths]
    if a.photos is not None:
        names, plates = cut_photo_plates(a.real_train, CropSpec(), a.photos)
        files, crops = files + names, np.concatenate([crops, plates])
    verdicts = label_crops(readers, crops, a.min_prob)
    kept = write(a.out, files, crops, verdicts)
    logger.info("%d of %d crops labelled (%s)", kept, len(files), a.out)


if __name__ == "__main__":
    main()
