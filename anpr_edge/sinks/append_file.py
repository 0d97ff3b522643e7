"""A file that only grows by whole lines, each flushed and fsynced; lines it cannot take yet are held.

A full or failing disk must neither stop the daemon nor lose an accepted event. A line whose write
fails is kept in memory, with every line after it, in order, and written before the next new line
once the file takes writes again (one error in the log when that starts, one line when it ends).
Whatever the failed write left at the end of the file (a row cut off by a full disk) is cut away
first, so the file never holds half a row; nothing written before is touched. On close, lines still
held are logged in full, so they survive in the journal.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import TextIO

from anpr_edge.sinks.held import MAX_HELD, Held

logger = logging.getLogger(__name__)


class AppendFile:
    """``append(line)``; ``header`` is written first into an empty file (a new one, or one moved away)."""

    def __init__(self, path: Path, header: str | None = None, max_held: int = MAX_HELD) -> None:
        self.path, self.header = path, header
        self.held: Held[str] = Held(str(path), self._write, (OSError,), "cannot append", "not written", max_held)
        self._fh: TextIO | None = None
        self._good_size: int | None = None  # file size after the last whole line written here

    def open(self) -> AppendFile:
        """Open for appending (``OSError`` if the file cannot be opened); a file whose last line has no
        newline (edited by hand) gets one, so the next line starts on its own."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a", encoding="utf-8", newline="")
        size = os.fstat(fh.fileno()).st_size
        if self._good_size is not None and size > self._good_size:
            fh.close()
            os.truncate(self.path, self._good_size)  # only what our failed write left
            logger.warning("%s: removed %d byte(s) a failed write left", self.path, size - self._good_size)
            fh = self.path.open("a", encoding="utf-8", newline="")
            size = self._good_size
        if size == 0 and self.header is not None:
            fh.write(self.header + "\n")
        elif size and self._good_size is None and not self._ends_with_newline():
            fh.write("\n")
        self._fh = fh
        self._sync()
        return self

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"

    def _sync(self) -> None:
        assert self._fh is not None
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._good_size = os.fstat(self._fh.fileno()).st_size

    def append(self, line: str) -> bool:
        """Write ``line`` (without its newline) after any held lines; False when it is held for later."""
        self.held.put(line)
        return not self.held

    def _write(self, line: str) -> None:
        """One whole line, or ``OSError`` with the handle dropped (the next write reopens the file)."""
        try:
            if self._fh is None:
                self.open()
            assert self._fh is not None
            self._fh.write(line + "\n")
            self._sync()
        except OSError:
            self._drop_handle()
            raise

    def _drop_handle(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            with contextlib.suppress(OSError):  # closing flushes what the failed write left: may fail again
                fh.close()

    def close(self) -> None:
        """Close; lines that still cannot be written are logged in full (the journal keeps them)."""
        if self.held:
            self.held.close()
        self._drop_handle()
