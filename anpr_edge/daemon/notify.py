"""systemd notification protocol (``sd_notify``): READY, WATCHDOG, STATUS, RELOADING, STOPPING.

Speaks the datagram protocol directly (what ``systemd.daemon.notify`` does), so it works the same
with or without systemd-python, and does nothing where ``NOTIFY_SOCKET`` is unset.
"""

from __future__ import annotations

import logging
import os
import socket
import time

logger = logging.getLogger(__name__)


class Notifier:
    def __init__(self, socket_path: str | None = None) -> None:
        path = socket_path if socket_path is not None else os.environ.get("NOTIFY_SOCKET", "")
        self.path = "\0" + path[1:] if path.startswith("@") else path
        self._sock: socket.socket | None = None
        if self.path:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            # Never block the main loop on a slow reader (a full datagram queue): drop the message.
            self._sock.setblocking(False)
        usec = os.environ.get("WATCHDOG_USEC", "")
        pid = os.environ.get("WATCHDOG_PID", "")
        ours = not pid or pid == str(os.getpid())
        #: Seconds between WATCHDOG pings (half the configured watchdog), or None when off.
        self.watchdog_interval = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 and ours else None

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, **fields: str | int) -> None:
        if self._sock is None:
            return
        msg = "\n".join(f"{k.upper()}={v}" for k, v in fields.items())
        try:
            self._sock.sendto(msg.encode(), self.path)
        except OSError as exc:
            logger.debug("sd_notify failed: %s", exc)

    def ready(self, status: str = "") -> None:
        self.send(ready=1, status=status or "running")

    def reloading(self) -> None:
        self.send(reloading=1, monotonic_usec=time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)

    def stopping(self) -> None:
        self.send(stopping=1)

    def watchdog(self) -> None:
        self.send(watchdog=1)

    def status(self, text: str) -> None:
        self.send(status=text)
