"""Typed stats: the status file keeps its layout; rates come from counters and an injected clock."""

from __future__ import annotations

import json
from pathlib import Path

from anpr_edge.daemon.status import CameraStats, MqttStats, Rates, Stats, status_line, write_status_file


def cam(frames_in: int, frames_out: int) -> CameraStats:
    return CameraStats("streaming", frames_in, frames_out, idle=1, dropped=2, reconnects=0, events=3)


def test_rates_from_counters_with_an_injected_clock() -> None:
    now = [100.0]
    rates = Rates(lambda: now[0])
    assert rates.apply("a", cam(0, 0)).fps_in == 0.0
    now[0] = 102.0
    got = rates.apply("a", cam(50, 20))
    assert (got.fps_in, got.fps_out) == (25.0, 10.0)


def test_status_file_layout_and_line(tmp_path: Path) -> None:
    stats = Stats(7, 1.5, 1000.0, "latency", {"a": cam(5, 4)}, 3, MqttStats(True, 2, 9, 0))
    write_status_file(tmp_path, stats)
    data = json.loads((tmp_path / "status.json").read_text())
    assert list(data) == ["pid", "uptime_s", "updated", "performance", "cameras", "events", "mqtt"]
    assert list(data["cameras"]["a"]) == [
        "state", "frames_in", "frames_out", "idle", "dropped", "reconnects", "events", "fps_in", "fps_out"
    ]  # fmt: skip
    assert data["mqtt"] == {"connected": True, "outbox": 2, "published": 9, "outbox_dropped": 0}
    line = status_line(stats)
    assert line == "a: streaming in 0.0 out 0.0 fps idle 1 drop 2 reconn 0 events 3; mqtt up outbox 2"
    no_mqtt = Stats(7, 1.5, 1000.0, "latency", {}, 0)
    assert "mqtt" not in no_mqtt.to_json() and status_line(no_mqtt) == "no cameras"
