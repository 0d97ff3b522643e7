"""Events as JSON lines (the same payload MQTT carries), appended and fsynced per event."""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import Any

from anpr_edge.core.results import PlateEvent
from anpr_edge.sinks.append_file import AppendFile

PAYLOAD_VERSION = 1


def event_payload(e: PlateEvent, time_iso: str | None = None) -> dict[str, Any]:
    """The documented event payload (``docs/event.schema.json``), minus transport fields."""
    data: dict[str, Any] = {
        "version": PAYLOAD_VERSION,
        "event_id": e.event_id,
        "camera": e.camera,
        "plate": e.plate,
        "partial": e.partial,
        "confidence": e.confidence,
        "chars": [[c, p] for c, p in e.chars],
        "first_seen": e.first_seen,
        "last_seen": e.last_seen,
        "box": list(e.box),
        "frame_size": list(e.frame_size),
        "track_id": e.track_id,
        "frames_seen": e.frames_seen,
        "reads": e.reads,
        "type": e.type,
        "format": e.format,
    }
    if e.direction is not None:
        data["direction"] = e.direction
    if time_iso is not None:
        data["time"] = time_iso
    if e.snapshot:
        data["snapshot"] = e.snapshot
    return data


class JsonlSink:
    """One JSON object per line, flushed and fsynced per event; held while the disk fails (:class:`AppendFile`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = AppendFile(path)

    def __enter__(self) -> JsonlSink:
        self.file.open()
        return self

    def write(self, event: PlateEvent, extra: dict[str, Any] | None = None) -> None:
        self.file.append(json.dumps({**event_payload(event), **(extra or {})}, ensure_ascii=False))

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.file.close()
