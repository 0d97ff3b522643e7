"""Durable, ordered outbox of MQTT messages: SQLite in WAL mode under ``storage.state_dir``.

An event is committed here before any publish and deleted only when the broker acknowledged it
(PUBACK), so it survives broker outages, daemon crashes and restarts. Bounded: past ``max_events``
the oldest are dropped, counted and logged.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

logger = logging.getLogger(__name__)


class Outbox:
    def __init__(self, path: Path, max_events: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.max_events = path, max_events
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, "
            "payload BLOB NOT NULL, created REAL NOT NULL)"
        )
        self.dropped = 0

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
