"""systemd notification protocol (``sd_notify``): READY, WATCHDOG, STATUS, RELOADING, STOPPING.

Where systemd-python is installed (the ``systemd`` extra) messages go through its ``systemd.daemon.notify``
(libsystemd's ``sd_notify``); where it is not, the same datagrams are sent on a plain socket, so the
daemon behaves the same either way. Nothing is sent where ``NOTIFY_SOCKET`` is unset. :attr:`Notifier.backend`
names the path in use (the daemon's start-up line says it).

The plain socket never blocks: a message a reader that does not keep up has no room for is dropped,
counted and logged once. libsystemd's ``sd_notify`` blocks while the socket's queue is full, and
systemd-python holds the GIL meanwhile, so every thread of the daemon would wait: under systemd that queue
is read by PID 1 (512 deep by default), so it fills only when systemd itself has stopped working.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


def systemd_notify() -> Callable[[str], bool] | None:
    """systemd-python's ``notify``, or None where it is not installed."""
    try:
        from systemd import daemon  # type: ignore[attr-defined]
    except ImportError:
        return None
    notify: Callable[[str], bool] = daemon.notify
    return notify


class Notifier:
    """``socket_path``: a notify socket of the caller's (tests); by default ``$NOTIFY_SOCKET``, through
    systemd-python when ``use_systemd`` and it is installed."""

    def __init__(self, socket_path: str | None = None, use_systemd: bool = True) -> None:
        env = os.environ.get("NOTIFY_SOCKET", "")
        path = socket_path if socket_path is not None else env
        self.path = "\0" + path[1:] if path.startswith("@") else path
        # systemd-python reads $NOTIFY_SOCKET itself: it serves only that socket.
        self._sd = systemd_notify() if use_systemd and path and path == env else None
        self.dropped = 0  # messages a reader that did not keep up never got
        self._sock: socket.socket | None = None
        if self.path and self._sd is None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            # Never block the main loop on a slow reader (a full datagram queue): drop the message.
            self._sock.setblocking(False)
        usec = os.environ.get("WATCHDOG_USEC", "")
        pid = os.environ.get("WATCHDOG_PID", "")
        ours = not pid or pid == str(os.getpid())
        #: Seconds between WATCHDOG pings (half the configured watchdog), or None when off.
        self.watchdog_interval = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 and ours else None
        self._next_ping = 0.0

    @property
    def backend(self) -> str:
        """``systemd-python``, ``socket`` (systemd-python not installed) or ``off`` (no NOTIFY_SOCKET)."""
        return "systemd-python" if self._sd is not None else "socket" if self._sock is not None else "off"

    @property
    def enabled(self) -> bool:
        return self.backend != "off"

    def send(self, **fields: str | int) -> None:
        msg = "\n".join(f"{k.upper()}={v}" for k, v in fields.items())
        try:
            if self._sd is not None:
                self._sd(msg)
            elif self._sock is not None:
                self._sock.sendto(msg.encode(), self.path)
        except BlockingIOError:  # the plain socket's queue is full: systemd is not reading
            self.dropped += 1
            if self.dropped == 1:
                logger.warning("systemd is not reading notifications; dropping them (counted) until it does")
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

    def keepalive(self, now: float, healthy: Callable[[float, float], bool]) -> None:
        """Ping the watchdog when one is set, a ping is due at ``now`` (monotonic) and ``healthy(now,
        interval)`` says so: a stuck daemon stops pinging and systemd restarts it."""
        interval = self.watchdog_interval
        if interval and now >= self._next_ping and healthy(now, interval):
            self.watchdog()
            self._next_ping = now + interval

    def status(self, text: str) -> None:
        self.send(status=text)
