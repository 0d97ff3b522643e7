"""MQTT delivery against a real Mosquitto started here: order, outages, crashes, TLS, auth."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anpr_edge.config.schema import MqttConfig, TlsConfig
from anpr_edge.sinks.mqtt import MqttSink
from anpr_edge.sinks.outbox import Outbox
from tests.broker import Broker, Subscriber
from tests.conftest import needs_mosquitto

pytestmark = needs_mosquitto
ROOT = Path(__file__).resolve().parents[2]


def sink_for(port: int, state: Path, **kw: object) -> MqttSink:
    cfg = MqttConfig(enabled=True, host="127.0.0.1", port=port, reconnect_max_s=1, **kw)  # type: ignore[arg-type]
    return MqttSink(cfg, "dev1", "anpr/dev1", Outbox(state / "outbox.sqlite", 100_000))


def numbers(sub: Subscriber) -> list[int]:
    return [p["n"] for p in sub.payloads()]


def test_outbox_is_ordered_durable_and_bounded(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite", max_events=5)
    for i in range(8):
        box.add("t", str(i).encode())
    assert [p for _, _, p in box.after(0, 100)] == [b"3", b"4", b"5", b"6", b"7"] and box.dropped == 3
    box.close()
    again = Outbox(tmp_path / "o.sqlite", max_events=5)
    seqs = [s for s, _, _ in again.after(0, 100)]
    again.ack(seqs[0])
    assert len(again) == 4


def test_thousand_events_all_once_in_order_with_status(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "b").start()
    sub = Subscriber(broker.port, "anpr/dev1/#")
    sink = sink_for(broker.port, tmp_path)
    sink.start()
    try:
        for i in range(1000):
            sink.publish_event("gate", {"event_id": f"e{i}", "n": i})
        got = sub.wait_for(1000, 60)
        assert [p["n"] for p in got] == list(range(1000))
        deadline = time.monotonic() + 5
        while len(sink.outbox) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(sink.outbox) == 0  # every PUBACK removed its row
        assert ("anpr/dev1/status", b"online") in sub.messages
        assert all(t == "anpr/dev1/gate/plate" for t, _ in sub.messages if t.endswith("/plate"))
    finally:
        sink.stop()
        sub.close()
        broker.stop()


def test_each_new_event_reports_its_latency_from_first_sight_to_the_brokers_ack(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "b").start()
    sub = Subscriber(broker.port, "anpr/dev1/+/plate")
    cfg = MqttConfig(enabled=True, host="127.0.0.1", port=broker.port, reconnect_max_s=1)
    latencies: list[float] = []
    sink = MqttSink(cfg, "dev1", "anpr/dev1", Outbox(tmp_path / "outbox.sqlite", 100), latency=latencies.append)
    sink.start()
    try:
        seen = time.time() - 0.5  # the plate's first frame was captured half a second ago
        sink.publish_event("gate", {"event_id": "e1", "type": "new", "first_seen": seen})
        sink.publish_event("gate", {"event_id": "e1", "type": "update", "first_seen": seen})
        sink.publish_event("gate", {"event_id": "e2", "type": "new"})  # no first_seen: not timed
        assert len(sub.wait_for(3, 20)) == 3
        deadline = time.monotonic() + 5
        while not latencies and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(latencies) == 1 and 0.5 <= latencies[0] < 5.0, latencies  # the new event alone
    finally:
        sink.stop()
        sub.close()
        broker.stop()


def test_a_puback_before_its_note_still_pairs_with_its_first_sight(tmp_path: Path) -> None:
    """paho may deliver the PUBACK between publish() returning and the sender noting the message id (the
    network thread runs on its own): the ack time is kept and paired when the note comes."""
    latencies: list[float] = []
    cfg = MqttConfig(enabled=True, host="127.0.0.1", port=1, reconnect_max_s=1)
    sink = MqttSink(cfg, "dev1", "anpr/dev1", Outbox(tmp_path / "outbox.sqlite", 100), latency=latencies.append)
    now = time.time()
    sink._on_publish(sink.client, None, 7, None, None)  # the ack first
    sink._note_sight(7, now - 0.25)  # then the note
    sink._note_sight(8, now - 0.5)  # the note first
    sink._on_publish(sink.client, None, 8, None, None)  # then the ack
    sink._on_publish(sink.client, None, 9, None, None)  # a status message: never noted, never timed
    assert len(latencies) == 2 and 0.25 <= latencies[0] < 1.0 and 0.5 <= latencies[1] < 1.5, latencies
    sink._on_disconnect(sink.client, None, None, None, None)
    sink._note_sight(9, now)  # after a reconnect message ids start again: the old ack does not pair
    assert len(latencies) == 2


def test_broker_outage_of_30_s_loses_nothing_and_keeps_order(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "b").start()
    sub = Subscriber(broker.port, "anpr/dev1/+/plate")
    sink = sink_for(broker.port, tmp_path)
    sink.start()
    n = 0
    try:
        for _ in range(50):
            sink.publish_event("gate", {"event_id": f"e{n}", "n": n})
            n += 1
        assert len(sub.wait_for(50, 20)) == 50
        broker.stop()
        end = time.monotonic() + 30
        while time.monotonic() < end:  # events keep coming while the broker is away
            sink.publish_event("gate", {"event_id": f"e{n}", "n": n})
            n += 1
            time.sleep(0.1)
        assert len(sink.outbox) > 200
        broker.start()
        got = sub.wait_for(n, 60)
        ids = [p["n"] for p in got]
        assert sorted(set(ids)) == list(range(n))  # every event arrived
        first_seen = list(dict.fromkeys(ids))
        assert first_seen == list(range(n))  # in order (a QoS 1 re-delivery may repeat one)
    finally:
        sink.stop()
        sub.close()
        broker.stop()


def test_events_wait_in_memory_while_the_outbox_disk_refuses_writes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker = Broker(tmp_path / "b").start()
    sub = Subscriber(broker.port, "anpr/dev1/+/plate")
    sink = sink_for(broker.port, tmp_path)
    sink.start()
    db = sink.outbox._db
    try:
        sink.publish_event("gate", {"event_id": "e0", "n": 0})
        assert [p["n"] for p in sub.wait_for(1, 20)] == [0]
        with sink.outbox._lock:
            db.execute("PRAGMA query_only = ON")  # SQLite refuses every write now, as on a full or failing disk
        with caplog.at_level(logging.ERROR):
            for n in range(1, 4):
                sink.publish_event("gate", {"event_id": f"e{n}", "n": n})  # no exception reaches the camera
        assert sink.held == 3 and "cannot store events" in caplog.text
        with sink.outbox._lock:
            db.execute("PRAGMA query_only = OFF")
        got = sub.wait_for(4, 20)  # the sender stores them, oldest first, and sends them
        assert list(dict.fromkeys(p["n"] for p in got)) == [0, 1, 2, 3] and sink.held == 0
    finally:
        sink.stop()
        sub.close()
        broker.stop()


def test_daemon_killed_with_events_in_outbox_delivers_after_restart(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "b")
    state = tmp_path / "state"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "tests.sinks.mqtt_driver", str(state), str(broker.port)]
    proc = subprocess.Popen([*cmd, "0", "100"], stdout=subprocess.PIPE, env=env, cwd=ROOT)
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"queued"
    proc.send_signal(signal.SIGKILL)  # broker down, 100 events only on disk
    proc.wait(10)
    broker.start()
    sub = Subscriber(broker.port, "anpr/crash/+/plate")
    proc2 = subprocess.Popen([*cmd, "100", "20"], stdout=subprocess.PIPE, env=env, cwd=ROOT)
    try:
        got = sub.wait_for(120, 60)
        assert sorted({p["n"] for p in got}) == list(range(120))
        assert list(dict.fromkeys(p["n"] for p in got)) == list(range(120))  # backlog first, in order
    finally:
        proc2.kill()
        sub.close()
        broker.stop()


def make_certs(d: Path) -> dict[str, Path]:
    d.mkdir(parents=True, exist_ok=True)

    def ssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    ssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        "/CN=test-ca",
    )
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    )
    for f in d.iterdir():
        os.chmod(f, 0o644)
    return {n: d / n for n in ("ca.crt", "server.crt", "server.key")}


def test_tls_with_certificates_made_here(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs")
    extra = (
        f"allow_anonymous true\ncafile {certs['ca.crt']}\ncertfile {certs['server.crt']}\n"
        f"keyfile {certs['server.key']}\n"
    )
    broker = Broker(tmp_path / "b", extra).start()
    sub = Subscriber(broker.port, "anpr/dev1/+/plate", ca_certs=str(certs["ca.crt"]))
    sink = sink_for(broker.port, tmp_path, tls=TlsConfig(enabled=True, ca_file=certs["ca.crt"]))
    sink.start()
    try:
        for i in range(20):
            sink.publish_event("gate", {"event_id": f"e{i}", "n": i})
        assert [p["n"] for p in sub.wait_for(20, 20)] == list(range(20))
    finally:
        sink.stop()
        sub.close()
        broker.stop()


def test_password_auth_and_a_wrong_password_keeps_events(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pw = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(pw), "anpr", "s3cret"], check=True, capture_output=True)
    subprocess.run(["mosquitto_passwd", "-b", str(pw), "sub", "subpw"], check=True, capture_output=True)
    os.chmod(pw, 0o644)
    broker = Broker(tmp_path / "b", f"allow_anonymous false\npassword_file {pw}\n").start()
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text("s3cret\n")
    bad.write_text("wrong\n")
    wrong = sink_for(broker.port, tmp_path, username="anpr", password_file=bad)
    try:
        with caplog.at_level(logging.ERROR, logger="anpr_edge.sinks.mqtt"):
            wrong.start()
            for i in range(10):
                wrong.publish_event("gate", {"event_id": f"e{i}", "n": i})
            deadline = time.monotonic() + 10
            while "refused" not in caplog.text and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(2.5)  # it keeps retrying, still refused, nothing lost
        assert "refused the connection" in caplog.text and "s3cret" not in caplog.text
        assert not wrong.connected.is_set() and len(wrong.outbox) == 10
    finally:
        wrong.stop()
    sub = Subscriber(broker.port, "anpr/dev1/+/plate", client_id="auth-sub", auth=("sub", "subpw"))
    try:
        right = sink_for(broker.port, tmp_path, username="anpr", password_file=good)
        right.start()
        assert [p["n"] for p in sub.wait_for(10, 20)] == list(range(10))
        right.stop()
    finally:
        sub.close()
        broker.stop()
