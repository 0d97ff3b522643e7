"""The real daemon with the shipped models: two looping file cameras → CSV and MQTT; SIGTERM loses nothing.

Videos are rendered by the test (needs Pillow and the GOST font, else skipped with the reason); the
broker is a real Mosquitto.
"""

from __future__ import annotations

import csv
import json
import signal
import time
from pathlib import Path

from tests.broker import Broker, Subscriber
from tests.conftest import MODELS, needs_models, needs_mosquitto
from tests.daemon_helpers import start_daemon, wait_for_log, write_config
from tests.event_schema import assert_valid_event
from tests.tools.test_end_to_end import needs_font

pytestmark = [needs_models, needs_mosquitto, needs_font]


def test_two_cameras_to_csv_and_mqtt_and_clean_stop(tmp_path: Path) -> None:
    from anpr_edge.training.demo_video import Car, render_video

    v1 = render_video(tmp_path / "a.mp4", [Car("A123BC77", 0.2, 3.0, 0.4)], 4.0, size=(1280, 720))
    v2 = render_video(tmp_path / "b.mp4", [Car("K777KK777", 0.2, 3.0, 0.6)], 4.0, size=(1280, 720))
    broker = Broker(tmp_path / "broker").start()
    try:
        run_and_check(tmp_path, v1, v2, broker)
    finally:
        broker.stop()


def run_and_check(tmp_path: Path, v1: Path, v2: Path, broker: Broker) -> None:
    sub = Subscriber(broker.port, "anpr/test/+/plate")
    state = tmp_path / "state"
    cams = [
        {"name": "left", "source": str(v1), "loop": True, "target_fps": 25},
        {"name": "right", "source": str(v2), "loop": True, "target_fps": 25},
    ]
    cfg = write_config(
        tmp_path / "c.yaml", MODELS, cams, state, broker.port, snapshots={"enabled": True, "max_files": 2}
    )
    log = tmp_path / "daemon.log"
    proc = start_daemon(cfg, log)
    try:
        assert wait_for_log(log, "anpr-edge running", 60), log.read_text()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = [r for f in state.glob("events-*.csv") for r in csv.reader(f.open(), delimiter=";")]
            plates = {r[1] for r in rows if r[0] != "time"}
            if {"A123BC77", "K777KK777"} <= plates:
                break
            time.sleep(0.5)
        assert {"A123BC77", "K777KK777"} <= plates, log.read_text()[-3000:]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    left = list(csv.reader((state / "events-left.csv").open(), delimiter=";"))
    right = list(csv.reader((state / "events-right.csv").open(), delimiter=";"))
    assert left[0] == ["time", "plate_num", "camera"] and right[0] == ["time", "plate_num", "camera"]
    assert {r[1] for r in left[1:]} <= {"A123BC77"} and {r[2] for r in left[1:]} == {"left"}
    csv_rows = len(left) + len(right) - 2
    got = sub.wait_for(csv_rows, 20)  # every CSV row was also published (from the outbox)
    for p in got:
        assert_valid_event(p)
    assert len({p["event_id"] for p in got}) == csv_rows
    assert {p["plate"] for p in got} == {"A123BC77", "K777KK777"}
    for p in got:
        assert p["time"].endswith("Z") and p["camera"] in ("left", "right") and len(p["box"]) == 4
        assert p["snapshot"].endswith(".jpg")
    snaps = sorted((state / "snapshots").glob("*.jpg"))
    assert 0 < len(snaps) <= 4 and any(s.name.endswith("_plate.jpg") for s in snaps)  # retention: 2 events
    sub.close()


@needs_models
@needs_mosquitto
def test_daemon_killed_during_outage_delivers_outbox_after_restart(tmp_path: Path) -> None:
    """Broker down, the real daemon SIGKILLed with events in its outbox; both restarted: all arrive."""
    import sqlite3

    demo = Path(__file__).resolve().parents[2] / "config" / "demo" / "demo.mp4"
    broker = Broker(tmp_path / "broker")  # not started: the broker is down
    state = tmp_path / "state"
    cams = [{"name": "gate", "source": str(demo), "loop": True, "target_fps": 25}]
    cfg = write_config(tmp_path / "c.yaml", MODELS, cams, state, broker.port)
    log = tmp_path / "daemon.log"
    proc = start_daemon(cfg, log)
    try:
        deadline = time.monotonic() + 120
        queued = 0
        while time.monotonic() < deadline and queued < 2:
            time.sleep(0.5)
            csv_file = state / "events-gate.csv"
            queued = len(csv_file.read_text().splitlines()) - 1 if csv_file.exists() else 0
        assert queued >= 2, log.read_text()[-2000:]
        proc.kill()  # SIGKILL: no chance to flush anything
        proc.wait(10)
        with sqlite3.connect(state / "outbox.sqlite") as db:
            queued_payloads = [json.loads(p) for (p,) in db.execute("SELECT payload FROM outbox ORDER BY seq")]
        in_outbox = len(queued_payloads)
        rows = list(csv.reader((state / "events-gate.csv").open(), delimiter=";"))[1:]
        # Every accepted pass is on disk. An update (a better read of a pass) goes to MQTT only, not the CSV.
        assert [p["plate"] for p in queued_payloads if p["type"] == "new"] == [r[1] for r in rows]
        assert len(rows) >= 2
        broker.start()
        sub = Subscriber(broker.port, "anpr/test/+/plate")
        cfg.write_text(cfg.read_text().replace(str(demo), str(tmp_path / "none.mp4")))  # no new events
        proc = start_daemon(cfg, tmp_path / "daemon2.log")
        got = sub.wait_for(in_outbox, 60)
        for p in got:
            assert_valid_event(p)
        assert [p["event_id"] for p in got][:in_outbox] == [p["event_id"] for p in queued_payloads]  # all, in order
        sub.close()
    finally:
        if proc.poll() is None:
            proc.kill()
        broker.stop()
