"""#21.6: a video's frame times are its container's timestamps, not index / fps. A variable-frame-rate
file is written here with ffmpeg (frames dropped from a constant-rate clip, timestamps kept, as a
camera recorder does when it skips frames)."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from anpr_edge.sources.files import VideoSource
from tests.conftest import ROOT, needs_models
from tests.daemon_helpers import write_video

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")


def drop_frames(src: Path, dst: Path, first: int, last: int) -> Path:
    """``src`` without frames ``first``..``last``; the others keep their timestamps (variable frame rate)."""
    cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(src), "-vf", f"select='not(between(n\\,{first}\\,{last}))'"]
    cmd += ["-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast", str(dst)]
    subprocess.run(cmd, check=True)
    return dst


def container_times(path: Path) -> list[float]:
    cmd = ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=pts_time", "-of", "csv=p=0"]
    out = subprocess.run([*cmd, str(path)], check=True, capture_output=True, text=True).stdout
    return [float(line.strip().strip(",")) for line in out.splitlines() if line.strip()]


@needs_ffmpeg
def test_frame_times_are_the_container_timestamps(tmp_path: Path) -> None:
    cfr = write_video(tmp_path / "cfr.mp4", frames=100, fps=25)
    vfr = drop_frames(cfr, tmp_path / "vfr.mp4", 20, 59)  # 1.6 s missing after 0.76 s
    expected = container_times(vfr)
    got = [f.t for f in VideoSource(vfr)]
    assert len(got) == len(expected) == 60
    assert max(abs(a - b) for a, b in zip(got, expected, strict=True)) < 0.001
    assert abs(got[20] - 2.4) < 0.001  # index / fps would say 20 / 25 = 0.8 (or 20 / 15, as OpenCV's average rate)


@needs_ffmpeg
def test_an_explicit_fps_still_overrides(tmp_path: Path) -> None:
    vfr = drop_frames(write_video(tmp_path / "cfr.mp4", frames=50), tmp_path / "vfr.mp4", 10, 19)
    assert [f.t for f in VideoSource(vfr, fps=10.0)][:3] == [0.0, 0.1, 0.2]


def rows(path: Path) -> dict[str, float]:
    out = {}
    for t, plate in list(csv.reader(path.open(), delimiter=";"))[1:]:
        m, s = t.split(":")
        out[plate] = 60 * int(m) + float(s)
    return out


@pytest.mark.slow
@needs_models
@needs_ffmpeg
def test_process_of_a_vfr_clip_gives_the_true_times(tmp_path: Path) -> None:
    """The demo clip with 2 s dropped (6.0-8.0 s): the cars keep the times they have in the full clip."""
    demo = ROOT / "config" / "demo" / "demo.mp4"
    vfr = drop_frames(demo, tmp_path / "vfr.mp4", 150, 199)
    times = {}
    for name, clip in (("cfr", demo), ("vfr", vfr)):
        out = tmp_path / f"{name}.csv"
        cmd = [sys.executable, "-m", "anpr_edge.cli", "process", str(clip), "--out", str(out), "--device", "cpu"]
        r = subprocess.run([*cmd, "--quiet"], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        times[name] = rows(out)
    unaffected = [p for p, t in times["cfr"].items() if not 5.5 <= t <= 8.0]
    assert len(unaffected) >= 2, times
    for plate in unaffected:
        assert abs(times["vfr"][plate] - times["cfr"][plate]) <= 0.05, (plate, times)
