"""Camera capture, one thread per camera: always the newest frame, reconnect with backoff.

The capture thread never blocks on the consumer: each new frame replaces the previous one in a
one-slot mailbox, and a frame that was never taken is counted as dropped. Camera state changes
(connecting → streaming → stalled / failed → reconnecting) are logged once each, with credentials
stripped from URLs.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.sources.decoder import DECODE_THREADS, ffmpeg_params, open_video
from anpr_edge.sources.files import IMAGE_SUFFIXES, list_images
from anpr_edge.sources.probe import probe
from anpr_edge.sources.urls import for_ffmpeg, redact, redact_url

logger = logging.getLogger(__name__)

# RTSP over TCP, and let FFmpeg give up on a dead socket instead of blocking forever.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")


@dataclass
class CaptureStats:
    frames_in: int = 0
    dropped: int = 0
    reconnects: int = 0
    state: str = "starting"
    last_frame_at: float = 0.0  # monotonic


class LatestFrame:
    """A one-slot mailbox: ``put`` overwrites (counting a drop), ``get`` waits for a fresh frame."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: tuple[np.ndarray, float] | None = None
        self.dropped = 0

    def put(self, frame: np.ndarray, t: float) -> None:
        with self._cond:
            if self._item is not None:
                self.dropped += 1
            self._item = (frame, t)
            self._cond.notify()

    def get(self, timeout: float) -> tuple[np.ndarray, float] | None:
        with self._cond:
            if self._item is None:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item


def backoff_delays(initial: float, maximum: float, rng: random.Random) -> Callable[[int], float]:
    """Exponential backoff with full jitter: attempt n waits U(0.5, 1) * min(max, initial * 2^n)."""
    return lambda n: min(maximum, initial * (2 ** min(n, 20))) * rng.uniform(0.5, 1.0)


class FileReader:
    """A video file or image folder played at its own pace, optionally looped: a video by its container's
    timestamps (variable frame rates too), a folder at ``fps`` (25). An image that cannot be read is
    skipped with one warning line. A video is decoded on ``decode_threads`` (:mod:`~anpr_edge.sources.decoder`)."""

    def __init__(self, path: Path, loop: bool, fps: float | None = None, decode_threads: int = DECODE_THREADS) -> None:
        self.path, self.loop = path, loop
        self.images = list_images(path) if path.is_dir() else []
        self.index = 0
        self.cap: cv2.VideoCapture | None = None
        if not self.images:
            self.cap = open_video(path, decode_threads)
            if not self.cap.isOpened():
                raise OSError(f"cannot open video {path}")
        self.period = 1.0 / (fps or 25.0)
        self.started = time.monotonic()  # stream time 0 of this pass over the file
        self.bad: set[int] = set()  # unreadable images, warned about once

    def read(self) -> np.ndarray | None:
        frame, t = self._next()
        if frame is None:
            return None
        # Pace like a live camera so the daemon sees real time; a late reader never catches up in a burst.
        delay = self.started + t - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -1.0:
            self.started = time.monotonic() - t
        return frame

    def _next(self) -> tuple[np.ndarray | None, float]:
        if self.images:
            return self._next_image()
        assert self.cap is not None
        ok, frame = self.cap.read()
        if not ok and self.loop:
            self.cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self.started = time.monotonic() + self.period  # the first frame again, about a frame on
            ok, frame = self.cap.read()
        return (frame, self.cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0) if ok else (None, 0.0)

    def _next_image(self) -> tuple[np.ndarray | None, float]:
        for _ in range(len(self.images)):
            if self.index >= len(self.images):
                if not self.loop:
                    return None, 0.0
                self.index = 0
                self.started += len(self.images) * self.period  # the first image again, one period on
            i = self.index
            self.index += 1
            img = cv2.imread(str(self.images[i]))
            if img is not None and img.size:
                return img, i * self.period
            if i not in self.bad:
                self.bad.add(i)
                logger.warning("%s: not a readable image; skipped", self.images[i])
        return None, 0.0

    def release(self) -> None:
        if self.cap is not None:
            self.cap.release()


class StreamReader:
    """RTSP/HTTP URL (FFmpeg, on ``decode_threads``) or a USB camera (``/dev/videoN`` or an index) through OpenCV."""

    def __init__(self, source: str | int, timeout_s: float, decode_threads: int = DECODE_THREADS) -> None:
        ms = int(timeout_s * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
        params += ffmpeg_params(decode_threads)
        if isinstance(source, int) or (isinstance(source, str) and source.isdigit()):
            self.cap = cv2.VideoCapture(int(source), cv2.CAP_ANY)
        elif source.startswith("/dev/video"):
            self.cap = cv2.VideoCapture(source, cv2.CAP_V4L2)
        else:
            self.cap = cv2.VideoCapture(for_ffmpeg(source), cv2.CAP_FFMPEG, params)
        if not self.cap.isOpened():
            raise OSError("cannot open stream")

    def read(self) -> np.ndarray | None:
        ok, frame = self.cap.read()
        return frame if ok else None

    def release(self) -> None:
        self.cap.release()


def open_reader(
    source: str | int, loop: bool, timeout_s: float, decode_threads: int = DECODE_THREADS
) -> FileReader | StreamReader:
    if isinstance(source, str) and "://" not in source and not source.startswith("/dev/video") and not source.isdigit():
        path = Path(source)
        if not path.exists():
            raise OSError(f"no such file or folder {path}")
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            raise OSError(f"{path} is a single image; point the camera at its folder")
        return FileReader(path, loop, decode_threads=decode_threads)
    if isinstance(source, str):
        probe(source, timeout_s)  # on this thread's own socket: a silent camera holds up no other camera
    return StreamReader(source, timeout_s, decode_threads)


class CaptureThread(threading.Thread):
    """Reads one camera into a :class:`LatestFrame` until ``stop`` is set."""

    def __init__(
        self,
        name: str,
        source: str | int,
        loop: bool,
        stall_timeout_s: float,
        reconnect_max_s: float,
        stop: threading.Event,
        decode_threads: int = DECODE_THREADS,
    ) -> None:
        super().__init__(name=f"capture-{name}", daemon=True)
        self.camera, self.source, self.loop, self.decode_threads = name, source, loop, decode_threads
        self.stall_timeout_s, self.reconnect_max_s = stall_timeout_s, reconnect_max_s
        self.stop_event = stop
        self.mailbox = LatestFrame()
        self.stats = CaptureStats()
        self.finished = False  # a non-looping file reached its end
        self.heartbeat = time.monotonic()
        self._delay = backoff_delays(0.5, reconnect_max_s, random.Random())
        self.label = redact_url(str(source))

    def _set_state(self, state: str, detail: str = "") -> None:
        if state != self.stats.state:
            log = logger.warning if state in ("failed", "stalled") else logger.info
            log(
                "camera %s: %s%s (%s)",
                self.camera,
                state,
                f": {detail}" if detail else "",
                self.label,
                extra={"camera": self.camera},
            )
            self.stats.state = state

    def run(self) -> None:
        try:
            self._run()
        except Exception:  # a bug, not a camera problem: logged in full; the daemon restarts the camera
            logger.exception("camera %s: capture thread failed", self.camera, extra={"camera": self.camera})
            self.stats.state = "crashed"

    def _run(self) -> None:
        attempt = 0
        while not self.stop_event.is_set():
            self.heartbeat = time.monotonic()
            self._set_state("connecting" if attempt == 0 else "reconnecting")
            try:
                reader = open_reader(self.source, self.loop, self.stall_timeout_s, self.decode_threads)
            except (OSError, cv2.error) as exc:
                self._set_state("failed", redact(str(exc)))
                self._wait(self._delay(attempt))
                attempt += 1
                self.stats.reconnects += 1
                continue
            try:
                got_any = self._stream(reader)
            finally:
                reader.release()
            if self.finished or self.stop_event.is_set():
                break
            attempt = 0 if got_any else attempt + 1
            self.stats.reconnects += 1
            self._wait(self._delay(attempt))
        self._set_state("stopped")

    def _stream(self, reader: FileReader | StreamReader) -> bool:
        got_any = False
        while not self.stop_event.is_set():
            self.heartbeat = time.monotonic()
            frame = reader.read()
            now = time.monotonic()
            if frame is None or frame.size == 0:
                if isinstance(reader, FileReader) and not self.loop:
                    self._set_state("finished", "end of file")
                    self.finished = True
                    return got_any
                self._set_state("stalled", f"no frame (timeout {self.stall_timeout_s:g} s)")
                return got_any
            if not got_any:
                self._set_state("streaming")
            got_any = True
            self.stats.frames_in += 1
            self.stats.last_frame_at = now
            self.mailbox.put(frame, time.time())
        return got_any

    def _wait(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stop_event.is_set() and time.monotonic() < end:
            self.heartbeat = time.monotonic()
            self.stop_event.wait(min(0.5, max(0.0, end - time.monotonic())))
