"""Run the real daemon as a subprocess; a NOTIFY_SOCKET the test binds; small videos written here."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

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


def write_config(path: Path, models: Path, cameras: list[dict[str, object]], state: Path, extra: str = "") -> Path:
    cams = "\n".join("  - " + "\n    ".join(f"{k}: {v}" for k, v in cam.items()) for cam in cameras)
    path.write_text(
        f"device_id: test\nmodels: {{dir: {models}, device: cpu}}\ncameras:\n{cams}\n"
        f"outputs:\n  csv:\n    path: '{state}/events-{{camera}}.csv'\n    columns: [camera]\n"
        f"storage: {{state_dir: {state}}}\nlogging: {{status_interval_s: 1}}\n{extra}"
    )
    return path


class NotifySocket:
    """A datagram socket in the role of systemd's notify socket."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.messages: list[str] = []
        self.times: list[float] = []

    def wait_for(self, needle: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(needle in m for m in self.messages):
                return True
            try:
                self.messages.append(self.sock.recv(4096).decode())
                self.times.append(time.monotonic())
            except TimeoutError:
                pass
        return any(needle in m for m in self.messages)

    def discard(self) -> None:
        """Throw away what queued up in the socket so far."""
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recv(4096)
        except BlockingIOError:
            pass
        finally:
            self.sock.settimeout(0.2)

    def drain(self, seconds: float) -> list[str]:
        start = len(self.messages)
        self.wait_for("\0never\0", seconds)
        return self.messages[start:]


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
