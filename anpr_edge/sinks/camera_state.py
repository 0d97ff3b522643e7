"""Retained per-camera state on MQTT: availability, the last event, and Home Assistant discovery.

* ``<prefix>/<camera>/availability`` (retained): ``{"type": "availability", "available": ...}``
  (``docs/event.schema.json``), published when a camera goes up or down;
* ``<prefix>/<camera>/last`` (retained): the camera's newest event payload;
* with ``outputs.mqtt.homeassistant``: the discovery configs of :mod:`anpr_edge.sinks.homeassistant`.

Every topic is kept retained by :meth:`MqttSink.retain` (published again after each reconnect). The
topics of a camera that is no longer running get an empty retained payload, which deletes them on the
broker (and the entities in Home Assistant): at once for a camera removed by a reload, and for one
removed while the daemon was stopped, when the broker shows it on (re)connect (:meth:`MqttSink.clear_stale`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from typing import Any

from anpr_edge.config.schema import Config
from anpr_edge.sinks.homeassistant import CameraTopics, config_filter, discovery
from anpr_edge.sinks.mqtt import MqttSink

logger = logging.getLogger(__name__)

PAYLOAD_VERSION = 1


def availability_payload(camera: str, available: bool, state: str, time_iso: str, detail: str = "") -> dict[str, Any]:
    """A camera went up or down (``docs/event.schema.json``, type ``availability``)."""
    data: dict[str, Any] = {
        "version": PAYLOAD_VERSION,
        "type": "availability",
        "camera": camera,
        "available": available,
        "state": state,
        "time": time_iso,
    }
    if detail:
        data["detail"] = detail
    return data


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


class CameraState:
    """The retained topics of the running cameras, on one :class:`MqttSink`."""

    def __init__(self, mqtt: MqttSink, cfg: Config) -> None:
        self.mqtt, self.prefix, self.device_id = mqtt, cfg.topic_prefix, cfg.device_id
        ha = cfg.outputs.mqtt.homeassistant
        self.discovery_prefix = ha.discovery_prefix if ha.enabled else None
        self._lock = threading.Lock()
        self._cameras: frozenset[str] = frozenset()
        self._topics: frozenset[str] = frozenset()  # every retained topic of the running cameras
        self._up: dict[str, bool] = {}
        patterns = [f"{self.prefix}/+/last", f"{self.prefix}/+/availability"]
        if self.discovery_prefix is not None:
            patterns.append(config_filter(self.discovery_prefix, self.device_id))
        for pattern in patterns:
            mqtt.clear_stale(pattern, lambda topic: topic in self._topics)
        # Known before the first connect, so the stale-topic check never deletes a configured camera's.
        self.set_cameras(c.name for c in cfg.cameras if c.enabled)

    def _camera_topics(self, camera: str) -> dict[str, dict[str, Any] | None]:
        """Topic → discovery payload (None: a state topic, published as its state changes)."""
        t = CameraTopics.of(self.prefix, camera)
        out: dict[str, dict[str, Any] | None] = {t.last: None, t.availability: None}
        if self.discovery_prefix is not None:
            for d in discovery(self.discovery_prefix, self.device_id, self.prefix, camera):
                out[d.topic] = d.payload
        return out

    def set_cameras(self, names: Iterable[str]) -> None:
        """The running cameras: discovery for the new ones, every retained topic of the gone ones cleared."""
        fresh = frozenset(names)
        with self._lock:
            if fresh == self._cameras:
                return
            added, gone = fresh - self._cameras, self._cameras - fresh
            self._cameras = fresh
            self._topics = frozenset(t for cam in fresh for t in self._camera_topics(cam))
            for cam in gone:
                self._up.pop(cam, None)
                for topic in self._camera_topics(cam):
                    self.mqtt.retain(topic, b"")
                logger.info("MQTT: camera %s's retained topics cleared", cam, extra={"camera": cam})
            for cam in sorted(added):
                for topic, config in self._camera_topics(cam).items():
                    if config is not None:
                        self.mqtt.retain(topic, _json(config))

    def availability(self, camera: str, up: bool, state: str, time_iso: str, detail: str = "") -> None:
        """Publish the camera's availability when it changed (and the first time)."""
        with self._lock:
            if camera not in self._cameras or self._up.get(camera) == up:
                return
            self._up[camera] = up
        topic = CameraTopics.of(self.prefix, camera).availability
        self.mqtt.retain(topic, _json(availability_payload(camera, up, state, time_iso, detail)))

    def last_event(self, camera: str, payload: dict[str, Any]) -> None:
        """The camera's newest event, retained (the Home Assistant sensor's state and attributes)."""
        if camera in self._cameras:
            self.mqtt.retain(CameraTopics.of(self.prefix, camera).last, _json(payload))
