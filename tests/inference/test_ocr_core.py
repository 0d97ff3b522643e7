from __future__ import annotations

import numpy as np
import pytest

from anpr_edge.core.plates import DIGITS, LETTERS
from anpr_edge.inference.ocr import combine_reads
from anpr_edge.inference.ocr_core import (
    BOX_VARIANTS,
    box_variants,
    crop_plate,
    ctc_greedy_decode,
    expand_box,
    vote_variants,
)

ALPHABET = DIGITS + LETTERS


def frames(seq: str, p: float = 0.9) -> np.ndarray:
    """CTC frames: '-' is blank, other characters their class."""
    n = len(ALPHABET) + 1
    out = np.full((len(seq), n), (1 - p) / (n - 1), np.float32)
    for t, c in enumerate(seq):
        out[t, 0 if c == "-" else ALPHABET.index(c) + 1] = p
    return out


def test_greedy_collapses_repeats_and_blanks() -> None:
    r = ctc_greedy_decode(frames("--AA-1-11--2233-BB-C-7-77"), ALPHABET)
    assert r.text == "A1123BC77"  # "7-77" is two sevens
    assert r.probs.shape == (9, len(ALPHABET))
    assert all(p == pytest.approx(0.9) for p in r.char_probs)


def test_per_char_probability_is_the_peak_of_its_run() -> None:
    f = frames("-AA-")
    f[1, ALPHABET.index("A") + 1] = 0.6
    f[2, ALPHABET.index("A") + 1] = 0.8
    r = ctc_greedy_decode(f, ALPHABET)
    assert r.text == "A" and r.char_probs[0] == pytest.approx(0.8)


def test_empty_sequence() -> None:
    r = ctc_greedy_decode(frames("----"), ALPHABET)
    assert r.text == "" and r.probs.shape == (0, len(ALPHABET))


def test_wrong_shape_raises() -> None:
    with pytest.raises(ValueError, match="expected"):
        ctc_greedy_decode(np.zeros((5, 3)), ALPHABET)


def test_expand_box() -> None:
    assert expand_box((10, 10, 110, 30), 0.1, 0.5) == (0, 0, 120, 40)


def test_crop_maps_box_to_output_and_replicates_edges() -> None:
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[40:60, 50:150] = 255
    crop = crop_plate(frame, (50, 40, 150, 60), 0.0, 0.0, 128, 32)
    assert crop.shape == (32, 128) and crop.mean() > 250
    # A box hanging off the frame keeps its size; the outside is edge-replicated, not black.
    edge = np.full((50, 50, 3), 200, np.uint8)
    out = crop_plate(edge, (-20, -10, 30, 10), 0.1, 0.1, 64, 16)
    assert out.shape == (16, 64) and out.min() == 200


def test_large_box_is_area_filtered() -> None:
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (1000, 2000, 3), dtype=np.uint8)
    crop = crop_plate(frame, (0, 0, 2000, 500), 0.0, 0.0, 128, 32)
    assert crop.shape == (32, 128)
    assert 100 < crop.mean() < 155 and crop.std() < 20  # averaged noise, not aliased samples


def one_hot(text: str, p: float) -> np.ndarray:
    """Per-character probability rows (no blank column): ``p`` on the character, the rest spread."""
    out = np.full((len(text), len(ALPHABET)), (1 - p) / (len(ALPHABET) - 1), np.float32)
    for i, c in enumerate(text):
        out[i, ALPHABET.index(c)] = p
    return out


def test_box_variants_start_with_the_box_and_stay_near_it() -> None:
    box = (100.0, 50.0, 300.0, 100.0)
    boxes = box_variants(box, len(BOX_VARIANTS))
    assert boxes[0] == box
    assert len(set(boxes)) == len(BOX_VARIANTS)
    for x1, y1, x2, y2 in boxes:
        assert abs(x1 - 100) <= 0.08 * 200 + 1e-6 and abs(x2 - 300) <= 0.08 * 200 + 1e-6
        assert abs(y1 - 50) <= 0.16 * 50 + 1e-6 and abs(y2 - 100) <= 0.16 * 50 + 1e-6
    assert box_variants(box, 3) == boxes[:3]
    with pytest.raises(ValueError, match="variants must be 1-9"):
        box_variants(box, 0)


def test_vote_keeps_agreement_and_lowers_disagreement() -> None:
    reads = [one_hot("A123BC77", 0.9)] * 2 + [one_hot("A128BC77", 0.9)]
    voted = vote_variants(reads)
    assert voted.shape == (8, len(ALPHABET))
    assert voted[0].argmax() == ALPHABET.index("A")
    assert voted[0].max() == pytest.approx(0.9)  # all three agree
    assert voted[3].argmax() == ALPHABET.index("3")
    assert voted[3].max() == pytest.approx(0.6, abs=0.01)  # two of three: under an 0.8 bar, over 0.5


def test_vote_takes_the_common_length_and_counts_the_others_as_doubt() -> None:
    reads = [one_hot("A123BC777", 0.9), one_hot("A123BC77", 0.9), one_hot("A123BC77", 0.9)]
    voted = vote_variants(reads)
    assert voted.shape[0] == 8
    assert voted.max(axis=1) == pytest.approx([0.6] * 8)
    tie = vote_variants([one_hot("A123BC777", 0.9), one_hot("A123BC77", 0.9)])
    assert tie.shape[0] == 9  # a tie keeps the plain crop's length
    with pytest.raises(ValueError):
        vote_variants([])


def test_combined_reads_drop_a_bolt_some_crops_see_before_voting() -> None:
    bolt = one_hot("H001XT1773", 0.9)
    bolt[9] = one_hot("3", 0.4)[0]  # faint: a bolt after the region, seen by 5 of 9 crops
    reads = [one_hot("H001XT177", 0.9)] * 4 + [bolt] * 5
    assert vote_variants(reads).shape[0] == 10  # voting raw reads follows the bolt
    combined = combine_reads(reads, ALPHABET, 0.5)
    assert combined.shape == (9, len(ALPHABET))  # the plate's own positions, as the tracker needs
    assert combined.max(axis=1) == pytest.approx([0.9] * 9)
    faint_ninth = one_hot("O862YY783", 0.9)
    faint_ninth[8] = one_hot("3", 0.3)[0]
    assert combine_reads([faint_ninth], ALPHABET, 0.5).shape[0] == 8  # one crop: the same rule


def test_temper_softens_keeps_the_best_class_and_sums_to_one() -> None:
    from anpr_edge.inference.ocr_core import temper

    p = np.array([[[0.9, 0.08, 0.02], [0.1, 0.2, 0.7]]], np.float32)
    assert temper(p, 1.0) is p
    soft = temper(p, 2.0)
    assert np.allclose(soft.sum(axis=-1), 1.0) and (soft.argmax(-1) == p.argmax(-1)).all()
    assert (soft.max(-1) < p.max(-1)).all() and (temper(p, 0.5).max(-1) > p.max(-1)).all()
