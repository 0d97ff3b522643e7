"""Home Assistant discovery from the real daemon to a real Mosquitto: retained configs per camera that parse as
Home Assistant expects, camera availability that validates against the event schema, and the configs of a
camera removed from the config deleted — by a SIGHUP reload, and by a restart without it.

Uses the tiny test models (discovery does not depend on what they read)."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from tests.broker import Broker
from tests.conftest import needs_mosquitto
from tests.daemon_helpers import start_daemon, wait_for_log, write_config, write_video
from tests.event_schema import assert_valid_event
from tests.homeassistant_contract import check_config, render

pytestmark = needs_mosquitto

PREFIX = "anpr/test"


class Watch:
    """A subscriber that keeps every message with its retain flag, and the newest payload per topic."""

    def __init__(self, port: int, filters: tuple[str, ...] = ("homeassistant/#", f"{PREFIX}/#")) -> None:
        self.log: list[tuple[str, bytes, bool]] = []
        self.now: dict[str, bytes] = {}
        self._lock = threading.Lock()
        ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"watch-{time.monotonic_ns()}")

        def on_connect(c: mqtt.Client, u: Any, f: Any, rc: Any, p: Any) -> None:
            c.subscribe([(f, 1) for f in filters])

        def on_message(c: mqtt.Client, u: Any, msg: mqtt.MQTTMessage) -> None:
            with self._lock:
                self.log.append((msg.topic, bytes(msg.payload), bool(msg.retain)))
                self.now[msg.topic] = bytes(msg.payload)

        self.client.on_connect, self.client.on_message = on_connect, on_message
        self.client.on_subscribe = lambda *a: ready.set()
        self.client.connect("127.0.0.1", port, 10)
        self.client.loop_start()
        assert ready.wait(10)

    def retained(self) -> dict[str, bytes]:
        """Topic → payload of what the broker holds (the newest non-empty payload per topic)."""
        with self._lock:
            return {t: p for t, p in self.now.items() if p}

    def until(self, check: Callable[[dict[str, bytes]], bool], timeout: float = 20.0) -> dict[str, bytes]:
        deadline = time.monotonic() + timeout
        while not check(self.retained()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert check(self.retained()), sorted(self.retained())
        return self.retained()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def configs(retained: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    return {t: json.loads(p) for t, p in retained.items() if t.startswith("homeassistant/")}


def cameras_of(retained: dict[str, bytes]) -> set[str]:
    return {t.split("/")[3].rsplit("_", 1)[0] for t in configs(retained)}


def fresh_view(port: int, expect: set[str]) -> dict[str, bytes]:
    """What a client connecting now gets: the retained configs of exactly ``expect``'s cameras. (Waits for
    them with one client, then checks with a second that the broker hands them over as retained messages:
    the first may have seen them published live.)"""
    for attempt in ("wait", "check"):
        w = Watch(port)
        try:
            got = w.until(lambda r: cameras_of(r) == expect and len(configs(r)) == 2 * len(expect))
            if attempt == "check":
                assert all(retain for t, _, retain in w.log if t in configs(got)), w.log
        finally:
            w.close()
    return got


def test_discovery_configs_availability_and_removal(tmp_path: Path, tiny_models: Path) -> None:
    broker = Broker(tmp_path / "broker").start()
    video = write_video(tmp_path / "cam.mp4")
    images = tmp_path / "b"  # camera b: an image folder the test makes unreadable, so the camera goes down
    images.mkdir()
    for i in range(3):
        cv2.imwrite(str(images / f"{i}.jpg"), np.full((360, 640, 3), 40 + i, np.uint8))
    cams = [{"name": n, "source": str(video), "loop": True, "target_fps": 5} for n in ("a", "b", "c")]
    cams[1].update(source=str(images), stall_timeout_s=2)
    cfg = write_config(tmp_path / "c.yaml", tiny_models, cams, tmp_path / "state", broker.port)
    data = yaml.safe_load(cfg.read_text())
    data["outputs"]["mqtt"]["homeassistant"] = True
    cfg.write_text(yaml.safe_dump(data))
    log = tmp_path / "daemon.log"
    proc = start_daemon(cfg, log)
    live = Watch(broker.port)
    try:
        assert wait_for_log(log, "MQTT connected", 30), log.read_text()
        retained = fresh_view(broker.port, {"a", "b", "c"})
        found = configs(retained)
        assert {check_config(t, p) for t, p in found.items()} == {"sensor", "binary_sensor"}
        assert len({p["unique_id"] for p in found.values()}) == 6
        assert retained[f"{PREFIX}/status"] == b"online"  # what availability_topic expects while we run
        # Each camera's availability: retained, a valid event payload, and ON for Home Assistant's template.
        topics = [f"{PREFIX}/{c}/availability" for c in "abc"]  # up once it delivers (a slow start: down first)
        avail = live.until(lambda r: all(t in r and json.loads(r[t])["available"] for t in topics))
        binary = found["homeassistant/binary_sensor/anpr_edge_test/a_camera/config"]
        for c in "abc":
            payload = json.loads(avail[f"{PREFIX}/{c}/availability"])
            assert_valid_event(payload)
            assert payload["available"] and render(binary["value_template"], payload) == "ON"
        for p in images.iterdir():
            p.write_bytes(b"not a jpeg")
        down = live.until(lambda r: not json.loads(r[f"{PREFIX}/b/availability"])["available"], 15)
        payload = json.loads(down[f"{PREFIX}/b/availability"])
        assert_valid_event(payload)
        assert render(binary["value_template"], payload) == "OFF" and payload["detail"].startswith("no frame for")

        # SIGHUP without camera b: its configs and state topics are deleted (empty retained payloads).
        data["cameras"] = [c for c in data["cameras"] if c["name"] != "b"]
        cfg.write_text(yaml.safe_dump(data))
        proc.send_signal(signal.SIGHUP)
        b_topics = {t for t in retained if "/b_" in t or t.startswith(f"{PREFIX}/b/")}
        live.until(lambda r: not b_topics & set(r))
        assert {t for t, p, _ in live.log if not p} >= b_topics
        fresh_view(broker.port, {"a", "c"})

        # Stopped, camera c removed from the file, started again: c's topics go when the daemon reconnects.
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        live.until(lambda r: r.get(f"{PREFIX}/status") == b"offline")
        data["cameras"] = [c for c in data["cameras"] if c["name"] != "c"]
        cfg.write_text(yaml.safe_dump(data))
        proc = start_daemon(cfg, tmp_path / "daemon2.log")
        live.until(lambda r: r.get(f"{PREFIX}/status") == b"online")
        fresh_view(broker.port, {"a"})
        live.until(lambda r: f"{PREFIX}/c/availability" not in r)
        assert wait_for_log(tmp_path / "daemon2.log", "deleting stale retained homeassistant/sensor/", 5)
        a_topics = {t for t in retained if "/a_" in t or t.startswith(f"{PREFIX}/a/")}
        assert not [t for t, p, _ in live.log if t in a_topics and not p]  # a's entities never went away
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        live.close()
        if proc.poll() is None:
            proc.kill()
        broker.stop()
