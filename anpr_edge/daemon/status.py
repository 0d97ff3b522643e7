"""What the daemon reports about itself: typed stats, the one-line status, the status file.

``Stats`` is built by the app every couple of seconds; the same numbers go to the log (``status_line``),
systemd's ``STATUS=``, ``<state_dir>/status.json`` (read by ``anpr-edge status``) and MQTT's stats topic.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from anpr_edge.daemon.notify import Notifier
    from anpr_edge.sinks.mqtt import MqttSink
    from anpr_edge.sinks.router import EventRouter

logger = logging.getLogger(__name__)

STATUS_FILE = "status.json"

#: Seconds over which fps_in / fps_out are averaged.
RATE_WINDOW_S = 10.0


@dataclass(frozen=True, slots=True)
class CameraStats:
    state: str
    frames_in: int
    frames_out: int
    idle: int  # of frames_out: no detector, nothing moved
    dropped: int
    reconnects: int
    events: int
    fps_in: float = 0.0
    fps_out: float = 0.0


@dataclass(frozen=True, slots=True)
class MqttStats:
    connected: bool
    outbox: int
    published: int
    outbox_dropped: int


@dataclass(frozen=True, slots=True)
class Stats:
    pid: int
    uptime_s: float
    updated: float  # wall clock, for staleness
    performance: str
    cameras: Mapping[str, CameraStats]
    events: int
    mqtt: MqttStats | None = None

    def to_json(self) -> dict[str, Any]:
        """The status file's layout (``mqtt`` only when MQTT is enabled)."""
        out = dataclasses.asdict(self)
        out["cameras"] = {name: dataclasses.asdict(c) for name, c in self.cameras.items()}
        if self.mqtt is None:
            del out["mqtt"]
        return out


class Rates:
    """fps_in / fps_out of each camera from its counters, averaged over about ``RATE_WINDOW_S``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._marks: dict[str, tuple[float, int, int]] = {}

    def apply(self, name: str, cam: CameraStats) -> CameraStats:
        now = self.clock()
        t0, fin, fout = self._marks.get(name, (now, cam.frames_in, cam.frames_out))
        dt = max(now - t0, 1e-6)
        fps_in = round((cam.frames_in - fin) / dt, 2) if now > t0 else 0.0
        fps_out = round((cam.frames_out - fout) / dt, 2) if now > t0 else 0.0
        if now - t0 > RATE_WINDOW_S or name not in self._marks:
            self._marks[name] = (now, cam.frames_in, cam.frames_out)
        return dataclasses.replace(cam, fps_in=fps_in, fps_out=fps_out)

    def forget(self, name: str) -> None:
        self._marks.pop(name, None)


def mqtt_stats(sink: MqttSink | None) -> MqttStats | None:
    if sink is None:
        return None
    return MqttStats(sink.connected.is_set(), len(sink.outbox), sink.published, sink.outbox.dropped)


def collect(started: float, performance: str, cameras: Mapping[str, CameraStats], router: EventRouter | None) -> Stats:
    """The daemon's numbers now (``started``: its wall-clock start)."""
    now = time.time()
    mqtt = mqtt_stats(router.mqtt) if router else None
    return Stats(os.getpid(), round(now - started, 1), now, performance, cameras, router.events if router else 0, mqtt)


def status_line(stats: Stats) -> str:
    parts = [
        f"{n}: {c.state} in {c.fps_in:.1f} out {c.fps_out:.1f} fps idle {c.idle} drop {c.dropped} "
        f"reconn {c.reconnects} events {c.events}"
        for n, c in stats.cameras.items()
    ]
    if stats.mqtt is not None:
        parts.append(f"mqtt {'up' if stats.mqtt.connected else 'down'} outbox {stats.mqtt.outbox}")
    return "; ".join(parts) or "no cameras"


def write_status_file(state_dir: Path, stats: Stats) -> None:
    """Replace ``<state_dir>/status.json`` atomically; a failure is a warning (the daemon runs on)."""
    path = state_dir / STATUS_FILE
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(stats.to_json(), indent=1))
        tmp.replace(path)
    except OSError as exc:
        logger.warning("cannot write %s: %s", path, exc)


class Reporter:
    """The status file and systemd's ``STATUS=`` every ``file_every_s``, the status log line every
    ``log_every_s`` (the first one after a full period)."""

    def __init__(self, notifier: Notifier, log_every_s: float, file_every_s: float = 2.0) -> None:
        self.notifier, self.log_every_s, self.file_every_s = notifier, log_every_s, file_every_s
        self._next_file = 0.0
        self._next_log: float | None = None

    def tick(self, now: float, stats: Callable[[], Stats], state_dir: Path) -> None:
        if self._next_log is None:
            self._next_log = now + self.log_every_s
        if now >= self._next_file:
            current = stats()
            write_status_file(state_dir, current)
            self.notifier.status(status_line(current))
            self._next_file = now + self.file_every_s
        if now >= self._next_log:
            logger.info("status %s", status_line(stats()))
            self._next_log = now + self.log_every_s
