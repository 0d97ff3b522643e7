"""The running cameras: one :class:`~anpr_edge.daemon.worker.CameraWorker` (with its capture thread) each.

Started and stopped by name; stopping sets each camera's stop event, joins every capture thread, then
every worker (each emits its open tracks on the way out).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from anpr_edge.config.schema import Config
from anpr_edge.daemon.health import CameraSample
from anpr_edge.daemon.status import CameraStats, Rates
from anpr_edge.daemon.worker import CameraWorker
from anpr_edge.errors import AnprError

if TYPE_CHECKING:
    from anpr_edge.inference.models import Models
    from anpr_edge.recognition.pipeline import StageTimes
    from anpr_edge.sinks.router import EventRouter

logger = logging.getLogger(__name__)


class CameraSet:
    """``timer``: a camera's per-stage latency recorder (the metrics' histograms), or None."""

    def __init__(self, timer: Callable[[str], StageTimes] | None = None) -> None:
        self.workers: dict[str, CameraWorker] = {}
        self.rates = Rates()
        self.timer = timer

    def __len__(self) -> int:
        return len(self.workers)

    def start(self, names: Iterable[str], cfg: Config, models: Models, router: EventRouter) -> None:
        cams = {c.name: c for c in cfg.cameras}
        for name in names:
            try:
                router.csv_for(name)  # opened at start; on reload a bad CSV path keeps the camera off
            except AnprError as exc:
                logger.error("reload: camera %s not started: %s", name, exc)
                continue
            timings = self.timer(name) if self.timer else None
            w = CameraWorker(cams[name], cfg.camera_settings(cams[name]), models, router, timings)
            self.workers[name] = w
            w.start()

    def update(self, names: Iterable[str], cfg: Config) -> None:
        """New recognition settings, taken at each camera's next frame."""
        cams = {c.name: c for c in cfg.cameras}
        for name in names:
            self.workers[name].update_settings(cams[name], cfg.camera_settings(cams[name]))

    def stop(self, names: Iterable[str], timeout: float = 3.0) -> None:
        workers = [self.workers.pop(n) for n in list(names) if n in self.workers]
        for w in workers:
            w.stop_event.set()
        for w in workers:
            w.capture.join(timeout=timeout)
        for w in workers:
            w.join(timeout=timeout)
        for w in workers:
            self.rates.forget(w.cam.name)

    def stop_all(self, timeout: float = 3.0) -> None:
        self.stop(list(self.workers), timeout)

    def all_finished(self) -> bool:
        """Every camera's source ended (non-looping files) and its worker is done."""
        return bool(self.workers) and all(not w.is_alive() and w.capture.finished for w in self.workers.values())

    def stuck(self, now: float, limit: float) -> bool:
        return any(w.stuck(now, limit) for w in self.workers.values())

    def samples(self) -> tuple[CameraSample, ...]:
        return tuple(w.sample() for w in list(self.workers.values()))  # a copy: the HTTP thread reads too

    def stats(self) -> dict[str, CameraStats]:
        return {n: self.rates.apply(n, w.stats()) for n, w in self.workers.items()}
