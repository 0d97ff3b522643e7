"""The real daemon serves /healthz and /metrics on loopback: 200 while its cameras deliver, 503 naming the
camera within that camera's stall timeout once it fails; the port closes at SIGTERM.

Uses the tiny test models (health does not depend on what they read)."""

from __future__ import annotations

import json
import signal
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from tests.daemon_helpers import http_address, start_daemon, write_config, write_video

STALL_S = 2.0


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_for_health(url: str, code: int, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        got, body = get(url + "/healthz")
        if got == code or time.monotonic() > deadline:
            assert got == code, body
            return dict(json.loads(body))
        time.sleep(0.1)


def test_healthz_metrics_and_a_failing_camera(tmp_path: Path, tiny_models: Path) -> None:
    video = write_video(tmp_path / "a.mp4")
    images = tmp_path / "b"
    images.mkdir()
    for i in range(5):
        cv2.imwrite(str(images / f"{i}.jpg"), np.full((360, 640, 3), 40 + i, np.uint8))
    cams = [
        {"name": "a", "source": str(video), "loop": True, "target_fps": 10},
        {"name": "b", "source": str(images), "loop": True, "target_fps": 10, "stall_timeout_s": STALL_S},
    ]
    cfg = write_config(tmp_path / "c.yaml", tiny_models, cams, tmp_path / "state")
    log = tmp_path / "daemon.log"
    proc = start_daemon(cfg, log)
    try:
        url = "http://" + http_address(log)
        ok = wait_for_health(url, 200, 30)
        assert ok["status"] == "ok" and ok["cameras"]["a"]["up"] and ok["cameras"]["b"]["up"]
        code, body = get(url + "/metrics")
        names = {f.name for f in text_string_to_metric_families(body.decode())}
        assert (
            code == 200
            and {"anpr_frames_in", "anpr_camera_up", "anpr_stage_duration_seconds", "anpr_event_latency_seconds"}
            <= names
        )
        for p in images.iterdir():  # camera b's pictures become unreadable: no frame from now on
            p.write_bytes(b"not a jpeg")
        t0 = time.monotonic()
        bad = wait_for_health(url, 503, STALL_S + 10)
        took = time.monotonic() - t0
        assert took <= STALL_S + 1.0, took  # at its stall timeout (2.02 s measured), not later
        assert bad["status"] == "unhealthy" and bad["cameras"]["a"]["up"] and not bad["cameras"]["b"]["up"]
        assert bad["problems"] and all(p.startswith("camera b: ") for p in bad["problems"]), bad
        assert "http 127.0.0.1:" in log.read_text() and "systemd notify off" in log.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        host, port = url.removeprefix("http://").rsplit(":", 1)
        with socket.socket() as s:
            assert s.connect_ex((host, int(port))) != 0  # closed at stop
    finally:
        if proc.poll() is None:
            proc.kill()
