"""The running cameras: one :class:`~anpr_edge.daemon.worker.CameraWorker` (with its capture thread) each.

Started and stopped by name; stopping sets each camera's stop event, joins every capture thread, then
every worker (each emits its open tracks on the way out).

A camera whose worker or capture thread dies (a bug: a bad frame is only skipped) is restarted after
0.5, 1, 2, 4 ... s (at most 30 s). One that dies again within a minute of each of ``MAX_RESTARTS``
restarts is given up: :meth:`CameraSet.given_up` names it, and the daemon stops its watchdog pings so
that systemd restarts the whole process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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

MAX_RESTARTS = 5
QUICK_DEATH_S = 60.0  # a restarted camera that dies sooner counts towards giving up


@dataclass
class Restarts:
    failures: int = 0  # deaths in a row, each within QUICK_DEATH_S of the camera's start
    due: float | None = None  # monotonic time of the pending restart
    given_up: bool = False


class CameraSet:
    """``timer``: a camera's per-stage latency recorder (the metrics' histograms), or None."""

    def __init__(self, timer: Callable[[str], StageTimes] | None = None) -> None:
        self.workers: dict[str, CameraWorker] = {}
        self.rates = Rates()
        self.restarts: dict[str, Restarts] = {}
        self.unhealthy: str | None = None  # why the watchdog is not pinged (None: it is)
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
        self._join(workers, timeout)
        for w in workers:
            self.rates.forget(w.cam.name)
            self.restarts.pop(w.cam.name, None)

    def stop_all(self, timeout: float = 3.0) -> None:
        """Stop every camera; they stay listed, so the last status shows their final numbers."""
        self._join(list(self.workers.values()), timeout)

    @staticmethod
    def _join(workers: list[CameraWorker], timeout: float) -> None:
        for w in workers:
            w.stop_event.set()
        for w in workers:
            w.capture.join(timeout=timeout)
        for w in workers:
            w.join(timeout=timeout)

    def all_finished(self) -> bool:
        """Every camera's source ended (non-looping files) and its worker is done."""
        return bool(self.workers) and all(not w.is_alive() and w.capture.finished for w in self.workers.values())

    def supervise(self, now: float) -> None:
        """Restart, with backoff, every camera whose worker or capture thread died."""
        for name, w in list(self.workers.items()):
            r = self.restarts.setdefault(name, Restarts())
            if r.given_up or not w.died():
                continue
            if r.due is None:
                r.failures = r.failures + 1 if now - w.started_at < QUICK_DEATH_S else 1
                if r.failures > MAX_RESTARTS:
                    r.given_up = True
                    logger.error(
                        "camera %s: died %d times in a row soon after starting; not restarted again: "
                        "watchdog pings stop, so systemd restarts the daemon",
                        name,
                        r.failures,
                        extra={"camera": name},
                    )
                    continue
                r.due = now + min(30.0, 0.5 * 2 ** (r.failures - 1))
                logger.warning("camera %s: stopped unexpectedly; restarting in %.1f s", name, r.due - now)
            if now >= r.due:
                r.due = None
                w.stop_event.set()
                self.rates.forget(name)
                fresh = self.workers[name] = w.respawn()
                fresh.start()
                logger.info("camera %s: restarted (%d in a row)", name, r.failures, extra={"camera": name})

    def given_up(self) -> list[str]:
        """Cameras that could not be kept running."""
        return [n for n, r in self.restarts.items() if r.given_up]

    def healthy(self, now: float, watchdog_interval: float) -> bool:
        """Every pipeline and capture thread made progress within two watchdog intervals (at least 5 s) and
        none was given up. While not, the daemon stops its watchdog pings (said once in the log) and systemd
        restarts it."""
        problem = self.problem(now, max(5.0, 2 * watchdog_interval))
        if problem != self.unhealthy:
            log = logger.error if problem else logger.info
            log("watchdog pings %s", f"stop: {problem}" if problem else "resume")
            self.unhealthy = problem
        return problem is None

    def problem(self, now: float, limit: float) -> str | None:
        """Why the daemon is not healthy: a camera stuck for ``limit`` s or given up (None: all well)."""
        given_up = self.given_up()
        if given_up:
            return f"camera {given_up[0]}: could not be kept running"
        return next((why for w in self.workers.values() if (why := w.stuck(now, limit))), None)

    def samples(self) -> tuple[CameraSample, ...]:
        return tuple(w.sample() for w in list(self.workers.values()))  # a copy: the HTTP thread reads too

    def stats(self) -> dict[str, CameraStats]:
        return {n: self.rates.apply(n, w.stats()) for n, w in self.workers.items()}
