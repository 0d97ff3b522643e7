from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from anpr_edge.core.results import PlateEvent
from anpr_edge.errors import InputError
from anpr_edge.sinks.csv_sink import CsvSink, local_time, video_time


def event(plate: str = "A123BC77", t: float = 61.234) -> PlateEvent:
    return PlateEvent(
        "e1", "cam", plate, "#" in plate, 0.91, (("A", 0.9),), t, t + 1, (0, 0, 10, 10), (1920, 1080), 1, 5, 3
    )


@pytest.mark.parametrize(
    ("t", "text"), [(0, "00:00.00"), (61.234, "01:01.23"), (3599.999, "1:00:00.00"), (3725.5, "1:02:05.50")]
)
def test_video_time(t: float, text: str) -> None:
    assert video_time(t) == text


def test_local_time_has_centiseconds() -> None:
    assert len(local_time(1_700_000_000.257).split(".")[-1]) == 2


def test_appends_across_restarts_with_one_header(tmp_path: Path) -> None:
    path = tmp_path / "out" / "events.csv"
    with CsvSink(path, video_time) as s:
        s.write(event())
    with CsvSink(path, video_time) as s:
        s.write(event("K777KK777", 3.0))
    assert path.read_text().splitlines() == ["time;plate_num", "01:01.23;A123BC77", "00:03.00;K777KK777"]


def test_extra_columns(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    with CsvSink(path, video_time, ["camera", "confidence", "event_id"]) as s:
        s.write(event())
    assert path.read_text().splitlines()[1] == "01:01.23;A123BC77;cam;0.910;e1"


def test_refuses_a_file_with_other_columns_and_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("a;b;c\n1;2;3\n")
    with pytest.raises(InputError, match="existing CSV has columns"):
        CsvSink(path, video_time).open()
    assert path.read_text() == "a;b;c\n1;2;3\n"


def test_unwritable_path_is_clear(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="cannot open CSV"):
        CsvSink(tmp_path / "f" / "e.csv", video_time).open()


def test_event_payload_matches_the_documented_schema() -> None:
    from anpr_edge.sinks.jsonl import event_payload
    from tests.event_schema import assert_valid_event

    assert_valid_event(event_payload(event(), "2026-11-24T10:00:00.000Z"))  # every type: test_event_schema.py


def fill_disk_under(sink: CsvSink) -> None:
    """The disk fills under an open CSV: its descriptor now writes to /dev/full, so the next write gets a
    real ENOSPC from the kernel (the closest to a full disk a test can have without mounting one)."""
    full = os.open("/dev/full", os.O_WRONLY)
    assert sink.file._fh is not None
    os.dup2(full, sink.file._fh.fileno())
    os.close(full)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux) to fill a disk")
def test_a_full_disk_holds_rows_in_order_and_the_file_never_gets_half_a_row(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "events.csv"
    sink = CsvSink(path, video_time).open()
    sink.write(event("A123BC77", 1.0))
    fill_disk_under(sink)
    with caplog.at_level(logging.ERROR):
        sink.write(event("K777KK777", 2.0))  # no exception: the row is held
    assert "cannot append (No space left on device)" in caplog.text and sink.file.held
    # The disk stays bad a while (here: the path cannot be opened), and a cut-off row is left behind.
    with path.open("a") as fh:
        fh.write("00:02.00;K77")
    path.rename(tmp_path / "aside.csv")
    path.mkdir()
    sink.write(event("X623EM199", 3.0))
    assert len(sink.file.held) == 2
    path.rmdir()
    (tmp_path / "aside.csv").rename(path)
    sink.write(event("E014CX86", 4.0))  # writable again: held rows first, in order, then this one
    assert not sink.file.held
    sink.close()
    assert path.read_text().splitlines() == [
        "time;plate_num",
        "00:01.00;A123BC77",
        "00:02.00;K777KK777",
        "00:03.00;X623EM199",
        "00:04.00;E014CX86",
    ]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux) to fill a disk")
def test_rows_still_held_at_shutdown_go_to_the_log_in_full(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "events.csv"
    sink = CsvSink(path, video_time).open()
    fill_disk_under(sink)
    path.unlink()
    path.mkdir()  # and it cannot be reopened before shutdown
    with caplog.at_level(logging.ERROR):
        sink.write(event("K777KK777", 2.0))
        sink.close()
    assert "not written, disk still failing: 00:02.00;K777KK777" in caplog.text


def test_a_torn_last_line_found_at_start_is_removed_and_logged_in_full(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """#21.4: a last line without its newline is what a crash or a full disk leaves (every line is written
    with its newline): it is cut off, and the log keeps its text. (It used to be kept, newline added.)"""
    path = tmp_path / "events.csv"
    path.write_text("time;plate_num\n00:01.00;A123BC77\n00:01.50;K77")
    with caplog.at_level(logging.WARNING), CsvSink(path, video_time) as s:
        s.write(event("K777KK777", 2.0))
    assert path.read_text().splitlines() == ["time;plate_num", "00:01.00;A123BC77", "00:02.00;K777KK777"]
    assert "removed 12 byte(s), a torn last line" in caplog.text and "'00:01.50;K77'" in caplog.text
