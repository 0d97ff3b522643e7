"""Prometheus metrics in a registry the daemon owns (not ``prometheus_client``'s global one).

Counters the workers already keep (frames, events, reconnects) and the sinks' numbers are read at scrape
time from one typed :class:`~anpr_edge.daemon.health.Sample`, so nothing is counted twice; latencies
are histograms the pipelines feed while they run (:class:`StageHistograms`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from anpr_edge import __version__
from anpr_edge.daemon.health import Sample, evaluate
from anpr_edge.recognition.pipeline import StageTimes

#: Stage latency buckets, seconds: an idle frame's motion check (~0.5 ms) to a slow detector (~1 s).
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

#: Event latency buckets, seconds: an early event at 25 fps (~0.1 s) to one held in the outbox through an outage.
LATENCY_BUCKETS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)

#: Per-camera counters: metric name (without ``_total``), help, the Sample field.
CAMERA_COUNTERS = (
    ("anpr_frames_in", "Frames the camera delivered", "frames_in"),
    ("anpr_frames_processed", "Frames the pipeline processed (idle ones included)", "frames_processed"),
    ("anpr_frames_idle", "Processed frames the detector skipped: nothing moved, no plate followed", "frames_idle"),
    ("anpr_frames_skipped", "Frames left out to keep to target_fps (by design)", "frames_skipped"),
    ("anpr_frames_dropped", "Frames overwritten before the pipeline took them (CPU behind)", "frames_dropped"),
    ("anpr_camera_reconnects", "Camera reconnects", "reconnects"),
    ("anpr_events", "Plate events emitted", "events"),
)


class StageHistograms(StageTimes):
    """The pipeline's per-stage timer (``CameraPipeline(timings=...)``) feeding a histogram instead of a list."""

    def __init__(self, histogram: Histogram, camera: str) -> None:
        super().__init__()
        self._histogram, self.camera = histogram, camera
        self.children: dict[str, Histogram] = {}  # stage -> its labelled child (labels() costs a lock)

    def add(self, stage: str, ms: float) -> None:
        child = self.children.get(stage)
        if child is None:
            child = self.children[stage] = self._histogram.labels(self.camera, stage)
        child.observe(ms / 1000.0)


class SampleCollector(Collector):
    """Turns one :class:`Sample` per scrape into metric families."""

    def __init__(self, sample: Callable[[], Sample], clock: Callable[[], float]) -> None:
        self._sample, self._clock = sample, clock

    def collect(self) -> Iterator[Metric]:
        s = self._sample()
        health = evaluate(s, self._clock())
        for name, doc, field in CAMERA_COUNTERS:
            fam = CounterMetricFamily(name, doc, labels=["camera"])
            for c in s.cameras:
                fam.add_metric([c.name], getattr(c, field))
            yield fam
        up = GaugeMetricFamily("anpr_camera_up", "1 when the camera delivered a frame recently", labels=["camera"])
        age = GaugeMetricFamily("anpr_camera_last_frame_age_seconds", "Seconds since the last frame", labels=["camera"])
        for h in health.cameras:
            up.add_metric([h.name], float(h.up))
            if h.last_frame_age_s is not None:
                age.add_metric([h.name], h.last_frame_age_s)
        yield up
        yield age
        sinks = GaugeMetricFamily("anpr_sink_healthy", "1 when the output is healthy", labels=["sink"])
        for sink in s.sinks:
            sinks.add_metric([sink.name], float(sink.healthy))
        yield sinks
        yield GaugeMetricFamily("anpr_healthy", "1 when /healthz answers 200", value=float(health.healthy))
        yield from self._mqtt(s)

    @staticmethod
    def _mqtt(s: Sample) -> Iterator[Metric]:
        if s.mqtt is None:
            return
        m = s.mqtt
        yield GaugeMetricFamily("anpr_mqtt_connected", "1 while connected to the MQTT broker", value=float(m.connected))
        yield GaugeMetricFamily(
            "anpr_outbox_events", "Events in the durable outbox, not yet acknowledged", value=m.outbox
        )
        yield CounterMetricFamily(
            "anpr_outbox_dropped", "Oldest events dropped from a full outbox", value=m.outbox_dropped
        )
        yield CounterMetricFamily("anpr_mqtt_published", "Events the broker acknowledged", value=m.published)


class Metrics:
    """The daemon's registry: the sample collector, stage histograms, build info."""

    def __init__(self, sample: Callable[[], Sample], clock: Callable[[], float] = time.monotonic) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.stages = Histogram(
            "anpr_stage_duration_seconds",
            "Time per processed frame in each pipeline stage (detector, verify, ocr are inference; "
            "verify and ocr are near 0 on frames with no plate)",
            ["camera", "stage"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.event_latency = Histogram(
            "anpr_event_latency_seconds",
            "From the capture of the first frame a plate was seen in to the broker's acknowledgement of its new "
            "event (MQTT); events sent late from the outbox count with their whole wait",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(SampleCollector(sample, clock))
        info = GaugeMetricFamily("anpr_build_info", "anpr-edge version", labels=["version"])
        info.add_metric([__version__], 1.0)
        self.registry.register(_Constant(info))
        self._timers: dict[str, StageHistograms] = {}

    def stage_timer(self, camera: str) -> StageHistograms:
        """The timer of one camera's pipelines (one per camera: a restarted camera gets the same one)."""
        timer = self._timers.get(camera)
        if timer is None:
            timer = self._timers[camera] = StageHistograms(self.stages, camera)
        return timer

    def keep_cameras(self, names: set[str]) -> None:
        """Forget the histograms of cameras no longer running (removed by a reload)."""
        for gone in set(self._timers) - names:
            for stage in self._timers.pop(gone).children:
                self.stages.remove(gone, stage)

    def exposition(self) -> bytes:
        """The registry in Prometheus text format (``/metrics``)."""
        return generate_latest(self.registry)


class _Constant(Collector):
    def __init__(self, metric: Metric) -> None:
        self._metric = metric

    def collect(self) -> Iterator[Metric]:
        yield self._metric
