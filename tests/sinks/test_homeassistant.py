"""Home Assistant discovery configs (pure): documented keys only, full topics, templates that render on the
payloads the daemon publishes."""

from __future__ import annotations

import dataclasses
import json

from anpr_edge.sinks.camera_state import availability_payload
from anpr_edge.sinks.homeassistant import CameraTopics, config_filter, discovery
from anpr_edge.sinks.jsonl import event_payload
from tests.homeassistant_contract import check_config, render
from tests.sinks.test_csv import event

TIME = "2026-11-24T10:00:00.000Z"


def test_each_camera_gets_a_plate_sensor_and_a_camera_binary_sensor() -> None:
    sensor, binary = discovery("homeassistant", "gate.1", "anpr/gate.1", "entry")
    assert sensor.topic == "homeassistant/sensor/anpr_edge_gate_1/entry_plate/config"  # '.' is not allowed
    assert binary.topic == "homeassistant/binary_sensor/anpr_edge_gate_1/entry_camera/config"
    assert check_config(sensor.topic, sensor.payload) == "sensor"
    assert check_config(binary.topic, binary.payload) == "binary_sensor"
    assert sensor.payload["state_topic"] == "anpr/gate.1/entry/last" == CameraTopics.of("anpr/gate.1", "entry").last
    assert binary.payload["state_topic"] == "anpr/gate.1/entry/availability"
    for d in (sensor, binary):
        assert d.payload["availability_topic"] == "anpr/gate.1/status"  # the MQTT sink's last will
        assert (d.payload["payload_available"], d.payload["payload_not_available"]) == ("online", "offline")
    assert sensor.payload["device"] == binary.payload["device"]  # one device per camera
    assert sensor.payload["unique_id"] != binary.payload["unique_id"]


def test_unique_ids_differ_between_cameras_and_devices() -> None:
    ids = {
        d.payload["unique_id"]
        for dev, cam in [("a", "x"), ("a", "y"), ("b", "x")]
        for d in discovery("homeassistant", dev, f"anpr/{dev}", cam)
    }
    assert len(ids) == 6


def test_templates_render_the_published_payloads() -> None:
    sensor, binary = discovery("ha", "gate", "anpr/gate", "entry")
    ev = event_payload(dataclasses.replace(event(), direction="approaching", snapshot="/s/x.jpg"), TIME)
    assert render(sensor.payload["value_template"], ev) == "A123BC77"
    attrs = json.loads(render(sensor.payload["json_attributes_template"], ev))
    assert attrs == {
        "confidence": 0.91,
        "direction": "approaching",
        "time": TIME,
        "snapshot": "/s/x.jpg",
        "event_id": "e1",
        "partial": False,
    }
    bare = json.loads(render(sensor.payload["json_attributes_template"], event_payload(event())))
    assert bare["direction"] is None and bare["snapshot"] is None  # optional keys: null, not an error
    up, down = (availability_payload("entry", v, "streaming", TIME) for v in (True, False))
    assert render(binary.payload["value_template"], up) == binary.payload["payload_on"]
    assert render(binary.payload["value_template"], down) == binary.payload["payload_off"]


def test_config_filter_matches_this_devices_configs_only() -> None:
    import paho.mqtt.client as mqtt

    f = config_filter("homeassistant", "gate")
    for d in discovery("homeassistant", "gate", "anpr/gate", "entry"):
        assert mqtt.topic_matches_sub(f, d.topic)
    other = discovery("homeassistant", "yard", "anpr/yard", "entry")[0].topic
    assert not mqtt.topic_matches_sub(f, other)
