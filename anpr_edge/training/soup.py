"""Average the weights of two readers of one architecture (a fine-tuned reader and the one it grew from).

    python -m anpr_edge.training.soup --checkpoint work/ocr/best.pt --checkpoint models/checkpoints/plate_ocr_crnn.pt \
        --weight 0.5 --out work/soup.pt

Every weight and batch-norm statistic of the result is ``weight × first + (1 − weight) × second``; integer
buffers (batch-norm's batch counters) are the first's. The metadata (alphabet, crop, real-dev split, epoch) is
the first checkpoint's, with ``soup`` naming both and the weight. The result is a checkpoint like any other:
``export_ocr`` exports it. The two must share the alphabet and every tensor's name and shape, or nothing is
written and one line says what differs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import torch

logger = logging.getLogger("anpr_edge.training.soup")


class SoupError(ValueError):
    """The two checkpoints cannot be averaged (one line: what differs)."""


def average(first: dict[str, Any], second: dict[str, Any], weight: float) -> dict[str, Any]:
    """``first``'s checkpoint with its ``model`` weights averaged with ``second``'s (see the module)."""
    if not 0.0 <= weight <= 1.0:
        raise SoupError(f"--weight must be 0-1, got {weight}")
    if first.get("alphabet") != second.get("alphabet"):
        raise SoupError(f"the alphabets differ: {first.get('alphabet')!r} and {second.get('alphabet')!r}")
    a, b = first["model"], second["model"]
    if a.keys() != b.keys():
        names = sorted(set(a) ^ set(b))
        raise SoupError(f"the networks differ: {len(names)} tensors in one only, e.g. {names[0]}")
    mixed: dict[str, torch.Tensor] = {}
    for name, ta in a.items():
        tb = b[name]
        if ta.shape != tb.shape:
            raise SoupError(f"{name}: shapes differ, {tuple(ta.shape)} and {tuple(tb.shape)}")
        mixed[name] = ta.clone() if not ta.is_floating_point() else weight * ta + (1.0 - weight) * tb.to(ta.dtype)
    return {**first, "model": mixed}


def load(path: Path) -> dict[str, Any]:
    """A training checkpoint (a dict with ``model``), or :class:`SoupError` naming the file."""
    if not path.is_file():
        raise SoupError(f"{path}: no such file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # any unreadable file gets the same one line
        raise SoupError(f"{path}: not a checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or not isinstance(state.get("model"), dict):
        raise SoupError(f"{path}: not a reader checkpoint (no 'model' weights)")
    return state


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, action="append", required=True, help="first, then second (twice)")
    p.add_argument("--weight", type=float, default=0.5, help="the first checkpoint's share (0-1)")
    p.add_argument("--out", type=Path, required=True)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    a = parser().parse_args(argv)
    try:
        if len(a.checkpoint) != 2:
            raise SoupError(f"give --checkpoint twice (first, second), got {len(a.checkpoint)}")
        first, second = (load(p) for p in a.checkpoint)
        soup = average(first, second, a.weight)
    except SoupError as exc:
        print(f"soup: {exc}", file=sys.stderr)
        return 2
    soup["soup"] = {"first": str(a.checkpoint[0]), "second": str(a.checkpoint[1]), "weight": a.weight}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(soup, a.out)
    logger.info("wrote %s: %.2f × %s + %.2f × %s", a.out, a.weight, a.checkpoint[0], 1 - a.weight, a.checkpoint[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
