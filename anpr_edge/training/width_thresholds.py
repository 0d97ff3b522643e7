"""Character thresholds by plate width, fitted on real-dev's evaluation fold widened with camera re-shots.

    python -m anpr_edge.training.width_thresholds --models DIR [--real-dev FOLDER] [--reshoots 16] [--seed 1]
        [--check FOLDER]

Real-dev's untrained half holds few small or blurred plates. Each of its labelled plates (``high`` and
``low``) is read as it is and as ``--reshoots`` re-shots by another camera (:func:`~anpr_edge.training.
ocr_data.camera_variant`: rolled, shrunk down to 50 px wide, relit, blurred, JPEG'd), each the way ``eval``
reads a labelled box (every crop variant voted; a reader of rectified crops gets its corners from the
folder's corner model). Per width bin (:data:`WIDTH_BINS`, the plate's box width in its frame) the table
gives, at each threshold of :data:`THRESHOLDS`, the exact reads and the plates with a wrong character
written (a substitution, as ``eval`` counts them; a read a character longer or shorter is not exact, and
not counted wrong), and picks the threshold that maximises exact reads minus :data:`WRONG_COST` times wrong
ones. ``--check`` reads a labelled folder's boxes (``high`` and ``low``) at 0.5 and at the picked
thresholds. Nothing is written: the numbers go to a preregistered rule (docs/preregistration.md,
"thresholds by plate width").
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anpr_edge.core.plates import UNREAD, edit_ops
from anpr_edge.core.results import Detection
from anpr_edge.errors import ModelLoadError
from anpr_edge.inference.models import Models
from anpr_edge.inference.ocr import CharThresholds, PlateOCR, plate_reads
from anpr_edge.recognition.pipeline import is_two_row
from anpr_edge.recognition.settings import DEFAULTS
from anpr_edge.tools.labels import trained_on
from anpr_edge.training.ocr_data import RealPlate, camera_variant, real_plates

#: Width bins (px, lower edges) of the plate's box in its frame: the detection issue's buckets, under 40 and
#: 40-80 px taken together (the re-shots are 50 px wide or more).
WIDTH_BINS = (0.0, 80.0, 150.0)
THRESHOLDS = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))
#: A wrong read costs a barrier this many unread ones.
WRONG_COST = 10


@dataclass(frozen=True, slots=True)
class Decoded:
    """One plate as read: its label, its box width, each crop variant's characters (before the vote), and
    whether its corners make it square (a two-row plate: left unread, as ``eval`` leaves it)."""

    label: str
    quality: str
    width: float
    crops: list[np.ndarray]
    square: bool


def decoded(models: Models, plates: Sequence[RealPlate]) -> list[Decoded]:
    """Each plate's crop variants decoded once (thresholds are applied later, by :func:`outcome`)."""
    ocr = models.ocr
    assert isinstance(ocr, PlateOCR)
    out = []
    for p in plates:
        dets = [Detection(p.box, 1.0)]
        if ocr.spec.rectified:
            dets = models.with_corners(p.frame, dets)
        crops = ocr.decode(ocr.crops(p.frame, dets, DEFAULTS.ocr_variants))
        out.append(Decoded(p.text, p.quality, p.box[2] - p.box[0], crops, is_two_row(dets[0])))
    return out


def outcome(d: Decoded, alphabet: str, thr: float | CharThresholds) -> tuple[bool, bool]:
    """(exact, a wrong character written) for ``d`` read at ``thr`` (a number: letters and digits alike)."""
    if d.square:
        return False, False
    thresholds = thr if isinstance(thr, CharThresholds) else CharThresholds(thr, thr)
    (read,) = plate_reads(d.crops, [Detection((0, 0, d.width, 1), 1.0)], alphabet, thresholds)
    wrong = any(got != UNREAD for _, got in edit_ops(d.label, read.text)[1])
    return read.text == d.label, wrong


def width_bin(width: float) -> int:
    """The index of ``width``'s bin in :data:`WIDTH_BINS` (a width under the first edge: the first bin)."""
    return max(sum(width >= edge for edge in WIDTH_BINS) - 1, 0)


#: A plate's threshold: one number for letters and digits, or the whole :class:`CharThresholds`.
ThresholdOf = Callable[[Decoded], float | CharThresholds]


def tally(plates: Sequence[Decoded], alphabet: str, thr: ThresholdOf) -> tuple[int, int]:
    """(exact reads, plates with a wrong character written) of ``plates``, each read at ``thr(plate)``."""
    results = [outcome(d, alphabet, thr(d)) for d in plates]
    return sum(e for e, _ in results), sum(w for _, w in results)


def fit(plates: Sequence[Decoded], alphabet: str) -> list[float]:
    """Per width bin, the threshold of :data:`THRESHOLDS` with the most exact reads less ``WRONG_COST`` times
    the wrong ones (ties: the lowest); prints the table it chose from."""
    chosen = []
    for b, lo in enumerate(WIDTH_BINS):
        members = [d for d in plates if width_bin(d.width) == b]
        best, best_score = THRESHOLDS[0], -np.inf
        for thr in THRESHOLDS:
            exact, wrong = tally(members, alphabet, lambda _, t=thr: t)
            print(f"width >= {lo:g} px: {len(members)} plates, threshold {thr:.2f}: exact {exact}, wrong {wrong}")
            if exact - WRONG_COST * wrong > best_score:
                best, best_score = thr, exact - WRONG_COST * wrong
        chosen.append(best)
    return chosen


def check(plates: Sequence[Decoded], alphabet: str, chosen: Sequence[float]) -> None:
    """Exact reads and wrong ones per quality, at 0.5 and at the thresholds ``chosen`` by width."""
    check_rules(plates, alphabet, {"0.50 everywhere": lambda _: 0.5, "by width": lambda d: chosen[width_bin(d.width)]})


def check_rules(plates: Sequence[Decoded], alphabet: str, rules: dict[str, ThresholdOf]) -> None:
    """Exact reads and wrong ones per quality (``high``, ``low``) under each named rule."""
    for name, thr in rules.items():
        for quality in ("high", "low"):
            members = [d for d in plates if d.quality == quality]
            exact, wrong = tally(members, alphabet, thr)
            print(f"check {name}, {quality}: exact {exact}/{len(members)}, wrong {wrong}")


def widened(folder: Path, reshoots: int, seed: int) -> list[RealPlate]:
    """The untrained half's labelled plates, each followed by ``reshoots`` camera re-shots."""
    rng = np.random.default_rng(seed)
    out = []
    for p in real_plates(folder):
        if not trained_on(p.source):
            out += [p, *(camera_variant(p, rng) for _ in range(reshoots))]
    return out


def fold_parser(doc: str | None, check_help: str) -> argparse.ArgumentParser:
    """The options of a tool that fits on the widened fold and checks on a labelled folder."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", type=Path, required=True, help="detector, corner model and reader")
    p.add_argument("--real-dev", type=Path, default=Path("../shared/real-dev"))
    p.add_argument("--reshoots", type=int, default=16, help="camera re-shots per plate")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--check", type=Path, help=check_help)
    return p


def load_fold(a: argparse.Namespace) -> tuple[Models, list[RealPlate], list[RealPlate]]:
    """The models, the widened fold and the ``--check`` folder's plates of :func:`fold_parser`'s options;
    a missing folder or model ends the tool with one line."""
    for folder in (a.real_dev, a.check):
        if folder is not None and not (folder / "labels.csv").exists():
            raise SystemExit(f"{folder}: no labels.csv (a labelled folder like real-dev)")
    try:
        models = Models.load(a.models / "plate_detector", a.models / "plate_ocr", "cpu", precision="f32")
        return models, widened(a.real_dev, a.reshoots, a.seed), real_plates(a.check) if a.check else []
    except (ModelLoadError, ValueError) as exc:
        raise SystemExit(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    a = fold_parser(__doc__, "a labelled folder whose boxes are read at the chosen thresholds").parse_args(argv)
    models, fold, checked = load_fold(a)
    alphabet = models.ocr.spec.alphabet
    chosen = fit(decoded(models, fold), alphabet)
    bins = ", ".join(f">= {lo:g} px: {t:.2f}" for lo, t in zip(WIDTH_BINS, chosen, strict=True))
    print(f"chosen by width ({bins})")
    if checked:
        check(decoded(models, checked), alphabet, chosen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
