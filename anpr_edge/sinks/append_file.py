"""A file that only grows by whole lines, each flushed and fsynced; lines it cannot take yet are held.

A full or failing disk must neither stop the daemon nor lose an accepted event. A line whose write
fails is kept in memory, with every line after it, in order, and written before the next new line
once the file takes writes again (one error in the log when that starts, one line when it ends).
Whatever the failed write left at the end of the file (a row cut off by a full disk) is cut away at
once, so the file never holds half a row; nothing written before is touched. A last line without its
newline found when the file is opened (a crash or a full disk cut it off) is removed and logged in full.
On close, lines still held are logged in full, so they survive in the journal.

Rotation: before each line the file at ``path`` is checked; when it was moved away (``logrotate``'s
default ``create``) the line goes into a new file with the header, and when it was truncated
(``copytruncate``) the header is written again first.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
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
        self._identity: tuple[int, int] | None = None  # (device, inode) of the open file; None: not a regular file

    def open(self) -> AppendFile:
        """Open for appending (``OSError`` if the file cannot be opened). A last line without its newline
        (a row cut off by a crash or a full disk) is removed and logged, so the next line starts clean."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a", encoding="utf-8", newline="")
        st = os.fstat(fh.fileno())
        size = st.st_size
        regular = stat.S_ISREG(st.st_mode)
        if regular and self._good_size is not None and size > self._good_size:
            self._cut_back(fh, size, self._good_size, "a failed write left")
            size = self._good_size
        elif regular and size and self._good_size is None:
            whole = self._whole_lines_size(size)
            if whole < size:
                self._cut_back(fh, size, whole, "a torn last line (no newline: a crash or a full disk cut it off)")
                size = whole
        if size == 0 and self.header is not None:
            fh.write(self.header + "\n")
        self._fh = fh
        self._identity = (st.st_dev, st.st_ino) if regular else None
        self._sync()
        return self

    def _whole_lines_size(self, size: int) -> int:
        """Bytes up to and including the file's last newline."""
        with self.path.open("rb") as fh:
            end = size
            while end > 0:
                start = max(0, end - 65536)
                fh.seek(start)
                chunk = fh.read(end - start)
                cut = chunk.rfind(b"\n")
                if cut >= 0:
                    return start + cut + 1
                end = start
        return 0

    def _cut_back(self, fh: TextIO, size: int, good: int, what: str) -> None:
        fh.flush()
        with self.path.open("rb") as raw:
            raw.seek(good)
            tail = raw.read(min(size - good, 4096)).decode("utf-8", "replace")
        os.ftruncate(fh.fileno(), good)
        logger.warning("%s: removed %d byte(s), %s: %r", self.path, size - good, what, tail)

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
        """One whole line, or ``OSError`` with what the failed write left cut away and the handle dropped
        (the next write reopens the file)."""
        try:
            if self._fh is not None:
                self._follow_rotation()
            if self._fh is None:
                self.open()
            assert self._fh is not None
            self._fh.write(line + "\n")
            self._sync()
        except OSError:
            identity = self._identity
            self._drop_handle()
            self._cut_failed_write(identity)
            raise

    def _follow_rotation(self) -> None:
        """The file was moved away (logrotate ``create``): close it, the next line opens a new one. It was
        truncated (``copytruncate``): the header again, then the line."""
        assert self._fh is not None
        if self._identity is None:
            return  # a device or pipe: nothing to rotate
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            st = None
        if st is None or (st.st_dev, st.st_ino) != self._identity:
            logger.info("%s: moved away (rotated); continuing in a new file", self.path)
            self._drop_handle()
            self._good_size = None
        elif st.st_size < (self._good_size or 0):
            logger.info("%s: truncated (rotated by copy); continuing from its start", self.path)
            if st.st_size == 0 and self.header is not None:
                self._fh.write(self.header + "\n")
            self._sync()

    def _cut_failed_write(self, identity: tuple[int, int] | None) -> None:
        """Cut what a failed write left behind the last whole line (shrinking needs no free space)."""
        if identity is None or self._good_size is None:
            return
        with contextlib.suppress(OSError):
            st = os.stat(self.path)
            if (st.st_dev, st.st_ino) == identity and st.st_size > self._good_size:
                os.truncate(self.path, self._good_size)
                logger.warning("%s: removed %d byte(s) a failed write left", self.path, st.st_size - self._good_size)

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
