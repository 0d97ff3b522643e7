"""A second opinion on unsure reads: where the models folder has a second reader (``plate_ocr_second``), a plate
whose read has a ``#`` and plausible corners is read again by it, warped level from its corners, and the two
reads become one (:func:`~anpr_edge.core.plates.second_opinion`: the second reader is heard only where it is
sure, a character the two readers disagree on is unread unless the first reader was unsure of its own and put
the second's next, and a second read of another length counts only whole and sure). Plates read whole are never
read twice."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from anpr_edge.core.plates import UNREAD, second_opinion, trim_tail
from anpr_edge.core.results import Detection, PlateRead
from anpr_edge.inference.models import Models
from anpr_edge.inference.ocr import CharThresholds, crop_kind


def unsure(d: Detection, read: PlateRead | None) -> bool:
    """Whether a read asks for a second opinion: a single-row read with a ``#``, of a plate with plausible
    corners (what the second reader warps level)."""
    return read is not None and read.format == "one-row" and UNREAD in read.text and crop_kind(d) == "corners"


def merged(
    first: PlateRead, second: PlateRead, alphabet: str, thresholds: CharThresholds, sure: tuple[float, float]
) -> PlateRead:
    """One read of a plate from the first reader's and the second's (the first read's detection)."""
    # A ninth position left without evidence goes as a faint mark would, so the text and its rows stay paired.
    unsure = (thresholds.letters, thresholds.digits)
    probs = second_opinion(first.probs, second.probs, alphabet, *sure, unsure)
    probs = trim_tail(probs, alphabet, thresholds.digits)
    text, chars = thresholds.read(probs, alphabet)
    return PlateRead(text, chars, probs, first.detection, first.format)


def with_second_opinions(
    models: Models,
    frame: np.ndarray,
    dets: Sequence[Detection],
    reads: Sequence[PlateRead | None],
    thresholds: CharThresholds,
    variants: int,
    variant: int | None = None,
) -> tuple[list[PlateRead | None], int]:
    """``reads`` (of ``dets``, which carry their corners) with each unsure one (:func:`unsure`) merged with the
    second reader's read, and how many were read again. A still image's plates are read with ``variants`` crops
    voted; a video frame's with crop ``variant`` alone, as the first reader read them."""
    second, out = models.second, list(reads)
    asked = [i for i, (d, r) in enumerate(zip(dets, reads, strict=True)) if unsure(d, r)]
    if second is None or not asked:
        return out, 0
    plates = [dets[i] for i in asked]
    if variant is None:
        again = second(frame, plates, thresholds, variants)
    else:
        again = second.read_crops(second.variant_crops(frame, plates, variant), plates, thresholds)
    alphabet, sure = models.ocr.spec.alphabet, (second.spec.sure_letters, second.spec.sure_digits)
    for i, read in zip(asked, again, strict=True):
        first = out[i]
        assert first is not None  # unsure() holds only for reads
        out[i] = merged(first, read, alphabet, thresholds, sure)
    return out, len(asked)
