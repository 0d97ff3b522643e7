"""Average the weights of two networks of one architecture (a fine-tuned one and the one it grew from).

    python -m anpr_edge.training.soup --checkpoint work/ocr/best.pt --checkpoint models/checkpoints/plate_ocr_crnn.pt \
        --weight 0.5 --out work/soup.pt

Readers (``train_ocr`` checkpoints) and detectors (ultralytics checkpoints, the training environment) alike:
every weight and batch-norm statistic of the result is ``weight × first + (1 − weight) × second``, computed in
float32 and stored in the first's precision; integer buffers (batch-norm's batch counters) are the first's. The
metadata (alphabet, crop, real-dev split, epoch; a detector's training arguments) is the first checkpoint's, with
``soup`` naming both and the weight. A detector's averaged network is the one ultralytics would load (its EMA
where the checkpoint has one). The result is a checkpoint like any other: ``export_ocr`` or ``export_detector``
exports it. The two must share the alphabet and every tensor's name and shape, or nothing is written and one
line says what differs.
"""

from __future__ import annotations

import argparse
import copy
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
    classes = [getattr(network(c), "names", None) for c in (first, second)]  # a detector's class names
    if classes[0] != classes[1]:
        raise SoupError(f"the detectors' classes differ: {classes[0]!r} and {classes[1]!r}")
    a, b = weights(first), weights(second)
    if a.keys() != b.keys():
        names = sorted(set(a) ^ set(b))
        raise SoupError(f"the networks differ: {len(names)} tensors in one only, e.g. {names[0]}")
    mixed: dict[str, torch.Tensor] = {}
    for name, ta in a.items():
        tb = b[name]
        if ta.shape != tb.shape:
            raise SoupError(f"{name}: shapes differ, {tuple(ta.shape)} and {tuple(tb.shape)}")
        mix = weight * ta.float() + (1.0 - weight) * tb.float()
        mixed[name] = ta.clone() if not ta.is_floating_point() else mix.to(ta.dtype)
    return with_weights(first, mixed)


def network(state: dict[str, Any]) -> Any:
    """What a checkpoint's weights live in: a detector's module (its EMA first, as ultralytics loads it) or a
    reader's ``model`` state dict."""
    ema = state.get("ema")
    return ema if isinstance(ema, torch.nn.Module) else state.get("model")


def weights(state: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors by name."""
    net = network(state)
    return dict(net.state_dict()) if isinstance(net, torch.nn.Module) else dict(net)


def with_weights(state: dict[str, Any], mixed: dict[str, torch.Tensor]) -> dict[str, Any]:
    """``state`` with ``mixed`` as its weights: a detector gets a copy of its module holding them (and no EMA,
    so that the averaged network is the one loaded)."""
    net = network(state)
    if not isinstance(net, torch.nn.Module):
        return {**state, "model": mixed}
    module = copy.deepcopy(net)
    module.load_state_dict(mixed)
    return {**state, "model": module, "ema": None}


def load(path: Path) -> dict[str, Any]:
    """A training checkpoint (a dict with ``model``), or :class:`SoupError` naming the file."""
    if not path.is_file():
        raise SoupError(f"{path}: no such file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except ModuleNotFoundError as exc:  # a detector's checkpoint pickles ultralytics' classes
        raise SoupError(f"{path}: needs {exc.name} to load (detectors: the training environment)") from None
    except Exception as exc:  # any other unreadable file gets the same one line
        raise SoupError(f"{path}: not a checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or not isinstance(network(state), dict | torch.nn.Module):
        raise SoupError(f"{path}: not a reader or detector checkpoint (no 'model' weights)")
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
