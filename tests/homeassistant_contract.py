"""What Home Assistant's MQTT discovery accepts, written down from its documentation, for tests.

A config topic is ``<discovery_prefix>/<component>/[<node_id>/]<object_id>/config`` (ids ``[a-zA-Z0-9_-]``);
the payload's keys are the documented ones of its component (full names, no abbreviations, no ``~``); an
entity that belongs to a device needs a ``unique_id``, and the device block ``identifiers``.
Templates are Jinja2, as Home Assistant renders them.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jinja2

#: Home Assistant's matcher of what follows ``<discovery_prefix>/``.
TOPIC = re.compile(r"^(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?(?P<object_id>[a-zA-Z0-9_-]+)/config$")

COMMON = {
    "availability", "availability_mode", "availability_template", "availability_topic", "default_entity_id",
    "device", "device_class", "enabled_by_default", "encoding", "entity_category", "entity_picture",
    "expire_after", "force_update", "icon", "json_attributes_template", "json_attributes_topic", "name",
    "object_id", "origin", "payload_available", "payload_not_available", "platform", "qos", "state_topic",
    "unique_id", "value_template",
}  # fmt: skip
KEYS = {
    "sensor": COMMON | {"last_reset_value_template", "options", "state_class", "suggested_display_precision",
                        "unit_of_measurement"},
    "binary_sensor": COMMON | {"off_delay", "payload_off", "payload_on"},
}  # fmt: skip
REQUIRED = {"sensor": {"state_topic"}, "binary_sensor": {"state_topic"}}
DEVICE_KEYS = {
    "configuration_url", "connections", "hw_version", "identifiers", "manufacturer", "model", "model_id", "name",
    "serial_number", "suggested_area", "sw_version", "via_device",
}  # fmt: skip
ORIGIN_KEYS = {"name", "sw_version", "support_url"}
TOPIC_KEYS = {"state_topic", "json_attributes_topic", "availability_topic"}


def check_config(topic: str, payload: dict[str, Any], discovery_prefix: str = "homeassistant") -> str:
    """Raise AssertionError naming what Home Assistant would refuse; return the component."""
    m = TOPIC.match(topic.removeprefix(discovery_prefix + "/")) if topic.startswith(discovery_prefix + "/") else None
    assert m, f"not a discovery config topic under {discovery_prefix}/: {topic}"
    component = m["component"]
    assert component in KEYS, f"{topic}: component {component} not covered here"
    unknown = set(payload) - KEYS[component]
    assert not unknown, f"{topic}: keys Home Assistant does not document for {component}: {sorted(unknown)}"
    missing = REQUIRED[component] - set(payload)
    assert not missing, f"{topic}: required keys missing: {sorted(missing)}"
    assert "~" not in json.dumps(payload), f"{topic}: topics must be full (no '~' abbreviation)"
    for key in TOPIC_KEYS & set(payload):
        assert isinstance(payload[key], str) and payload[key] and not set("+#") & set(payload[key]), (topic, key)
    assert isinstance(payload.get("unique_id"), str) and payload["unique_id"], f"{topic}: unique_id"
    device = payload.get("device")
    assert isinstance(device, dict) and set(device) <= DEVICE_KEYS, f"{topic}: device block {device}"
    assert device.get("identifiers"), f"{topic}: device needs identifiers"
    for key in ("name", "manufacturer", "model", "sw_version"):
        assert isinstance(device.get(key), str) and device[key], f"{topic}: device.{key}"
    if "origin" in payload:
        assert set(payload["origin"]) <= ORIGIN_KEYS and payload["origin"].get("name"), f"{topic}: origin"
    if "availability_topic" in payload:
        assert {"payload_available", "payload_not_available"} <= set(payload), f"{topic}: availability payloads"
    return component


def render(template: str, payload: dict[str, Any]) -> str:
    """A value / attributes template applied to a state payload, as Home Assistant does (``value_json``)."""
    env = jinja2.Environment(undefined=jinja2.Undefined)
    return env.from_string(template).render(value_json=payload, value=json.dumps(payload))
