"""Append-only CSV of events: header written once, one flushed (and fsynced) row per event.

An existing file is never truncated (:class:`~anpr_edge.sinks.append_file.AppendFile`: a row the disk
refuses is held and written later). If its header differs from the configured columns the sink refuses
to start (naming the file) rather than mixing two layouts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType

from anpr_edge.core.results import PlateEvent
from anpr_edge.errors import InputError
from anpr_edge.sinks.append_file import AppendFile

#: Optional columns a daemon CSV may add after ``time;plate_num``.
EXTRA_COLUMNS: dict[str, Callable[[PlateEvent], str]] = {
    "camera": lambda e: e.camera,
    "confidence": lambda e: f"{e.confidence:.3f}",
    "event_id": lambda e: e.event_id,
    "partial": lambda e: "1" if e.partial else "0",
    "track_id": lambda e: str(e.track_id),
    "type": lambda e: e.type,
    "direction": lambda e: e.direction or "",
    "format": lambda e: e.format,
}
#: Events whose last written plate a sink remembers, to write an update only when it changes the plate.
REMEMBERED = 1000


def video_time(seconds: float) -> str:
    """``mm:ss.cc``, or ``h:mm:ss.cc`` from one hour on."""
    cs = round(seconds * 100)
    h, rem = divmod(cs, 360000)
    m, rem = divmod(rem, 6000)
    s, c = divmod(rem, 100)
    return f"{h}:{m:02d}:{s:02d}.{c:02d}" if h else f"{m:02d}:{s:02d}.{c:02d}"


def local_time(seconds: float) -> str:
    """Local date-time with centiseconds, e.g. ``2026-11-24 10:15:03.27``."""
    dt = datetime.fromtimestamp(seconds)
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{dt.microsecond // 10000:02d}"


class CsvSink:
    def __init__(
        self, path: Path, time_format: Callable[[float], str], extra: Sequence[str] = (), delimiter: str = ";"
    ) -> None:
        unknown = [c for c in extra if c not in EXTRA_COLUMNS]
        if unknown:
            raise InputError(f"unknown CSV column(s) {unknown}; choose from {sorted(EXTRA_COLUMNS)}")
        self.path, self.time_format, self.extra, self.delimiter = path, time_format, list(extra), delimiter
        self.header = delimiter.join(["time", "plate_num", *self.extra])
        self.file = AppendFile(path, self.header)
        self.rows = 0
        self._plates: dict[str, str] = {}  # event_id -> plate written, the latest REMEMBERED events

    def open(self) -> CsvSink:
        """Open (at start: a file that cannot be opened, or has other columns, is an error naming it)."""
        try:
            first = ""
            if self.path.is_file():  # not a device or pipe (/dev/stdout): nothing there to read back
                with self.path.open(encoding="utf-8", errors="replace", newline="") as fh:
                    first = fh.readline(4096).rstrip("\r\n")
            if first and first != self.header:
                raise InputError(
                    f"{self.path}: existing CSV has columns {first[:200]!r}, configured {self.header!r}; "
                    "move the old file away or change outputs.csv"
                )
            self.file.open()
        except OSError as exc:
            raise InputError(f"{self.path}: cannot open CSV for appending ({exc.strerror})") from None
        return self

    def write(self, event: PlateEvent) -> None:
        """Append the event's row; if the disk fails it is held and written later (:class:`AppendFile`).

        An update (a better read of a pass already written) adds a row with the pass's time and the new
        plate, only when the plate changed; a ``type`` / ``event_id`` column tells the rows apart."""
        if event.type == "update" and self._plates.get(event.event_id) == event.plate:
            return
        self._plates[event.event_id] = event.plate
        if len(self._plates) > REMEMBERED:
            del self._plates[next(iter(self._plates))]
        cells = [self.time_format(event.first_seen), event.plate, *(EXTRA_COLUMNS[c](event) for c in self.extra)]
        self.file.append(self.delimiter.join(cells))
        self.rows += 1

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> CsvSink:
        return self.open()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
