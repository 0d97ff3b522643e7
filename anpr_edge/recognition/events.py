"""One event per vehicle pass, sent at the first confident read and updated when a better read follows.
Pure and clock-injected.

When a track is ready (:meth:`EventGate.ready`):

* **early**: as soon as a live track has at least ``min_reads`` OCR'd frames and its voted plate is
  complete (no ``#``, valid template) with every character's mean probability ≥ ``emit_conf``;
* **at the end**: otherwise when the track ends (``max_misses`` frames unseen, or end of stream),
  with ``#`` where characters stayed unsure, if it was read at least ``min_final_reads`` times and at
  least ``min_known_chars`` characters were read (a one-frame ghost track is noise, not a car);
* a square plate (two rows of characters, not read) is reported as ``########`` with ``format: two-row``.

A ready track belongs to an earlier **pass** (:meth:`EventGate.same_pass`) when its plate is the pass's
plate sent less than ``dedup_window_ms`` ago, or it starts within ``pass_gap_s`` of the pass's last sight
less than ``pass_distance`` plate widths away (the car lost for a moment: it turned, shrank, was hidden),
or where the pass was last seen (boxes overlapping) within ``repeat_window_s`` (a car standing at the
barrier) — unless its read is plainly another plate (``other_plate_edits``). Such a track never makes a
new event: when its read is better (:func:`better`) it sends an **update** of the pass's event (same
``event_id``, ``type: update``); so does a pass whose direction became known when its track ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from anpr_edge.core.geometry import centre_gap, iou
from anpr_edge.core.plates import UNREAD, is_valid, known_chars
from anpr_edge.core.results import Box, PlateEvent
from anpr_edge.inference.ocr import CharThresholds
from anpr_edge.recognition.direction import Point, direction
from anpr_edge.recognition.tracking import Track, read_distance

Chars = tuple[tuple[str, float], ...]
TWO_ROW_PLATE = UNREAD * 8


@dataclass(frozen=True, slots=True)
class EventConfig:
    min_reads: int = 3
    emit_conf: float = 0.8
    min_known_chars: int = 5
    min_final_reads: int = 2
    dedup_window_ms: float = 200.0
    repeat_window_s: float = 10.0
    pass_gap_s: float = 2.0
    pass_distance: float = 1.5
    other_plate_edits: int = 4
    direction_line: tuple[Point, Point] | None = None
    direction_growth: float = 1.15


@dataclass(frozen=True, slots=True)
class Candidate:
    """What a ready track would report."""

    plate: str
    chars: Chars
    format: str


@dataclass
class Pass:
    """One vehicle pass: its event as last sent, and where and when its plate was seen first and last."""

    event: PlateEvent
    sent_at: float
    first_box: Box
    last_box: Box
    last_seen: float


def compatible(a: str, b: str) -> bool:
    """Same length and equal wherever neither has ``#``."""
    return len(a) == len(b) and all(x == y or UNREAD in (x, y) for x, y in zip(a, b, strict=True))


def agree(a: str, b: str) -> bool:
    """Equal wherever both are read; a missing last region digit counts as unread."""
    return read_distance(a, b) <= abs(len(a) - len(b)) <= 1


def better(old: PlateEvent, new: Candidate, reads: int, cfg: EventConfig) -> bool:
    """Whether ``new`` is worth an update of ``old``: more characters read where both agree, or a complete
    plate read differently, surer than the old one and at least ``emit_conf`` in every character."""
    if old.format == "two-row" or new.format == "two-row" or reads < cfg.min_final_reads:
        return False
    if known_chars(new.plate) > known_chars(old.plate) and agree(old.plate, new.plate):
        return True
    sure = min((p for _, p in new.chars), default=0.0)
    return (
        is_valid(new.plate)
        and new.plate != old.plate
        and reads >= cfg.min_reads
        and sure >= max(cfg.emit_conf, old.confidence + 0.05)
    )


def read_fields(c: Candidate, tr: Track) -> dict[str, object]:
    """The event fields a read sets (new events and updates alike), rounded as published."""
    return {
        "plate": c.plate,
        "partial": UNREAD in c.plate,
        "confidence": round(min(p for _, p in c.chars), 4),
        "chars": tuple((ch, round(p, 4)) for ch, p in c.chars),
        "box": tuple(round(v, 1) for v in tr.box),
        "frames_seen": tr.frames_seen,
        "reads": tr.reads,
    }


class EventGate:
    """``update(alive, ended, t, frame_size)`` → new events and updates to publish."""

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
        self._passes: list[Pass] = []
        self._track_pass: dict[int, Pass] = {}
        self.suppressed = 0  # ready tracks that joined an earlier pass without a better read
        self.updates = 0

    def reset(self) -> None:
        self._passes, self._track_pass = [], {}

    def ready(self, tr: Track, final: bool) -> Candidate | None:
        """What ``tr`` would report now (see the module docstring), or None while it is not ready."""
        cfg = self.config
        if tr.format == "two-row":
            enough = tr.two_row >= (cfg.min_final_reads if final else cfg.min_reads)
            return Candidate(TWO_ROW_PLATE, ((UNREAD, 0.0),) * 8, "two-row") if enough else None
        voted = tr.plate(self.alphabet, self.thresholds)
        if voted is None:
            return None
        plate, chars = voted
        if not final:
            sure = min(p for _, p in chars) >= cfg.emit_conf
            ok = tr.reads >= cfg.min_reads and is_valid(plate) and sure
        else:
            ok = tr.reads >= cfg.min_final_reads and known_chars(plate) >= cfg.min_known_chars
        return Candidate(plate, chars, "one-row") if ok else None

    def same_pass(self, tr: Track, plate: str, t: float) -> Pass | None:
        """The earlier pass ``tr`` continues, if any (see the module docstring)."""
        cfg = self.config
        start = tr.first_box or tr.box
        for p in reversed(self._passes):
            if read_distance(p.event.plate, plate) >= cfg.other_plate_edits:
                continue  # another vehicle
            if p.event.plate == plate and t - p.sent_at < cfg.dedup_window_ms / 1000.0:
                return p
            gap = max(tr.first_seen - p.last_seen, 0.0)
            if gap <= cfg.pass_gap_s and centre_gap(p.last_box, start) <= cfg.pass_distance:
                return p
            if gap <= cfg.repeat_window_s and iou(p.last_box, start) >= 0.3:
                return p
        return None

    def _direction(self, first: Box, last: Box) -> str | None:
        return direction(first, last, self.config.direction_line, self.config.direction_growth)

    def _new(self, tr: Track, c: Candidate, t: float, frame_size: tuple[int, int]) -> PlateEvent:
        start = tr.first_box or tr.box
        event = PlateEvent(
            event_id=self._new_id(),
            camera=self.camera,
            first_seen=tr.first_seen,
            last_seen=tr.last_seen,
            frame_size=frame_size,
            track_id=tr.track_id,
            direction=self._direction(start, tr.box),
            format=c.format,
            **read_fields(c, tr),  # type: ignore[arg-type]
        )
        p = Pass(event, t, start, tr.box, tr.last_seen)
        self._passes.append(p)
        self._track_pass[tr.track_id] = p
        return event

    def _update(self, p: Pass, tr: Track, c: Candidate | None, final: bool) -> PlateEvent | None:
        """An update of ``p``'s event from ``tr``, when its read is better or (at its end) the direction is new."""
        old = p.event
        way = self._direction(p.first_box, tr.box)
        improved = c is not None and better(old, c, tr.reads, self.config)
        if not improved and not (final and way is not None and way != old.direction):
            return None
        fields: dict[str, object] = {"type": "update", "direction": way or old.direction, "last_seen": tr.last_seen}
        if improved and c is not None:
            fields.update(read_fields(c, tr))
        p.event = replace(old, **fields)  # type: ignore[arg-type]
        self.updates += 1
        return p.event

    def _consider(self, tr: Track, final: bool, t: float, frame_size: tuple[int, int]) -> PlateEvent | None:
        p = self._track_pass.get(tr.track_id)
        if p is not None:
            p.last_box, p.last_seen = tr.box, tr.last_seen
            return self._update(p, tr, self.ready(tr, final), final)
        c = self.ready(tr, final)
        if c is None:
            return None
        p = self.same_pass(tr, c.plate, t)
        if p is None:
            return self._new(tr, c, t, frame_size)
        self._track_pass[tr.track_id] = p
        p.last_box, p.last_seen = tr.box, tr.last_seen
        update = self._update(p, tr, c, final)
        if update is None:
            self.suppressed += 1
        return update

    def _forget(self, t: float) -> None:
        """Drop passes too old for any rule to join; they then never make an update again."""
        cfg = self.config
        horizon = max(cfg.dedup_window_ms / 1000.0, cfg.repeat_window_s, cfg.pass_gap_s)
        linked = {id(p) for p in self._track_pass.values()}
        self._passes = [p for p in self._passes if id(p) in linked or t - p.last_seen < horizon]

    def update(
        self, alive: Iterable[Track], ended: Iterable[Track], t: float, frame_size: tuple[int, int]
    ) -> list[PlateEvent]:
        events: list[PlateEvent] = []
        for tr, final in [(a, False) for a in alive] + [(e, True) for e in ended]:
            event = self._consider(tr, final, t, frame_size)
            if event is not None:
                events.append(event)
        for tr in ended:
            self._track_pass.pop(tr.track_id, None)
        self._forget(t)
        return events
