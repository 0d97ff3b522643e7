"""sd_notify through systemd-python where it is installed, through a plain socket where it is not; journald
records carry CAMERA= / PLATE= / EVENT_ID= fields."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from anpr_edge import logs
from anpr_edge.daemon import notify
from anpr_edge.daemon.notify import Notifier
from tests.daemon_helpers import NotifySocket

try:
    import systemd.daemon  # type: ignore[import-not-found]  # noqa: F401

    HAVE_SYSTEMD = True
except ImportError:
    HAVE_SYSTEMD = False
needs_systemd_python = pytest.mark.skipif(not HAVE_SYSTEMD, reason="systemd-python not installed")


@needs_systemd_python
def test_systemd_python_sends_to_notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sock = NotifySocket(tmp_path / "n.sock")
    monkeypatch.setenv("NOTIFY_SOCKET", str(sock.path))
    n = Notifier()
    assert n.backend == "systemd-python"
    n.ready("a: streaming")
    assert sock.wait_for("READY=1\nSTATUS=a: streaming", 5), sock.messages


def test_without_systemd_python_the_plain_socket_sends_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sock = NotifySocket(tmp_path / "n.sock")
    monkeypatch.setenv("NOTIFY_SOCKET", str(sock.path))
    monkeypatch.setattr(notify, "systemd_notify", lambda: None)  # as where the package is not installed
    n = Notifier()
    assert n.backend == "socket"
    n.ready("a: streaming")
    n.watchdog()
    assert sock.wait_for("WATCHDOG=1", 5) and "READY=1\nSTATUS=a: streaming" in sock.messages


def test_no_notify_socket_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    n = Notifier()
    assert n.backend == "off" and not n.enabled
    n.ready()  # nothing to send to: no error


@needs_systemd_python
def test_journald_records_carry_camera_and_plate_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNAL_STREAM", "8:1234")
    sent: list[tuple[str, dict[str, Any]]] = []
    handler = logs._journal_handler(sender=lambda MESSAGE, **fields: sent.append((MESSAGE, fields)))
    assert handler is not None
    log = logging.getLogger("anpr_edge.test_journal")
    log.addHandler(handler)
    try:
        log.warning("event %s", "A123BC77", extra={"camera": "gate", "plate": "A123BC77", "event_id": "e1"})
    finally:
        log.removeHandler(handler)
    msg, fields = sent[0]
    assert msg == "event A123BC77"
    assert (fields["CAMERA"], fields["PLATE"], fields["EVENT_ID"]) == ("gate", "A123BC77", "e1")
    assert fields["SYSLOG_IDENTIFIER"] == "anpr-edge" and fields["PRIORITY"] == "4"


def test_log_target_names_stderr_outside_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    root = logging.getLogger("anpr_edge")
    saved = list(root.handlers), root.level, root.propagate
    try:
        logs.configure()
        assert logs.target() == "stderr"
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        root.propagate = saved[2]


def test_the_plain_socket_never_blocks_on_a_reader_that_does_not_keep_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(systemd-python's sd_notify would block here, holding the GIL: not tested, it would hang the test.)"""
    path = tmp_path / "n.sock"
    reader = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    reader.bind(str(path))  # bound, never read while the daemon sends: its queue fills up
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    n = Notifier(use_systemd=False)
    assert n.backend == "socket"
    t0 = time.monotonic()
    for i in range(300):
        n.status(str(i))
    assert time.monotonic() - t0 < 1.0
    assert n.dropped > 0
    reader.settimeout(0.5)
    got = []
    with contextlib.suppress(TimeoutError):
        while True:
            got.append(int(reader.recv(100).decode().removeprefix("STATUS=")))
    assert got and got == sorted(got) and got[0] == 0  # in order; only the overflow is lost
    reader.close()
