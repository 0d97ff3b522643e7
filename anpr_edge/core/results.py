"""Frozen result types passed between stages: detections, plate reads, events."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Box = tuple[float, float, float, float]
#: A plate's four corners in frame pixels: top-left, top-right, bottom-right, bottom-left.
Corners = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


@dataclass(frozen=True, slots=True)
class Detection:
    """A plate box in frame pixels ``(x1, y1, x2, y2)``, the detector's confidence and, from a corner model,
    the plate's corners (TL, TR, BR, BL)."""

    box: Box
    score: float
    corners: Corners | None = None

    def __post_init__(self) -> None:
        x1, y1, x2, y2 = self.box
        if not (x2 >= x1 and y2 >= y1):
            raise ValueError(f"box must have x2 >= x1 and y2 >= y1, got {self.box}")
        if self.corners is not None and len(self.corners) != 4:
            raise ValueError(f"corners must be 4 points (TL, TR, BR, BL), got {len(self.corners)}")

    def moved(self, dx: float, dy: float) -> Detection:
        """The same detection in a frame whose origin is ``(-dx, -dy)`` from this one's (a crop's boxes back in
        the full frame)."""
        x1, y1, x2, y2 = self.box
        c = self.corners
        corners = None if c is None else tuple((x + dx, y + dy) for x, y in c)
        return Detection((x1 + dx, y1 + dy, x2 + dx, y2 + dy), self.score, corners)  # type: ignore[arg-type]


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
    format: str = "one-row"  # "two-row": a square plate, not read (its text is all '#')

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
    type: str = "new"  # "update": a better read of the pass an earlier event (same event_id) reported
    direction: str | None = None  # "approaching" / "departing", or "in" / "out" across a configured line
    format: str = "one-row"  # "two-row": a square plate, reported unread


@dataclass(frozen=True, slots=True)
class TrackView:
    """A track seen on this frame: where it is and the plate its reads vote for so far (``""`` before a read)."""

    track_id: int
    box: Box
    plate: str
    corners: Corners | None = None


@dataclass(frozen=True, slots=True)
class FrameResult:
    """What one frame gave: the events it completed (with the frame of each event's best read, for its
    snapshot), and the detections with their reads and crops (``None`` where a plate was not read)."""

    events: tuple[PlateEvent, ...] = ()
    event_frames: tuple[np.ndarray | None, ...] = ()  # None: no frame kept (the snapshot takes the last one)
    detections: tuple[Detection, ...] = ()
    reads: tuple[PlateRead | None, ...] = ()
    crops: tuple[np.ndarray | None, ...] = ()
    tracks: tuple[TrackView, ...] = ()
    idle: bool = False

    def __post_init__(self) -> None:
        if not len(self.detections) == len(self.reads) == len(self.crops):
            raise ValueError(
                f"detections, reads and crops must pair up, got {len(self.detections)}, {len(self.reads)}, "
                f"{len(self.crops)}"
            )
        if len(self.events) != len(self.event_frames):
            raise ValueError(f"{len(self.events)} events but {len(self.event_frames)} event frames")
