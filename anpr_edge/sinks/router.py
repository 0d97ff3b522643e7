"""Fan-out of the daemon's events: CSV per camera, JSON lines, MQTT outbox, snapshots — in order, one lock.

A sink whose disk refuses writes holds the event in memory and writes it later (``sinks.held.Held``,
used by the line files and the MQTT outbox); a snapshot that cannot be saved is logged and the event
goes on without it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2

from anpr_edge.config.schema import Config
from anpr_edge.core.results import PlateEvent
from anpr_edge.sinks.csv_sink import CsvSink, local_time
from anpr_edge.sinks.jsonl import JsonlSink, event_payload
from anpr_edge.sinks.mqtt import MqttSink
from anpr_edge.sinks.outbox import Outbox

logger = logging.getLogger(__name__)


def iso_utc(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


class EventRouter:
    """Every event goes to every sink, in order, under one lock (workers of all cameras call it)."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self._lock = threading.Lock()
        self._csv: dict[str, CsvSink] = {}
        self.jsonl = JsonlSink(cfg.outputs.jsonl).__enter__() if cfg.outputs.jsonl else None
        self.mqtt: MqttSink | None = None
        self.outbox: Outbox | None = None
        self.snap_dir = cfg.snapshots.dir or cfg.storage.state_dir / "snapshots"
        self.events = 0

    def csv_for(self, camera: str) -> CsvSink | None:
        c = self.cfg.outputs.csv
        if not c.enabled:
            return None
        path = Path(c.path.replace("{camera}", camera))
        sink = self._csv.get(str(path))
        if sink is None:
            sink = self._csv[str(path)] = CsvSink(path, local_time, c.columns).open()
        return sink

    def snapshot(self, event: PlateEvent, frame: Any) -> PlateEvent:
        if not self.cfg.snapshots.enabled or frame is None:
            return event
        self.snap_dir.mkdir(parents=True, exist_ok=True)
        path = self.snap_dir / f"{event.camera}_{int(event.last_seen * 1000)}_{event.plate}_{event.event_id[:8]}.jpg"
        x1, y1, x2, y2 = (int(v) for v in event.box)
        h, w = frame.shape[:2]
        crop = frame[max(y1, 0) : min(y2, h), max(x1, 0) : min(x2, w)]
        if crop.size:
            cv2.imwrite(str(path.with_name(path.stem + "_plate.jpg")), crop, [cv2.IMWRITE_JPEG_QUALITY, 95])
        vis = frame.copy()
        cv2.rectangle(vis, (x1, y1), (x2, y2), (0, 220, 0), 2)
        cv2.imwrite(str(path), vis, [cv2.IMWRITE_JPEG_QUALITY, 85])
        # Retention: max_files events (frame + plate crop each), oldest first out.
        files = sorted(self.snap_dir.glob("*.jpg"), key=lambda p: p.stat().st_mtime)
        for old in files[: max(0, len(files) - 2 * self.cfg.snapshots.max_files)]:
            old.unlink(missing_ok=True)
        return dataclasses.replace(event, snapshot=str(path))

    def emit(self, event: PlateEvent, frame: Any = None) -> None:
        with self._lock:
            try:
                event = self.snapshot(event, frame)
            except (OSError, cv2.error) as exc:  # a full disk loses the picture, never the event
                logger.error("snapshot of event %s not saved: %s", event.event_id[:8], exc)
            sink = self.csv_for(event.camera)
            if sink:
                sink.write(event)
            payload = event_payload(event, iso_utc(event.first_seen))
            if self.jsonl:
                self.jsonl.write(event, {"time": payload["time"]})
            if self.mqtt:
                self.mqtt.publish_event(event.camera, payload)
            self.events += 1
        logger.info(
            "event %s %s (%.2f) camera %s",
            event.plate,
            event.event_id[:8],
            event.confidence,
            event.camera,
            extra={"camera": event.camera, "plate": event.plate, "event_id": event.event_id},
        )

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


def open_router(cfg: Config, stats: Callable[[], dict[str, Any]]) -> EventRouter:
    """Every sink of ``cfg`` opened (a CSV path that cannot be opened fails here, not at the first event),
    MQTT started with its outbox; ``stats`` feeds MQTT's stats topic."""
    cfg.storage.state_dir.mkdir(parents=True, exist_ok=True)
    router = EventRouter(cfg)
    for cam in cfg.cameras:
        router.csv_for(cam.name)
    mq = cfg.outputs.mqtt
    if mq.enabled:
        outbox = Outbox(cfg.storage.state_dir / "outbox.sqlite", cfg.storage.outbox_max_events)
        backlog = len(outbox)
        if backlog:
            logger.info("outbox holds %d event(s) from before; they are sent first", backlog)
        router.outbox = outbox
        router.mqtt = MqttSink(mq, cfg.device_id, cfg.topic_prefix, outbox, stats)
        router.mqtt.start()
    return router
