"""Run the real daemon as a subprocess; a NOTIFY_SOCKET the test binds; small videos written here."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]


def write_video(path: Path, frames: int = 50, size: tuple[int, int] = (640, 360), fps: int = 25) -> Path:
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    for i in range(frames):
        img = np.full((h, w, 3), 40, np.uint8)
        cv2.rectangle(img, (10 + 4 * i, 100), (110 + 4 * i, 130), (255, 255, 255), -1)
        writer.write(img)
    writer.release()
    return path


def write_config(
    path: Path,
    models: Path,
    cameras: list[dict[str, Any]],
    state: Path,
    mqtt_port: int | None = None,
    recognition: dict[str, Any] | None = None,
    snapshots: dict[str, Any] | None = None,
    http: dict[str, Any] | bool | None = None,
) -> Path:
    """A daemon config (one CSV per camera) written with yaml, so tests edit dicts, not text. HTTP listens on
    a free loopback port by default (tests run side by side; :func:`http_address` reads it from the log)."""
    outputs: dict[str, Any] = {"csv": {"path": f"{state}/events-{{camera}}.csv", "columns": ["camera"]}}
    if mqtt_port:
        outputs["mqtt"] = {"enabled": True, "host": "127.0.0.1", "port": mqtt_port, "reconnect_max_s": 2}
    data = {
        "device_id": "test",
        "models": {"dir": str(models), "device": "cpu"},
        "cameras": cameras,
        "outputs": outputs,
        "storage": {"state_dir": str(state)},
        "logging": {"status_interval_s": 1},
        "recognition": recognition or {},
        "snapshots": snapshots or {"enabled": False},
        "http": {"listen": "127.0.0.1:0"} if http is None else http,
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


class NotifySocket:
    """A datagram socket in the role of systemd's notify socket. A thread reads it all the time, as systemd
    does: a queue left unread fills up (``net.unix.max_dgram_qlen``, 10 here) and a daemon whose notify
    call blocks would stall. Tests wait on what arrived (a condition), never on a sleep."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.messages: list[str] = []
        self.times: list[float] = []
        self._cond = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="notify-socket", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._closed:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._cond:
                self.messages.append(data.decode())
                self.times.append(time.monotonic())
                self._cond.notify_all()

    def wait_for(self, needle: str, timeout: float, start: int = 0) -> bool:
        """True once a message from index ``start`` on contains ``needle`` (False after ``timeout``)."""
        with self._cond:
            return self._cond.wait_for(lambda: any(needle in m for m in self.messages[start:]), timeout)

    def mark(self) -> int:
        """Put a marker through the socket and wait for it: every message the daemon sent before this call
        is before the returned index (datagrams on a Unix socket keep their order)."""
        token = f"TEST_MARK={time.monotonic_ns()}"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as out:
            out.sendto(token.encode(), str(self.path))
        assert self.wait_for(token, 10)
        with self._cond:
            return self.messages.index(token) + 1

    def discard(self) -> None:
        """Forget what arrived so far (it stays in ``messages``; later waits start after it)."""
        self.mark()

    def drain(self, seconds: float) -> list[str]:
        """What arrives in the next ``seconds`` (a bounded observation window, not a synchronisation)."""
        start = self.mark()
        deadline = time.monotonic() + seconds
        with self._cond:
            self._cond.wait_for(lambda: time.monotonic() >= deadline, seconds)
            return [m for m in self.messages[start:] if not m.startswith("TEST_MARK=")]

    def close(self) -> None:
        self._closed = True
        self.sock.close()


def start_daemon(config: Path, log: Path, env_extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env_extra or {})}
    env.pop("NOTIFY_SOCKET", None) if not env_extra or "NOTIFY_SOCKET" not in env_extra else None
    return subprocess.Popen(
        [sys.executable, "-m", "anpr_edge.cli", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        env=env,
        cwd=ROOT,
    )


def wait_for_log(log: Path, needle: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in log.read_text(errors="replace"):
            return True
        time.sleep(0.1)
    return False


def http_address(log: Path, timeout: float = 30.0) -> str:
    """``host:port`` of the daemon's /healthz and /metrics, from its start-up log."""
    assert wait_for_log(log, "http: /healthz and /metrics on http://", timeout), log.read_text()
    text = log.read_text(errors="replace")
    return text.split("http: /healthz and /metrics on http://", 1)[1].split()[0]
