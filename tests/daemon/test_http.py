"""/healthz and /metrics over real HTTP on loopback; the metrics parse as Prometheus text."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from anpr_edge.config.schema import parse_listen
from anpr_edge.daemon.health import Health, Sample, evaluate
from anpr_edge.daemon.http import HttpServer
from anpr_edge.daemon.metrics import Metrics
from anpr_edge.daemon.status import MqttStats
from anpr_edge.errors import ConfigError
from anpr_edge.sinks.router import SinkState
from tests.daemon.test_health import cam


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()


class World:
    """What the daemon would report, changed by the test between requests."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sample = Sample(
            cameras=(cam("gate"), cam("yard", frames_in=7)),
            sinks=(SinkState("mqtt", True, ""),),
            mqtt=MqttStats(connected=True, outbox=3, published=41, outbox_dropped=0),
            events=4,
        )

    def health(self) -> Health:
        return evaluate(self.sample, self.now)


@pytest.fixture
def served() -> Iterator[tuple[World, Metrics, str]]:
    world = World()
    metrics = Metrics(lambda: world.sample, lambda: world.now)
    server = HttpServer("127.0.0.1:0", world.health, metrics.exposition)
    server.start()
    try:
        yield world, metrics, f"http://{server.address}"
    finally:
        server.stop()


def test_healthz_is_200_then_503_naming_the_camera(served: tuple[World, Metrics, str]) -> None:
    world, _, url = served
    code, ctype, body = get(url + "/healthz")
    assert (code, ctype) == (200, "application/json") and json.loads(body)["status"] == "ok"
    world.now = 104.5  # gate's last frame was at 99 s: 5.5 s ago, over its 5 s stall timeout
    code, _, body = get(url + "/healthz")
    data = json.loads(body)
    assert code == 503 and data["status"] == "unhealthy"
    assert data["problems"] == [
        "camera gate: no frame for 5.5 s (stall_timeout_s 5, streaming)",
        "camera yard: no frame for 5.5 s (stall_timeout_s 5, streaming)",
    ]
    assert get(url + "/nothing")[0] == 404


def test_metrics_are_prometheus_text_with_the_anpr_families(served: tuple[World, Metrics, str]) -> None:
    _, metrics, url = served
    timer = metrics.stage_timer("gate")
    for ms in (12.0, 30.0, 700.0):
        timer.add("detector", ms)
    code, ctype, body = get(url + "/metrics")
    assert code == 200 and ctype.startswith("text/plain; version=")
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}
    assert values[("anpr_frames_in_total", (("camera", "yard"),))] == 7
    for name in ("processed", "idle", "skipped", "dropped"):
        assert ("anpr_frames_" + name + "_total", (("camera", "gate"),)) in values
    assert values[("anpr_events_total", (("camera", "gate"),))] == 2
    assert values[("anpr_camera_up", (("camera", "gate"),))] == 1.0
    assert values[("anpr_mqtt_connected", ())] == 1.0 and values[("anpr_outbox_events", ())] == 3
    assert values[("anpr_healthy", ())] == 1.0
    stage = (("camera", "gate"), ("stage", "detector"))
    assert values[("anpr_stage_duration_seconds_count", stage)] == 3
    assert values[("anpr_stage_duration_seconds_bucket", (*stage[:1], ("le", "0.05"), *stage[1:]))] == 2
    assert families["anpr_stage_duration_seconds"].type == "histogram"
    metrics.keep_cameras({"yard"})  # gate removed by a reload: its histograms go too
    assert b'camera="gate",stage=' not in get(url + "/metrics")[2]


def test_a_failing_handler_is_a_500_and_the_server_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def health() -> Health:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("sink closed under the request")
        return evaluate(World().sample, 100.0)

    server = HttpServer("127.0.0.1:0", health, lambda: b"")
    server.start()
    try:
        assert get(f"http://{server.address}/healthz")[0] == 500
        assert get(f"http://{server.address}/healthz")[0] == 200
        assert "http: /healthz failed" in caplog.text
    finally:
        server.stop()


def test_a_taken_port_is_a_config_error_naming_the_key() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        taken = s.getsockname()[1]
        server = HttpServer(f"127.0.0.1:{taken}", lambda: evaluate(World().sample, 100.0), lambda: b"")
        with pytest.raises(ConfigError, match=rf"http\.listen: cannot listen on 127\.0\.0\.1:{taken}"):
            server.start()


def test_stop_closes_the_port() -> None:
    server = HttpServer("127.0.0.1:0", lambda: evaluate(World().sample, 100.0), lambda: b"")
    server.start()
    host, port = parse_listen(server.address)
    server.stop()
    with pytest.raises(OSError):
        socket.create_connection((host, port), timeout=1).close()


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("127.0.0.1:9464", ("127.0.0.1", 9464)), ("[::1]:80", ("::1", 80)), ("0.0.0.0:0", ("0.0.0.0", 0))],
)
def test_parse_listen(text: str, parsed: tuple[str, int]) -> None:
    assert parse_listen(text) == parsed


@pytest.mark.parametrize("bad", ["9464", "localhost", ":9464", "host:port", "h:70000"])
def test_parse_listen_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match="expected host:port"):
        parse_listen(bad)
