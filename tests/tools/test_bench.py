"""``anpr-edge bench`` says which CPU its numbers come from (the end-to-end bench run is in test_motion)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from anpr_edge.tools.bench import cpu_description
from tests.conftest import MODELS, needs_models
from tests.daemon_helpers import write_video

ZEN4 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu sse avx2 avx512f avx512_bf16 avx512_vnni sha_ni

processor\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse avx2 avx512f avx512_bf16 avx512_vnni sha_ni
"""


def test_cpu_description_names_the_model_cpus_and_the_instruction_sets_that_matter() -> None:
    assert cpu_description(ZEN4) == "AMD EPYC, 2 logical CPUs, avx2 avx512f avx512_vnni avx512_bf16"
    old = "processor : 0\nmodel name : Old Atom\nflags : fpu sse sse2\n"
    assert cpu_description(old) == "Old Atom, 1 logical CPUs, none of avx2/avx512f"
    assert cpu_description("") == "unknown CPU, ? logical CPUs, none of avx2/avx512f"


@needs_models
def test_bench_serves_several_cameras_under_each_performance_hint(tmp_path: Path) -> None:
    """``bench --cameras N``: N cameras played at their frame rate through the daemon's capture and pipeline,
    once per hint, in one run (real subprocess, shipped models, a video written here)."""
    clip = write_video(tmp_path / "cam.mp4", frames=60, size=(640, 360), fps=25)
    cmd = [sys.executable, "-m", "anpr_edge.cli", "bench", "--input", str(clip), "--cameras", "2", "--seconds", "2"]
    options = ["--json", "--device", "cpu", "--models", str(MODELS)]
    r = subprocess.run([*cmd, *options], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["cameras"] == 2 and set(out["hints"]) == {"latency", "throughput"}
    for v in out["hints"].values():
        assert 40 <= v["fps_offered"] <= 60  # two 25 fps cameras
        assert 0 < v["camera_fps_min"] <= v["camera_fps_max"] and v["fps"] <= v["fps_offered"] + 1
    assert out["throughput_over_latency"] == out["hints"]["throughput"]["fps"] / out["hints"]["latency"]["fps"]
    bad = subprocess.run([*cmd[:-4], "--cameras", "0"], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "--cameras 0: must be 1-64" in bad.stderr and "Traceback" not in bad.stderr


@needs_models
def test_bench_cameras_reports_how_long_a_plate_waits_for_its_event(tmp_path: Path) -> None:
    """Each new event's wait, from the capture of the first frame its plate was found in to the event leaving
    the pipeline (a clip of cars passing, looped; the numbers are reported, not judged here)."""
    pytest.importorskip("PIL", reason="the clip is rendered with Pillow")
    from anpr_edge.training.demo_video import Car, render_video

    cars = [Car("A123BC77", 0.1, 1.4, 0.4), Car("K777KK777", 1.5, 2.9, 0.6)]
    clip = render_video(tmp_path / "cars.mp4", cars, 3.0, fps=25, size=(1280, 720), h264=False)
    cmd = [sys.executable, "-m", "anpr_edge.cli", "bench", "--input", str(clip), "--cameras", "1", "--seconds", "4"]
    r = subprocess.run([*cmd, "--json", "--device", "cpu", "--models", str(MODELS)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for v in json.loads(r.stdout)["hints"].values():
        assert v["events"] >= 1 and 0 < v["latency_ms"]["p50"] <= v["latency_ms"]["p95"]


@needs_models
def test_bench_costs_puts_precisions_and_model_folders_side_by_side(tmp_path: Path) -> None:
    clip = write_video(tmp_path / "cam.mp4", frames=5, size=(320, 180), fps=25)
    cmd = [sys.executable, "-m", "anpr_edge.cli", "bench", "--input", str(clip), "--device", "cpu", "--models"]
    r = subprocess.run([*cmd, str(MODELS), "--costs", f"f32,{MODELS}", "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    costs = json.loads(r.stdout)
    assert list(costs) == ["f32", str(MODELS)]
    assert all(v[k] > 0 for v in costs.values() for k in ("detector", "reader_1", "reader_4"))
    for args, says in (
        (["--costs", "fp8"], "--costs fp8: neither a precision"),
        (["--costs", ","], "--costs ',': name precisions"),
        (["--costs", "f32", "--cameras", "2"], "--costs and --cameras are two different measurements"),
    ):
        bad = subprocess.run([*cmd, str(MODELS), *args], capture_output=True, text=True)
        assert bad.returncode != 0 and says in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
