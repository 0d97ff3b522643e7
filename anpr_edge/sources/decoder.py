"""How videos are opened: FFmpeg, on one decoding thread unless a camera asks for more.

On two threads FFmpeg holds about 10 MiB more for a 1080p H.264 stream than on one (docs/benchmarks.md,
"Memory"), and one thread decodes a 1080p frame in 4-5 ms: a small share of a core at 25 fps. A 4K or H.265
camera may need more (``cameras[].decode_threads``; 0: FFmpeg's own choice, a thread per core).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import cv2

logger = logging.getLogger(__name__)

#: FFmpeg's decoding threads per video unless a camera says otherwise.
DECODE_THREADS = 1
#: How much lower than the process's a decoding thread's scheduling priority is (nice levels): inference keeps the
#: cores, and decoding fills the gaps between the detector's runs.
DECODE_NICENESS = 5


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


def behind_inference() -> bool:
    """Lower the calling thread's scheduling priority by :data:`DECODE_NICENESS` (Linux, where a thread has a
    niceness of its own; elsewhere, or where it is refused, a debug line). True when lowered. Call it from a thread
    that decodes ahead of the pipeline; with one decoding thread FFmpeg decodes on the calling thread."""
    if not hasattr(os, "setpriority"):
        logger.debug("decoding thread: no setpriority here; its priority is left as it is")
        return False
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + DECODE_NICENESS)
    except OSError as exc:
        logger.debug("decoding thread: priority left as it is (%s)", exc)
        return False
    return True
