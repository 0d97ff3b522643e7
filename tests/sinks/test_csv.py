from __future__ import annotations

from pathlib import Path

import pytest

from anpr_edge.errors import InputError
from anpr_edge.results import PlateEvent
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
    import json

    from anpr_edge.sinks.jsonl import event_payload

    schema = json.loads((Path(__file__).resolve().parents[2] / "docs" / "event.schema.json").read_text())
    payload = event_payload(event(), "2026-11-24T10:00:00.000Z")
    assert set(schema["required"]) <= set(payload) <= set(schema["properties"])
    import re

    assert re.fullmatch(schema["properties"]["plate"]["pattern"], payload["plate"])
