"""The daemon's event fan-out keeps every event when one output's disk fails."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from anpr_edge.config.load import load
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
