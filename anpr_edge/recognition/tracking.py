"""IoU tracker with per-character voting. Pure and clock-injected: time is passed in, never read.

Each track sums, per plate length (8 or 9 characters) and per position, the class probabilities of
every OCR'd frame; the track's plate is the best allowed class per position of the length read most
often, ``#`` where the averaged probability stays under the threshold.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from anpr_edge.core.geometry import centre_gap, iou
from anpr_edge.core.plates import UNREAD, edit_ops
from anpr_edge.core.results import Box, Detection, PlateRead
from anpr_edge.inference.ocr import CharThresholds


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    match_iou: float = 0.3
    max_misses: int = 5  # frames a track may go unseen before it ends
    #: When IoU fails (a fast car, a low frame rate), a detection whose centre is within this many
    #: plate widths of the track's, with a width ratio within 1.6x, still continues the track.
    max_jump: float = 1.5
    #: A read this many edits away from each of the track's last 3 reads (:func:`read_distance`) is another
    #: plate: it starts a track of its own, however close its box (the next car in the lane).
    other_plate_edits: int = 4


def read_distance(a: str, b: str) -> int:
    """Edits (insert, delete, change) from one read to the other; ``#`` matches any character, so an
    unread character is no evidence, and a character read twice or missed costs one edit, not a shift."""
    return edit_ops(a, b, UNREAD)[0]


def association_score(a: Box, b: Box, cfg: TrackerConfig) -> float:
    """IoU when it passes ``match_iou``; otherwise a small score for a plausible jump; else 0."""
    v = iou(a, b)
    if v >= cfg.match_iou:
        return v
    wa, wb = a[2] - a[0], b[2] - b[0]
    if min(wa, wb) <= 0 or max(wa, wb) / min(wa, wb) > 1.6:
        return 0.0
    jump = centre_gap(a, b)
    return 0.01 * (1.0 - jump / cfg.max_jump) if jump < cfg.max_jump else 0.0


@dataclass
class Track:
    """A plate followed across frames; mutated only by :class:`Tracker`."""

    track_id: int
    box: Box
    first_seen: float
    last_seen: float
    det_conf: float
    frames_seen: int = 1
    misses: int = 0
    votes: dict[int, np.ndarray] = field(default_factory=dict)  # length -> summed probs (length, classes)
    reads_by_len: dict[int, int] = field(default_factory=dict)
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=3))  # the latest plate-shaped reads
    first_box: Box | None = None  # where the plate was first seen (set on creation)
    two_row: int = 0  # frames its plate looked square (two rows of characters; not read)
    best_conf: float = -1.0  # the most sure read so far (lowest character probability)
    improved: bool = False  # the read of the latest frame was its most sure so far (its frame is the snapshot)

    def __post_init__(self) -> None:
        if self.first_box is None:
            self.first_box = self.box

    @property
    def reads(self) -> int:
        return sum(self.reads_by_len.values())

    @property
    def format(self) -> str:
        """``two-row`` when more frames saw a square plate than read a single-row one."""
        return "two-row" if self.two_row > self.reads else "one-row"

    @property
    def settled(self) -> bool:
        """Its last 3 reads are the same plate, every character read (more reads would repeat it)."""
        return len(self.recent) == self.recent.maxlen and len(set(self.recent)) == 1 and UNREAD not in self.recent[0]

    def add_read(self, read: PlateRead) -> None:
        self.improved = False
        if read.format == "two-row":
            self.two_row += 1
            self.improved = self.best_conf < 0
            self.best_conf = max(self.best_conf, 0.0)
            return
        if read.confidence > self.best_conf:
            self.best_conf, self.improved = read.confidence, True
        n = len(read.text)
        if n not in (8, 9) or read.probs.shape[0] != n:
            return  # not plate-shaped: cannot be aligned position by position
        acc = self.votes.get(n)
        self.votes[n] = read.probs.copy() if acc is None else acc + read.probs
        self.reads_by_len[n] = self.reads_by_len.get(n, 0) + 1
        self.recent.append(read.text)

    def other_plate(self, read: PlateRead | None, cfg: TrackerConfig) -> bool:
        """True when ``read`` is plainly not this track's plate (``TrackerConfig.other_plate_edits``)."""
        if read is None or not self.recent or len(read.text) not in (8, 9):
            return False
        return min(read_distance(r, read.text) for r in self.recent) >= cfg.other_plate_edits

    def plate(self, alphabet: str, thr: CharThresholds) -> tuple[str, tuple[tuple[str, float], ...]] | None:
        """The voted plate and per-position (char, mean probability), or None before any read."""
        if not self.reads_by_len:
            return None
        n = max(self.reads_by_len, key=lambda k: (self.reads_by_len[k], k))
        mean = self.votes[n] / self.reads_by_len[n]
        return thr.read(mean, alphabet)


class Tracker:
    """``update(detections, reads, t)`` per frame; returns the tracks that ended on this frame."""

    def __init__(self, config: TrackerConfig, ids: Iterator[int] | None = None) -> None:
        self.config = config
        self._ids = ids if ids is not None else itertools.count(1)
        self.tracks: list[Track] = []

    def reset(self) -> None:
        self.tracks = []

    def update(self, detections: Sequence[Detection], reads: Sequence[PlateRead | None], t: float) -> list[Track]:
        """Associate ``detections`` (with their read, or None on frames not OCR'd) at time ``t``."""
        cfg = self.config
        pairs = sorted(
            (
                (0.0 if tr.other_plate(reads[di], cfg) else association_score(tr.box, d.box, cfg), ti, di)
                for ti, tr in enumerate(self.tracks)
                for di, d in enumerate(detections)
            ),
            reverse=True,
        )
        used_t: set[int] = set()
        used_d: set[int] = set()
        for v, ti, di in pairs:
            if v <= 0.0 or ti in used_t or di in used_d:
                continue
            used_t.add(ti)
            used_d.add(di)
            tr, det = self.tracks[ti], detections[di]
            tr.box, tr.last_seen, tr.misses, tr.det_conf = det.box, t, 0, det.score
            tr.frames_seen += 1
            tr.improved = False
            if reads[di] is not None:
                tr.add_read(reads[di])  # type: ignore[arg-type]
        ended: list[Track] = []
        alive: list[Track] = []
        for ti, tr in enumerate(self.tracks):
            if ti not in used_t:
                tr.misses += 1
                if tr.misses > self.config.max_misses:
                    ended.append(tr)
                    continue
            alive.append(tr)
        for di, det in enumerate(detections):
            if di in used_d:
                continue
            tr = Track(next(self._ids), det.box, t, t, det.score)
            if reads[di] is not None:
                tr.add_read(reads[di])  # type: ignore[arg-type]
            alive.append(tr)
        self.tracks = alive
        return ended

    def close_all(self) -> list[Track]:
        """End every track (end of stream, shutdown)."""
        ended, self.tracks = self.tracks, []
        return ended
