"""Calibrate the reader's per-character confidence (temperature scaling), with a reliability plot.

    python -m anpr_edge.training.calibrate --models models --plot models/ocr_reliability.png [--write]

The reader's softmax is sharpened or softened by a temperature ``T`` (``p ∝ p^(1/T)`` over every class,
the CTC blank included, before decoding). ``T`` is fitted on real-dev's *untrained* half (the evaluation
fold; labelled boxes, high and low plates) by the mean negative log-likelihood of the true character at each
position of the reads that have the label's length. ``../shared/camera-dev`` is never fitted on: it is
reported beside, as the check. ``--write`` stores ``T`` in the reader's metadata (``temperature``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.core.plates import class_masks
from anpr_edge.core.results import Detection
from anpr_edge.inference.contract import metadata_path
from anpr_edge.inference.corners import CornerModel
from anpr_edge.inference.ocr import CharThresholds, PlateOCR
from anpr_edge.inference.ocr_core import ctc_greedy_decode, temper, to_tensor
from anpr_edge.tools.labels import rows_by_image

logger = logging.getLogger("anpr_edge.training.calibrate")

TEMPERATURES = np.round(np.arange(0.5, 4.01, 0.05), 2)


@dataclass(frozen=True, slots=True)
class Chars:
    """Per aligned position: the probabilities of the read's character, and whether it was right."""

    probs: np.ndarray  # (n, classes) rows at each read character's peak frame, blank column removed
    truth: np.ndarray  # (n,) index of the true character in the alphabet


def raw_outputs(
    ocr: PlateOCR, folder: Path, split: str, corners: CornerModel | None = None
) -> tuple[list[np.ndarray], list[str]]:
    """The reader's softmax ``(T, classes)`` for every labelled high/low plate box, and the labels. The crop
    is the runtime's first one; with ``corners`` (a reader of rectified crops), warped from their corners."""
    s = ocr.spec
    outs, labels = [], []
    for name, rows in sorted(rows_by_image(folder / "labels.csv", split).items()):
        img = cv2.imread(str(folder / "images" / name), cv2.IMREAD_GRAYSCALE)
        kept = [r for r in rows if r.quality in ("high", "low") and r.plate]
        if img is None or not kept:
            continue
        dets = [Detection(r.box, 1.0) for r in kept]
        for crop, r in zip(ocr.crops(img, corners(img, dets) if corners else dets), kept, strict=True):
            outs.append(ocr.backend.infer(to_tensor([crop], s.mean, s.std))[0])
            labels.append(r.plate)
    return outs, labels


def aligned(outputs: list[np.ndarray], labels: list[str], alphabet: str, t: float) -> Chars:
    """The positions of reads as long as their label, at temperature ``t``. Only plate characters can be
    read: a reader's class for an unreadable character (``UNREAD``) keeps its mass but is never the answer."""
    masks = class_masks(alphabet)
    plate = masks["L"] | masks["D"]
    rows, truth = [], []
    for out, label in zip(outputs, labels, strict=True):
        read = ctc_greedy_decode(temper(out, t), alphabet)
        if len(read.text) != len(label):
            continue
        rows.append(np.where(plate, read.probs, 0.0))
        truth += [alphabet.index(c) for c in label]
    if not rows:
        return Chars(np.zeros((0, len(alphabet))), np.zeros(0, int))
    return Chars(np.concatenate(rows), np.array(truth))


def nll(c: Chars) -> float:
    p = c.probs[np.arange(len(c.truth)), c.truth]
    return float(-np.log(np.clip(p, 1e-6, 1.0)).mean())


def fit(outputs: list[np.ndarray], labels: list[str], alphabet: str) -> float:
    """The temperature of :data:`TEMPERATURES` with the lowest NLL."""
    return float(min(TEMPERATURES, key=lambda t: nll(aligned(outputs, labels, alphabet, float(t)))))


def edge_note(t: float) -> str | None:
    """Why a fitted ``t`` at an end of :data:`TEMPERATURES` calibrates nothing (None inside the grid): at the
    low end the NLL kept falling as the reader was sharpened, as it does when the fold has (almost) no wrong
    characters; at the high end it kept falling as the reader was softened, as when confidently wrong
    characters dominate."""
    if t == TEMPERATURES[0]:
        return f"temperature {t:g} is the grid's lowest: the fold has too few wrong characters to calibrate on"
    if t == TEMPERATURES[-1]:
        return f"temperature {t:g} is the grid's highest: the fold's wrong characters are read with confidence"
    return None


def reliability(c: Chars, bins: int = 5) -> list[tuple[float, float, int]]:
    """(mean confidence, accuracy, count) per confidence bin of the read characters."""
    conf = c.probs.max(axis=1)
    right = c.probs.argmax(axis=1) == c.truth
    edges = np.linspace(0, 1, bins + 1)
    out = []
    for lo, hi in itertools.pairwise(edges):
        m = (conf >= lo) & (conf < hi if hi < 1 else conf <= hi)
        if m.any():
            out.append((float(conf[m].mean()), float(right[m].mean()), int(m.sum())))
    return out


def confident_wrong(c: Chars, thr: float) -> int:
    return int(((c.probs.max(axis=1) >= thr) & (c.probs.argmax(axis=1) != c.truth)).sum())


def plot(curves: dict[str, list[tuple[float, float, int]]], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "k:", label="perfectly calibrated")
    for name, pts in curves.items():
        line = ax.plot([p[0] for p in pts], [p[1] for p in pts], "-", label=name)[0]
        sizes = [8 + 8 * p[2] ** 0.5 for p in pts]
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=sizes, color=line.get_color())
    ax.set_xlabel("character confidence (bin mean)")
    ax.set_ylabel("share of characters right")
    ax.set_title("Reader reliability, labelled boxes, one crop\n(5 bins; marker area: characters per bin)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    plt.close(fig)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", type=Path, default=Path("models"))
    p.add_argument("--real-dev", type=Path, default=Path("../shared/real-dev"))
    p.add_argument("--camera-dev", type=Path, default=Path("../shared/camera-dev"))
    p.add_argument("--plot", type=Path, help="write the reliability plot here (PNG)")
    p.add_argument("--write", action="store_true", help="store the fitted temperature in the reader's metadata")
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    a = parser().parse_args(argv)
    stem = a.models / "plate_ocr"
    ocr = PlateOCR.load(stem, "cpu", CharThresholds(), precision="f32")  # the reference, on any CPU
    alphabet = ocr.spec.alphabet
    model = CornerModel.beside(stem) if ocr.spec.rectified else None
    if ocr.spec.rectified and model is None:
        raise SystemExit(f"{stem}: a reader of rectified crops needs its corner model beside it (plate_corners)")
    fold = raw_outputs(ocr, a.real_dev, "untrained", model)
    t = fit(*fold, alphabet)
    note = edge_note(t)
    if note is not None:
        logger.warning("%s (reliability figures below; not written)", note)
    sets = {"real-dev untrained (fit)": fold}
    if (a.camera_dev / "labels.csv").exists():
        sets["camera-dev (held out)"] = raw_outputs(ocr, a.camera_dev, "all", model)
    curves = {}
    for name, (outs, labels) in sets.items():
        for temp in (1.0, t):
            c = aligned(outs, labels, alphabet, temp)
            curves[f"{name}, T={temp:g}"] = reliability(c)
            print(
                f"{name}: T={temp:g}  characters {len(c.truth)}  NLL {nll(c):.3f}  wrong at p>=0.5 "
                f"{confident_wrong(c, 0.5)}  at p>=0.7 {confident_wrong(c, 0.7)}"
            )
    if a.plot:
        plot(curves, a.plot)
    if a.write and note is not None:
        raise SystemExit(f"{stem}: {note}; the temperature is not written")
    if a.write:
        meta = metadata_path(stem)
        data = json.loads(meta.read_text())
        data["temperature"] = t
        meta.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        print(f"temperature {t:g} written to {meta}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
