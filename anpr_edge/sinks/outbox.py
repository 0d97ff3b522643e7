"""Durable, ordered outbox of MQTT messages: SQLite in WAL mode under ``storage.state_dir``.

An event is committed here before any publish and deleted only when the broker acknowledged it
(PUBACK), so it survives broker outages, daemon crashes and restarts. Bounded: past ``max_events``
the oldest are dropped, counted and logged.

A corrupt outbox never blocks the start: it is moved aside (``outbox.sqlite.corrupt-<time>``, with its
``-wal``/``-shm``), the events that can still be read are carried over, in order, into a fresh one, and
one error line says how many.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from pathlib import Path

logger = logging.getLogger(__name__)


Row = tuple[str, bytes, float]  # topic, payload, created


class Outbox:
    def __init__(self, path: Path, max_events: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.max_events = path, max_events
        self._lock = threading.Lock()
        self.dropped = 0
        try:
            self._db = _open(path)
        except sqlite3.OperationalError:
            raise  # cannot open, locked, read-only, I/O error: not the file's fault; nothing is moved
        except sqlite3.DatabaseError as exc:  # not a database, malformed: the file is damaged
            self._db = self._replace_corrupt(exc)

    def _replace_corrupt(self, exc: sqlite3.DatabaseError) -> sqlite3.Connection:
        rows = salvage(self.path)
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
        for suffix in ("", "-wal", "-shm"):
            src = Path(f"{self.path}{suffix}")
            if src.exists():
                src.replace(Path(f"{aside}{suffix}"))
        db = _open(self.path)
        db.executemany("INSERT INTO outbox (topic, payload, created) VALUES (?, ?, ?)", rows)
        logger.error(
            "outbox %s is corrupt (%s): moved to %s; %d event(s) that could still be read carried over",
            self.path,
            exc,
            aside.name,
            len(rows),
        )
        return db

    def add(self, topic: str, payload: bytes) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO outbox (topic, payload, created) VALUES (?, ?, ?)", (topic, payload, time.time())
            )
            seq = int(cur.lastrowid or 0)
            over = self._count() - self.max_events
            if over > 0:
                self._db.execute(
                    "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)", (over,)
                )
                self.dropped += over
                logger.error(
                    "outbox full (%d events): dropped the %d oldest (total dropped %d)",
                    self.max_events,
                    over,
                    self.dropped,
                )
            return seq

    def after(self, seq: int, limit: int) -> list[tuple[int, str, bytes]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
            ).fetchall()
        return [(int(s), str(t), bytes(p)) for s, t, p in rows]

    def ack(self, seq: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def _count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def __len__(self) -> int:
        with self._lock:
            return self._count()

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _open(path: Path) -> sqlite3.Connection:
    """The outbox database, checked: ``sqlite3.DatabaseError`` when the file is not a sound SQLite file."""
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, "
            "payload BLOB NOT NULL, created REAL NOT NULL)"
        )
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise sqlite3.DatabaseError(f"quick_check: {check}")
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def salvage(path: Path, max_probes: int = 64) -> list[Row]:
    """The rows of a damaged outbox that can still be read, in order. A damaged page stops a scan; the
    scan goes on past it at doubling distances (a page holds a run of consecutive sequence numbers)."""
    rows: list[Row] = []
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return rows
    last, step, probes = 0, 1, 0
    with contextlib.closing(db):
        while probes < max_probes:
            try:
                cur = db.execute("SELECT seq, topic, payload, created FROM outbox WHERE seq > ? ORDER BY seq", (last,))
                for seq, topic, payload, created in cur:
                    rows.append((str(topic), bytes(payload), float(created)))
                    last, step = int(seq), 1
                return rows
            except sqlite3.Error:
                last, step, probes = last + step, step * 2, probes + 1
    return rows
