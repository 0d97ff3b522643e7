"""Reference barrier controller: plate events in, ``{"action": "open"}`` out. The example to adapt.

Subscribes to ``<prefix>/+/plate`` (QoS 1), opens for a plate in the allow-list; with ``--partial``, also
for a read with ``#`` that is compatible with exactly one allowed plate. One pass opens the barrier at most
once: an ``update`` of a pass (same ``event_id``, a better read) is decided again only while the pass has
not opened it, and a message delivered twice (QoS 1 may) is dropped.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from anpr_edge.config.load import load
from anpr_edge.core.plates import normalise
from anpr_edge.errors import ConfigError
from anpr_edge.recognition.events import compatible
from anpr_edge.sinks.mqtt import configure_security

logger = logging.getLogger(__name__)


def load_allow_list(path: Path) -> set[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read allow-list ({exc.strerror})") from None
    return {normalise(line.split("#", 1)[0]) for line in lines if line.split("#", 1)[0].strip()}


def decide(plate: str, allowed: set[str], partial: bool) -> str | None:
    """The allowed plate this read opens for, or None."""
    if plate in allowed:
        return plate
    if partial and "#" in plate:
        matches = [a for a in allowed if compatible(a, plate)]
        if len(matches) == 1:
            return matches[0]
    return None


class Barrier:
    def __init__(self, allowed: set[str], partial: bool, command_topic: str, memory: int = 10_000) -> None:
        self.allowed, self.partial, self.command_topic = allowed, partial, command_topic
        self.seen: OrderedDict[str, set[str]] = OrderedDict()  # event id -> plates decided ("" once opened)
        self.memory = memory

    def handle(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The command to publish for one event payload, or None (opened already, duplicate, not allowed)."""
        eid, plate = str(payload.get("event_id", "")), str(payload.get("plate", ""))
        decided = self.seen.setdefault(eid, set())
        if "" in decided or plate in decided:
            return None
        decided.add(plate)
        if len(self.seen) > self.memory:
            self.seen.popitem(last=False)
        match = decide(plate, self.allowed, self.partial)
        if match is None:
            logger.info("deny %s (camera %s)", payload.get("plate"), payload.get("camera"))
            return None
        logger.info("open for %s (read %s, camera %s)", match, payload.get("plate"), payload.get("camera"))
        decided.add("")
        return {
            "action": "open",
            "plate": match,
            "read": payload.get("plate"),
            "camera": payload.get("camera"),
            "event_id": eid,
        }


def run_barrier(args: argparse.Namespace) -> int:
    cfg = load(args.config)
    mq = cfg.outputs.mqtt
    prefix = cfg.topic_prefix
    barrier = Barrier(load_allow_list(args.allow), args.partial, args.command_topic or f"{prefix}/barrier/command")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"anpr-barrier-{cfg.device_id}")
    configure_security(client, mq)
    stop = threading.Event()

    def on_connect(c: mqtt.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
        if reason.is_failure:
            logger.error("broker refused the connection: %s (retrying)", reason)
            return
        c.subscribe(f"{prefix}/+/plate", qos=1)  # again on every connect

    def on_subscribe(c: mqtt.Client, u: Any, mid: int, reasons: Any, p: Any) -> None:
        logger.info("barrier listening on %s/+/plate, commands to %s", prefix, barrier.command_topic)

    def on_message(c: mqtt.Client, u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            payload = json.loads(msg.payload)
        except ValueError:
            logger.warning("ignoring a non-JSON message on %s", msg.topic)
            return
        cmd = barrier.handle(payload)
        if cmd is not None:
            c.publish(barrier.command_topic, json.dumps(cmd), qos=1, retain=False)

    client.on_connect = on_connect
    client.on_message = on_message
    client.on_subscribe = on_subscribe
    client.reconnect_delay_set(1, 30)
    client.connect_async(mq.host, mq.port, mq.keepalive)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    client.loop_start()
    stop.wait()
    client.disconnect()
    client.loop_stop()
    return 0
