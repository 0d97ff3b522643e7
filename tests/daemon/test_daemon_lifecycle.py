"""The daemon as a real subprocess with file cameras: READY/WATCHDOG/STATUS/RELOADING/STOPPING on a
NOTIFY_SOCKET bound here, SIGHUP reloads (a bad config is refused), SIGTERM exits 0 within 5 s.

Uses the tiny test models (lifecycle does not depend on what they read)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.daemon_helpers import NotifySocket, start_daemon, wait_for_log, write_config, write_video


def setup(tmp_path: Path, tiny_models: Path) -> tuple[Path, Path, Path]:
    video = write_video(tmp_path / "cam.mp4")
    state = tmp_path / "state"
    cams = [
        {"name": "a", "source": str(video), "loop": True, "target_fps": 10},
        {"name": "b", "source": str(video), "loop": True, "target_fps": 5},
    ]
    return write_config(tmp_path / "c.yaml", tiny_models, cams, state), state, tmp_path / "daemon.log"


def test_notify_protocol_reload_and_clean_stop(tmp_path: Path, tiny_models: Path) -> None:
    cfg, state, log = setup(tmp_path, tiny_models)
    notify = NotifySocket(tmp_path / "notify.sock")
    proc = start_daemon(cfg, log, {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "2000000"})
    try:
        assert notify.wait_for("READY=1", 30), log.read_text()
        assert notify.wait_for("WATCHDOG=1", 15)
        assert notify.wait_for("STATUS=a: streaming", 10)
        assert "performance throughput" in log.read_text()  # two cameras: models.performance auto
        status_msgs = [m for m in notify.messages if "STATUS=" in m and "fps" in m]  # may ride with READY=1
        assert status_msgs and any(ch.isdigit() for ch in status_msgs[-1])
        # SIGHUP with a changed threshold: RELOADING then READY, cameras keep running.
        data = yaml.safe_load(cfg.read_text())
        data["cameras"][1]["recognition"] = {"conf": 0.9}
        cfg.write_text(yaml.safe_dump(data))
        proc.send_signal(signal.SIGHUP)
        assert notify.wait_for("RELOADING=1", 10)
        assert wait_for_log(log, "new recognition settings applied", 10), log.read_text()
        # SIGHUP with a broken config: refused, old one kept, still running.
        data["cameras"][1]["target_fps"] = -5
        cfg.write_text(yaml.safe_dump(data))
        proc.send_signal(signal.SIGHUP)
        assert wait_for_log(log, "new configuration rejected, keeping the old one", 10)
        assert "cameras[1].target_fps" in log.read_text()
        assert proc.poll() is None
        status = json.loads((state / "status.json").read_text())
        assert status["cameras"]["a"]["frames_in"] > 0 and status["cameras"]["b"]["state"] == "streaming"
        assert 0 <= status["cameras"]["a"]["idle"] <= status["cameras"]["a"]["frames_out"]  # frames with no detector
        # `anpr-edge status` reads the same numbers (given a valid config again).
        data["cameras"][1]["target_fps"] = 5
        cfg.write_text(yaml.safe_dump(data))
        r = subprocess.run(
            [sys.executable, "-m", "anpr_edge.cli", "status", "--config", str(cfg)], capture_output=True, text=True
        )
        assert r.returncode == 0 and "streaming" in r.stdout and " idle " in r.stdout, r.stderr
        assert "performance throughput" in r.stdout.splitlines()[0]
        assert json.loads((state / "status.json").read_text())["performance"] == "throughput"
        # One camera left: auto turns to the latency hint, so the models are compiled again for it.
        data["cameras"][1]["enabled"] = False
        cfg.write_text(yaml.safe_dump(data))
        proc.send_signal(signal.SIGHUP)
        assert wait_for_log(log, "reload: models/outputs/storage changed", 10), log.read_text()
        assert wait_for_log(log, "in f32, latency)", 10), log.read_text()
        deadline = time.monotonic() + 10
        while json.loads((state / "status.json").read_text()).get("performance") != "latency":
            assert time.monotonic() < deadline, (state / "status.json").read_text()
            time.sleep(0.2)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert time.monotonic() - t0 < 5
        assert notify.wait_for("STOPPING=1", 2)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_watchdog_pings_stop_when_a_stage_hangs(tmp_path: Path, tiny_models: Path) -> None:
    """No sleep decides the outcome (#21.15): the daemon says in its log when it stops pinging; a marker
    sent through the notify socket after that line orders every earlier ping before it; then no ping may
    follow in three ping intervals."""
    cfg, _, log = setup(tmp_path, tiny_models)
    notify = NotifySocket(tmp_path / "notify.sock")
    proc = start_daemon(
        cfg, log, {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "2000000", "ANPR_EDGE_FAULT": "hang-after:4"}
    )
    try:
        assert notify.wait_for("READY=1", 30)
        assert notify.wait_for("WATCHDOG=1", 15)
        assert wait_for_log(log, "watchdog pings stop: camera", 60), log.read_text()[-3000:]
        assert "pipeline made no progress" in log.read_text()
        later = notify.drain(3)  # one ping a second while healthy
        assert not any("WATCHDOG=1" in m for m in later), later
        assert any("STATUS=" in m for m in later)  # the main loop still runs: only the pings stopped
    finally:
        proc.kill()
        notify.close()


def test_missing_model_is_one_line_error_at_start(tmp_path: Path) -> None:
    cfg, _, _ = setup(tmp_path, tmp_path / "no-models")
    r = subprocess.run(
        [sys.executable, "-m", "anpr_edge.cli", "run", "--config", str(cfg)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2
    assert "plate_detector.json: model metadata not found" in r.stderr and "Traceback" not in r.stderr
