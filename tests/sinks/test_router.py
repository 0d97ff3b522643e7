"""The daemon's event fan-out keeps every event when one output's disk fails."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from anpr_edge.config.load import load
from anpr_edge.core.results import PlateEvent
from anpr_edge.sinks.router import EventRouter
from tests.daemon_helpers import write_config
from tests.event_schema import assert_valid_event
from tests.sinks.test_csv import event


def test_an_unsavable_snapshot_costs_the_picture_not_the_event(
    tmp_path: Path, tiny_models: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the snapshot folder should be")
    cfg_path = write_config(
        tmp_path / "c.yaml",
        tiny_models,
        [{"name": "gate", "source": "0"}],
        state,
        snapshots={"enabled": True, "dir": str(blocker)},
    )
    data = load(cfg_path)
    data = data.model_copy(update={"outputs": data.outputs.model_copy(update={"jsonl": state / "events.jsonl"})})
    router = EventRouter(data)
    frame = np.zeros((1080, 1920, 3), np.uint8)
    with caplog.at_level(logging.ERROR):
        router.emit(event("A123BC77", 1.0), frame)
    router.close()
    assert "snapshot of event e1 not saved" in caplog.text
    assert (state / "events-cam.csv").read_text().splitlines()[1].split(";")[1:] == ["A123BC77", "cam"]
    line = json.loads((state / "events.jsonl").read_text().splitlines()[0])
    assert_valid_event(line)
    assert line["plate"] == "A123BC77" and "snapshot" not in line


def test_an_event_is_in_the_outbox_before_its_csv_row_is(tmp_path: Path, tiny_models: Path) -> None:
    """SIGKILL can land between two sinks' writes; killed just after a CSV row appeared, the event must
    already be in the outbox, or MQTT never gets it (#21: nothing lost). The CSV sink's write is wrapped
    to read the real outbox file at the moment the row is written."""
    import sqlite3

    from anpr_edge.sinks.router import open_router
    from tests.broker import free_port

    state = tmp_path / "state"
    cfg_path = write_config(tmp_path / "c.yaml", tiny_models, [{"name": "cam", "source": "0"}], state, free_port())
    router = open_router(load(cfg_path), dict, start=False)  # the broker is never reached: all stays queued
    sink = router.csv_for("cam")
    assert sink is not None
    in_outbox_at_write: list[int] = []
    write = sink.write

    def spy(event: PlateEvent) -> None:
        with sqlite3.connect(state / "outbox.sqlite") as db:
            in_outbox_at_write.append(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        write(event)

    sink.write = spy  # type: ignore[method-assign]
    router.emit(event("A123BC77", 1.0))
    router.emit(event("K777KK777", 2.0))
    router.close()
    assert in_outbox_at_write == [1, 2]
