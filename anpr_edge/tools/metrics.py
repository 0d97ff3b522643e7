"""Accuracy metrics shared by the OCR and detector evaluation commands. Pure functions."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from anpr_edge.core.geometry import iou
from anpr_edge.core.plates import UNREAD, edit_ops
from anpr_edge.core.results import Box


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``k / n`` (95 % at the default ``z``).

    On a few dozen plates one plate moves a rate by 2 points: the interval says how far the true rate
    may lie from the measured one (48 plates, 46 right: 86.0-98.8 %).
    """
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(k: int, n: int) -> str:
    """``k / n`` as a percentage with its count and 95 % Wilson interval: ``95.8% (46/48, CI 86.0%-98.8%)``."""
    lo, hi = wilson_interval(k, n)
    return f"{k / n if n else 0.0:.1%} ({k}/{n}, CI {lo:.1%}-{hi:.1%})"


@dataclass
class OcrScore:
    """Running OCR score over (truth, read, per-char probabilities) triples."""

    chars: int = 0
    char_errors: int = 0
    unread_chars: int = 0
    wrong_chars: int = 0
    wrong_confident: int = 0  # wrong characters read with p >= 0.5
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    outcomes: list[bool] = field(default_factory=list)  # exact or not, per plate in the order added

    def add(self, truth: str, read: str, probs: Sequence[float] = ()) -> None:
        self.outcomes.append(truth == read)
        self.chars += len(truth)
        dist, subs = edit_ops(truth, read)
        self.char_errors += dist
        self.unread_chars += read.count(UNREAD)
        for a, b in subs:
            if b != UNREAD:
                self.confusions[(a, b)] += 1
        if len(truth) == len(read):
            for t, r, p in zip(truth, read, probs or [1.0] * len(read), strict=False):
                if r not in (t, UNREAD):
                    self.wrong_chars += 1
                    self.wrong_confident += int(p >= 0.5)

    @property
    def plates(self) -> int:
        return len(self.outcomes)

    @property
    def exact(self) -> int:
        return sum(self.outcomes)

    @property
    def exact_acc(self) -> float:
        return self.exact / self.plates if self.plates else 0.0

    @property
    def char_acc(self) -> float:
        return 1.0 - self.char_errors / self.chars if self.chars else 0.0

    def summary(self) -> str:
        pairs = ", ".join(f"{a}→{b} ×{n}" for (a, b), n in self.confusions.most_common(8)) or "none"
        return (
            f"plates {self.plates}  exact {rate(self.exact, self.plates)}  chars {self.char_acc:.1%}  "
            f"unread(#) {self.unread_chars}  wrong {self.wrong_chars} (p≥0.5: {self.wrong_confident})  "
            f"confusions: {pairs}"
        )


WIDTH_BUCKETS = ((0.0, 40.0, "<40"), (40.0, 80.0, "40-80"), (80.0, 150.0, "80-150"), (150.0, 1e9, ">150"))
#: Plates at least this wide (px) are the fair recall figure on camera frames (many narrower ones are unreadable).
FAIR_WIDTH = 40.0


def width_bucket(box: Box) -> str:
    w = box[2] - box[0]
    return next(name for lo, hi, name in WIDTH_BUCKETS if lo <= w < hi)


@dataclass
class DetScore:
    """Recall / precision at an IoU threshold, greedy one-to-one matching by IoU."""

    iou_thr: float = 0.5
    images: int = 0
    predictions: int = 0
    false_pos: int = 0
    by_bucket: dict[str, list[int]] = field(default_factory=dict)  # name -> [found, total]
    outcomes: list[bool] = field(default_factory=list)  # found or not, per truth box in the order added
    readable: list[int] = field(default_factory=lambda: [0, 0])  # [found, total] of readable plates >= FAIR_WIDTH

    def add(
        self,
        truths: Iterable[Box],
        preds: Iterable[Box],
        ignore: Iterable[Box] = (),
        readable: Iterable[bool] | None = None,
    ) -> list[bool]:
        """Score one image; predictions on ``ignore`` boxes (unscored plates) are neither TP nor FP.

        ``readable``: per truth box, whether its label says it can be read (``high`` or ``low``); those at least
        :data:`FAIR_WIDTH` wide are also counted apart (the camera-grade recall figure)."""
        t, p, ign = list(truths), list(preds), list(ignore)
        self.images += 1
        pairs = sorted(((iou(a, b), i, j) for i, a in enumerate(t) for j, b in enumerate(p)), reverse=True)
        used_t: set[int] = set()
        used_p: set[int] = set()
        for v, i, j in pairs:
            if v < self.iou_thr or i in used_t or j in used_p:
                continue
            used_t.add(i)
            used_p.add(j)
        hits = [i in used_t for i in range(len(t))]
        self.outcomes += hits
        for box, hit, can_read in zip(t, hits, [True] * len(t) if readable is None else readable, strict=True):
            rec = self.by_bucket.setdefault(width_bucket(box), [0, 0])
            rec[0] += int(hit)
            rec[1] += 1
            if can_read and box[2] - box[0] >= FAIR_WIDTH:
                self.readable[0] += int(hit)
                self.readable[1] += 1
        false_pos = sum(
            1 for j, b in enumerate(p) if j not in used_p and not any(iou(b, g) >= self.iou_thr for g in ign)
        )
        self.false_pos += false_pos
        self.predictions += len(used_p) + false_pos
        return hits

    @property
    def truths(self) -> int:
        return len(self.outcomes)

    @property
    def found(self) -> int:
        return sum(self.outcomes)

    @property
    def recall(self) -> float:
        return self.found / self.truths if self.truths else 0.0

    @property
    def precision(self) -> float:
        return (self.predictions - self.false_pos) / self.predictions if self.predictions else 1.0

    def summary(self) -> str:
        buckets = "  ".join(
            f"{name}: {self.by_bucket[name][0]}/{self.by_bucket[name][1]}"
            for _, _, name in WIDTH_BUCKETS
            if name in self.by_bucket
        )
        fppi = self.false_pos / self.images if self.images else 0.0
        wide = [v for name, v in self.by_bucket.items() if name != "<40"]
        found, total = sum(v[0] for v in wide), sum(v[1] for v in wide)
        return (
            f"images {self.images}  plates {self.truths}  recall@{self.iou_thr:g} {rate(self.found, self.truths)}  "
            f"(>= {FAIR_WIDTH:g} px: {rate(found, total)}; of them high or low: {rate(*self.readable)})  "
            f"precision {self.precision:.1%}  FP/image {fppi:.2f}  by width: {buckets}"
        )


def corner_error(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per plate, the mean distance of the found corners from the true ones over the plate's width (its top
    edge, TL to TR; at least 1 px): ``(N, 4, 2)`` arrays, or one plate's ``(4, 2)``, in the same pixels."""
    f = np.asarray(found, np.float64).reshape(-1, 4, 2)
    t = np.asarray(truth, np.float64).reshape(-1, 4, 2)
    width = np.linalg.norm(t[:, 1] - t[:, 0], axis=1)
    return np.asarray(np.linalg.norm(f - t, axis=2).mean(1) / np.maximum(width, 1.0))


def sign_test(only_a: int, only_b: int) -> float:
    """Two-sided exact sign test (binomial, p = 1/2) on the discordant pairs of a paired comparison."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(only_a, only_b) + 1)) / (1 << n)
    return min(1.0, 2 * tail)


def paired(a: Sequence[bool], b: Sequence[bool]) -> str:
    """Two models' per-item outcomes on the same items: where they differ, and whether that is chance.

    Only items one model gets right and the other wrong say anything about which is better (McNemar's
    reasoning); the sign test gives the chance of a split at least that uneven if both were equal.
    """
    if len(a) != len(b):
        raise ValueError(f"paired outcomes of different lengths: {len(a)} and {len(b)}")
    only_a = sum(x and not y for x, y in zip(a, b, strict=True))
    only_b = sum(y and not x for x, y in zip(a, b, strict=True))
    both = sum(x and y for x, y in zip(a, b, strict=True))
    return (
        f"both right {both}, only this {only_a}, only the other {only_b}, both wrong {len(a) - both - only_a - only_b}"
        f"  (sign test p = {sign_test(only_a, only_b):.2f})"
    )
