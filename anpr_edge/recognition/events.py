"""When a track becomes an event, and which events are duplicates. Pure and clock-injected.

Rule (one event per vehicle pass):

* **early**: as soon as a live track has at least ``min_reads`` OCR'd frames and its voted plate is
  complete (no ``#``, valid template) with every character's mean probability ≥ ``emit_conf``;
* **at the end**: otherwise when the track ends (``max_misses`` frames unseen, or end of stream),
  with ``#`` where characters stayed unsure, if it was read at least ``min_final_reads`` times and at
  least ``min_known_chars`` characters were read (a one-frame ghost track is noise, not a car).

A track emits at most once. An event is dropped when the same plate string was emitted less than
``dedup_window_ms`` ago, or a similar plate less than ``repeat_window_s`` ago — a car standing at the
barrier, or a track that broke and re-formed and read the same car slightly differently. Similar means:
equal where neither has ``#`` with at most one other difference, or one is the other with its last
region digit missing. (Two different cars whose plates differ in one character within the window are
reported once: the price of not reporting one car twice.)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from anpr_edge.core.plates import UNREAD, is_valid, known_chars
from anpr_edge.core.results import PlateEvent
from anpr_edge.inference.ocr import CharThresholds
from anpr_edge.recognition.tracking import Track


@dataclass(frozen=True, slots=True)
class EventConfig:
    min_reads: int = 3
    emit_conf: float = 0.8
    min_known_chars: int = 5
    min_final_reads: int = 2
    dedup_window_ms: float = 200.0
    repeat_window_s: float = 10.0


def compatible(a: str, b: str) -> bool:
    """Same length and equal wherever neither has ``#``."""
    return len(a) == len(b) and all(x == y or UNREAD in (x, y) for x, y in zip(a, b, strict=True))


def similar(a: str, b: str) -> bool:
    """Probably the same plate read twice: see the module docstring."""
    if len(a) != len(b):
        short, long_ = sorted((a, b), key=len)
        return len(long_) == len(short) + 1 and compatible(short, long_[:-1])
    return sum(1 for x, y in zip(a, b, strict=True) if x != y and UNREAD not in (x, y)) <= 1


class EventGate:
    """``update(alive, ended, t, frame_size)`` → events to publish."""

    def __init__(
        self,
        config: EventConfig,
        camera: str,
        alphabet: str,
        thresholds: CharThresholds,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        self.config, self.camera, self.alphabet, self.thresholds = config, camera, alphabet, thresholds
        self._new_id = new_id or (lambda: uuid.uuid4().hex)
        self._recent: list[tuple[float, str]] = []  # (emission time, plate)
        self.suppressed = 0

    def reset(self) -> None:
        self._recent = []

    def _duplicate(self, plate: str, t: float) -> bool:
        horizon = max(self.config.dedup_window_ms / 1000.0, self.config.repeat_window_s)
        self._recent = [(te, p) for te, p in self._recent if t - te < horizon]
        for te, p in self._recent:
            if p == plate and t - te < self.config.dedup_window_ms / 1000.0:
                return True
            if similar(p, plate) and t - te < self.config.repeat_window_s:
                return True
        return False

    def _event(
        self, tr: Track, plate: str, chars: tuple[tuple[str, float], ...], t: float, frame_size: tuple[int, int]
    ) -> PlateEvent:
        return PlateEvent(
            event_id=self._new_id(),
            camera=self.camera,
            plate=plate,
            partial=UNREAD in plate,
            confidence=round(min(p for _, p in chars), 4),
            chars=tuple((c, round(p, 4)) for c, p in chars),
            first_seen=tr.first_seen,
            last_seen=tr.last_seen,
            box=tuple(round(v, 1) for v in tr.box),  # type: ignore[arg-type]
            frame_size=frame_size,
            track_id=tr.track_id,
            frames_seen=tr.frames_seen,
            reads=tr.reads,
        )

    def update(
        self, alive: Iterable[Track], ended: Iterable[Track], t: float, frame_size: tuple[int, int]
    ) -> list[PlateEvent]:
        events: list[PlateEvent] = []
        cfg = self.config
        for tr, final in [(a, False) for a in alive] + [(e, True) for e in ended]:
            if tr.emitted:
                continue
            voted = tr.plate(self.alphabet, self.thresholds)
            if voted is None:
                continue
            plate, chars = voted
            if not final:
                sure = min(p for _, p in chars) >= cfg.emit_conf
                if tr.reads < cfg.min_reads or not is_valid(plate) or not sure:
                    continue
            elif tr.reads < cfg.min_final_reads or known_chars(plate) < cfg.min_known_chars:
                continue
            tr.emitted = True
            if self._duplicate(plate, t):
                self.suppressed += 1
                continue
            self._recent.append((t, plate))
            events.append(self._event(tr, plate, chars, t, frame_size))
        return events
