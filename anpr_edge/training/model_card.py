"""The generated part of the model card: each export rewrites its own block in ``<models>/README.md``.

The hand-written card (data, recipe, licence) stays as it is; between two HTML comments per model the
export writes what it just produced (source weights, precision, parity, real-dev numbers), so a
fine-tuned model dropped into ``models/`` never ships under the old model's numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path


def _markers(model: str) -> tuple[str, str]:
    return f"<!-- export:{model} begin (generated; rewritten by each export) -->", f"<!-- export:{model} end -->"


def render_block(model: str, facts: Mapping[str, object], when: dt.datetime) -> str:
    begin, end = _markers(model)
    lines = [begin, f"### `{model}` as last exported ({when:%Y-%m-%d %H:%M} UTC)", ""]
    lines += [f"- {key}: {value}" for key, value in facts.items()]
    return "\n".join([*lines, end])


def update_card(card: Path, model: str, facts: Mapping[str, object], when: dt.datetime | None = None) -> None:
    """Replace ``model``'s generated block in ``card`` (append it, or create the card, if absent)."""
    block = render_block(model, facts, when or dt.datetime.now(dt.UTC))
    text = card.read_text(encoding="utf-8") if card.exists() else "# Model card\n"
    begin, end = _markers(model)
    start = text.find(begin)
    stop = text.find(end, start) if start >= 0 else -1
    if start >= 0 and stop >= 0:
        text = text[:start] + block + text[stop + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    card.write_text(text, encoding="utf-8")
