"""The plate-level gate of the character thresholds (``CharThresholds.gate``), on hand-made probabilities."""

from __future__ import annotations

import numpy as np

from anpr_edge.core.results import Detection, PlateRead
from anpr_edge.inference.ocr import CharThresholds, PlateGate, plate_reads
from anpr_edge.recognition.tracking import Track

ALPHABET = "0123456789ABEKMHOPCTYX"
GATE = CharThresholds(0.5, 0.5, PlateGate(quality=0.8, unsure=0.7))


def probs(text: str, conf: list[float]) -> np.ndarray:
    """One row per character: ``conf`` on the character, the rest spread over the other classes."""
    rows = np.zeros((len(text), len(ALPHABET)), np.float32)
    for i, (ch, p) in enumerate(zip(text, conf, strict=True)):
        rows[i] = (1.0 - p) / (len(ALPHABET) - 1)
        rows[i, ALPHABET.index(ch)] = p
    return rows


def test_a_clear_plate_keeps_its_one_unsure_character() -> None:
    p = probs("A123BC77", [0.99] * 7 + [0.6])
    assert GATE.read(p, ALPHABET)[0] == "A123BC77"


def test_an_unclear_plate_writes_its_unsure_characters_as_unread() -> None:
    p = probs("A123BC77", [0.99, 0.65, 0.65, 0.99, 0.65, 0.65, 0.99, 0.75])
    assert CharThresholds().read(p, ALPHABET)[0] == "A123BC77"
    text, chars = GATE.read(p, ALPHABET)
    assert text == "A##3##77"
    assert [round(c, 2) for _, c in chars] == [0.99, 0.65, 0.65, 0.99, 0.65, 0.65, 0.99, 0.75]


def test_the_gate_never_lowers_a_threshold() -> None:
    strict = CharThresholds(0.9, 0.9, PlateGate(quality=0.99, unsure=0.6))
    assert strict.read(probs("A123BC77", [0.8] * 8), ALPHABET)[0] == "########"


def test_plate_reads_and_the_tracker_apply_the_gate() -> None:
    p = probs("A123BC77", [0.99, 0.65, 0.65, 0.99, 0.65, 0.65, 0.99, 0.75])
    det = Detection((0, 0, 100, 22), 0.9)
    (read,) = plate_reads([p], [det], ALPHABET, GATE)
    assert read.text == "A##3##77"
    track = Track(1, det.box, 0.0, 0.0, 0.9)
    track.add_read(PlateRead("A123BC77", tuple(zip("A123BC77", p.max(axis=1).tolist(), strict=True)), p, det))
    voted = track.plate(ALPHABET, GATE)
    assert voted is not None and voted[0] == "A##3##77"
