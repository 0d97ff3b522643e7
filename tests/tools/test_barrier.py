"""The reference barrier controller: allow-list decisions, duplicates, and a run against a real broker."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from anpr_edge.sinks.jsonl import event_payload
from anpr_edge.tools.barrier import Barrier, decide, load_allow_list
from tests.broker import Broker, Subscriber
from tests.conftest import needs_mosquitto
from tests.event_schema import assert_valid_event
from tests.sinks.test_csv import event

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"A123BC77", "K777KK777", "A124BC77"}


def published(plate: str, event_id: str, camera: str) -> dict[str, object]:
    """An event payload as the daemon publishes it (checked against docs/event.schema.json)."""
    payload = event_payload(replace(event(plate), event_id=event_id, camera=camera), "2026-11-24T10:00:00.000Z")
    assert_valid_event(payload)
    return payload


def test_decide_exact_and_partial() -> None:
    assert decide("K777KK777", ALLOWED, partial=False) == "K777KK777"
    assert decide("X000XX00", ALLOWED, partial=True) is None
    assert decide("K777K#777", ALLOWED, partial=False) is None
    assert decide("K777K#777", ALLOWED, partial=True) == "K777KK777"
    assert decide("A12#BC77", ALLOWED, partial=True) is None  # matches two allowed plates: not enough


def test_duplicate_event_ids_open_once() -> None:
    b = Barrier(ALLOWED, partial=False, command_topic="cmd")
    ev = published("A123BC77", "e1", "gate")
    assert b.handle(ev) == {
        "action": "open",
        "plate": "A123BC77",
        "read": "A123BC77",
        "camera": "gate",
        "event_id": "e1",
    }
    assert b.handle(ev) is None
    assert b.handle(published("B001OP64", "e2", "gate")) is None


def test_an_update_that_corrects_a_refused_read_opens_once() -> None:
    """A pass first read as an unknown plate, then corrected by an update (same event id): the correction
    opens; a further update of the same pass, and a repeated delivery, do not open again."""
    b = Barrier(ALLOWED, partial=False, command_topic="cmd")
    assert b.handle(published("B001OP64", "e1", "gate")) is None
    fixed = {**published("A123BC77", "e1", "gate"), "type": "update"}
    opened = b.handle(fixed)
    assert opened is not None and opened["plate"] == "A123BC77" and opened["event_id"] == "e1"
    assert b.handle(fixed) is None
    assert b.handle({**published("A123BC77", "e1", "gate"), "type": "update", "direction": "approaching"}) is None


def test_allow_list_file_normalises_and_skips_comments(tmp_path: Path) -> None:
    f = tmp_path / "allow.txt"
    f.write_text("# staff\nа123вс77  # Cyrillic is fine\n\nK777KK777\n")
    assert load_allow_list(f) == {"A123BC77", "K777KK777"}


def wait_for_line(proc: subprocess.Popen[bytes], needle: str, timeout: float) -> bool:
    """Read the process's stderr until a line contains ``needle`` (False on timeout or exit)."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 0.5)
        if ready:
            line = proc.stderr.readline()
            if not line:
                return False
            if needle.encode() in line:
                return True
    return False


@needs_mosquitto
def test_barrier_process_against_real_broker(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "b").start()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"device_id: gate\ncameras: [{{name: a, source: x.mp4}}]\n"
        f"outputs: {{mqtt: {{enabled: true, host: 127.0.0.1, port: {broker.port}}}}}\n"
    )
    allow = tmp_path / "allow.txt"
    allow.write_text("A123BC77\n")
    sub = Subscriber(broker.port, "anpr/gate/barrier/command", client_id="cmd-sub")
    proc = subprocess.Popen(
        [sys.executable, "-m", "anpr_edge.cli", "barrier", "--config", str(cfg), "--allow", str(allow)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=subprocess.PIPE,
    )
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="pub")
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    try:
        assert wait_for_line(proc, "barrier listening", 30)  # subscribed: now events reach it
        for eid, plate in [("e1", "A123BC77"), ("e1", "A123BC77"), ("e2", "B001OP64"), ("e3", "A123BC77")]:
            payload = published(plate, eid, "entry")
            pub.publish("anpr/gate/entry/plate", json.dumps(payload), qos=1).wait_for_publish(5)
        cmds = sub.wait_for(2, 10, suffix="/command")
        time.sleep(1)
        cmds = sub.payloads("/command")
        assert [(c["action"], c["plate"], c["event_id"]) for c in cmds] == [
            ("open", "A123BC77", "e1"),
            ("open", "A123BC77", "e3"),
        ]
    finally:
        pub.loop_stop()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        sub.close()
        broker.stop()
