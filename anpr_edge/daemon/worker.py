"""One camera's worker thread: its capture thread's newest frames through its pipeline, events to the router.

The worker takes the newest frame (older ones are dropped by the capture mailbox and counted), at most
``target_fps``, and emits the events the pipeline completes. New recognition settings (SIGHUP) are taken
at the next frame without stopping capture. On the way out (stop or end of file) open tracks that
already have a read become events.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from anpr_edge.config.schema import CameraConfig
from anpr_edge.core.results import PlateEvent
from anpr_edge.daemon.health import CameraSample
from anpr_edge.daemon.status import CameraStats
from anpr_edge.recognition.pipeline import CameraPipeline, StageTimes
from anpr_edge.sources.capture import CaptureThread

if TYPE_CHECKING:
    from anpr_edge.inference.models import Models
    from anpr_edge.recognition.settings import RecognitionSettings
    from anpr_edge.sinks.router import EventRouter

logger = logging.getLogger(__name__)


class CameraWorker(threading.Thread):
    """Runs one camera's pipeline on the newest frames, at most ``target_fps``."""

    def __init__(
        self,
        cam: CameraConfig,
        settings: RecognitionSettings,
        models: Models,
        router: EventRouter,
        timings: StageTimes | None = None,
    ) -> None:
        super().__init__(name=f"worker-{cam.name}", daemon=True)
        self.cam, self.router = cam, router
        self.stop_event = threading.Event()  # this camera's capture and worker
        self.capture = CaptureThread(
            cam.name, cam.source, cam.loop, cam.stall_timeout_s, cam.reconnect_max_s, self.stop_event
        )
        self.timings = timings  # per-stage latency (the /metrics histograms)
        self.pipeline = CameraPipeline(cam.name, models, settings, cam.roi, timings=timings)
        self.started_at = time.monotonic()
        self.heartbeat = time.monotonic()
        self.frames_out = 0
        self.skipped = 0  # frames over target_fps (by design, not a loss)
        self.idle_before = 0  # idle frames of pipelines replaced by a reload
        self.events = 0
        self.busy_since: float | None = None
        self._pending_settings: tuple[CameraConfig, RecognitionSettings] | None = None
        self._last_frame: Any = None

    def update_settings(self, cam: CameraConfig, settings: RecognitionSettings) -> None:
        """Take new recognition settings at the next frame (SIGHUP), keeping capture running."""
        self._pending_settings = (cam, settings)

    def start(self) -> None:
        self.capture.start()
        super().start()

    def run(self) -> None:
        next_at = 0.0
        while not self.stop_event.is_set():
            self.heartbeat = time.monotonic()
            self._apply_pending_settings()
            item = self.capture.mailbox.get(timeout=0.5)
            if item is None:
                if self.capture.finished:
                    break
                continue
            now = time.monotonic()
            if now < next_at:
                self.skipped += 1
                continue
            period = 1.0 / self.cam.target_fps
            next_at = max(next_at + period, now - period)
            self._process(*item)
        # Shutdown or end of file: tracks that already have a read become events.
        self._emit_all(self.pipeline.flush(time.time()))

    def _apply_pending_settings(self) -> None:
        if self._pending_settings is None:
            return
        cam, settings = self._pending_settings
        self._pending_settings = None
        self.cam = cam
        self._emit_all(self.pipeline.flush(time.time()))
        self.idle_before += self.pipeline.idle_frames
        self.pipeline = CameraPipeline(cam.name, self.pipeline.models, settings, cam.roi, timings=self.timings)
        logger.info("camera %s: new recognition settings applied", cam.name)

    def _process(self, frame: Any, t: float) -> None:
        self.busy_since = time.monotonic()
        fault_hang()
        events = self.pipeline.process(frame, t)
        self.busy_since = None
        self.frames_out += 1
        self._last_frame = frame
        self._emit_all(events)

    def _emit_all(self, events: list[PlateEvent]) -> None:
        for e in events:
            self.events += 1
            self.router.emit(e, self._last_frame)

    def stats(self) -> CameraStats:
        c = self.capture.stats
        return CameraStats(
            state=c.state,
            frames_in=c.frames_in,
            frames_out=self.frames_out,
            idle=self.idle_before + self.pipeline.idle_frames,
            dropped=self.capture.mailbox.dropped + self.skipped,
            reconnects=c.reconnects,
            events=self.events,
        )

    def sample(self) -> CameraSample:
        """This camera's counters and clocks for health and metrics (:mod:`anpr_edge.daemon.health`)."""
        c = self.capture.stats
        return CameraSample(
            name=self.cam.name,
            state=c.state,
            frames_in=c.frames_in,
            frames_processed=self.frames_out,
            frames_idle=self.idle_before + self.pipeline.idle_frames,
            frames_skipped=self.skipped,
            frames_dropped=self.capture.mailbox.dropped,
            reconnects=c.reconnects,
            events=self.events,
            started_at=self.started_at,
            last_frame_at=c.last_frame_at or None,
            busy_since=self.busy_since,
            stall_timeout_s=self.cam.stall_timeout_s,
            finished=self.capture.finished,
            worker_alive=self.is_alive(),
        )

    def stuck(self, now: float, limit: float) -> bool:
        """A thread of this camera made no progress for ``limit`` seconds (a hung inference or read)."""
        if self.is_alive() and now - self.heartbeat > limit:
            return True
        return self.capture.is_alive() and now - self.capture.heartbeat > limit + self.cam.stall_timeout_s


def fault_hang() -> None:
    """Fault injection for the watchdog test: ``ANPR_EDGE_FAULT=hang-after:N`` hangs the pipeline
    N seconds after its first frame (as a stuck inference would). Unset in production."""
    spec = os.environ.get("ANPR_EDGE_FAULT", "")
    if not spec.startswith("hang-after:"):
        return
    first = _FAULT_CLOCK.setdefault("first", time.monotonic())
    if time.monotonic() - first > float(spec.split(":", 1)[1]):
        while True:
            time.sleep(3600)


_FAULT_CLOCK: dict[str, float] = {}
