"""How videos are opened: FFmpeg, on one decoding thread unless a camera asks for more.

On two threads FFmpeg holds about 10 MiB more for a 1080p H.264 stream than on one (docs/benchmarks.md,
"Memory"), and one thread decodes a 1080p frame in 4-5 ms: a small share of a core at 25 fps. A 4K or H.265
camera may need more (``cameras[].decode_threads``; 0: FFmpeg's own choice, a thread per core).
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2

logger = logging.getLogger(__name__)

#: FFmpeg's decoding threads per video unless a camera says otherwise.
DECODE_THREADS = 1


def ffmpeg_params(threads: int = DECODE_THREADS) -> tuple[int, ...]:
    """Open parameters of an FFmpeg capture decoding on ``threads`` (0: FFmpeg's choice)."""
    return (cv2.CAP_PROP_N_THREADS, threads) if threads > 0 else ()


def open_video(path: Path, threads: int = DECODE_THREADS) -> cv2.VideoCapture:
    """A video file for reading, through FFmpeg on ``threads``; a file FFmpeg cannot open is tried by OpenCV's
    other backends (said in the log). Check ``isOpened()``."""
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, list(ffmpeg_params(threads)))
    if cap.isOpened():
        return cap
    cap = cv2.VideoCapture(str(path))
    if cap.isOpened():
        logger.info("%s: FFmpeg cannot open it; read by OpenCV's %s backend", path, cap.getBackendName())
    return cap
