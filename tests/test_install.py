"""install.sh into a staging root: the tree, idempotence, config kept on upgrade, uninstall; the unit verifies."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import needs_models

ROOT = Path(__file__).resolve().parents[1]
pytestmark = needs_models


def install(stage: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "install.sh"), "--root", str(stage), "--no-venv", *args],
        capture_output=True,
        text=True,
        check=True,
    )


def snapshot(stage: Path) -> dict[str, str]:
    return {
        str(p.relative_to(stage)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(stage.rglob("*"))
        if p.is_file()
    }


def test_tree_idempotence_upgrade_and_uninstall(tmp_path: Path) -> None:
    stage = tmp_path / "root"
    install(stage)
    tree = snapshot(stage)
    for f in (
        "opt/anpr-edge/models/plate_detector.xml",
        "opt/anpr-edge/models/plate_ocr.json",
        "etc/anpr-edge/config.yaml",
        "etc/anpr-edge/mqtt_password",
        "etc/systemd/system/anpr-edge.service",
        "var/lib/anpr-edge/intel/openvino_telemetry",
    ):
        assert f in tree, f
    assert (stage / "var/lib/anpr-edge/intel/openvino_telemetry").read_text().strip() == "0"
    # Twice: nothing changes, nothing is reported as installed.
    second = install(stage)
    assert snapshot(stage) == tree and "installed" not in second.stdout
    # An edited config survives an upgrade; the new default lands beside it.
    cfg = stage / "etc/anpr-edge/config.yaml"
    cfg.write_text(cfg.read_text().replace("device_id: gate-1", "device_id: my-gate"))
    install(stage)
    assert "device_id: my-gate" in cfg.read_text()
    assert "device_id: gate-1" in (stage / "etc/anpr-edge/config.yaml.new").read_text()
    # Uninstall keeps config and data; purge removes them.
    (stage / "var/lib/anpr-edge/events.csv").write_text("time;plate_num\n")
    install(stage, "--uninstall")
    assert not (stage / "opt/anpr-edge").exists() and not (stage / "etc/systemd/system/anpr-edge.service").exists()
    assert cfg.exists() and (stage / "var/lib/anpr-edge/events.csv").exists()
    install(stage, "--uninstall", "--purge")
    assert not cfg.exists() and not (stage / "var/lib/anpr-edge").exists()


def test_prefix_is_substituted(tmp_path: Path) -> None:
    stage = tmp_path / "root"
    install(stage, "--prefix", "/srv/anpr")
    unit = (stage / "etc/systemd/system/anpr-edge.service").read_text()
    assert "ExecStart=/srv/anpr/venv/bin/anpr-edge run" in unit
    assert "dir: /srv/anpr/models" in (stage / "etc/anpr-edge/config.yaml").read_text()


def test_bad_option_is_clear(tmp_path: Path) -> None:
    r = subprocess.run(["bash", str(ROOT / "install.sh"), "--frobnicate"], capture_output=True, text=True)
    assert r.returncode == 1 and "unknown option --frobnicate" in r.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    # The ExecStart binary exists only after a real install: point it at /bin/true for the check.
    unit = tmp_path / "anpr-edge.service"
    unit.write_text(
        (ROOT / "systemd/anpr-edge.service").read_text().replace("/opt/anpr-edge/venv/bin/anpr-edge", "/bin/true")
    )
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    text = unit.read_text()
    for directive in (
        "Type=notify",
        "WatchdogSec=",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "ProtectSystem=strict",
        "LoadCredential=mqtt_password",
        "SupplementaryGroups=video render",
        "NoNewPrivileges=yes",
    ):
        assert directive in text
