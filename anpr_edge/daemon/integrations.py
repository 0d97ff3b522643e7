"""What integrators reach for, driven by the daemon: ``/healthz`` and ``/metrics`` over HTTP, and each
camera's availability (and Home Assistant's entities) kept on MQTT.

The daemon hands over a function that takes a :class:`~anpr_edge.daemon.health.Sample`; the HTTP thread
calls it per request, :meth:`Integrations.tick` (from the daemon's loop) once a second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from anpr_edge.config.schema import HttpConfig
from anpr_edge.daemon.health import Health, Sample, evaluate
from anpr_edge.daemon.http import HttpServer
from anpr_edge.daemon.metrics import Metrics
from anpr_edge.errors import ConfigError
from anpr_edge.sinks.router import iso_utc

if TYPE_CHECKING:
    from anpr_edge.sinks.router import EventRouter

logger = logging.getLogger(__name__)

TICK_S = 1.0


class Integrations:
    def __init__(self, sample: Callable[[], Sample], clock: Callable[[], float] = time.monotonic) -> None:
        self._sample, self._clock = sample, clock
        self.metrics = Metrics(sample, clock)
        self.http: HttpServer | None = None
        self._next_tick = 0.0

    @property
    def address(self) -> str:
        """Where ``/healthz`` answers, for the start-up line (``off`` when ``http: false``)."""
        return self.http.address if self.http else "off"

    def health(self) -> Health:
        return evaluate(self._sample(), self._clock())

    def start_http(self, cfg: HttpConfig) -> None:
        """Serve ``/healthz`` and ``/metrics`` (``ConfigError`` naming ``http.listen`` if it cannot bind)."""
        if cfg.enabled:
            self.http = HttpServer(cfg.listen, self.health, self.metrics.exposition)
            self.http.start()

    def restart_http(self, cfg: HttpConfig) -> None:
        """A reload changed ``http``: serve at the new address; if it cannot bind, say so and run without."""
        self.stop()
        try:
            self.start_http(cfg)
        except ConfigError as exc:
            self.http = None
            logger.error("reload: %s; /healthz and /metrics are off until the next reload", exc)

    def tick(self, router: EventRouter | None) -> None:
        """Once a second: each camera's availability on MQTT when it changed, the running cameras' retained
        topics (new ones announced, removed ones cleared), histograms of removed cameras forgotten."""
        now = self._clock()
        if now < self._next_tick:
            return
        self._next_tick = now + TICK_S
        sample = self._sample()
        names = {c.name for c in sample.cameras}
        self.metrics.keep_cameras(names)
        state = router.camera_state if router else None
        if state is None:
            return
        state.set_cameras(names)
        stamp = iso_utc(time.time())
        cams = {c.name: c for c in sample.cameras}
        for h in evaluate(sample, now).cameras:
            c = cams[h.name]
            if c.last_frame_at is None and now - c.started_at <= c.stall_timeout_s:
                continue  # still connecting: neither up nor (yet) down
            state.availability(h.name, h.up, c.state, stamp, h.problem)

    def stop(self) -> None:
        if self.http is not None:
            self.http.stop()
            self.http = None
