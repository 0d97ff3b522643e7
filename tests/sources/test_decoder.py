"""Videos are decoded by FFmpeg on one thread (``DECODER_THREADS``): files, the daemon's file cameras, streams."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from anpr_edge.sources.capture import FileReader
from anpr_edge.sources.files import DECODER_THREADS, VideoSource, open_video
from tests.daemon_helpers import write_video


def test_a_video_is_decoded_on_one_thread_and_still_read_whole(tmp_path: Path) -> None:
    clip = write_video(tmp_path / "clip.mp4", frames=30, fps=25)
    cap = open_video(clip)
    assert cap.getBackendName() == "FFMPEG" and cap.get(cv2.CAP_PROP_N_THREADS) == DECODER_THREADS == 1
    cap.release()
    source = VideoSource(clip)
    assert source._cap.get(cv2.CAP_PROP_N_THREADS) == 1
    frames = list(source)
    assert len(frames) == 30 and all(isinstance(f.image, np.ndarray) for f in frames)
    reader = FileReader(clip, loop=False)
    assert reader.cap is not None and reader.cap.get(cv2.CAP_PROP_N_THREADS) == 1
    reader.cap.release()
