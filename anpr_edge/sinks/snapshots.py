"""Snapshots: the event's frame as JPEG with the plate box drawn, and the plate crop beside it; retention.

For an event ``E`` the frame goes to ``<dir>/<camera>_<ms>_<plate>_<id8>.jpg`` (its path is the event
payload's ``snapshot``) and the crop to the same name ending ``_plate.jpg``. Each file is written under a
temporary name and renamed, so a reader that follows the payload never sees half a JPEG. Retention counts
events (a frame and its crop): the oldest go first when there are more than ``max_files``, when together
they take more than ``max_total_mb``, or when they are older than ``max_age_days``; it runs after every
save and once a minute in a thread of its own, so old pictures go even while no car passes.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.config.schema import SnapshotsConfig
from anpr_edge.core.results import PlateEvent

logger = logging.getLogger(__name__)

CROP_SUFFIX = "_plate"
PRUNE_EVERY_S = 60.0
BOX_COLOUR = (0, 220, 0)  # BGR


@dataclass(frozen=True, slots=True)
class Stored:
    """One event's files on disk: the frame and its crop, their total size, the frame's time (Unix)."""

    key: str
    mtime: float
    size: int
    paths: tuple[Path, ...]


def file_stem(event: PlateEvent) -> str:
    plate = event.plate.replace("#", "-")  # '#' starts a URL fragment: keep paths usable as links
    return f"{event.camera}_{int(event.last_seen * 1000)}_{plate}_{event.event_id[:8]}"


def draw_box(frame: np.ndarray, event: PlateEvent) -> np.ndarray:
    """A copy of the frame with the plate box and its read (plate, confidence) drawn above it."""
    vis = frame.copy()
    h, w = vis.shape[:2]
    x1, y1, x2, y2 = (round(v) for v in event.box)
    thick = max(2, w // 640)
    cv2.rectangle(vis, (x1, y1), (x2, y2), BOX_COLOUR, thick)
    label = f"{event.plate} {event.confidence:.2f}"
    scale = max(0.5, w / 1920)
    (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    ty = y1 - base - 4 if y1 - th - base - 4 >= 0 else min(h - base, y2 + th + 4)
    cv2.rectangle(vis, (x1, ty - th - 2), (x1 + tw + 4, ty + base), BOX_COLOUR, -1)
    cv2.putText(vis, label, (x1 + 2, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick, cv2.LINE_AA)
    return vis


def plate_crop(frame: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray | None:
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = (round(v) for v in box)
    crop = frame[max(y1, 0) : min(y2, h), max(x1, 0) : min(x2, w)]
    return crop if crop.size else None


def write_jpeg(path: Path, image: np.ndarray, quality: int) -> int:
    """Encode and write atomically; returns the bytes written. ``OSError`` when the disk refuses."""
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise OSError(f"cannot encode {path.name} as JPEG")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(buf.tobytes())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    return int(buf.size)


class SnapshotStore:
    """``save(event, frame)`` → the event with its ``snapshot`` path; retention by count, bytes and age."""

    def __init__(self, cfg: SnapshotsConfig, folder: Path, clock: Callable[[], float] = time.time) -> None:
        self.cfg, self.folder, self.clock = cfg, folder, clock
        self._lock = threading.Lock()
        self._index: dict[str, Stored] | None = None  # built from the folder at the first use
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.removed = 0

    def start(self) -> SnapshotStore:
        """Prune now and once a minute in a named thread (until :meth:`close`)."""
        self.prune()
        self._thread = threading.Thread(target=self._prune_loop, name="snapshots-retention", daemon=True)
        self._thread.start()
        return self

    def save(self, event: PlateEvent, frame: np.ndarray) -> PlateEvent:
        """Write the frame (box drawn) and the crop; ``OSError`` / ``cv2.error`` when they cannot be."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = file_stem(event)
        path = self.folder / f"{stem}.jpg"
        written = [(path, write_jpeg(path, draw_box(frame, event), self.cfg.jpeg_quality))]
        crop = plate_crop(frame, event.box) if self.cfg.crop else None
        if crop is not None:
            crop_path = self.folder / f"{stem}{CROP_SUFFIX}.jpg"
            written.append((crop_path, write_jpeg(crop_path, crop, max(self.cfg.jpeg_quality, 95))))
        with self._lock:
            index = self._load()
            index[stem] = Stored(stem, self.clock(), sum(n for _, n in written), tuple(p for p, _ in written))
        self.prune()
        return dataclasses.replace(event, snapshot=str(path))

    def prune(self) -> int:
        """Delete the oldest events' files beyond the limits; returns how many events went."""
        cfg = self.cfg
        max_bytes = int(cfg.max_total_mb * 1024 * 1024)
        oldest_kept = self.clock() - cfg.max_age_days * 86400 if cfg.max_age_days > 0 else float("-inf")
        gone = 0
        with self._lock:
            index = self._load()
            total = sum(s.size for s in index.values())
            for s in sorted(index.values(), key=lambda s: s.mtime):
                if len(index) <= cfg.max_files and total <= max_bytes and s.mtime >= oldest_kept:
                    break
                for p in s.paths:
                    p.unlink(missing_ok=True)
                del index[s.key]
                total -= s.size
                gone += 1
        self.removed += gone
        return gone

    def _load(self) -> dict[str, Stored]:
        """The index of the folder's snapshots (scanned once; then kept up to date by save and prune)."""
        if self._index is None:
            groups: dict[str, list[tuple[Path, os.stat_result]]] = {}
            for p in self.folder.glob("*.jpg") if self.folder.is_dir() else ():
                try:
                    groups.setdefault(p.stem.removesuffix(CROP_SUFFIX), []).append((p, p.stat()))
                except FileNotFoundError:
                    continue
            self._index = {
                key: Stored(
                    key,
                    max(st.st_mtime for _, st in files),
                    sum(st.st_size for _, st in files),
                    tuple(p for p, _ in files),
                )
                for key, files in groups.items()
            }
        return self._index

    def _prune_loop(self) -> None:
        while not self._stop.wait(PRUNE_EVERY_S):
            try:
                self.prune()
            except OSError as exc:
                logger.warning("snapshots: retention could not delete a file: %s", exc)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
