"""The integration keys: ``http``, ``outputs.mqtt.homeassistant``, snapshot retention — defaults, shorthands,
and errors naming the key."""

from __future__ import annotations

import pytest

from anpr_edge.config.load import parse
from anpr_edge.errors import ConfigError

GOOD = """\
device_id: gate-1
cameras:
  - name: entry
    source: rtsp://u:p@10.0.0.5/s
"""
MQTT = "outputs:\n  mqtt:\n    enabled: true\n"


def test_http_is_on_at_loopback_by_default_and_false_turns_it_off() -> None:
    cfg = parse(GOOD)
    assert cfg.http.enabled and cfg.http.listen == "127.0.0.1:9464"
    assert not parse(GOOD + "http: false\n").http.enabled
    assert parse(GOOD + "http: {listen: '[::1]:9000'}\n").http.listen == "[::1]:9000"


@pytest.mark.parametrize("listen", ["9464", "localhost", "127.0.0.1:99999"])
def test_a_bad_listen_address_names_the_key_and_line(listen: str) -> None:
    with pytest.raises(ConfigError, match=r"<config>:6: http\.listen: Value error, expected host:port"):
        parse(GOOD + f"http:\n  listen: '{listen}'\n")


@pytest.mark.parametrize(
    ("yaml_value", "enabled", "prefix"),
    [
        ("true", True, "homeassistant"),
        ("false", False, "homeassistant"),
        ("{discovery_prefix: ha}", True, "ha"),
        ("{enabled: false, discovery_prefix: ha}", False, "ha"),
    ],
)
def test_homeassistant_shorthands(yaml_value: str, enabled: bool, prefix: str) -> None:
    ha = parse(GOOD + MQTT + f"    homeassistant: {yaml_value}\n").outputs.mqtt.homeassistant
    assert (ha.enabled, ha.discovery_prefix) == (enabled, prefix)


def test_homeassistant_is_off_by_default_and_needs_mqtt() -> None:
    assert not parse(GOOD + MQTT).outputs.mqtt.homeassistant.enabled
    with pytest.raises(ConfigError, match=r"outputs\.mqtt: Value error, homeassistant needs outputs\.mqtt\.enabled"):
        parse(GOOD + "outputs:\n  mqtt:\n    homeassistant: true\n")


def test_a_wildcard_discovery_prefix_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"outputs\.mqtt\.homeassistant\.discovery_prefix"):
        parse(GOOD + MQTT + "    homeassistant: {discovery_prefix: 'ha/#'}\n")


def test_snapshot_retention_defaults_and_bounds() -> None:
    s = parse(GOOD).snapshots
    assert (s.max_files, s.max_age_days, s.max_total_mb, s.jpeg_quality, s.crop) == (2000, 7.0, 2000.0, 85, True)
    with pytest.raises(ConfigError, match=r"snapshots\.max_total_mb: Input should be greater than 0"):
        parse(GOOD + "snapshots: {max_total_mb: 0}\n")
    with pytest.raises(ConfigError, match=r"snapshots\.jpeg_quality"):
        parse(GOOD + "snapshots: {jpeg_quality: 101}\n")
