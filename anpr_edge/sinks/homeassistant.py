"""Home Assistant MQTT discovery: the retained config messages for one camera (pure; published by
:mod:`anpr_edge.sinks.camera_state`).

Each camera is a Home Assistant device with two entities:

* ``sensor`` "Plate": state = the last plate (``<prefix>/<camera>/last``, retained), attributes
  ``confidence``, ``direction``, ``time``, ``snapshot``, ``event_id``, ``partial``;
* ``binary_sensor`` "Camera" (``connectivity``): on while the camera delivers frames
  (``<prefix>/<camera>/availability``, retained).

Both are available only while the daemon is (``<prefix>/status``: ``online``, and ``offline`` as the
MQTT last will). Topics are full (no ``~``); config topics are
``<discovery_prefix>/<component>/anpr_edge_<device_id>/<camera>_<entity>/config``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from anpr_edge import __version__

MANUFACTURER = "anpr-edge"
MODEL = "ANPR camera"
#: Attributes of the plate sensor, picked from the event payload (HA's template engine is Jinja2).
ATTRIBUTES_TEMPLATE = (
    "{{ {'confidence': value_json.confidence, 'direction': value_json.direction | default(None), "
    "'time': value_json.time | default(None), 'snapshot': value_json.snapshot | default(None), "
    "'event_id': value_json.event_id, 'partial': value_json.partial} | tojson }}"
)


@dataclass(frozen=True, slots=True)
class CameraTopics:
    """The retained per-camera state topics under the device's prefix."""

    last: str  # the newest event of the camera (the event payload)
    availability: str  # {"type": "availability", "available": ...}

    @classmethod
    def of(cls, prefix: str, camera: str) -> CameraTopics:
        return cls(f"{prefix}/{camera}/last", f"{prefix}/{camera}/availability")


@dataclass(frozen=True, slots=True)
class Discovery:
    topic: str
    payload: dict[str, Any]


def slug(text: str) -> str:
    """A discovery topic level / id: HA allows ``[a-zA-Z0-9_-]``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)


def node_id(device_id: str) -> str:
    return f"anpr_edge_{slug(device_id)}"


def config_filter(discovery_prefix: str, device_id: str) -> str:
    """The MQTT filter matching every config topic this device may have published."""
    return f"{discovery_prefix}/+/{node_id(device_id)}/+/config"


def discovery(discovery_prefix: str, device_id: str, prefix: str, camera: str) -> tuple[Discovery, Discovery]:
    """The sensor and binary_sensor configs of one camera."""
    node, cam = node_id(device_id), slug(camera)
    topics = CameraTopics.of(prefix, camera)
    common: dict[str, Any] = {
        "availability_topic": f"{prefix}/status",
        "payload_available": "online",
        "payload_not_available": "offline",
        "device": {
            "identifiers": [f"{node}_{cam}"],
            "name": f"{device_id} {camera}",
            "manufacturer": MANUFACTURER,
            "model": MODEL,
            "sw_version": __version__,
        },
        "origin": {"name": "anpr-edge", "sw_version": __version__},
    }
    sensor = {
        "name": "Plate",
        "unique_id": f"{node}_{cam}_plate",
        "state_topic": topics.last,
        "value_template": "{{ value_json.plate }}",
        "json_attributes_topic": topics.last,
        "json_attributes_template": ATTRIBUTES_TEMPLATE,
        "icon": "mdi:car-info",
        **common,
    }
    binary = {
        "name": "Camera",
        "unique_id": f"{node}_{cam}_camera",
        "state_topic": topics.availability,
        "value_template": "{{ 'ON' if value_json.available else 'OFF' }}",
        "payload_on": "ON",
        "payload_off": "OFF",
        "device_class": "connectivity",
        "entity_category": "diagnostic",
        **common,
    }
    return (
        Discovery(f"{discovery_prefix}/sensor/{node}/{cam}_plate/config", sensor),
        Discovery(f"{discovery_prefix}/binary_sensor/{node}/{cam}_camera/config", binary),
    )
