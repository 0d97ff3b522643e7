"""The long-running daemon: ``anpr-edge run --config FILE``.

Reads like its life: ``start`` (models → sinks → cameras → READY), ``run`` (status, watchdog,
reload on SIGHUP), ``stop`` (reverse order: capture, workers with their open tracks, sinks).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from anpr_edge.config import schema as config_mod
from anpr_edge.config.schema import CameraConfig, Config
from anpr_edge.core.results import PlateEvent
from anpr_edge.daemon.notify import Notifier
from anpr_edge.errors import AnprError
from anpr_edge.recognition.pipeline import CameraPipeline, Models
from anpr_edge.sinks.mqtt import MqttSink
from anpr_edge.sinks.outbox import Outbox
from anpr_edge.sinks.router import EventRouter
from anpr_edge.sources.capture import CaptureThread

logger = logging.getLogger(__name__)

STATUS_FILE = "status.json"


class CameraWorker(threading.Thread):
    """Runs one camera's pipeline on the newest frames, at most ``target_fps``."""

    def __init__(
        self, cam: CameraConfig, cfg: Config, models: Models, router: EventRouter, stop: threading.Event
    ) -> None:
        super().__init__(name=f"worker-{cam.name}", daemon=True)
        self.cam, self.router = cam, router
        self.stop_event = stop
        self.capture = CaptureThread(cam.name, cam.source, cam.loop, cam.stall_timeout_s, cam.reconnect_max_s, stop)
        self.pipeline = CameraPipeline(cam.name, models, cfg.camera_settings(cam), cam.roi)
        self.heartbeat = time.monotonic()
        self.frames_out = 0
        self.skipped = 0  # frames over target_fps (by design, not a loss)
        self.idle_before = 0  # idle frames of pipelines replaced by a reload
        self.events = 0
        self.busy_since: float | None = None
        self._pending_settings: Any = None

    def update_settings(self, cam: CameraConfig, cfg: Config) -> None:
        """Take new recognition settings at the next frame (SIGHUP), keeping capture running."""
        self._pending_settings = (cam, cfg.camera_settings(cam))

    def start(self) -> None:
        self.capture.start()
        super().start()

    def run(self) -> None:
        period = 1.0 / self.cam.target_fps
        next_at = 0.0
        last_frame = None
        while not self.stop_event.is_set():
            self.heartbeat = time.monotonic()
            if self._pending_settings is not None:
                cam, settings = self._pending_settings
                self._pending_settings = None
                self.cam = cam
                period = 1.0 / cam.target_fps
                for e in self.pipeline.flush(time.time()):
                    self._emit(e, last_frame)
                self.idle_before += self.pipeline.idle_frames
                self.pipeline = CameraPipeline(cam.name, self.pipeline.models, settings, cam.roi)
                logger.info("camera %s: new recognition settings applied", cam.name)
            item = self.capture.mailbox.get(timeout=0.5)
            if item is None:
                if self.capture.finished:
                    break
                continue
            frame, t = item
            now = time.monotonic()
            if now < next_at:
                self.skipped += 1
                continue
            next_at = max(next_at + period, now - period)
            self.busy_since = now
            fault_hang()
            events = self.pipeline.process(frame, t)
            self.busy_since = None
            self.frames_out += 1
            last_frame = frame
            for e in events:
                self._emit(e, frame)
        # Shutdown or end of file: tracks that already have a read become events.
        for e in self.pipeline.flush(time.time()):
            self._emit(e, last_frame)

    def _emit(self, e: PlateEvent, frame: Any) -> None:
        self.events += 1
        self.router.emit(e, frame)

    def stats(self) -> dict[str, Any]:
        c = self.capture.stats
        return {
            "state": c.state,
            "frames_in": c.frames_in,
            "frames_out": self.frames_out,
            "idle": self.idle_before + self.pipeline.idle_frames,  # of frames_out: no detector, nothing moved
            "dropped": self.capture.mailbox.dropped + self.skipped,
            "reconnects": c.reconnects,
            "events": self.events,
        }


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


class Daemon:
    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self.cfg: Config = config_mod.load(config_path)
        self.stop_event = threading.Event()  # stops everything (SIGTERM)
        self.reload_requested = threading.Event()
        self.notifier = Notifier()
        self.models: Models | None = None
        self.router: EventRouter | None = None
        self.workers: dict[str, CameraWorker] = {}
        self.camera_stop: dict[str, threading.Event] = {}
        self.started = time.time()
        self._rates: dict[str, tuple[float, int, int]] = {}

    # start ---------------------------------------------------------------------------------
    def start(self) -> None:
        self.init_models()
        self.init_sinks()
        for cam in self.cfg.cameras:
            if cam.enabled:
                self.start_camera(cam)
        self.notifier.ready(self.status_line())
        logger.info(
            "anpr-edge running: %d camera(s), device %s, performance %s",
            len(self.workers),
            self.cfg.models.device,
            self.cfg.performance_hint(),
        )

    def init_models(self) -> None:
        m = self.cfg.models
        self.models = Models.load(
            m.dir / "plate_detector",
            m.dir / "plate_ocr",
            m.device,
            m.cache_dir,
            m.detector_input_size,
            self.cfg.performance_hint(),
        )

    def init_sinks(self) -> None:
        self.cfg.storage.state_dir.mkdir(parents=True, exist_ok=True)
        self.router = EventRouter(self.cfg)
        for cam in self.cfg.cameras:  # open every CSV now: a bad path fails the start, not the first event
            self.router.csv_for(cam.name)
        mq = self.cfg.outputs.mqtt
        if mq.enabled:
            outbox = Outbox(self.cfg.storage.state_dir / "outbox.sqlite", self.cfg.storage.outbox_max_events)
            backlog = len(outbox)
            if backlog:
                logger.info("outbox holds %d event(s) from before; they are sent first", backlog)
            self.router.outbox = outbox
            self.router.mqtt = MqttSink(mq, self.cfg.device_id, self.cfg.topic_prefix, outbox, self.stats)
            self.router.mqtt.start()

    def start_camera(self, cam: CameraConfig) -> None:
        assert self.models is not None and self.router is not None
        stop = threading.Event()
        w = CameraWorker(cam, self.cfg, self.models, self.router, stop)
        self.workers[cam.name] = w
        self.camera_stop[cam.name] = stop
        w.start()

    def stop_camera(self, name: str) -> None:
        self.camera_stop.pop(name).set()
        w = self.workers.pop(name)
        w.capture.join(timeout=3)
        w.join(timeout=3)

    # run -----------------------------------------------------------------------------------
    def install_signals(self) -> None:
        def on_term(signum: int, frame: FrameType | None) -> None:
            self.stop_event.set()

        def on_hup(signum: int, frame: FrameType | None) -> None:
            self.reload_requested.set()

        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
        signal.signal(signal.SIGHUP, on_hup)

    def run(self) -> int:
        self.install_signals()
        self.start()
        next_status = time.monotonic() + self.cfg.logging.status_interval_s
        next_file = 0.0
        next_ping = 0.0
        while not self.stop_event.is_set():
            self.stop_event.wait(0.2)
            now = time.monotonic()
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                self.reload()
            if self.notifier.watchdog_interval and now >= next_ping and self.healthy():
                self.notifier.watchdog()
                next_ping = now + self.notifier.watchdog_interval
            if now >= next_file:
                self.write_status_file()
                self.notifier.status(self.status_line())
                next_file = now + 2.0
            if now >= next_status:
                logger.info("status %s", self.status_line())
                next_status = now + self.cfg.logging.status_interval_s
            if self.workers and all(not w.is_alive() and w.capture.finished for w in self.workers.values()):
                logger.info("every camera source has ended; stopping")
                break
        self.stop()
        return 0

    def healthy(self) -> bool:
        """Every pipeline and capture thread made progress recently (a hung stage stops the pings)."""
        now = time.monotonic()
        limit = max(5.0, 2 * (self.notifier.watchdog_interval or 5.0))
        for w in self.workers.values():
            if w.is_alive() and now - w.heartbeat > limit:
                return False
            if w.capture.is_alive() and now - w.capture.heartbeat > limit + w.cam.stall_timeout_s:
                return False
        return True

    def reload(self) -> None:
        self.notifier.reloading()
        try:
            new = config_mod.load(self.config_path)
        except AnprError as exc:
            logger.error("reload: new configuration rejected, keeping the old one: %s", exc)
            self.notifier.ready(self.status_line())
            return
        if (new.models, new.performance_hint(), new.outputs, new.storage, new.snapshots, new.device_id) != (
            self.cfg.models,
            self.cfg.performance_hint(),
            self.cfg.outputs,
            self.cfg.storage,
            self.cfg.snapshots,
            self.cfg.device_id,
        ):
            # models.performance auto changes its hint when one camera becomes several or back: the models
            # are compiled again for it. (Either branch keeps self.cfg's hint the one the models run with.)
            logger.info("reload: models/outputs/storage changed: restarting every camera and sink")
            for name in list(self.workers):
                self.stop_camera(name)
            self.close_sinks()
            self.cfg = new
            self.init_models()
            self.init_sinks()
            for cam in new.cameras:
                if cam.enabled:
                    self.start_camera(cam)
        else:
            old_cfg = self.cfg
            old = {c.name: c for c in old_cfg.cameras if c.enabled}
            fresh = {c.name: c for c in new.cameras if c.enabled}
            self.cfg = new
            for name in old.keys() - fresh.keys():
                logger.info("reload: camera %s removed", name)
                self.stop_camera(name)
            for name, cam in fresh.items():
                if name not in old:
                    logger.info("reload: camera %s added", name)
                    try:
                        assert self.router is not None
                        self.router.csv_for(name)  # as at start: a bad CSV path keeps the camera off
                    except AnprError as exc:
                        logger.error("reload: camera %s not started: %s", name, exc)
                        continue
                    self.start_camera(cam)
                elif self._capture_key(cam) != self._capture_key(old[name]):
                    logger.info("reload: camera %s source changed: restarting it", name)
                    self.stop_camera(name)
                    self.start_camera(cam)
                elif cam != old[name] or new.camera_settings(cam) != old_cfg.camera_settings(old[name]):
                    self.workers[name].update_settings(cam, new)
        logger.info("reload: configuration %s applied", self.config_path)
        self.notifier.ready(self.status_line())

    @staticmethod
    def _capture_key(cam: CameraConfig) -> tuple[Any, ...]:
        return (cam.source, cam.loop, cam.stall_timeout_s, cam.reconnect_max_s)

    # observability -------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        now = time.monotonic()
        cams: dict[str, Any] = {}
        for name, w in self.workers.items():
            s = w.stats()
            t0, fin, fout = self._rates.get(name, (now, s["frames_in"], s["frames_out"]))
            dt = max(now - t0, 1e-6)
            s["fps_in"] = round((s["frames_in"] - fin) / dt, 2) if now > t0 else 0.0
            s["fps_out"] = round((s["frames_out"] - fout) / dt, 2) if now > t0 else 0.0
            if now - t0 > 10 or name not in self._rates:
                self._rates[name] = (now, s["frames_in"], s["frames_out"])
            cams[name] = s
        out: dict[str, Any] = {
            "pid": os.getpid(),
            "uptime_s": round(time.time() - self.started, 1),
            "updated": time.time(),
            "performance": self.cfg.performance_hint(),
            "cameras": cams,
            "events": self.router.events if self.router else 0,
        }
        if self.router and self.router.mqtt:
            out["mqtt"] = {
                "connected": self.router.mqtt.connected.is_set(),
                "outbox": len(self.router.mqtt.outbox),
                "published": self.router.mqtt.published,
                "outbox_dropped": self.router.mqtt.outbox.dropped,
            }
        return out

    def status_line(self) -> str:
        s = self.stats()
        parts = [
            f"{n}: {c['state']} in {c['fps_in']:.1f} out {c['fps_out']:.1f} fps idle {c['idle']} drop {c['dropped']} "
            f"reconn {c['reconnects']} events {c['events']}"
            for n, c in s["cameras"].items()
        ]
        if "mqtt" in s:
            parts.append(f"mqtt {'up' if s['mqtt']['connected'] else 'down'} outbox {s['mqtt']['outbox']}")
        return "; ".join(parts) or "no cameras"

    def write_status_file(self) -> None:
        path = self.cfg.storage.state_dir / STATUS_FILE
        tmp = path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(self.stats(), indent=1))
            tmp.replace(path)
        except OSError as exc:
            logger.warning("cannot write %s: %s", path, exc)

    # stop ----------------------------------------------------------------------------------
    def close_sinks(self) -> None:
        if self.router:
            if self.router.mqtt:
                self.router.mqtt.stop()
            if self.router.outbox:
                self.router.outbox.close()
            self.router.close()
            self.router = None

    def stop(self) -> None:
        self.notifier.stopping()
        logger.info("stopping")
        self.stop_event.set()
        for stop in self.camera_stop.values():
            stop.set()
        for w in self.workers.values():
            w.capture.join(timeout=2)
        for w in self.workers.values():
            w.join(timeout=2)  # the worker emits its open tracks on the way out
        self.write_status_file()
        self.close_sinks()
        logger.info("stopped")
