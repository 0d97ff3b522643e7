"""An RTSP camera served by a real GStreamer RTSP server: the daemon streams it, and reconnects within
10 s after the server is killed and comes back. Uses the tiny models (reconnects do not depend on reads)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from anpr_edge.training.video_io import to_h264
from tests.broker import free_port
from tests.daemon_helpers import start_daemon, wait_for_log, write_config, write_video

SYSTEM_PY = "/usr/bin/python3"


def have_gst_rtsp() -> bool:
    if not Path(SYSTEM_PY).exists() or shutil.which("ffmpeg") is None:
        return False
    probe = "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"
    return subprocess.run([SYSTEM_PY, "-c", probe], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(
    not have_gst_rtsp(),
    reason="needs ffmpeg and GStreamer's RTSP server (apt-get install -y python3-gi gir1.2-gst-rtsp-server-1.0 "
    "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)",
)


def serve(port: int, video: Path, *credentials: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [SYSTEM_PY, str(Path(__file__).parents[1] / "rtsp_server.py"), str(port), str(video), *credentials],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def camera(state: Path, name: str) -> dict[str, Any]:
    try:
        return dict(json.loads((state / "status.json").read_text())["cameras"][name])
    except (OSError, ValueError, KeyError):
        return {}


def test_rtsp_camera_reconnects_after_server_restart(tmp_path: Path, tiny_models: Path) -> None:
    raw = write_video(tmp_path / "raw.mp4", frames=750)  # 30 s, longer than the test
    h264 = tmp_path / "cam.mp4"
    assert to_h264(raw, h264)
    port = free_port()
    server = serve(port, h264)
    state = tmp_path / "state"
    cams = [
        {
            "name": "rtsp",
            "source": f"rtsp://user:secret@127.0.0.1:{port}/cam",
            "target_fps": 10,
            "stall_timeout_s": 2,
            "reconnect_max_s": 2,
        }
    ]
    log = tmp_path / "daemon.log"
    proc = start_daemon(write_config(tmp_path / "c.yaml", tiny_models, cams, state), log)
    try:
        assert wait_for_log(log, "camera rtsp: streaming", 30), log.read_text()
        server.kill()
        server.wait()
        assert wait_for_log(log, "camera rtsp: stalled", 15), log.read_text()
        time.sleep(3)
        before = int(camera(state, "rtsp").get("frames_in", 0))
        server = serve(port, h264)
        back = time.monotonic()
        while time.monotonic() - back < 10 and int(camera(state, "rtsp").get("frames_in", 0)) <= before + 5:
            time.sleep(0.2)
        assert int(camera(state, "rtsp").get("frames_in", 0)) > before + 5, log.read_text()[-2000:]
        assert int(camera(state, "rtsp").get("reconnects", 0)) >= 1
        text = log.read_text()
        assert "secret" not in text and "rtsp://***@127.0.0.1" in text  # credentials never logged
        assert text.count("camera rtsp: stalled") + text.count("camera rtsp: failed") < 10  # state changes, once each
    finally:
        proc.terminate()
        proc.wait(10)
        server.kill()


def test_a_password_with_at_slash_and_space_opens_and_is_never_shown(tmp_path: Path, tiny_models: Path) -> None:
    """#21.7: the server asks for the password (RTSP 401 without it). Written raw in the config, it must
    still open the stream, and appear in no log line and not in the status file."""
    raw = write_video(tmp_path / "raw.mp4", frames=250)
    h264 = tmp_path / "cam.mp4"
    assert to_h264(raw, h264)
    port = free_port()
    password = "p@ss/w rd:9"
    server = serve(port, h264, "viewer", password)
    state = tmp_path / "state"
    cams = [{"name": "gate", "source": f"rtsp://viewer:{password}@127.0.0.1:{port}/cam", "target_fps": 5}]
    log = tmp_path / "daemon.log"
    proc = start_daemon(write_config(tmp_path / "c.yaml", tiny_models, cams, state), log)
    try:
        assert wait_for_log(log, "camera gate: streaming", 30), log.read_text()
        deadline = time.monotonic() + 10
        while int(camera(state, "gate").get("frames_in", 0)) < 5:
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(10)
        server.kill()
    text = log.read_text() + (state / "status.json").read_text()
    for piece in ("p@ss", "w rd", "%40ss", "ss/w"):
        assert piece not in text, piece
    assert f"rtsp://***@127.0.0.1:{port}/cam" in text
