"""#21: nothing kills the daemon silently. The real daemon as a subprocess with the tiny models, a notify
socket bound here, real files, real signals.

* 1: a bad frame is skipped with one line; a worker that dies is restarted; one that cannot be kept
  running stops the watchdog pings (the crash itself is injected with ``ANPR_EDGE_FAULT=crash:N``: no
  input is known that crashes the worker outside its per-frame guard, which is the point of the guard);
* 2: a reload whose outputs cannot be opened keeps the running configuration;
* 3: a corrupt outbox is moved aside and the daemon starts;
* 11: a camera that accepts the connection and never answers holds up no other camera;
* 14: an ROI outside the frame is said at the first frame, with the frame's size.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml

from tests.broker import free_port
from tests.daemon_helpers import NotifySocket, start_daemon, wait_for_log, write_config, write_video


def status(state: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((state / "status.json").read_text()))
    except (OSError, ValueError):
        return {}


def frames_out(state: Path, camera: str) -> int:
    return int(status(state).get("cameras", {}).get(camera, {}).get("frames_out", 0))


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_a_bad_frame_is_skipped_with_one_line_and_the_camera_goes_on(tmp_path: Path, tiny_models: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(6):
        img = np.full((360, 640, 3), 30, np.uint8)
        cv2.rectangle(img, (40 + 60 * i, 100), (140 + 60 * i, 130), (255, 255, 255), -1)
        cv2.imwrite(str(folder / f"{i}.png"), img)
    cv2.imwrite(str(folder / "3b.png"), np.full((4000, 2, 3), 200, np.uint8))  # 2 px wide, 4000 px tall
    (folder / "4b.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    state = tmp_path / "state"
    cams = [{"name": "a", "source": str(folder), "loop": True, "target_fps": 25}]
    cfg = write_config(tmp_path / "c.yaml", tiny_models, cams, state)
    notify = NotifySocket(tmp_path / "notify.sock")
    log = tmp_path / "daemon.log"
    # The 2x4000 image once crashed the letterbox; it is read now, so its failure is injected (fault_frame_width).
    env = {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "2000000", "ANPR_EDGE_FAULT": "frame:2"}
    proc = start_daemon(cfg, log, env)
    try:
        assert wait_for_log(log, "camera a: a 2x4000 frame skipped (1 so far)", 40), log.read_text()[-3000:]
        after = frames_out(state, "a")
        wait_until(lambda: frames_out(state, "a") > after + 20, 30, "the camera stopped after the bad frame")
        mark = notify.mark()
        assert notify.wait_for("WATCHDOG=1", 5, start=mark), "watchdog pings stopped"
        assert proc.poll() is None
    finally:
        stop(proc)
        notify.close()
    text = log.read_text()
    assert text.count("frame skipped") == 1  # the first, then every 100th
    assert text.count("4b.jpg: not a readable image; skipped") == 1  # once, not on every loop
    assert "Traceback" not in text
    assert status(state)["cameras"]["a"]["dropped"] >= 1


def test_a_worker_that_dies_is_restarted(tmp_path: Path, tiny_models: Path) -> None:
    video = write_video(tmp_path / "cam.mp4")
    state = tmp_path / "state"
    cams = [{"name": "a", "source": str(video), "loop": True, "target_fps": 10}]
    cfg = write_config(tmp_path / "c.yaml", tiny_models, cams, state)
    log = tmp_path / "daemon.log"
    proc = start_daemon(cfg, log, {"ANPR_EDGE_FAULT": "crash:2"})
    try:
        assert wait_for_log(log, "camera a: restarted (2 in a row)", 40), log.read_text()[-3000:]
        wait_until(lambda: frames_out(state, "a") > 10, 30, "the restarted camera processes no frames")
    finally:
        stop(proc)
    text = log.read_text()
    assert text.count("camera a: worker failed") == 2 and "injected worker crash" in text
    assert "watchdog pings stop" not in text and "not restarted again" not in text


def test_a_camera_that_cannot_be_kept_running_stops_the_watchdog(tmp_path: Path, tiny_models: Path) -> None:
    video = write_video(tmp_path / "cam.mp4")
    state = tmp_path / "state"
    cams = [{"name": "a", "source": str(video), "loop": True, "target_fps": 10}]
    cfg = write_config(tmp_path / "c.yaml", tiny_models, cams, state)
    notify = NotifySocket(tmp_path / "notify.sock")
    log = tmp_path / "daemon.log"
    env = {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "2000000", "ANPR_EDGE_FAULT": "crash:99"}
    proc = start_daemon(cfg, log, env)
    try:
        assert notify.wait_for("WATCHDOG=1", 30)
        assert wait_for_log(log, "watchdog pings stop: camera a: could not be kept running", 60), log.read_text()
        later = notify.drain(3)
        assert not any("WATCHDOG=1" in m for m in later), later
    finally:
        stop(proc)
        notify.close()
    assert "camera a: died 6 times in a row soon after starting; not restarted again" in log.read_text()


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        ("csv under a file", "outputs.csv.path"),
        ("csv with other columns", "outputs.csv.path"),
        ("state under a file", "storage.state_dir"),
    ],
)
def test_a_reload_that_cannot_open_its_outputs_keeps_the_running_config(
    tmp_path: Path, tiny_models: Path, edit: str, key: str
) -> None:
    video = write_video(tmp_path / "cam.mp4")
    state = tmp_path / "state"
    cams = [{"name": "a", "source": str(video), "loop": True, "target_fps": 10}]
    cfg = write_config(tmp_path / "c.yaml", tiny_models, cams, state)
    log = tmp_path / "daemon.log"
    proc = start_daemon(cfg, log)
    try:
        assert wait_for_log(log, "camera a: streaming", 30), log.read_text()
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder\n")
        data = yaml.safe_load(cfg.read_text())
        if edit == "csv under a file":
            data["outputs"]["csv"]["path"] = f"{blocker}/events.csv"
        elif edit == "csv with other columns":
            (tmp_path / "other.csv").write_text("a;b;c\n1;2;3\n")
            data["outputs"]["csv"]["path"] = str(tmp_path / "other.csv")
        else:
            data["storage"]["state_dir"] = f"{blocker}/state"
        cfg.write_text(yaml.safe_dump(data))
        proc.send_signal(signal.SIGHUP)
        assert wait_for_log(log, "new configuration rejected, keeping the old one", 15), log.read_text()[-3000:]
        before = frames_out(state, "a")
        wait_until(lambda: frames_out(state, "a") > before + 5, 20, "the old configuration stopped running")
        assert proc.poll() is None
    finally:
        stop(proc)
    assert proc.returncode == 0
    lines = [line for line in log.read_text().splitlines() if "new configuration rejected" in line]
    assert len(lines) == 1 and key in lines[0], lines
    assert (state / "events-a.csv").exists()  # the old CSV still open (header written at start)


def test_a_corrupt_outbox_is_moved_aside_and_the_daemon_starts(tmp_path: Path, tiny_models: Path) -> None:
    video = write_video(tmp_path / "cam.mp4")
    state = tmp_path / "state"
    state.mkdir()
    (state / "outbox.sqlite").write_bytes(b"this is no SQLite database\n" * 200)
    cams = [{"name": "a", "source": str(video), "loop": True, "target_fps": 10}]
    cfg = write_config(tmp_path / "c.yaml", tiny_models, cams, state, mqtt_port=free_port())  # broker down
    log = tmp_path / "daemon.log"
    proc = start_daemon(cfg, log)
    try:
        assert wait_for_log(log, "anpr-edge running", 30), log.read_text()[-3000:]
    finally:
        stop(proc)
    assert proc.returncode == 0
    aside = list(state.glob("outbox.sqlite.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is no SQLite")
    assert "is corrupt (file is not a database): moved to outbox.sqlite.corrupt-" in log.read_text()


def test_a_silent_rtsp_camera_holds_up_no_other_camera(tmp_path: Path, tiny_models: Path, silent_server: int) -> None:
    video = write_video(tmp_path / "cam.mp4")
    state = tmp_path / "state"
    cams = [
        {"name": "silent", "source": f"rtsp://127.0.0.1:{silent_server}/cam", "stall_timeout_s": 20},
        {"name": "b", "source": str(video), "loop": True, "target_fps": 10},
    ]
    cfg = write_config(tmp_path / "c.yaml", tiny_models, cams, state)
    log = tmp_path / "daemon.log"
    proc = start_daemon(cfg, log)
    try:
        assert wait_for_log(log, "anpr-edge running", 30), log.read_text()
        t0 = time.monotonic()
        assert wait_for_log(log, "camera b: streaming", 20), log.read_text()
        took = time.monotonic() - t0
        assert took < 5, f"the file camera waited {took:.1f} s for the silent one"
    finally:
        stop(proc)


def test_an_roi_outside_the_frame_is_said_at_the_first_frame(tmp_path: Path, tiny_models: Path) -> None:
    video = write_video(tmp_path / "cam.mp4")
    state = tmp_path / "state"
    roi = [[700, 0], [900, 0], [900, 100]]  # for a 1280x720 camera; this one is 640x360
    cams = [{"name": "a", "source": str(video), "loop": True, "target_fps": 10, "roi": roi}]
    cfg = write_config(tmp_path / "c.yaml", tiny_models, cams, state)
    log = tmp_path / "daemon.log"
    proc = start_daemon(cfg, log)
    try:
        assert wait_for_log(log, "camera a: roi lies wholly outside the 640x360 frame", 30), log.read_text()
    finally:
        stop(proc)
    assert log.read_text().count("roi lies wholly outside") == 1
