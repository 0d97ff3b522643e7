"""The width-threshold fit on hand-made reads: the picked threshold trades exact reads against wrong ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anpr_edge.training.width_thresholds import WRONG_COST, Decoded, check, fit, main, outcome, width_bin

ALPHABET = "0123456789ABEKMHOPCTXY"


def plate(label: str, width: float, sure: float, wrong_at: int | None = None, wrong_p: float = 0.0) -> Decoded:
    """One crop read as ``label`` with every character at ``sure``; position ``wrong_at`` read as another
    character with probability ``wrong_p``."""
    probs = np.full((len(label), len(ALPHABET)), 0.0, np.float32)
    for i, ch in enumerate(label):
        if i == wrong_at:
            other = "8" if ch != "8" else "9"
            probs[i, ALPHABET.index(other)] = wrong_p
            probs[i, ALPHABET.index(ch)] = 1 - wrong_p
        else:
            probs[i, ALPHABET.index(ch)] = sure
    return Decoded(label, "high", width, [probs], False)


def test_width_bins_follow_the_box_width() -> None:
    assert [width_bin(w) for w in (-3, 40, 79.9, 80, 149, 150, 600)] == [0, 0, 0, 1, 1, 2, 2]


def test_outcome_counts_a_written_wrong_character_and_not_an_unread_one() -> None:
    p = plate("A123BC77", 60, 0.99, wrong_at=2, wrong_p=0.7)
    assert outcome(p, ALPHABET, 0.5) == (False, True)  # 8 written where 2 is
    assert outcome(p, ALPHABET, 0.75) == (False, False)  # written #
    assert outcome(plate("A123BC77", 60, 0.99), ALPHABET, 0.95) == (True, False)
    square = Decoded("A123BC77", "high", 60, [np.eye(8, len(ALPHABET), dtype=np.float32)], True)
    assert outcome(square, ALPHABET, 0.5) == (False, False)  # a two-row plate is left unread


def test_fit_raises_a_bins_threshold_only_where_wrong_reads_cost_more_than_the_exact_ones_lost(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Each bin: exact plates read at 0.62 and one wrong character at 0.6 (0.65 turns them all to #). Under
    # 80 px nine exact against one wrong: raising wins (0 > 9 - 10); at 80-150 px eleven: keeping wins
    # (11 - 10 > 0). Only a wrong read worth ten unread ones gives both.
    small = [plate("A123BC77", 60, 0.62)] * 9 + [plate("A123BC77", 60, 0.62, wrong_at=1, wrong_p=0.6)]
    middle = [plate("A123BC77", 100, 0.62)] * 11 + [plate("A123BC77", 100, 0.62, wrong_at=3, wrong_p=0.6)]
    large = [plate("A123BC77", 300, 0.99)] * 5
    assert WRONG_COST == 10
    assert fit(small + middle + large, ALPHABET) == [0.65, 0.5, 0.5]
    check(small + large, ALPHABET, [0.65, 0.5, 0.5])
    out = capsys.readouterr().out
    assert "check by width, high: exact 5/15, wrong 0" in out
    assert "check 0.50 everywhere, high: exact 14/15, wrong 1" in out


def test_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"no labels\.csv"):
        main(["--models", str(tmp_path), "--real-dev", str(tmp_path / "nowhere")])
    (tmp_path / "labels.csv").write_text("image;plate;x1;y1;x2;y2;quality\n")
    with pytest.raises(SystemExit, match="plate_detector"):
        main(["--models", str(tmp_path / "no-models"), "--real-dev", str(tmp_path)])
