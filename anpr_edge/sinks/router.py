"""Fan-out of the daemon's events: CSV per camera, JSON lines, MQTT outbox, snapshots — in order, one lock.

A sink whose disk refuses writes holds the event in memory and writes it later (``sinks.held.Held``,
used by the line files and the MQTT outbox); a snapshot that cannot be saved is logged and the event
goes on without it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2

from anpr_edge.config.schema import Config
from anpr_edge.core.results import PlateEvent
from anpr_edge.errors import AnprError, ConfigError
from anpr_edge.sinks.camera_state import CameraState
from anpr_edge.sinks.csv_sink import CsvSink, local_time
from anpr_edge.sinks.jsonl import JsonlSink, event_payload
from anpr_edge.sinks.mqtt import MqttSink
from anpr_edge.sinks.outbox import Outbox
from anpr_edge.sinks.snapshots import SnapshotStore

logger = logging.getLogger(__name__)


def iso_utc(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


@dataclasses.dataclass(frozen=True, slots=True)
class SinkState:
    """One output's health for ``/healthz``: ``detail`` says what is wrong (empty when healthy)."""

    name: str
    healthy: bool
    detail: str


class EventRouter:
    """Every event goes to every sink, in order, under one lock (workers of all cameras call it)."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self._lock = threading.Lock()
        self._csv: dict[str, CsvSink] = {}
        self.jsonl = JsonlSink(cfg.outputs.jsonl).__enter__() if cfg.outputs.jsonl else None
        self.mqtt: MqttSink | None = None
        self.outbox: Outbox | None = None
        snaps = cfg.snapshots
        folder = snaps.dir or cfg.storage.state_dir / "snapshots"
        self.snapshots = SnapshotStore(snaps, folder).start() if snaps.enabled else None
        self.camera_state: CameraState | None = None  # retained per-camera MQTT topics (with MQTT)
        self.events = 0

    @property
    def snapshots_on(self) -> bool:
        """Whether events' frames are saved (the pipelines keep each plate's best frame only then)."""
        return self.snapshots is not None

    def csv_for(self, camera: str) -> CsvSink | None:
        c = self.cfg.outputs.csv
        if not c.enabled:
            return None
        path = Path(c.path.replace("{camera}", camera))
        sink = self._csv.get(str(path))
        if sink is None:
            sink = self._csv[str(path)] = CsvSink(path, local_time, c.columns).open()
        return sink

    def emit(self, event: PlateEvent, frame: Any = None) -> None:
        with self._lock:
            if self.snapshots is not None and frame is not None:
                try:
                    event = self.snapshots.save(event, frame)
                except (OSError, cv2.error) as exc:  # a full disk loses the picture, never the event
                    logger.error("snapshot of event %s not saved: %s", event.event_id[:8], exc)
            payload = event_payload(event, iso_utc(event.first_seen))
            if self.mqtt:  # the durable outbox first: once a row is in the CSV, the event is in the outbox
                self.mqtt.publish_event(event.camera, payload)
            sink = self.csv_for(event.camera)
            if sink:
                sink.write(event)
            if self.jsonl:
                self.jsonl.write(event, {"time": payload["time"]})
            if self.camera_state:
                self.camera_state.last_event(event.camera, payload)
            self.events += 1
        logger.info(
            "event %s %s (%.2f) camera %s",
            event.plate,
            event.event_id[:8],
            event.confidence,
            event.camera,
            extra={"camera": event.camera, "plate": event.plate, "event_id": event.event_id},
        )

    def sink_states(self) -> list[SinkState]:
        """Each output's health: a line file or the outbox holding what its disk refused, MQTT disconnected."""
        files = [(f"csv {path}", sink.file.held) for path, sink in list(self._csv.items())]
        if self.jsonl:
            files.append((f"jsonl {self.jsonl.path}", self.jsonl.file.held))
        out = [
            SinkState(name, not held, f"{len(held)} line(s) waiting for the disk" if held else "")
            for name, held in files
        ]
        if self.mqtt:
            m, problems = self.mqtt, []
            if not m.connected.is_set():
                problems.append(
                    f"not connected to {m.cfg.host}:{m.cfg.port}" + (f" ({m.last_error})" if m.last_error else "")
                )
            if m.held:
                problems.append(f"{m.held} event(s) waiting for the outbox's disk")
            out.append(SinkState("mqtt", not problems, "; ".join(problems)))
        return out

    def start(self) -> None:
        """Start MQTT (when :func:`open_router` was told not to)."""
        if self.mqtt and not self.mqtt.started:
            self.mqtt.start()

    def close(self) -> None:
        """MQTT first (in-flight publishes get a moment), then the outbox and the files."""
        if self.mqtt:
            self.mqtt.stop()
        if self.outbox:
            self.outbox.close()
        with self._lock:
            for s in self._csv.values():
                s.close()
            if self.jsonl:
                self.jsonl.__exit__(None, None, None)
        if self.snapshots:
            self.snapshots.close()


def open_router(
    cfg: Config,
    stats: Callable[[], dict[str, Any]],
    start: bool = True,
    latency: Callable[[float], None] | None = None,
) -> EventRouter:
    """Every sink of ``cfg`` opened (a CSV path that cannot be opened fails here, not at the first event),
    MQTT started with its outbox (with ``start`` False, by :meth:`EventRouter.start` later: a reload opens
    the new sinks before it closes the old ones); ``stats`` feeds MQTT's stats topic, ``latency`` takes each
    new event's seconds from first sight to the broker's acknowledgement. A path that cannot be opened is a
    :class:`ConfigError` naming its key."""
    with failing_as("storage.state_dir"):
        cfg.storage.state_dir.mkdir(parents=True, exist_ok=True)
    with failing_as("outputs.jsonl"):
        router = EventRouter(cfg)
    with failing_as("outputs.csv.path", router):
        for cam in cfg.cameras:
            router.csv_for(cam.name)
    mq = cfg.outputs.mqtt
    if mq.enabled:
        with failing_as("storage.state_dir", router):
            outbox = Outbox(cfg.storage.state_dir / "outbox.sqlite", cfg.storage.outbox_max_events)
        backlog = len(outbox)
        if backlog:
            logger.info("outbox holds %d event(s) from before; they are sent first", backlog)
        router.outbox = outbox
        router.mqtt = MqttSink(mq, cfg.device_id, cfg.topic_prefix, outbox, stats, latency)
        router.camera_state = CameraState(router.mqtt, cfg)  # before the first connect: it says what to keep
        if start:
            router.mqtt.start()
    return router


@contextlib.contextmanager
def failing_as(key: str, opened: EventRouter | None = None) -> Iterator[None]:
    """An error opening a sink becomes a :class:`ConfigError` naming the config key (``opened`` is closed)."""
    try:
        yield
    except (OSError, AnprError, sqlite3.Error) as exc:
        if opened is not None:
            opened.close()
        what = f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) and exc.filename else str(exc)
        raise ConfigError(f"{key}: {what}") from None
