"""MQTT sink (paho-mqtt 2.x): events from the durable outbox, in order, QoS 1; status and stats topics.

* ``<prefix>/status`` retained ``online`` on every CONNACK, ``offline`` as last will and at shutdown;
* ``<prefix>/<camera>/plate`` events, QoS 1, not retained, JSON (``docs/event.schema.json``);
* ``<prefix>/stats`` retained JSON, periodic.

``publish_event`` only writes to the outbox (never blocks recognition); while the outbox's disk
refuses writes (full, failing) events wait in memory, in order, and go into the outbox when it can.
A sender thread hands rows to paho while connected; a row is deleted on PUBACK. paho re-sends its own
in-flight QoS 1 messages after a reconnect, so the sender only hands over rows newer than the last one
it gave paho in this process; after a restart everything still in the outbox is sent again, oldest
first.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from anpr_edge.config.schema import MqttConfig
from anpr_edge.errors import ConfigError
from anpr_edge.sinks.held import Held
from anpr_edge.sinks.outbox import Outbox

logger = logging.getLogger(__name__)

BATCH = 100  # rows handed to paho per pass; paho's in-flight window keeps order


def read_password(cfg: MqttConfig) -> str | None:
    """The password from ``password_file`` or the systemd credential ``mqtt_password``."""
    path = cfg.password_file
    cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    if path is None and cred_dir and (Path(cred_dir) / "mqtt_password").is_file():
        path = Path(cred_dir) / "mqtt_password"
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"outputs.mqtt.password_file: cannot read {path} ({exc.strerror})") from None


def configure_security(client: mqtt.Client, cfg: MqttConfig) -> None:
    """Username/password and TLS from ``outputs.mqtt`` (shared by the sink and the barrier controller)."""
    if cfg.username:
        client.username_pw_set(cfg.username, read_password(cfg))
    if cfg.tls.enabled:
        try:
            client.tls_set(
                ca_certs=str(cfg.tls.ca_file) if cfg.tls.ca_file else None,
                certfile=str(cfg.tls.cert_file) if cfg.tls.cert_file else None,
                keyfile=str(cfg.tls.key_file) if cfg.tls.key_file else None,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise ConfigError(f"outputs.mqtt.tls: {exc}") from None
        client.tls_insecure_set(cfg.tls.insecure)


#: PUBACK times kept for message ids not noted yet (mostly status and retained messages, never timed).
ACKED_KEPT = 256


def first_sight(payload: bytes) -> float | None:
    """A new event's ``first_seen`` (Unix time of the frame its plate was first seen in); None for updates,
    availability and anything unreadable."""
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    seen = data.get("first_seen") if isinstance(data, dict) and data.get("type") == "new" else None
    return float(seen) if isinstance(seen, int | float) else None


class MqttSink:
    def __init__(
        self,
        cfg: MqttConfig,
        device_id: str,
        prefix: str,
        outbox: Outbox,
        stats: Callable[[], dict[str, Any]] | None = None,
        latency: Callable[[float], None] | None = None,
    ) -> None:
        """``latency``: called with the seconds from the capture of the first frame a plate was seen in to the
        broker's acknowledgement of its new event (the ``anpr_event_latency_seconds`` histogram)."""
        self.cfg, self.prefix, self.outbox, self._stats = cfg, prefix, outbox, stats
        self._latency = latency
        # A new event's first_seen by message id until its PUBACK; and PUBACK times of ids not (yet) noted, for
        # the ack that lands between publish() returning and the note. Never held while calling paho: paho
        # calls on_publish holding its own lock, which publish() takes too.
        self._first_sight: dict[int, float] = {}
        self._acked_at: dict[int, float] = {}
        self._sight_lock = threading.Lock()
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._handed = 0  # highest outbox seq given to paho in this process
        self._pending: list[tuple[mqtt.MQTTMessageInfo, int]] = []  # handed to paho, not yet acked
        self.published = 0
        self.last_error = ""
        self.started = False
        # Retained state this client keeps on the broker (sent again on every connect; b"" deletes it), and
        # filters whose retained messages on topics the predicate rejects are deleted (see clear_stale).
        self._retained: dict[str, bytes] = {}
        self._stale: list[tuple[str, Callable[[str], bool]]] = []
        self._retained_lock = threading.Lock()
        # Events the outbox's disk could not take yet.
        self._held: Held[tuple[str, bytes]] = Held(
            f"outbox {outbox.path}",
            lambda item: outbox.add(*item),
            (sqlite3.Error,),
            "cannot store events",
            "event not stored",
        )
        proto = mqtt.MQTTv5 if cfg.protocol == "5" else mqtt.MQTTv311
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=cfg.client_id or f"anpr-edge-{device_id}",
            protocol=proto,
            clean_session=True if proto == mqtt.MQTTv311 else None,
        )
        self.client.max_inflight_messages_set(50)
        configure_security(self.client, cfg)
        self.client.will_set(f"{prefix}/status", "offline", qos=1, retain=True)
        self.client.reconnect_delay_set(1, int(cfg.reconnect_max_s))
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self._sender = threading.Thread(target=self._send_loop, name="mqtt-sender", daemon=True)
        self._stats_thread = threading.Thread(target=self._stats_loop, name="mqtt-stats", daemon=True)

    # paho callbacks (network thread) -------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            msg = f"MQTT broker {self.cfg.host}:{self.cfg.port} refused the connection: {reason}"
            if msg != self.last_error:
                logger.error("%s (retrying)", msg)
            self.last_error = msg
            return
        self.last_error = ""
        logger.info("MQTT connected to %s:%d", self.cfg.host, self.cfg.port)
        client.publish(f"{self.prefix}/status", "online", qos=1, retain=True)
        self._resend_retained(client)
        self.connected.set()
        self._wake.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        with self._sight_lock:  # message ids start again: an old id must not pair with a new message
            self._first_sight.clear()
            self._acked_at.clear()
        if self.connected.is_set():
            logger.warning(
                "MQTT disconnected from %s:%d (%s); events wait in the outbox (%d)",
                self.cfg.host,
                self.cfg.port,
                reason,
                len(self.outbox),
            )
        self.connected.clear()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if not msg.retain or not msg.payload:
            return
        for pattern, keep in self._stale:
            if mqtt.topic_matches_sub(pattern, msg.topic) and not keep(msg.topic):
                logger.info("MQTT: deleting stale retained %s", msg.topic)
                self.retain(msg.topic, b"")

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        if self._latency is None:
            return
        now = time.time()
        with self._sight_lock:
            seen = self._first_sight.pop(mid, None)
            if seen is None:  # not noted yet, or not a new event (status, retained, an update)
                self._acked_at[mid] = now
                while len(self._acked_at) > ACKED_KEPT:
                    del self._acked_at[next(iter(self._acked_at))]
        if seen is not None:
            self._latency(max(now - seen, 0.0))

    def _note_sight(self, mid: int, seen: float) -> None:
        """Pair a published new event's message id with its first sight (or with its PUBACK, already in)."""
        with self._sight_lock:
            acked = self._acked_at.pop(mid, None)
            if acked is None:
                self._first_sight[mid] = seen
        if acked is not None and self._latency is not None:
            self._latency(max(acked - seen, 0.0))

    def _resend_retained(self, client: mqtt.Client) -> None:
        with self._retained_lock:
            retained, stale = list(self._retained.items()), [p for p, _ in self._stale]
        for topic, payload in retained:
            client.publish(topic, payload, qos=1, retain=True)
        for pattern in stale:
            client.subscribe(pattern, qos=1)

    # retained state ------------------------------------------------------------------------
    def retain(self, topic: str, payload: bytes) -> None:
        """Keep ``payload`` retained on ``topic`` (QoS 1): now when connected, and after every reconnect
        (only the newest payload per topic); ``b""`` deletes the topic's retained message."""
        with self._retained_lock:
            self._retained[topic] = payload
        if self.connected.is_set():
            self.client.publish(topic, payload, qos=1, retain=True)

    def clear_stale(self, pattern: str, keep: Callable[[str], bool]) -> None:
        """On every connect, subscribe to ``pattern``: a retained message the broker holds there on a topic
        ``keep`` rejects (left by an earlier run) is deleted."""
        with self._retained_lock:
            self._stale.append((pattern, keep))
        if self.connected.is_set():
            self.client.subscribe(pattern, qos=1)

    # life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        try:
            self.client.connect_async(self.cfg.host, self.cfg.port, self.cfg.keepalive)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"outputs.mqtt.host: {exc}") from None
        self.client.loop_start()
        self._sender.start()
        self._stats_thread.start()
        self.started = True

    def publish_event(self, camera: str, payload: dict[str, Any]) -> None:
        """Queue an event durably; the sender publishes it when the broker is reachable."""
        self._held.put((f"{self.prefix}/{camera}/plate", json.dumps(payload, ensure_ascii=False).encode()))
        self._wake.set()

    @property
    def held(self) -> int:
        """Events waiting in memory for the outbox's disk."""
        return len(self._held)

    def _reap(self) -> None:
        """Delete from the outbox every row the broker acknowledged (PUBACK)."""
        still = []
        for info, seq in self._pending:
            if info.is_published():
                self.outbox.ack(seq)
                self.published += 1
            else:
                still.append((info, seq))
        self._pending = still

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.05 if self._pending else 0.5)
            self._wake.clear()
            try:
                if self._held:
                    self._held.drain()
                self._reap()
                while self.connected.is_set() and not self._stop.is_set() and len(self._pending) < 2 * BATCH:
                    rows = self.outbox.after(self._handed, BATCH)
                    if not rows:
                        break
                    for seq, topic, payload in rows:
                        if not self.connected.is_set():
                            break
                        info = self.client.publish(topic, payload, qos=1, retain=False)
                        seen = first_sight(payload) if self._latency is not None else None
                        if seen is not None and info.rc == mqtt.MQTT_ERR_SUCCESS:
                            self._note_sight(info.mid, seen)
                        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                            logger.error("MQTT publish failed (rc %s); will retry", info.rc)
                            break
                        # NO_CONN still queues in paho (sent after reconnect): count it as handed.
                        self._pending.append((info, seq))
                        self._handed = seq
                    self._reap()
            except Exception:
                logger.exception("MQTT sender error; retrying")
                time.sleep(1)

    def stats_payload(self) -> dict[str, Any]:
        base = self._stats() if self._stats else {}
        return {
            **base,
            "outbox": len(self.outbox),
            "outbox_dropped": self.outbox.dropped,
            "published": self.published,
            "time": time.time(),
        }

    def _stats_loop(self) -> None:
        while not self._stop.wait(self.cfg.stats_interval_s):
            if self.connected.is_set():
                self.client.publish(f"{self.prefix}/stats", json.dumps(self.stats_payload()), qos=0, retain=True)

    def stop(self, drain_s: float = 2.0) -> None:
        """Give in-flight publishes a moment, say ``offline``, disconnect. Unacked rows stay on disk."""
        if not self.started:  # opened by a reload that was then refused: nothing to stop
            return
        end = time.monotonic() + drain_s
        while self.connected.is_set() and self._pending and time.monotonic() < end:
            time.sleep(0.05)
        self._stop.set()
        self._wake.set()
        self._sender.join(timeout=2)
        if self.connected.is_set():
            self.client.publish(f"{self.prefix}/status", "offline", qos=1, retain=True).wait_for_publish(1.0)
        self.client.disconnect()
        self.client.loop_stop()
        self._held.close(lambda item: f"{item[0]} {item[1].decode()}")
