"""FFmpeg decodes each video on one thread unless a camera asks for more (``cameras[].decode_threads``): files,
the daemon's file cameras and streams alike."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import pytest

from anpr_edge.config.load import parse
from anpr_edge.errors import ConfigError
from anpr_edge.sources.capture import StreamReader, open_reader
from anpr_edge.sources.decoder import DECODE_THREADS, open_video
from anpr_edge.sources.files import VideoSource
from tests.daemon_helpers import write_video


def threads(cap: cv2.VideoCapture) -> int:
    return int(cap.get(cv2.CAP_PROP_N_THREADS))


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("decoder") / "clip.mp4", frames=30, fps=25)


def test_a_video_is_decoded_by_ffmpeg_on_one_thread_and_read_whole(clip: Path) -> None:
    cap = open_video(clip)
    assert cap.getBackendName() == "FFMPEG" and threads(cap) == DECODE_THREADS == 1
    cap.release()
    source = VideoSource(clip)
    assert threads(source._cap) == 1
    assert len(list(source)) == 30


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="FFmpeg's own choice is one thread on one core")
def test_a_camera_asks_for_its_own_decoding_threads(clip: Path) -> None:
    for asked, expected in ((1, 1), (2, 2), (0, None)):  # 0: FFmpeg's choice, a thread per core
        for reader in (open_reader(str(clip), False, 5.0, asked), StreamReader(str(clip), 5.0, asked)):
            assert reader.cap is not None
            got = threads(reader.cap)
            assert got == expected if expected else got > 1, (type(reader).__name__, asked, got)
            reader.cap.release()


def test_decode_threads_is_checked_with_the_rest_of_the_camera() -> None:
    assert parse("cameras:\n  - {name: a, source: x.mp4}\n").cameras[0].decode_threads == 1
    assert parse("cameras:\n  - {name: a, source: x.mp4, decode_threads: 0}\n").cameras[0].decode_threads == 0
    with pytest.raises(
        ConfigError, match=r"^c\.yaml:4: cameras\[0\]\.decode_threads: Input should be greater than or equal to 0$"
    ):
        parse("cameras:\n  - name: a\n    source: x.mp4\n    decode_threads: -1\n", "c.yaml")
