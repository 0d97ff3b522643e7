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

# Region codes in use (2-digit codes 01..99 are all plausible; 3-digit ones are the real extra codes).
REGIONS_3 = [
    "102",
    "113",
    "116",
    "121",
    "123",
    "124",
    "125",
    "126",
    "134",
    "136",
    "138",
    "142",
    "147",
    "150",
    "152",
    "154",
    "155",
    "156",
    "159",
    "161",
    "163",
    "164",
    "173",
    "174",
    "177",
    "178",
    "186",
    "190",
    "193",
    "196",
    "197",
    "198",
    "199",
    "250",
    "252",
    "277",
    "299",
    "702",
    "716",
    "725",
    "750",
    "761",
    "763",
    "774",
    "777",
    "790",
    "797",
    "799",
]
#: The first two digits a 3-digit region can have: "78" + a faint ninth mark is not a region "78x".
REGION3_PREFIXES = frozenset(code[:2] for code in REGIONS_3)


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

    Faint marks after the plate's last character are dropped first (:func:`trim_tail`).
    """
    if probs.ndim != 2 or probs.shape[1] != len(alphabet):
        raise ValueError(f"probs must be (positions, {len(alphabet)}), got {probs.shape}")
    masks = class_masks(alphabet)
    probs = trim_tail(probs, alphabet, thr_digits)
    template = TEMPLATES.get(probs.shape[0])
    text: list[str] = []
    chars: list[tuple[str, float]] = []
    for i, row in enumerate(probs):
        masked = np.where(_allowed(masks, template, i), row, -1.0)
        k = int(np.argmax(masked))
        ch, p = alphabet[k], float(row[k])
        thr = thr_letters if ch in LETTERS else thr_digits
        text.append(ch if p >= thr else UNREAD)
        chars.append((ch, p))
    return "".join(text), tuple(chars)


def _allowed(masks: dict[str, np.ndarray], template: str | None, i: int) -> np.ndarray:
    """The classes the plate's template allows at position ``i`` (letters and digits where there is none)."""
    return masks[template[i]] if template else masks["L"] | masks["D"]


def second_opinion(
    first: np.ndarray,
    second: np.ndarray,
    alphabet: str,
    sure_letters: float,
    sure_digits: float,
    unsure: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """A plate's per-position probabilities from a first read and a second reader's read of the same plate.

    The second reader is heard at a position only where its best allowed character (:func:`constrain`) passes
    its own ``sure_letters`` (``sure_digits``): there the two reads are averaged when their best characters
    agree, and the position becomes no evidence (every class equally likely: written ``#``) when they differ.
    Where they differ, the first read's best character is under ``unsure`` (letters, digits: where it would be
    written ``#``) and the second reader's character is the first read's runner-up there (:func:`_runner_up`),
    the two are averaged too. Everywhere else the first read stands. Where the reads differ in length (positions
    cannot be paired), the second read, less the faint marks past its end that its ``sure_digits`` drops
    (:func:`trim_tail`), stands whole if it is a complete plate every character of which passes its thresholds;
    otherwise the first read does.
    """
    if first.shape != second.shape:
        whole = trim_tail(second, alphabet, sure_digits)
        text, _ = constrain(whole, alphabet, sure_letters, sure_digits)
        return whole if is_valid(text) else first
    _, ours = constrain(first, alphabet, 0.0, 0.0)
    _, theirs = constrain(second, alphabet, 0.0, 0.0)
    out = first.copy()
    masks, template = class_masks(alphabet), TEMPLATES.get(first.shape[0])
    for i, ((a, pa), (b, p)) in enumerate(zip(ours, theirs, strict=True)):
        if p < (sure_letters if b in LETTERS else sure_digits):
            continue
        unsure_here = pa < (unsure[0] if a in LETTERS else unsure[1])
        agree = a == b or (unsure_here and _runner_up(first[i], alphabet, a, _allowed(masks, template, i)) == b)
        out[i] = (first[i] + second[i]) / 2.0 if agree else 1.0 / len(alphabet)
    return out


#: The least probability of a runner-up (:func:`_runner_up`): about twice what a class holds in a read that
#: has no idea (1 / 22).
RUNNER_UP_MIN = 0.10


def _runner_up(row: np.ndarray, alphabet: str, best: str, allowed: np.ndarray) -> str | None:
    """The character ``row`` puts second among the ``allowed`` classes, after ``best``, if it is one: it holds at
    least :data:`RUNNER_UP_MIN` and more than every other class (a tie is no runner-up)."""
    p = np.where(allowed, row, -1.0)
    p[alphabet.index(best)] = -1.0
    second, third = np.argsort(p)[::-1][:2]
    return alphabet[second] if p[second] >= RUNNER_UP_MIN and p[second] > p[third] else None


def trim_tail(probs: np.ndarray, alphabet: str, thr_digits: float) -> np.ndarray:
    """``probs`` without faint marks read after the plate's last character (a bolt, the frame edge).

    A position beyond the ninth (no plate is longer) whose best digit is under the digit threshold is
    dropped, from the end; so is a ninth position under the threshold after a region that cannot start a
    3-digit code (``78`` then a faint mark: the plate has a 2-digit region). Anything confident stays, and
    a read that is still longer than 9 is not a plate.
    """
    digits = class_masks(alphabet)["D"]
    while probs.shape[0] > 9 and float(np.max(np.where(digits, probs[-1], -1.0))) < thr_digits:
        probs = probs[:-1]
    if probs.shape[0] == 9 and _spurious_ninth(probs, alphabet, digits, thr_digits):
        probs = probs[:8]
    return probs


def _spurious_ninth(probs: np.ndarray, alphabet: str, digit_mask: np.ndarray, thr_digits: float) -> bool:
    prefix = "".join(alphabet[int(np.argmax(np.where(digit_mask, row, -1.0)))] for row in probs[6:8])
    return float(np.max(np.where(digit_mask, probs[8], -1.0))) < thr_digits and prefix not in REGION3_PREFIXES


def known_chars(text: str) -> int:
    """Characters actually read (not ``#``)."""
    return len(text) - text.count(UNREAD)


def plate_confidence(char_probs: Sequence[float]) -> float:
    """A plate is as sure as its least sure character."""
    return float(min(char_probs)) if len(char_probs) else 0.0


def edit_ops(ref: str, hyp: str, wildcard: str | None = None) -> tuple[int, list[tuple[str, str]]]:
    """Levenshtein distance and the substituted ``(ref_char, hyp_char)`` pairs of one best path;
    a ``wildcard`` character on either side matches any character."""

    def differ(a: str, b: str) -> bool:
        return a != b and wildcard not in (a, b)

    n, m = len(ref), len(hyp)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + differ(ref[i - 1], hyp[j - 1]))
    subs: list[tuple[str, str]] = []
    i, j = n, m
    while i > 0 and j > 0:
        if d[i][j] == d[i - 1][j - 1] + differ(ref[i - 1], hyp[j - 1]):
            if differ(ref[i - 1], hyp[j - 1]):
                subs.append((ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif d[i][j] == d[i - 1][j] + 1:
            i -= 1
        else:
            j -= 1
    return d[n][m], subs
