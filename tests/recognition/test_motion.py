"""Idle frames: the thumbnail change, the gate's rule, and the pipeline skipping the detector only
where nothing is lost (a real clip, the real models, events compared with the gate off)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from anpr_edge.recognition.motion import THUMB_SIZE, MotionGate, change, thumbnail
from tests.conftest import MODELS, needs_models
from tests.tools.test_end_to_end import font_available


def street(seed: int = 0) -> np.ndarray:
    """A textured 1080p frame (grey gradient, random blocks), noise-free."""
    rng = np.random.default_rng(seed)
    frame = np.tile(np.linspace(40, 200, 1920, dtype=np.float32), (1080, 1))
    for _ in range(40):
        x, y = int(rng.integers(0, 1800)), int(rng.integers(0, 1000))
        frame[y : y + 80, x : x + 120] = rng.integers(0, 255)
    return np.repeat(frame[:, :, None], 3, axis=2).astype(np.uint8)


def test_thumbnail_shape_and_what_counts_as_a_change() -> None:
    base = street()
    thumb = thumbnail(base)
    assert thumb.shape == (THUMB_SIZE[1], THUMB_SIZE[0]) and thumb.dtype == np.float32
    assert change(thumb, thumbnail(base.copy())) == 0.0
    rng = np.random.default_rng(1)
    noisy = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)  # heavy sensor noise
    assert change(thumb, thumbnail(noisy)) < 8.0  # under the default threshold
    car = base.copy()
    car[500:900, 700:1300] = (60, 60, 140)  # a car body entering the lane
    assert change(thumb, thumbnail(car)) > 30.0
    assert thumbnail(base[:, :, 0]).shape == thumb.shape  # grey frames too


def test_the_gate_skips_only_unchanged_frames_with_no_track_and_rechecks() -> None:
    still, moved = street(), street()
    moved[300:700, 800:1400] = 250
    gate = MotionGate(threshold=8.0, recheck_s=1.0)
    assert not gate.idle(still, 0.0, following=False)  # the first frame is always looked at
    assert gate.idle(still, 0.1, following=False)
    assert not gate.idle(still, 0.2, following=True)  # a track is open: every frame is looked at
    assert not gate.idle(still, 0.3, following=False)  # the first frame after it too (the new reference)
    assert gate.idle(still, 1.2, following=False)  # within 1 s of the last look (0.3)
    assert not gate.idle(still, 1.4, following=False)  # a look at least every recheck_s
    assert not gate.idle(moved, 1.5, following=False)  # something changed
    assert gate.idle(moved, 1.6, following=False)  # ... and is the new reference
    assert not gate.idle(moved, 0.0, following=False)  # the stream clock went back (a file looping)
    off = MotionGate(threshold=0.0, recheck_s=1.0)
    assert not any(off.idle(still, t, following=False) for t in (0.0, 0.1, 0.2))


@needs_models
def test_idle_frames_skip_the_detector_and_lose_no_event(tmp_path: Path) -> None:
    pytest.importorskip("PIL", reason="the clip's plates are rendered with Pillow")
    from anpr_edge.inference.models import Models
    from anpr_edge.recognition.pipeline import CameraPipeline
    from anpr_edge.recognition.settings import RecognitionSettings
    from anpr_edge.sources.files import VideoSource
    from anpr_edge.training.demo_video import Car, render_video

    cars = [Car("A123BC77", 1.5, 4.5, 0.4), Car("E014CX86", 6.0, 8.5, 0.5, standing=True, colour=(30, 90, 30))]
    clip = render_video(tmp_path / "gate.mp4", cars, 9.0, fps=10, size=(1280, 720), h264=False)
    models = Models.load(MODELS / "plate_detector", MODELS / "plate_ocr", "cpu")
    results = {}
    for threshold in (8.0, 0.0):
        pipe = CameraPipeline("cam", models, RecognitionSettings(motion_threshold=threshold))
        plates = [e.plate for fr in VideoSource(clip) for e in pipe.run(fr.image, fr.t).events if e.type == "new"]
        plates += [e.plate for e in pipe.flush(9.0).events if e.type == "new"]
        results[threshold] = (plates, pipe.idle_frames, pipe.frame_index)
    (on, idle, looked), (off, idle_off, looked_off) = results[8.0], results[0.0]
    assert on == off and len(on) == 2  # the same events with and without idle frames
    if font_available():  # the plate font the OCR learnt (else a fallback font: partial reads)
        assert on == ["A123BC77", "E014CX86"]
    assert idle_off == 0 and looked_off == 90
    # Empty lane: 0-1.5 s, about 5.5-6 s after the first car's track ends; the detector still looks once a second.
    assert idle >= 15 and idle + looked == 90


@needs_models
def test_bench_reports_idle_frames(tmp_path: Path) -> None:
    pytest.importorskip("PIL", reason="the clip is rendered with Pillow")
    from anpr_edge.training.demo_video import render_video

    clip = render_video(tmp_path / "empty.mp4", [], 3.0, fps=10, size=(1280, 720), h264=False)
    cmd = [sys.executable, "-m", "anpr_edge.cli", "bench", "--input", str(clip), "--frames", "20", "--json"]
    out = subprocess.run([*cmd, "--device", "cpu", "--models", str(MODELS)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["frames"] == 20 and report["idle_frames"] >= 15  # an empty lane: a look a second
    assert report["stages_ms"]["motion"]["p50"] > 0
    from anpr_edge.inference.runtime.base import resolve_precision

    cards = {k: json.loads((MODELS / f"plate_{k}.json").read_text()) for k in ("detector", "ocr")}
    measured = {k: resolve_precision("auto", v.get("cpu_precision", "f32"), "cpu") for k, v in cards.items()}
    assert "logical CPUs" in report["cpu"] and report["precision"] == measured  # precision auto: the cards' choice
    assert report["bare_loop"]["fps"] > 0 and report["bare_loop"]["frame_ms"]["p50"] > 0
    looked, pure = report["detector_frame_ms"]["p50"], report["pure_detector_ms"]["p50"]
    assert looked > 0 and report["overhead_ratio"] == pytest.approx(looked / pure)  # over frames it ran on
    between = report["pure_detector_between_ms"]  # timed after every 10th of the 20 frames
    assert between["p50"] > 0 and report["overhead_ratio_between"] == pytest.approx(looked / between["p50"])
    assert report["rss_peak_mib"] > 0 and report["rss_peak_from"] == "warm-up"  # Linux: VmHWM restarted


@needs_models
def test_bench_on_a_file_that_is_not_a_video_says_so_in_one_line(tmp_path: Path) -> None:
    """The clip is decoded on a thread of its own: its error still reaches the user as one line."""
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"not a video" * 100)
    cmd = [sys.executable, "-m", "anpr_edge.cli", "bench", "--input", str(bad), "--frames", "5", "--device", "cpu"]
    out = subprocess.run([*cmd, "--models", str(MODELS)], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "cannot open as a video" in out.stderr.strip().splitlines()[-1]


def test_roi_view_is_the_polygons_box_clipped_to_the_frame() -> None:
    from anpr_edge.recognition.pipeline import roi_view

    frame = street()
    poly = np.array([[100, 500], [900, 480], [950, 1200], [50, 1000]], np.float32).reshape(-1, 1, 2)
    assert roi_view(frame, poly).shape == (600, 901, 3)  # y 480-1080 (clipped), x 50-950
    assert roi_view(frame, None) is frame
    tiny = np.array([[10, 10], [20, 10], [20, 15]], np.float32).reshape(-1, 1, 2)
    assert roi_view(frame, tiny) is frame  # too small for 32x18 cells: the whole frame


@needs_models
def test_motion_outside_the_roi_does_not_wake_the_detector() -> None:
    from anpr_edge.inference.models import Models
    from anpr_edge.recognition.pipeline import CameraPipeline
    from anpr_edge.recognition.settings import RecognitionSettings

    models = Models.load(MODELS / "plate_detector", MODELS / "plate_ocr", "cpu")
    left_half = [(0.0, 0.0), (960.0, 0.0), (960.0, 1080.0), (0.0, 1080.0)]
    pipe = CameraPipeline("cam", models, RecognitionSettings(), roi=left_half)
    still = street()
    right, left = still.copy(), still.copy()
    right[300:700, 1300:1800] = 250
    left[300:700, 200:700] = 250
    pipe.run(still, 0.0)  # the first frame is looked at
    pipe.run(right, 0.1)
    assert pipe.idle_frames == 1 and pipe.frame_index == 1  # a change outside the ROI: idle
    pipe.run(left, 0.2)
    assert pipe.idle_frames == 1 and pipe.frame_index == 2  # inside it: the detector looks
