"""``anpr-edge bench``: per-stage latency of the pipeline on a video, against pure detector inference.

All numbers come from one run, so the ratios (pipeline / detector) are meaningful on a noisy box.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from anpr_edge.inference.openvino_backend import CPU_INFERENCE_PRECISION
from anpr_edge.pipeline import CameraPipeline, Models, RecognitionSettings, StageTimes
from anpr_edge.sources import VideoSource

STAGES = ("decode_video", "motion", "preprocess", "detector", "decode", "verify", "ocr", "tracking")


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "mean": 0.0}
    a = np.asarray(values)
    return {"p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)), "mean": float(a.mean())}


def rss_mib() -> float:
    """Current resident set size (Linux /proc), MiB."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Instruction sets that change how fast (and, for bf16, in what precision) OpenVINO runs the models.
CPU_FEATURES = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def cpu_description(cpuinfo: str) -> str:
    """The CPU a benchmark ran on, from ``/proc/cpuinfo`` text: model, logical CPUs and the instruction sets
    of :data:`CPU_FEATURES` it has. Benchmarks from different machines are only comparable with this."""
    model, flags, count = "unknown CPU", set[str](), 0
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "processor":
            count += 1
        elif key == "model name" and model == "unknown CPU":
            model = value.strip()
        elif key == "flags" and not flags:
            flags = set(value.split())
    have = " ".join(f for f in CPU_FEATURES if f in flags) or "none of " + "/".join(CPU_FEATURES[:2])
    return f"{model}, {count or '?'} logical CPUs, {have}"


def read_cpu_description() -> str:
    try:
        return cpu_description(Path("/proc/cpuinfo").read_text())
    except OSError:
        return "unknown CPU (no /proc/cpuinfo)"


def run_bench(
    models: Models, settings: RecognitionSettings, video: Path, max_frames: int, warmup: int = 5
) -> dict[str, Any]:
    times = StageTimes()
    frame_ms: list[float] = []  # decode + the whole pipeline, per measured frame
    pipe = CameraPipeline("bench", models, settings, timings=None)
    source = VideoSource(video)
    frames = 0
    events = 0
    idle_start = 0
    wall_start = 0.0
    it = iter(source)
    shape: tuple[int, ...] = ()
    while frames < max_frames + warmup:
        t0 = time.perf_counter()
        try:
            fr = next(it)
        except StopIteration:
            break
        dt = (time.perf_counter() - t0) * 1000
        if frames == warmup:
            pipe.timings = times
            wall_start = time.perf_counter()
            idle_start = pipe.idle_frames
        if frames >= warmup:
            times.add("decode_video", dt)
        t1 = time.perf_counter()
        events += len(pipe.process(fr.image, fr.t))
        if frames >= warmup:
            frame_ms.append(dt + (time.perf_counter() - t1) * 1000)
        shape = fr.image.shape
        frames += 1
    wall = time.perf_counter() - wall_start if wall_start else 0.0
    measured = max(frames - warmup, 0)
    # Pure detector inference on the same input shape, same process, right after.
    x = np.zeros((1, 3, models.detector.spec.input_height, models.detector.spec.input_width), np.float32)
    for _ in range(warmup):
        models.detector.backend.infer(x)
    pure: list[float] = []
    for _ in range(max(measured, 20)):
        t0 = time.perf_counter()
        models.detector.backend.infer(x)
        pure.append((time.perf_counter() - t0) * 1000)
    stages = {s: percentiles(times.samples.get(s, [])) for s in STAGES}
    pure_p50 = percentiles(pure)["p50"]
    e2e = percentiles(frame_ms)
    return {
        "video": str(video),
        "frame_size": [int(shape[1]), int(shape[0])] if shape else [],
        "frames": measured,
        "idle_frames": pipe.idle_frames - idle_start,
        "events": events,
        "detector_input": [models.detector.spec.input_width, models.detector.spec.input_height],
        "device": {"detector": models.detector.backend.device, "ocr": models.ocr.backend.device},
        "cpu": read_cpu_description(),
        "cpu_inference_precision": CPU_INFERENCE_PRECISION,
        "stages_ms": stages,
        "frame_ms": e2e,
        "pure_detector_ms": percentiles(pure),
        "end_to_end_fps": measured / wall if wall else 0.0,
        "overhead_ratio": e2e["p50"] / pure_p50 if pure_p50 else 0.0,
        "rss_mib": round(rss_mib(), 1),
    }


def format_table(r: dict[str, Any]) -> str:
    lines = [
        f"video {r['video']}  {r['frame_size'][0]}x{r['frame_size'][1]}  frames {r['frames']}"
        f" (idle, no detector: {r['idle_frames']})  events {r['events']}",
        f"detector input {r['detector_input'][0]}x{r['detector_input'][1]}  devices {r['device']}",
        f"cpu {r['cpu']}  (OpenVINO on the CPU runs in {r['cpu_inference_precision']})",
        f"{'stage':<14}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}",
    ]
    rows = [*r["stages_ms"].items(), ("frame total", r["frame_ms"]), ("pure detector", r["pure_detector_ms"])]
    for name, v in rows:
        lines.append(f"{name:<14}{v['p50']:>9.2f}{v['p95']:>9.2f}{v['mean']:>9.2f}")
    lines.append(
        f"end-to-end {r['end_to_end_fps']:.1f} fps   overhead (frame p50 / pure detector p50) "
        f"{r['overhead_ratio']:.2f}x   RSS {r['rss_mib']} MiB"
    )
    return "\n".join(lines)


def to_json(r: dict[str, Any]) -> str:
    return json.dumps(r, indent=2)
