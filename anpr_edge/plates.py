"""Russian civilian plate rules (GOST R 50577 type 1): alphabet, template, normalisation.

Pure functions only. A plate reads ``L DDD LL DD[D]``: a series letter, three digits, two series
letters and a 2- or 3-digit region. Letters are the twelve Cyrillic letters that have Latin
look-alikes; we always write the Latin ones. An unread character is written ``#``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

LETTERS = "ABEKMHOPCTYX"
DIGITS = "0123456789"
UNREAD = "#"
#: Cyrillic plate letters and their Latin look-alikes.
CYRILLIC_TO_LATIN = dict(zip("АВЕКМНОРСТУХ", LETTERS, strict=True))
PLATE_RE = re.compile(rf"^[{LETTERS}]\d{{3}}[{LETTERS}]{{2}}\d{{2,3}}$")
#: Character kind per position: L = letter, D = digit.
TEMPLATES = {8: "LDDDLLDD", 9: "LDDDLLDDD"}


def normalise(text: str) -> str:
    """Upper-case, map Cyrillic plate letters to Latin and drop spaces."""
    out = []
    for ch in text.strip().upper():
        if ch.isspace():
            continue
        out.append(CYRILLIC_TO_LATIN.get(ch, ch))
    return "".join(out)


def is_valid(text: str) -> bool:
    """True when ``text`` is a complete, well-formed plate (no ``#``)."""
    return PLATE_RE.fullmatch(text) is not None


def matches_template(text: str) -> bool:
    """True when ``text`` fits the template, ``#`` allowed at any position."""
    template = TEMPLATES.get(len(text))
    if template is None:
        return False
    for ch, kind in zip(text, template, strict=True):
        if ch == UNREAD:
            continue
        if (kind == "L" and ch not in LETTERS) or (kind == "D" and ch not in DIGITS):
            return False
    return True


def class_masks(alphabet: str) -> dict[str, np.ndarray]:
    """Boolean masks over ``alphabet`` for letter (``L``) and digit (``D``) positions."""
    return {
        "L": np.array([c in LETTERS for c in alphabet], dtype=bool),
        "D": np.array([c in DIGITS for c in alphabet], dtype=bool),
    }


def constrain(
    probs: np.ndarray,
    alphabet: str,
    thr_letters: float,
    thr_digits: float,
) -> tuple[str, tuple[tuple[str, float], ...]]:
    """Pick the best allowed class per position and blank low-confidence characters.

    ``probs`` is ``(positions, len(alphabet))``: one probability vector per emitted character.
    With 8 or 9 positions the template decides which classes are allowed (a digit where a letter
    belongs is replaced by the best letter, and the reverse); other lengths are not plates and keep
    their best class unconstrained. A character whose probability is below the letter or digit
    threshold is written ``#`` (its probability is still reported).
    """
    if probs.ndim != 2 or probs.shape[1] != len(alphabet):
        raise ValueError(f"probs must be (positions, {len(alphabet)}), got {probs.shape}")
    masks = class_masks(alphabet)
    template = TEMPLATES.get(probs.shape[0])
    text: list[str] = []
    chars: list[tuple[str, float]] = []
    for i, row in enumerate(probs):
        allowed = masks[template[i]] if template else masks["L"] | masks["D"]
        masked = np.where(allowed, row, -1.0)
        k = int(np.argmax(masked))
        ch, p = alphabet[k], float(row[k])
        thr = thr_letters if ch in LETTERS else thr_digits
        text.append(ch if p >= thr else UNREAD)
        chars.append((ch, p))
    return "".join(text), tuple(chars)


def plate_confidence(char_probs: Sequence[float]) -> float:
    """A plate is as sure as its least sure character."""
    return float(min(char_probs)) if len(char_probs) else 0.0
