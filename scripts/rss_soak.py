#!/usr/bin/env python3
"""Memory soak: run the real daemon on a looping video and compare RSS after 1 minute and at the end.

    .venv/bin/python scripts/rss_soak.py --video clip.mp4 --minutes 10 [--fps 25] [--models models]

Prints RSS samples (MiB) once a minute and the ratio end / 1-minute; exit 1 if it grew by more than 10 %.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--video", type=Path, required=True)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--fps", type=float, default=25.0, help="camera target_fps")
    p.add_argument("--models", type=Path, default=Path("models"))
    a = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="anpr-soak-"))
    cfg = work / "soak.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "device_id": "soak",
                "models": {"dir": str(a.models.resolve()), "device": "cpu"},
                "cameras": [{"name": "soak", "source": str(a.video.resolve()), "loop": True, "target_fps": a.fps}],
                "outputs": {"csv": {"path": str(work / "events.csv")}},
                "storage": {"state_dir": str(work / "state")},
                "logging": {"status_interval_s": 60},
            }
        )
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "anpr_edge.cli", "run", "--config", str(cfg)],
        stderr=(work / "daemon.log").open("wb"),
        env={**os.environ},
    )
    samples: list[tuple[float, float]] = []
    start = time.monotonic()
    try:
        while time.monotonic() - start < a.minutes * 60:
            time.sleep(5)
            if proc.poll() is not None:
                print((work / "daemon.log").read_text()[-2000:])
                return 2
            t = (time.monotonic() - start) / 60
            if not samples or t - samples[-1][0] >= 1.0:
                samples.append((t, rss_mib(proc.pid)))
                print(f"{t:5.1f} min  RSS {samples[-1][1]:7.1f} MiB", flush=True)
        samples.append(((time.monotonic() - start) / 60, rss_mib(proc.pid)))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    at1 = next(r for t, r in samples if t >= 1.0)
    ratio = samples[-1][1] / at1
    status = (work / "state" / "status.json").read_text() if (work / "state" / "status.json").exists() else ""
    print(f"RSS end / RSS at 1 min = {samples[-1][1]:.1f} / {at1:.1f} = {ratio:.3f}")
    print(f"final status: {status.strip()[:400]}")
    return 0 if ratio <= 1.10 else 1


if __name__ == "__main__":
    sys.exit(main())
