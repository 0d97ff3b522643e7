"""#21.4 and #21.5: a row is written whole or not at all on a really full disk (a 64 KiB tmpfs mounted
here), and rows keep landing in the file at ``path`` after the real ``logrotate`` rotates it with the
shipped snippet (``systemd/anpr-edge.logrotate``), in both its modes (create, copytruncate)."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from anpr_edge.sinks.csv_sink import CsvSink, video_time
from tests.sinks.test_csv import event

ROOT = Path(__file__).resolve().parents[2]
SNIPPET = ROOT / "systemd" / "anpr-edge.logrotate"
LOGROTATE = shutil.which("logrotate") or "/usr/sbin/logrotate"
ROW = re.compile(r"\d\d:\d\d\.\d\d;[A-Z0-9]{8,9}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB filesystem (tmpfs), so the kernel itself says ENOSPC and cuts writes short."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(folder: Path) -> Path:
    """Take every free block of the filesystem."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 1024)
        except OSError:
            pass
    return filler


def test_a_full_disk_never_leaves_part_of_a_row(small_disk: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = small_disk / "events.csv"
    sink = CsvSink(path, video_time).open()
    filler = fill(small_disk)
    plates = [f"A{i % 1000:03d}BC77" for i in range(400)]  # 18-byte rows: a page fills after ~225
    written = 0
    with caplog.at_level(logging.WARNING):
        while not sink.file.held:
            sink.write(event(plates[written], written))
            written += 1
    assert "a failed write left" in caplog.text  # the kernel took part of the row: it was cut away
    # The row that did not fit is held; what the failed write put on disk is already gone.
    text = path.read_text()
    assert text.endswith("\n") and all(ROW.fullmatch(r) for r in text.splitlines()[1:]), text[-60:]
    assert len(text.splitlines()) == written  # header + every row but the held one
    for i in range(written, written + 5):  # still full: held, in order
        sink.write(event(plates[i], i))
    assert len(sink.file.held) == 6 and path.read_text() == text
    filler.unlink()  # space again: the held rows go first, then the new one
    sink.write(event(plates[written + 5], written + 5))
    sink.close()
    rows = path.read_text().splitlines()
    assert rows[0] == "time;plate_num" and [r.split(";")[1] for r in rows[1:]] == plates[: written + 6]


needs_logrotate = pytest.mark.skipif(
    not Path(LOGROTATE).exists(), reason="logrotate not installed (apt-get install -y logrotate)"
)


def rotate(folder: Path, mode: str) -> None:
    """The shipped snippet, pointed at ``folder`` and run as root, in ``mode`` (create or copytruncate)."""
    text = SNIPPET.read_text().replace("/var/lib/anpr-edge/", f"{folder}/")
    text = text.replace("su anpr-edge anpr-edge", "su root root").replace("anpr-edge anpr-edge", "root root")
    if mode == "copytruncate":
        text = re.sub(r"create .*\n", "copytruncate\n", text)
    conf = folder.parent / f"logrotate-{mode}.conf"
    conf.write_text(text)
    state = folder.parent / "logrotate.state"
    r = subprocess.run([LOGROTATE, "-f", "-s", str(state), str(conf)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@needs_logrotate
@pytest.mark.parametrize("mode", ["create", "copytruncate"])
def test_after_logrotate_the_next_row_lands_in_the_new_file(tmp_path: Path, mode: str) -> None:
    folder = tmp_path / "anpr"
    folder.mkdir()
    path = folder / "events.csv"
    sink = CsvSink(path, video_time).open()
    sink.write(event("A123BC77", 1.0))
    rotate(folder, mode)
    assert (folder / "events.csv.1").read_text().splitlines() == ["time;plate_num", "00:01.00;A123BC77"]
    sink.write(event("K777KK777", 2.0))
    sink.write(event("X623EM199", 3.0))
    rotate(folder, mode)  # a second time: the file it made is followed too
    sink.write(event("E014CX86", 4.0))
    sink.close()
    assert path.read_text().splitlines() == ["time;plate_num", "00:04.00;E014CX86"]
    assert (folder / "events.csv.1").read_text().splitlines() == [
        "time;plate_num",
        "00:02.00;K777KK777",
        "00:03.00;X623EM199",
    ]
