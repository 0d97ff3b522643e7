"""What a sink's disk refused: kept in memory, in order, and stored first once the disk takes writes.

Shared by the line files (:class:`~anpr_edge.sinks.append_file.AppendFile`) and the MQTT outbox. One
error in the log when a failure starts, one line when it ends; at shutdown whatever is still held is
logged in full, so the journal keeps it.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Items held at most while the disk fails; beyond, the oldest go (counted, logged).
MAX_HELD = 100_000


class Held(Generic[T]):
    """``put(item)`` stores it with ``store`` after everything held before it; an item whose ``store``
    raises one of ``errors`` waits (with all after it) for the next ``put`` or ``drain``. The log names
    the sink (``what``) and says what failed (``cannot``: "cannot append") and what was lost at the end
    (``not_stored``: "not written")."""

    def __init__(
        self,
        what: str,
        store: Callable[[T], object],
        errors: tuple[type[Exception], ...],
        cannot: str = "cannot store",
        not_stored: str = "not stored",
        max_items: int = MAX_HELD,
    ) -> None:
        self.what, self.store, self.errors, self.max_items = what, store, errors, max_items
        self.cannot, self.not_stored = cannot, not_stored
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._failing = False
        self.lost = 0  # items dropped because more than max_items were held

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items))

    def put(self, item: T) -> None:
        with self._lock:
            self._items.append(item)
            if len(self._items) > self.max_items:
                self._items.popleft()
                self.lost += 1
                logger.error("%s: over %d held; the oldest dropped (%d so far)", self.what, self.max_items, self.lost)
        self.drain()

    def drain(self) -> None:
        """Store the held items, oldest first, as far as the disk takes them."""
        with self._lock:
            while self._items:
                try:
                    self.store(self._items[0])
                except self.errors as exc:
                    if not self._failing:
                        reason = getattr(exc, "strerror", None) or exc
                        logger.error(
                            "%s: %s (%s); %d held in memory and stored when it can",
                            self.what,
                            self.cannot,
                            reason,
                            len(self._items),
                        )
                    self._failing = True
                    return
                self._items.popleft()
            if self._failing:
                logger.warning("%s: writable again; what was held is stored", self.what)
                self._failing = False

    def close(self, describe: Callable[[T], str] = str) -> None:
        """A last try; what the disk still refuses is logged in full."""
        self.drain()
        for item in self:
            logger.error("%s: %s, disk still failing: %s", self.what, self.not_stored, describe(item))
