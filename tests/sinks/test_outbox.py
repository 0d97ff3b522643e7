"""#21.3: a corrupt outbox never blocks the start: moved aside, logged, the readable events carried over.

Real SQLite files, damaged the way a failing disk or a half-copied file damages them: a page overwritten
with noise, or a header that is not SQLite's. The daemon-level proof is tests/daemon/test_daemon_resilience.py.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from anpr_edge.sinks.outbox import Outbox

PAGE = 4096


def filled(path: Path, n: int) -> None:
    box = Outbox(path, 100_000)
    for i in range(n):
        box.add("anpr/dev/gate/plate", json.dumps({"n": i, "pad": "x" * 300}).encode())
    box.close()
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # checkpointed into the main file on close


def numbers(box: Outbox) -> list[int]:
    return [json.loads(p)["n"] for _, _, p in box.after(0, 1_000_000)]


def test_a_damaged_page_costs_only_its_rows(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "outbox.sqlite"
    filled(path, 600)
    pages = path.stat().st_size // PAGE
    with path.open("r+b") as fh:  # noise over a leaf page in the middle of the table
        fh.seek(PAGE * (pages // 2))
        fh.write(os.urandom(PAGE))
    with caplog.at_level(logging.ERROR):
        box = Outbox(path, 100_000)
    got = numbers(box)
    box.add("t", b'{"n": -1}')  # the fresh outbox takes new events
    box.close()
    assert 300 < len(got) < 600 and got == sorted(got) and got[0] == 0  # the readable rows, in order
    aside = list(tmp_path.glob("outbox.sqlite.corrupt-*"))
    assert [p.name for p in aside if not p.name.endswith(("-wal", "-shm"))]
    assert f"{len(got)} event(s) that could still be read carried over" in caplog.text


def test_a_file_that_is_not_sqlite_is_replaced(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "outbox.sqlite"
    path.write_bytes(b"\0garbage" * 1000)
    with caplog.at_level(logging.ERROR):
        box = Outbox(path, 100)
    assert len(box) == 0
    box.close()
    assert "is corrupt (file is not a database)" in caplog.text and "0 event(s)" in caplog.text


def test_an_outbox_that_cannot_be_opened_is_not_moved(tmp_path: Path) -> None:
    """Not the file's fault (here: a folder in its place): an error, and nothing is moved away."""
    import sqlite3

    (tmp_path / "outbox.sqlite").mkdir()
    with pytest.raises(sqlite3.OperationalError):
        Outbox(tmp_path / "outbox.sqlite", 100)
    assert not list(tmp_path.glob("*.corrupt-*"))
