"""The long-running daemon: ``anpr-edge run --config FILE``.

Reads like its life: ``start`` (models → sinks → cameras → READY), ``run`` (status, watchdog, reload on
SIGHUP), ``stop`` (reverse order: cameras with their open tracks, then sinks). What a reload changes is
decided by :mod:`~anpr_edge.daemon.reload`, the numbers it reports by :mod:`~anpr_edge.daemon.status`.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path

from anpr_edge import logs
from anpr_edge.config.checks import load_checked, models_of
from anpr_edge.config.schema import Config
from anpr_edge.daemon import status
from anpr_edge.daemon.cameras import CameraSet
from anpr_edge.daemon.health import Sample, take_sample
from anpr_edge.daemon.integrations import Integrations
from anpr_edge.daemon.notify import Notifier
from anpr_edge.daemon.reload import ReloadPlan, plan_reload
from anpr_edge.errors import AnprError
from anpr_edge.heap import give_back
from anpr_edge.inference.models import Models
from anpr_edge.sinks.router import EventRouter, open_router

logger = logging.getLogger(__name__)


class Daemon:
    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self.cfg: Config = load_checked(config_path)
        self.stop_event = threading.Event()  # stops everything (SIGTERM)
        self.reload_requested = threading.Event()
        self.notifier = Notifier()
        self.models: Models | None = None
        self.router: EventRouter | None = None
        self.integrations = Integrations(self.sample)  # /healthz, /metrics, camera availability on MQTT
        self.cameras = CameraSet(self.integrations.metrics.stage_timer)
        self.started = time.time()

    # start ---------------------------------------------------------------------------------
    def start(self) -> None:
        self.models = models_of(self.cfg)
        self.router = self.init_sinks(self.cfg)
        self.start_cameras([c.name for c in self.cfg.cameras if c.enabled])
        self.integrations.start_http(self.cfg.http)
        self.notifier.ready(self.status_line())
        m = self.models
        running = f"{len(self.cameras)} camera(s), device {self.cfg.models.device} "
        running += f"(detector {m.detector.backend.precision}, reader {m.ocr.backend.precision}), "
        running += f"performance {self.cfg.performance_hint()}; http {self.integrations.address}, "
        logger.info("anpr-edge running: %ssystemd notify %s, log %s", running, self.notifier.backend, logs.target())

    def init_sinks(self, cfg: Config, start: bool = True) -> EventRouter:
        return open_router(cfg, lambda: self.stats().to_json(), start, self.integrations.metrics.event_latency.observe)

    def start_cameras(self, names: list[str]) -> None:
        assert self.models is not None and self.router is not None
        self.cameras.start(names, self.cfg, self.models, self.router)

    # run -----------------------------------------------------------------------------------
    def run(self) -> int:
        install_signals(self.stop_event, self.reload_requested)
        try:
            self.start()
        except BaseException:  # a start that fails leaves no thread or open sink behind
            self.cameras.stop_all(timeout=2.0)
            self.close_sinks()
            raise
        reporter = status.Reporter(self.notifier, self.cfg.logging.status_interval_s)
        while not self.stop_event.wait(0.2):
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                self.reload()
            now = time.monotonic()
            self.cameras.supervise(now)
            self.notifier.keepalive(now, self.cameras.healthy)
            reporter.tick(now, self.stats, self.cfg.storage.state_dir)
            self.integrations.tick(self.router)
            if self.cameras.all_finished():
                logger.info("every camera source has ended; stopping")
                break
        self.stop()
        return 0

    def reload(self) -> None:
        self.notifier.reloading()
        try:  # everything new is built before anything old is stopped: a failure keeps the running config
            new = load_checked(self.config_path)
            plan = plan_reload(self.cfg, new)
            models = models_of(new) if plan.models else self.models
            router = self.init_sinks(new, start=False) if plan.sinks else self.router
        except AnprError as exc:
            one_line = "; ".join(str(exc).splitlines())
            logger.error("reload: new configuration rejected, keeping the old one: %s", one_line)
        else:
            self.apply(plan, new, models, router)
            if plan.models:
                give_back()  # what the old models held
            logger.info("reload: configuration %s applied", self.config_path)
        self.notifier.ready(self.status_line())

    def apply(self, plan: ReloadPlan, new: Config, models: Models | None, router: EventRouter | None) -> None:
        old_http = self.cfg.http
        if plan.rebuild:
            logger.info("reload: models/outputs/storage changed: restarting every camera and sink")
        self.cameras.stop([*plan.stop, *plan.restart])
        self.cfg, self.models = new, models
        if router is not self.router:
            self.close_sinks()
            self.router = router
        if self.router is not None:
            self.router.start()
        self.start_cameras([*plan.start, *plan.restart])
        self.cameras.update(plan.update, new)
        if new.http != old_http:
            self.integrations.restart_http(new.http)

    # observability -------------------------------------------------------------------------
    def stats(self) -> status.Stats:
        return status.collect(self.started, self.cfg.performance_hint(), self.cameras.stats(), self.router)

    def sample(self) -> Sample:
        """Health's and metrics' view (read by the HTTP thread as well)."""
        return take_sample(self.cameras.samples(), self.router)

    def status_line(self) -> str:
        return status.status_line(self.stats())

    # stop ----------------------------------------------------------------------------------
    def close_sinks(self) -> None:
        if self.router:
            self.router.close()
            self.router = None

    def stop(self) -> None:
        self.notifier.stopping()
        logger.info("stopping")
        self.stop_event.set()
        self.integrations.stop()
        self.cameras.stop_all(timeout=2.0)
        status.write_status_file(self.cfg.storage.state_dir, self.stats())
        self.close_sinks()
        logger.info("stopped")


def install_signals(stop: threading.Event, reload: threading.Event) -> None:
    """SIGTERM and SIGINT set ``stop``, SIGHUP sets ``reload``."""
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: reload.set())
