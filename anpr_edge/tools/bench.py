"""``anpr-edge bench``: per-stage latency of the pipeline on a video, against pure detector inference;
with ``--cameras N``, the frames per second a box serves to N cameras under each OpenVINO performance hint.

All numbers come from one run, so the ratios (pipeline / detector, throughput / latency) are meaningful
on a noisy box.
"""

from __future__ import annotations

import contextlib
import json
import queue
import resource
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from anpr_edge.core.results import Detection
from anpr_edge.errors import InputError
from anpr_edge.inference.models import Models
from anpr_edge.inference.runtime.base import HINTS, auto_hint, parse_cpu_flags
from anpr_edge.recognition.pipeline import CameraPipeline, StageTimes
from anpr_edge.recognition.settings import RecognitionSettings
from anpr_edge.sources.capture import CaptureThread
from anpr_edge.sources.files import Frame, VideoSource

STAGES = ("decode_wait", "motion", "preprocess", "detector", "decode", "verify", "ocr", "tracking")


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
        return peak_rss_mib()


def peak_rss_mib() -> float:
    """The highest resident set size since the process started or :func:`reset_peak_rss` (``VmHWM``), MiB."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # (no /proc: since the start, KiB on Linux)


def reset_peak_rss() -> bool:
    """Start :func:`peak_rss_mib` again from the current RSS (Linux ≥ 4.0: ``/proc/self/clear_refs``)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


# Instruction sets that change how fast (and, for bf16, in what precision) OpenVINO runs the models.
CPU_FEATURES = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def cpu_description(cpuinfo: str) -> str:
    """The CPU a benchmark ran on, from ``/proc/cpuinfo`` text: model, logical CPUs and the instruction sets
    of :data:`CPU_FEATURES` it has. Benchmarks from different machines are only comparable with this."""
    model, count = "unknown CPU", 0
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "processor":
            count += 1
        elif key == "model name" and model == "unknown CPU":
            model = value.strip()
    flags = parse_cpu_flags(cpuinfo)
    have = " ".join(f for f in CPU_FEATURES if f in flags) or "none of " + "/".join(CPU_FEATURES[:2])
    return f"{model}, {count or '?'} logical CPUs, {have}"


def read_cpu_description() -> str:
    try:
        return cpu_description(Path("/proc/cpuinfo").read_text())
    except OSError:
        return "unknown CPU (no /proc/cpuinfo)"


def decoded_ahead(video: Path, limit: int, depth: int = 1) -> Generator[tuple[Frame, float]]:
    """The clip's first ``limit`` frames, decoded on a thread of their own (as in the daemon, where a capture
    thread decodes), each with the milliseconds the caller waited for it (0 while the decoder keeps ahead).
    Like the daemon's mailbox, ``depth`` frames wait (one: a frame more would count in the RSS); unlike it,
    this queue blocks instead of dropping the older frame: every frame is measured. A decoding error is raised
    here. Use it closed (``contextlib.closing``): that stops the thread."""
    q: queue.Queue[Frame | Exception | None] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Frame | Exception | None) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def feed() -> None:
        try:
            for fr in VideoSource(video):
                if not put(fr):
                    return
            put(None)
        except Exception as exc:  # handed over: raised in the caller's thread
            put(exc)

    thread = threading.Thread(target=feed, name="bench-decode", daemon=True)
    thread.start()
    try:
        for _ in range(limit):
            t0 = time.perf_counter()
            item = q.get()
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item, (time.perf_counter() - t0) * 1000
    finally:
        stop.set()
        thread.join(timeout=5.0)


def pure_detector_ms(models: Models, runs: int, warmup: int = 5) -> list[float]:
    """Pure detector inference on its input shape, nothing around it."""
    x = detector_zeros(models)
    for _ in range(warmup):
        models.detector.backend.infer(x)
    return [timed_inference_ms(models, x) for _ in range(runs)]


def detector_zeros(models: Models) -> np.ndarray:
    """An input of the detector's shape, all zeros."""
    return np.zeros((1, 3, models.detector.spec.input_height, models.detector.spec.input_width), np.float32)


def timed_inference_ms(models: Models, x: np.ndarray) -> float:
    """Milliseconds of one pure detector inference on ``x``."""
    t0 = time.perf_counter()
    models.detector.backend.infer(x)
    return (time.perf_counter() - t0) * 1000


class BetweenFrames:
    """Pure detector inference timed between the pipeline's frames (after every ``every``-th), so that it meets
    the host's load of the same minutes as the frames; the time it takes is kept out of the run's wall clock."""

    def __init__(self, models: Models, every: int = 10) -> None:
        self.models, self.every, self.x = models, every, detector_zeros(models)
        self.ms: list[float] = []

    def after(self, n: int) -> None:
        if n % self.every == 0:
            self.ms.append(timed_inference_ms(self.models, self.x))

    @property
    def seconds(self) -> float:
        """Spent here, not by the pipeline."""
        return sum(self.ms) / 1000


def run_bench(
    models: Models, settings: RecognitionSettings, video: Path, max_frames: int, warmup: int = 5
) -> dict[str, Any]:
    """The pipeline on the clip's frames (decoded ahead on their own thread, as in the daemon): per-stage and
    per-frame times, fps by the wall clock, then pure detector inference in the same process."""
    times = StageTimes()
    frame_ms: list[float] = []  # waiting for the decoder + the whole pipeline, per measured frame
    looked_ms: list[float] = []  # the same, of the frames the detector ran on
    pipe = CameraPipeline("bench", models, settings, timings=None)
    between = BetweenFrames(models)
    events = updates = idle_start = skips_start = second_start = coast_start = 0
    wall_start, peak_from = 0.0, "start"
    shape: tuple[int, ...] = ()
    with contextlib.closing(decoded_ahead(video, max_frames + warmup)) as frames:
        for n, (fr, waited) in enumerate(frames):
            if n == warmup:
                pipe.timings, wall_start = times, time.perf_counter()
                idle_start, skips_start, second_start = pipe.idle_frames, pipe.settled_skips, pipe.second_reads
                coast_start = pipe.coasted_frames
                peak_from = "warm-up" if reset_peak_rss() else "start"
            t1 = time.perf_counter()
            result = pipe.run(fr.image, fr.t)
            for e in result.events:
                events, updates = events + (e.type == "new"), updates + (e.type == "update")
            if n >= warmup:
                times.add("decode_wait", waited)
                frame_ms.append(waited + (time.perf_counter() - t1) * 1000)
                if not result.idle:
                    looked_ms.append(frame_ms[-1])
                between.after(n - warmup)
            shape = fr.image.shape
    wall = time.perf_counter() - wall_start - between.seconds if wall_start else 0.0
    peak_rss = peak_rss_mib()
    pure = percentiles(pure_detector_ms(models, max(len(frame_ms), 20)))
    e2e, looked, pure_between = percentiles(frame_ms), percentiles(looked_ms), percentiles(between.ms)
    return {
        "video": str(video),
        "frame_size": [int(shape[1]), int(shape[0])] if shape else [],
        "frames": len(frame_ms),
        "idle_frames": pipe.idle_frames - idle_start,
        "coasted_frames": pipe.coasted_frames - coast_start,
        "reads_skipped_settled": pipe.settled_skips - skips_start,
        "second_reads": pipe.second_reads - second_start,
        "events": events,
        "updates": updates,
        "detector_input": [models.detector.spec.input_width, models.detector.spec.input_height],
        "device": {"detector": models.detector.backend.device, "ocr": models.ocr.backend.device},
        "cpu": read_cpu_description(),
        "precision": {"detector": models.detector.backend.precision, "ocr": models.ocr.backend.precision},
        "stages_ms": {s: percentiles(times.samples.get(s, [])) for s in STAGES},
        "frame_ms": e2e,
        "detector_frame_ms": looked,
        "pure_detector_ms": pure,
        "end_to_end_fps": len(frame_ms) / wall if wall else 0.0,
        "overhead_ratio": looked["p50"] / pure["p50"] if pure["p50"] else 0.0,
        "pure_detector_between_ms": pure_between,  # timed between the frames (BetweenFrames)
        "overhead_ratio_between": looked["p50"] / pure_between["p50"] if pure_between["p50"] else 0.0,
        "rss_mib": round(rss_mib(), 1),
        "rss_peak_mib": round(peak_rss, 1),  # the highest RSS while the frames were processed (from peak_from)
        "rss_peak_from": peak_from,
    }


def bare_loop(models: Models, video: Path, max_frames: int, warmup: int = 5) -> dict[str, Any]:
    """The floor under the pipeline: decode (ahead, on its own thread) → detector → reader on every frame,
    nothing else (no motion gating, second look, tracking, voting or events), same clip and models."""
    frame_ms: list[float] = []
    wall_start = 0.0
    with contextlib.closing(decoded_ahead(video, max_frames + warmup)) as frames:
        for n, (fr, waited) in enumerate(frames):
            if n == warmup:
                wall_start = time.perf_counter()
            t0 = time.perf_counter()
            models.ocr(fr.image, models.detector(fr.image))
            if n >= warmup:
                frame_ms.append(waited + (time.perf_counter() - t0) * 1000)
    wall = time.perf_counter() - wall_start if wall_start else 0.0
    return {"fps": len(frame_ms) / wall if wall else 0.0, "frame_ms": percentiles(frame_ms)}


def inference_costs(
    variants: dict[str, Models], frame: np.ndarray, rounds: int = 200, warmup: int = 20
) -> dict[str, dict[str, float]]:
    """ms (p50) of the detector's inference at its input, of the reader per crop (inference and decoding;
    one crop, and a batch of 4), and of the corner model per plate (cutting and inference; a folder with
    one), on ``frame``. The variants (precisions, or model folders) take turns within each round, so a noisy
    box slows all of them alike."""
    h, w = frame.shape[:2]
    plates = [Detection((w * 0.4, h * 0.6, w * 0.5, h * 0.64), 1.0)] * 4
    keys = ("detector", "reader_1", "reader_4", "corners_1")
    samples: dict[str, dict[str, list[float]]] = {k: {key: [] for key in keys} for k in variants}
    for r in range(rounds + warmup):
        for name, m in variants.items():
            x, _ = m.detector.preprocess(frame)
            t0 = time.perf_counter()
            m.detector.backend.infer(x)
            t1 = time.perf_counter()
            m.ocr(frame, plates[:1])
            t2 = time.perf_counter()
            m.ocr(frame, plates)
            t3 = time.perf_counter()
            m.with_corners(frame, plates[:1])
            t4 = time.perf_counter()
            if r >= warmup:
                took = (t1 - t0, t2 - t1, (t3 - t2) / 4, t4 - t3 if m.corners is not None else None)
                for key, sec in zip(keys, took, strict=True):
                    samples[name][key].extend([] if sec is None else [sec * 1000])
    return {name: {k: float(np.median(v)) for k, v in s.items() if v} for name, s in samples.items()}


def format_costs(costs: dict[str, dict[str, float]], cpu: str) -> str:
    lines = [
        f"cpu {cpu}",
        f"{'variant':<28}{'detector ms':>12}{'reader ms/crop (1)':>20}{'(batch 4)':>11}{'corners ms/plate':>18}",
    ]
    for name, c in costs.items():
        corners = f"{c['corners_1']:>18.3f}" if "corners_1" in c else f"{'-':>18}"
        lines.append(f"{name:<28}{c['detector']:>12.2f}{c['reader_1']:>20.3f}{c['reader_4']:>11.3f}{corners}")
    return "\n".join(lines)


def format_table(r: dict[str, Any]) -> str:
    lines = [
        f"video {r['video']}  {r['frame_size'][0]}x{r['frame_size'][1]}  frames {r['frames']}"
        f" (idle, no detector: {r['idle_frames']}; settled plates, no detector: {r['coasted_frames']};"
        f" settled plates not read: {r['reads_skipped_settled']};"
        f" unsure reads read again: {r['second_reads']})"
        f"  events {r['events']} (updates {r['updates']})",
        f"detector input {r['detector_input'][0]}x{r['detector_input'][1]}  devices {r['device']}",
        f"cpu {r['cpu']}  precision: detector {r['precision']['detector']}, reader {r['precision']['ocr']}",
        f"{'stage':<14}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}",
    ]
    rows = [
        *r["stages_ms"].items(),
        ("frame total", r["frame_ms"]),
        ("detector frame", r["detector_frame_ms"]),
        ("pure detector", r["pure_detector_ms"]),
        ("pure, between", r["pure_detector_between_ms"]),
    ]
    for name, v in rows:
        lines.append(f"{name:<14}{v['p50']:>9.2f}{v['p95']:>9.2f}{v['mean']:>9.2f}")
    lines.append(
        f"end-to-end {r['end_to_end_fps']:.1f} fps   overhead (detector frame p50 / pure detector p50) "
        f"{r['overhead_ratio']:.2f}x (timed between the frames: {r['overhead_ratio_between']:.2f}x)   "
        f"RSS {r['rss_mib']} MiB (peak {r['rss_peak_mib']})"
    )
    if "bare_loop" in r:
        bare = r["bare_loop"]["fps"]
        ratio = r["end_to_end_fps"] / bare if bare else 0.0
        lines.append(
            f"bare loop (decode → detector → reader, every frame) {bare:.1f} fps   end-to-end / bare {ratio:.2f}"
        )
    return "\n".join(lines)


def to_json(r: dict[str, Any]) -> str:
    return json.dumps(r, indent=2)


@dataclass(frozen=True, slots=True)
class Served:
    """What :func:`serve_cameras` measured: per camera, frames offered and served; per new event, seconds
    from the capture of the first frame its plate was found in to the event leaving the pipeline."""

    offered: list[int]
    served: list[int]
    latencies: list[float]


def serve_cameras(models: Models, settings: RecognitionSettings, video: Path, cameras: int, seconds: float) -> Served:
    """``cameras`` copies of ``video`` for ``seconds``, each played at its own frame rate by the daemon's
    capture thread (newest frame only) and processed by its own pipeline on the shared ``models``, every
    frame it can take (as the daemon with ``target_fps`` at the clip's rate). Each copy starts at another
    point of the clip. A first second of warm-up is not counted."""
    stop = threading.Event()
    captures = [CaptureThread(f"cam{i}", str(video), True, 5.0, 5.0, stop) for i in range(cameras)]
    served = [0] * cameras
    latencies: list[float] = []

    def camera(i: int) -> None:
        pipe = CameraPipeline(f"cam{i}", models, settings, timings=None)
        while not stop.is_set():
            item = captures[i].mailbox.get(timeout=0.5)
            if item is not None:
                events = pipe.run(item[0], item[1]).events
                latencies.extend(time.time() - e.first_seen for e in events if e.type == "new")
                served[i] += 1

    workers = [threading.Thread(target=camera, args=(i,), daemon=True) for i in range(cameras)]
    for i, c in enumerate(captures):
        c.start()
        time.sleep(0.04 * i / cameras)  # the cameras' frames do not all arrive at the same moment
    for w in workers:
        w.start()
    time.sleep(1.0)
    offered0, served0 = [c.stats.frames_in for c in captures], list(served)
    latencies.clear()
    time.sleep(seconds)
    offered1, served1 = [c.stats.frames_in for c in captures], list(served)
    measured = list(latencies)  # the same window as the counts
    stop.set()
    for t in (*workers, *captures):
        t.join(timeout=10)
    return Served(
        [b - a for a, b in zip(offered0, offered1, strict=True)],
        [b - a for a, b in zip(served0, served1, strict=True)],
        measured,
    )


def first_frame(video: Path) -> np.ndarray:
    """The clip's first frame, or a one-line error for a clip without one."""
    first = next(iter(VideoSource(video)), None)
    if first is None:
        raise InputError(f"{video}: no frames to play")
    return first.image


def run_cameras(
    load: Callable[[str], Models], settings: RecognitionSettings, video: Path, cameras: int, seconds: float = 10.0
) -> dict[str, Any]:
    """:func:`serve_cameras` under each performance hint (:data:`HINTS`), one after the other in one run.
    ``load(hint)`` compiles the models for a hint."""
    per_hint: dict[str, Any] = {}
    shape: tuple[int, ...] = first_frame(video).shape
    for hint in HINTS:
        s = serve_cameras(load(hint), settings, video, cameras, seconds)
        per_hint[hint] = {
            "fps_offered": sum(s.offered) / seconds,
            "fps": sum(s.served) / seconds,
            "camera_fps_min": min(s.served) / seconds,
            "camera_fps_max": max(s.served) / seconds,
            "events": len(s.latencies),
            "latency_ms": percentiles([v * 1000 for v in s.latencies]) if s.latencies else None,
        }
    latency = per_hint["latency"]["fps"]
    return {
        "video": str(video),
        "frame_size": [int(shape[1]), int(shape[0])],
        "cameras": cameras,
        "seconds": seconds,
        "cpu": read_cpu_description(),
        "hints": per_hint,
        "throughput_over_latency": per_hint["throughput"]["fps"] / latency if latency else 0.0,
    }


def format_cameras(r: dict[str, Any]) -> str:
    lines = [
        f"video {r['video']}  {r['frame_size'][0]}x{r['frame_size'][1]}  {r['cameras']} camera(s) at its frame rate,"
        f" {r['seconds']:g} s per hint",
        f"cpu {r['cpu']}",
        f"{'hint':<12}{'fps offered':>12}{'served':>8}{'camera min':>12}{'max':>6}"
        f"{'events':>8}{'visible→event p50/p95 ms':>26}",
    ]
    for hint, v in r["hints"].items():
        lat = v["latency_ms"]
        ms = f"{lat['p50']:.0f} / {lat['p95']:.0f}" if lat else "-"
        lines.append(
            f"{hint:<12}{v['fps_offered']:>12.1f}{v['fps']:>8.1f}{v['camera_fps_min']:>12.1f}{v['camera_fps_max']:>6.1f}"
            f"{v['events']:>8}{ms:>26}"
        )
    lines.append(
        f"throughput / latency: {r['throughput_over_latency']:.2f}x (models.performance auto picks"
        f" {auto_hint(r['cameras'])} for {r['cameras']} camera(s))"
    )
    return "\n".join(lines)
