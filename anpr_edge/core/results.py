"""Frozen result types passed between stages: detections, plate reads, events."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Detection:
    """A plate box in frame pixels ``(x1, y1, x2, y2)`` and the detector's confidence."""

    box: Box
    score: float

    def __post_init__(self) -> None:
        x1, y1, x2, y2 = self.box
        if not (x2 >= x1 and y2 >= y1):
            raise ValueError(f"box must have x2 >= x1 and y2 >= y1, got {self.box}")


@dataclass(frozen=True, slots=True)
class PlateRead:
    """The OCR of one plate crop.

    ``text`` has ``#`` where a character's probability is under its threshold; ``chars`` has the
    best allowed character and its probability per position; ``probs`` the full class
    distribution per position (for voting across frames).
    """

    text: str
    chars: tuple[tuple[str, float], ...]
    probs: np.ndarray = field(repr=False, compare=False)
    detection: Detection

    @property
    def confidence(self) -> float:
        return min((p for _, p in self.chars), default=0.0)

    @property
    def is_plate_shaped(self) -> bool:
        return len(self.text) in (8, 9)


@dataclass(frozen=True, slots=True)
class PlateEvent:
    """One vehicle pass: what the sinks (CSV, JSON lines, MQTT) receive."""

    event_id: str
    camera: str
    plate: str
    partial: bool
    confidence: float
    chars: tuple[tuple[str, float], ...]
    first_seen: float  # stream time in seconds (video time offline, Unix time live)
    last_seen: float
    box: Box
    frame_size: tuple[int, int]  # width, height
    track_id: int
    frames_seen: int
    reads: int
    snapshot: str | None = None
