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
from anpr_edge.core.results import FrameResult
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
            cam.name,
            cam.source,
            cam.loop,
            cam.stall_timeout_s,
            cam.reconnect_max_s,
            self.stop_event,
            cam.decode_threads,
        )
        self.timings = timings  # per-stage latency (the /metrics histograms)
        self.pipeline = self._pipeline(cam, settings, models)
        self.started_at = time.monotonic()
        self.heartbeat = time.monotonic()
        self.frames_out = 0
        self.skipped = 0  # frames over target_fps (by design, not a loss)
        self.idle_before = 0  # idle frames of pipelines replaced by a reload
        self.events = 0
        self.busy_since: float | None = None
        self._pending_settings: tuple[CameraConfig, RecognitionSettings] | None = None
        self._last_frame: Any = None
        self._frame_checked = False
        self.bad_frames = 0  # frames the pipeline could not take (skipped, counted as dropped)
        self.started_once = False

    def _pipeline(self, cam: CameraConfig, settings: RecognitionSettings, models: Models) -> CameraPipeline:
        """This camera's pipeline; it keeps each plate's best frame only where the router saves snapshots."""
        keep = self.router.snapshots_on
        return CameraPipeline(cam.name, models, settings, cam.roi, timings=self.timings, keep_frames=keep)

    def update_settings(self, cam: CameraConfig, settings: RecognitionSettings) -> None:
        """Take new recognition settings at the next frame (SIGHUP), keeping capture running."""
        self._pending_settings = (cam, settings)

    def start(self) -> None:
        self.capture.start()
        super().start()
        self.started_once = True

    def run(self) -> None:
        try:
            self._run()
        except Exception:  # a bug (bad frames are skipped in _process): logged in full; the daemon restarts us
            logger.exception("camera %s: worker failed", self.cam.name, extra={"camera": self.cam.name})

    def _run(self) -> None:
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
        self._frame_checked = False  # the ROI may have changed
        self._emit_all(self.pipeline.flush(time.time()))  # the old settings' tracks end here
        self.idle_before += self.pipeline.frames_without_detector
        self.pipeline = self._pipeline(cam, settings, self.pipeline.models)
        logger.info("camera %s: new recognition settings applied", cam.name)

    def _process(self, frame: Any, t: float) -> None:
        fault_crash()
        if not self._frame_checked:
            self._frame_checked = True
            self._check_frame(frame)
        self.busy_since = time.monotonic()
        fault_hang()
        try:
            result = self.pipeline.run(frame, t)
        except Exception as exc:  # a frame the pipeline cannot take (a 2x4000 image): skipped, counted
            self._skip(frame, exc)
            return
        finally:
            self.busy_since = None
        self.frames_out += 1
        if self.router.snapshots_on:  # the snapshot of an event whose best frame was not kept
            self._last_frame = frame
        self._emit_all(result)

    def _skip(self, frame: Any, exc: Exception) -> None:
        """One warning line for the first bad frame and every 100th after (each one is counted as dropped)."""
        self.bad_frames += 1
        if self.bad_frames == 1 or self.bad_frames % 100 == 0:
            size = "x".join(str(v) for v in getattr(frame, "shape", ())[1::-1]) or "?"
            reason = " ".join(str(exc).split())[:300]
            logger.warning(
                "camera %s: a %s frame skipped (%d so far): %s: %s",
                self.cam.name,
                size,
                self.bad_frames,
                type(exc).__name__,
                reason,
                extra={"camera": self.cam.name},
            )

    def _check_frame(self, frame: Any) -> None:
        """At the first frame: an ROI that does not fit the frame is said once, with the frame's size."""
        h, w = frame.shape[:2]
        problem = roi_problem(self.cam.roi, w, h)
        if problem:
            logger.warning("camera %s: %s", self.cam.name, problem, extra={"camera": self.cam.name})

    def respawn(self) -> CameraWorker:
        """A fresh worker (and capture thread) for this camera, with its current settings."""
        return CameraWorker(self.cam, self.pipeline.settings, self.pipeline.models, self.router, self.timings)

    def died(self) -> bool:
        """The worker or capture thread ended without being stopped and before its file's end."""
        if self.stop_event.is_set() or self.capture.finished or not self.started_once:
            return False
        return not self.is_alive() or not self.capture.is_alive()

    def _emit_all(self, result: FrameResult) -> None:
        """Each event to the sinks, with the frame of its best read for the snapshot."""
        for e, best in zip(result.events, result.event_frames, strict=True):
            self.events += 1
            self.router.emit(e, self._last_frame if best is None else best)

    def stats(self) -> CameraStats:
        c = self.capture.stats
        return CameraStats(
            state=c.state,
            frames_in=c.frames_in,
            frames_out=self.frames_out,
            idle=self.idle_before + self.pipeline.frames_without_detector,
            dropped=self.capture.mailbox.dropped + self.skipped + self.bad_frames,
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
            frames_idle=self.idle_before + self.pipeline.frames_without_detector,
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

    def stuck(self, now: float, limit: float) -> str | None:
        """Which thread of this camera made no progress for ``limit`` seconds (a hung inference or read)."""
        if self.is_alive() and now - self.heartbeat > limit:
            return f"camera {self.cam.name}: pipeline made no progress for {now - self.heartbeat:.1f} s"
        if self.capture.is_alive() and now - self.capture.heartbeat > limit + self.cam.stall_timeout_s:
            return f"camera {self.cam.name}: capture made no progress for {now - self.capture.heartbeat:.1f} s"
        return None


def roi_problem(roi: list[tuple[float, float]] | None, w: int, h: int) -> str | None:
    """Why ``roi`` does not fit a ``w`` x ``h`` frame (None: it fits, or there is none)."""
    if not roi:
        return None
    outside = [(x, y) for x, y in roi if not (0 <= x <= w and 0 <= y <= h)]
    if not outside:
        return None
    xs, ys = [x for x, _ in roi], [y for _, y in roi]
    points = ", ".join(f"[{x:g}, {y:g}]" for x, y in outside[:4]) + (" ..." if len(outside) > 4 else "")
    if max(xs) < 0 or min(xs) > w or max(ys) < 0 or min(ys) > h:
        return f"roi lies wholly outside the {w}x{h} frame ({points}): no plate can be found; fix cameras[].roi"
    return f"roi point(s) {points} lie outside the {w}x{h} frame; only the part inside is watched"


def fault_crash() -> None:
    """Fault injection for the restart test: ``ANPR_EDGE_FAULT=crash:N`` makes the first N worker starts
    fail at their first frame, as a bug outside the per-frame guard would. Unset in production."""
    spec = os.environ.get("ANPR_EDGE_FAULT", "")
    worker = threading.current_thread()
    if not spec.startswith("crash:") or worker in _FAULT_SEEN:
        return
    _FAULT_SEEN.add(worker)
    if len(_FAULT_SEEN) <= int(spec.split(":", 1)[1]):
        raise RuntimeError("injected worker crash (ANPR_EDGE_FAULT)")


_FAULT_SEEN: set[threading.Thread] = set()


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
