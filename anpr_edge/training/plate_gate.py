"""A plate-level gate for a reader's character threshold, fitted on real-dev's evaluation fold widened with
camera re-shots (the fold of :mod:`~anpr_edge.training.width_thresholds`).

    python -m anpr_edge.training.plate_gate --models DIR [--real-dev FOLDER] [--reshoots 16] [--seed 1]
        [--check FOLDER]

A plate's quality is the mean probability of its positions' best allowed characters. A plate at or above
``G`` is written at ``t_sure``; an unclear one at ``t_unsure`` (:class:`~anpr_edge.inference.ocr.PlateGate`).
The fit tries every ``G`` of :data:`GATES` and every pair of :data:`~anpr_edge.training.width_thresholds.
THRESHOLDS` with ``t_unsure >= t_sure``, and keeps the one with the most exact reads less ``WRONG_COST`` times
the plates with a wrong character written (ties: the fewest wrong, then the lowest ``t_sure``, the lowest
``t_unsure``, the highest ``G``). ``--check`` reads a labelled folder's boxes (``high`` and ``low``) at 0.5
and at the fitted gate. Nothing is written: the numbers go to a preregistered rule (docs/preregistration.md,
"a plate-level gate").
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from anpr_edge.inference.ocr import CharThresholds, PlateGate
from anpr_edge.training.width_thresholds import (
    THRESHOLDS,
    WRONG_COST,
    Decoded,
    ThresholdOf,
    check_rules,
    decoded,
    fold_parser,
    load_fold,
    tally,
)

GATES = tuple(round(0.70 + 0.05 * i, 2) for i in range(6))


def gated(sure: float, gate: float, unsure: float) -> CharThresholds:
    """Letters and digits at ``sure``; a plate of quality under ``gate`` at ``unsure``."""
    return CharThresholds(sure, sure, PlateGate(gate, unsure))


def fit(plates: Sequence[Decoded], alphabet: str) -> tuple[CharThresholds, int, int]:
    """The gate of the grid with the best score, and its exact and wrong counts on ``plates``."""
    best: tuple[tuple[float, ...], CharThresholds, int, int] | None = None
    for sure in THRESHOLDS:
        for unsure in (t for t in THRESHOLDS if t >= sure):
            for gate in GATES:
                thr = gated(sure, gate, unsure)
                exact, wrong = tally(plates, alphabet, lambda _, t=thr: t)
                key = (-(exact - WRONG_COST * wrong), wrong, sure, unsure, -gate)
                if best is None or key < best[0]:
                    best = (key, thr, exact, wrong)
    assert best is not None
    return best[1], best[2], best[3]


def describe(thr: CharThresholds) -> str:
    g = thr.gate
    gate = f", under quality {g.quality:.2f} at {g.unsure:.2f}" if g else ""
    return f"characters at {thr.letters:.2f}{gate}"


def main(argv: list[str] | None = None) -> int:
    a = fold_parser(__doc__, "a labelled folder whose boxes are read at the fitted gate").parse_args(argv)
    models, fold, checked = load_fold(a)
    alphabet = models.ocr.spec.alphabet
    fold_read = [d for d in decoded(models, fold) if not d.square]
    print(f"fold: {len(fold_read)} plates; at 0.50: exact {tally(fold_read, alphabet, lambda _: 0.5)}")
    chosen, exact, wrong = fit(fold_read, alphabet)
    print(f"chosen: {describe(chosen)} (fold: exact {exact}, wrong {wrong})")
    if checked:
        rules: dict[str, ThresholdOf] = {describe(CharThresholds()): lambda _: 0.5, describe(chosen): lambda _: chosen}
        check_rules(decoded(models, checked), alphabet, rules)
    return 0


if __name__ == "__main__":
    sys.exit(main())
