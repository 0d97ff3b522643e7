"""A real Mosquitto broker for tests: own config, port, persistence dir; stop and restart at will."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    def __init__(self, workdir: Path, extra: str = "", port: int | None = None) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o777)  # mosquitto started as root drops to user 'mosquitto'
        self.port = port or free_port()
        self.conf = self.dir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\npersistence true\npersistence_location {self.dir}/\n"
            f"log_dest stderr\n{extra or 'allow_anonymous true'}\n" + ("user root\n" if os.geteuid() == 0 else "")
            # As root, mosquitto would drop to user 'mosquitto', who cannot read pytest's 0700 temp dirs.
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.dir / "broker.log"

    def start(self) -> Broker:
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=self.log.open("ab")
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"mosquitto exited: {self.log.read_text()[-2000:]}") from None
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


class Subscriber:
    """A persistent-session QoS 1 subscriber that records (topic, payload) in arrival order."""

    def __init__(
        self, port: int, topic: str, client_id: str = "test-sub", auth: tuple[str, str] | None = None, **tls: Any
    ) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        if auth:
            self.client.username_pw_set(*auth)
        if tls:
            self.client.tls_set(**tls)
        self.topic = topic

        def on_connect(c: mqtt.Client, u: Any, f: Any, rc: Any, p: Any) -> None:
            if not rc.is_failure:
                c.subscribe(topic, qos=1)

        def on_subscribe(c: mqtt.Client, u: Any, mid: int, rcs: Any, p: Any) -> None:
            self.subscribed.set()

        def on_message(c: mqtt.Client, u: Any, msg: mqtt.MQTTMessage) -> None:
            self.messages.append((msg.topic, bytes(msg.payload)))

        self.client.on_connect, self.client.on_subscribe, self.client.on_message = on_connect, on_subscribe, on_message
        self.client.reconnect_delay_set(0.2, 1)  # type: ignore[arg-type]  # paho takes float seconds; its stub says int
        self.client.connect_async("127.0.0.1", port, 10)
        self.client.loop_start()
        assert self.subscribed.wait(10), "subscriber could not subscribe"

    def payloads(self, suffix: str = "/plate") -> list[dict[str, Any]]:
        return [json.loads(p) for t, p in list(self.messages) if t.endswith(suffix)]

    def wait_for(self, n: int, timeout: float = 60.0, suffix: str = "/plate") -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.payloads(suffix)) < n:
            time.sleep(0.05)
        return self.payloads(suffix)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
