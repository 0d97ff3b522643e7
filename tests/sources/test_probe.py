"""#21.11: a camera that accepts the connection and never answers costs only its own thread its timeout:
the probe gives up after it, on its own socket, outside the lock OpenCV opens every FFmpeg stream
under. That other cameras are not held up is proved on the daemon (tests/daemon/test_daemon_resilience.py)."""

from __future__ import annotations

import socket
import time

import pytest

from anpr_edge.sources.probe import probe, url_problem


def test_a_silent_camera_fails_the_probe_within_its_timeout(silent_server: int) -> None:
    t0 = time.monotonic()
    with pytest.raises(OSError, match=r"no answer from 127\.0\.0\.1:\d+ within 1 s"):
        probe(f"rtsp://user:pw@127.0.0.1:{silent_server}/cam", 1.0)
    assert time.monotonic() - t0 < 2.0


def test_a_closed_port_fails_at_once() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: refused
    with pytest.raises(OSError, match="cannot reach"):
        probe(f"rtsp://127.0.0.1:{port}/cam", 1.0)


def test_other_sources_pass_untouched() -> None:
    probe("/dev/video0", 0.1)
    probe("clip.mp4", 0.1)


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("rtsp://", "no host"),
        ("rtsp://user:pw@/cam", "no host"),
        ("ftp://cam/stream", "unsupported scheme ftp://"),
        ("rtsp://cam:99999/s", "bad host or port"),
        ("rtsp://cam:abc/s", "bad host or port"),
        ("http://[::1/s", "bad host or port"),
    ],
)
def test_bad_urls_are_named(url: str, needle: str) -> None:
    problem = url_problem(url)
    assert problem is not None and needle in problem


def test_a_good_url_has_no_problem() -> None:
    assert url_problem("rtsp://admin:p@ss/w rd@10.0.0.5:554/s") is None
