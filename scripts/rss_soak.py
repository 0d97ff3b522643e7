#!/usr/bin/env python3
"""Memory soak: compare a process's RSS after 1 minute with its RSS at the end.

    # the daemon on a looping video file
    .venv/bin/python scripts/rss_soak.py --video clip.mp4 --minutes 60 [--fps 25] [--models models]
    # the daemon on an RTSP camera (GStreamer's server, tests/rtsp_server.py) killed and restarted every minute
    .venv/bin/python scripts/rss_soak.py --video clip.mp4 --minutes 60 --disconnect-every 60
    # anpr-edge process on a long clip (the clip looped N times with ffmpeg first: --loops N)
    .venv/bin/python scripts/rss_soak.py --video clip.mp4 --process --loops 240

Prints RSS samples (MiB) once a minute and the ratio end / 1-minute; exit 1 if it grew by more than 10 %.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RtspCamera:
    """The video served over RTSP (H.264 re-encode first), restarted on demand: a camera that drops out."""

    def __init__(self, video: Path, work: Path) -> None:
        self.h264 = work / "camera.mp4"
        cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(video), "-an", "-c:v", "libx264", "-preset", "veryfast"]
        subprocess.run([*cmd, "-pix_fmt", "yuv420p", str(self.h264)], check=True)
        self.port = free_port()
        self.url = f"rtsp://127.0.0.1:{self.port}/cam"
        self.proc: subprocess.Popen[str] | None = None
        self.restarts = 0

    def start(self) -> None:
        cmd = ["/usr/bin/python3", str(ROOT / "tests" / "rtsp_server.py"), str(self.port), str(self.h264)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def drop(self, down_s: float = 3.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()
        self.restarts += 1

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def daemon_config(a: argparse.Namespace, work: Path, source: str) -> Path:
    cfg = work / "soak.yaml"
    camera = {"name": "soak", "source": source, "loop": True, "target_fps": a.fps}
    if source.startswith("rtsp://"):
        camera.update({"loop": False, "stall_timeout_s": 3, "reconnect_max_s": 4})
    data = {
        "device_id": "soak",
        "models": {"dir": str(a.models.resolve()), "device": "cpu"},
        "cameras": [camera],
        "outputs": {"csv": {"path": str(work / "events.csv")}},
        "storage": {"state_dir": str(work / "state")},
        "logging": {"status_interval_s": 60},
    }
    cfg.write_text(yaml.safe_dump(data))
    return cfg


def sample(proc: subprocess.Popen[bytes], minutes: float | None, tick: object = None) -> list[tuple[float, float]]:
    """RSS once a minute until ``minutes`` pass (None: until the process ends); ``tick()`` every 5 s."""
    samples: list[tuple[float, float]] = []
    start = time.monotonic()
    while (minutes is None or time.monotonic() - start < minutes * 60) and proc.poll() is None:
        time.sleep(5)
        if callable(tick):
            tick()
        t = (time.monotonic() - start) / 60
        rss = rss_mib(proc.pid)
        if rss and (not samples or t - samples[-1][0] >= 1.0):
            samples.append((t, rss))
            print(f"{t:5.1f} min  RSS {rss:7.1f} MiB", flush=True)
    return samples


def run_daemon(a: argparse.Namespace, work: Path) -> list[tuple[float, float]]:
    camera = RtspCamera(a.video, work) if a.disconnect_every else None
    if camera is not None:
        camera.start()
    cfg = daemon_config(a, work, camera.url if camera else str(a.video.resolve()))
    cmd = [sys.executable, "-m", "anpr_edge.cli", "run", "--config", str(cfg)]
    proc = subprocess.Popen(cmd, stderr=(work / "daemon.log").open("wb"), env={**os.environ}, cwd=ROOT)
    last_drop = [time.monotonic()]

    def tick() -> None:
        if camera is not None and time.monotonic() - last_drop[0] >= a.disconnect_every:
            camera.drop()
            last_drop[0] = time.monotonic()

    try:
        samples = sample(proc, a.minutes, tick)
        samples.append(((samples[-1][0] if samples else 0.0) + 0.01, rss_mib(proc.pid)))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        if camera is not None:
            camera.stop()
            print(f"camera dropped {camera.restarts} time(s)")
    status = work / "state" / "status.json"
    print(f"final status: {status.read_text().strip()[:400] if status.exists() else ''}")
    return samples


def run_process(a: argparse.Namespace, work: Path) -> list[tuple[float, float]]:
    clip = work / "long.mp4"
    cmd = ["ffmpeg", "-v", "error", "-y", "-stream_loop", str(a.loops - 1), "-i", str(a.video), "-c", "copy"]
    subprocess.run([*cmd, str(clip)], check=True)
    cmd = [sys.executable, "-m", "anpr_edge.cli", "process", str(clip), "--out", str(work / "events.csv")]
    cmd += ["--models", str(a.models.resolve()), "--device", "cpu", "--quiet"]
    proc = subprocess.Popen(cmd, stderr=(work / "process.log").open("wb"), cwd=ROOT)
    peak: list[float] = [0.0]

    def tick() -> None:
        peak[0] = max(peak[0], rss_mib(proc.pid))

    samples = sample(proc, None, tick)
    print(f"process exit {proc.wait()}, {len((work / 'events.csv').read_text().splitlines()) - 1} rows")
    if samples:
        samples.append((samples[-1][0] + 0.01, samples[-1][1]))  # the last sample taken while it ran
    return samples


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--video", type=Path, required=True)
    p.add_argument("--minutes", type=float, default=10.0, help="daemon run length")
    p.add_argument("--fps", type=float, default=25.0, help="camera target_fps")
    p.add_argument("--models", type=Path, default=ROOT / "models")
    p.add_argument("--disconnect-every", type=float, default=0.0, help="serve over RTSP, restart it every N s")
    p.add_argument("--process", action="store_true", help="soak anpr-edge process instead of the daemon")
    p.add_argument("--loops", type=int, default=240, help="with --process: the video played this many times")
    a = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="anpr-soak-"))
    samples = run_process(a, work) if a.process else run_daemon(a, work)
    at1 = next((r for t, r in samples if t >= 1.0), None)
    if at1 is None:
        print("ran less than a minute: no ratio")
        return 2
    ratio = samples[-1][1] / at1
    print(f"RSS end / RSS at 1 min = {samples[-1][1]:.1f} / {at1:.1f} = {ratio:.3f} (work files in {work})")
    return 0 if ratio <= 1.10 else 1


if __name__ == "__main__":
    sys.exit(main())
