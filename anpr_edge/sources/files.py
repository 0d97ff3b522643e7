"""Offline frame sources: a video file or a folder of images, as (index, stream time, frame)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.errors import InputError
from anpr_edge.sources.decoder import open_video

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass(frozen=True, slots=True)
class Frame:
    index: int
    t: float  # seconds since the start of the stream
    image: np.ndarray
    name: str = ""


def list_images(folder: Path) -> list[Path]:
    """Image files of ``folder`` in name order; other files are logged and skipped."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    skipped = len(files) - len(images)
    if skipped:
        logger.warning("%s: skipping %d file(s) that are not images", folder, skipped)
    if not images:
        raise InputError(f"{folder}: no images in folder (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    return images


def read_image(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None or img.size == 0:
        raise InputError(f"{path}: not a readable image")
    return img


class FolderSource:
    """Images of a folder, sorted by name, played at ``fps``."""

    def __init__(self, folder: Path, fps: float) -> None:
        self.images = list_images(folder)
        self.fps = fps
        self.frame_count = len(self.images)

    def __iter__(self) -> Iterator[Frame]:
        for i, p in enumerate(self.images):
            yield Frame(i, i / self.fps, read_image(p), p.name)


class VideoSource:
    """A video file; a file that stops early (truncated) raises :class:`InputError` at that point.

    A frame's time is its container timestamp, so a variable-frame-rate file (a camera recording that
    drops frames) keeps true times; ``fps`` given overrides it (frame index / fps)."""

    def __init__(self, path: Path, fps: float | None = None) -> None:
        self.path = path
        self.timestamps = fps is None
        self._cap = open_video(path)
        if not self._cap.isOpened():
            raise InputError(f"{path}: cannot open as a video (unsupported or corrupt file)")
        native = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps or (native if native and 0 < native < 1000 else 25.0)
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 else 0

    def __iter__(self) -> Iterator[Frame]:
        i, t = 0, 0.0
        try:
            while True:
                ok, img = self._cap.read()
                if not ok or img is None:
                    break
                t = self._time(i, t)
                yield Frame(i, t, img)
                i += 1
        finally:
            self._cap.release()
        if i == 0:
            raise InputError(f"{self.path}: no frame could be decoded (corrupt or truncated video)")
        if self.frame_count and i < self.frame_count * 0.98 - 2:
            raise InputError(f"{self.path}: video ended after {i} of {self.frame_count} frames (truncated or corrupt)")

    def _time(self, i: int, previous: float) -> float:
        """The frame's container timestamp in seconds; where the container has none that moves on (raw
        streams), one frame period after the previous frame."""
        if not self.timestamps:
            return i / self.fps
        pts = self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        return pts if i == 0 or pts > previous else previous + 1.0 / self.fps


def open_source(path: Path, fps: float | None) -> FolderSource | VideoSource:
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir():
        return FolderSource(path, fps or 25.0)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise InputError(f"{path}: a single image; use 'anpr-edge read' or pass its folder")
    return VideoSource(path, fps)
