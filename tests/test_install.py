"""install.sh into a staging root: the tree, the PATH link, docs, logrotate, the service enabled but not started
on the placeholder camera, idempotence, config kept on upgrade, uninstall and purge; the unit verifies; and one
real install whose ``anpr-edge`` runs from the PATH."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import needs_models

ROOT = Path(__file__).resolve().parents[1]
pytestmark = needs_models
PLACEHOLDER = "rtsp://user:password@192.168.1.64:554/Streaming/Channels/101"


def install(stage: Path, *args: str, venv: bool = False) -> subprocess.CompletedProcess[str]:
    cmd = ["bash", str(ROOT / "install.sh"), "--root", str(stage), *([] if venv else ["--no-venv"]), *args]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def snapshot(stage: Path) -> dict[str, str]:
    """Every file (content hash) and link (target) under ``stage``."""
    out = {}
    for p in sorted(stage.rglob("*")):
        if p.is_symlink():
            out[str(p.relative_to(stage))] = "-> " + os.readlink(p)
        elif p.is_file():
            out[str(p.relative_to(stage))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def test_tree_path_docs_and_enabled_unit(tmp_path: Path) -> None:
    stage = tmp_path / "root"
    r = install(stage)
    tree = snapshot(stage)
    for f in (
        "opt/anpr-edge/models/plate_detector.xml",
        "opt/anpr-edge/models/plate_ocr.json",
        "opt/anpr-edge/models/plate_detector.int8.xml",
        "opt/anpr-edge/models/camera/plate_detector.xml",
        "opt/anpr-edge/models/camera/plate_ocr.xml",
        "opt/anpr-edge/README.md",
        "opt/anpr-edge/docs/install.md",
        "opt/anpr-edge/docs/configuration.md",
        "opt/anpr-edge/docs/event.schema.json",
        "etc/anpr-edge/config.yaml",
        "etc/anpr-edge/mqtt_password",
        "etc/systemd/system/anpr-edge.service",
        "var/lib/anpr-edge/intel/openvino_telemetry",
    ):
        assert f in tree, f
    assert "opt/anpr-edge/docs/preregistration.md" not in tree  # research rules, not user docs
    assert (stage / "var/lib/anpr-edge/intel/openvino_telemetry").read_text().strip() == "0"
    # On the PATH: a relative link into the program's environment, so it resolves inside the stage too.
    link = stage / "usr/local/bin/anpr-edge"
    assert os.readlink(link) == "../../../opt/anpr-edge/venv/bin/anpr-edge"
    assert link.resolve() == (stage / "opt/anpr-edge/venv/bin/anpr-edge").resolve()
    # Enabled as systemctl enable does it; the log rotation beside it once the tree has a snippet.
    wants = stage / "etc/systemd/system/multi-user.target.wants/anpr-edge.service"
    assert os.readlink(wants) == "/etc/systemd/system/anpr-edge.service"
    if (ROOT / "systemd/anpr-edge.logrotate").is_file():
        assert (stage / "etc/logrotate.d/anpr-edge").read_bytes() == (ROOT / "systemd/anpr-edge.logrotate").read_bytes()
    # The shipped config names the placeholder camera: not started, the next three steps printed.
    assert PLACEHOLDER in (stage / "etc/anpr-edge/config.yaml").read_text()
    assert "enabled but not started" in r.stdout and "placeholder camera" in r.stdout
    steps = [line.strip() for line in r.stdout.splitlines() if line.strip()[:2] in ("1.", "2.", "3.")]
    assert [s.split()[1] for s in steps] == ["sudoedit", "sudo", "sudo"], r.stdout
    assert "check-config /etc/anpr-edge/config.yaml" in steps[1] and "systemctl start anpr-edge" in steps[2]


def test_idempotent_upgrade_keeps_an_edited_config(tmp_path: Path) -> None:
    stage = tmp_path / "root"
    install(stage)
    tree = snapshot(stage)
    second = install(stage)  # nothing changes, nothing is reported as installed or linked
    assert snapshot(stage) == tree
    assert "installed" not in second.stdout and "linked" not in second.stdout, second.stdout
    cfg = stage / "etc/anpr-edge/config.yaml"
    cfg.write_text(cfg.read_text().replace(PLACEHOLDER, "rtsp://cam.local/stream").replace("gate-1", "my-gate"))
    third = install(stage)
    assert "device_id: my-gate" in cfg.read_text()
    assert "device_id: gate-1" in (stage / "etc/anpr-edge/config.yaml.new").read_text()
    # A real camera: no next steps (a live install would start the service here).
    assert "placeholder" not in third.stdout and "systemctl start anpr-edge" in third.stdout


def test_uninstall_keeps_config_and_data_and_purge_removes_them(tmp_path: Path) -> None:
    stage = tmp_path / "root"
    install(stage)
    (stage / "var/lib/anpr-edge/events.csv").write_text("time;plate_num\n")
    (stage / "usr/local/bin/other-tool").write_text("#!/bin/sh\n")  # not ours: stays
    install(stage, "--uninstall")
    for gone in (
        "opt/anpr-edge",
        "usr/local/bin/anpr-edge",
        "etc/systemd/system/anpr-edge.service",
        "etc/systemd/system/multi-user.target.wants/anpr-edge.service",
        "etc/logrotate.d/anpr-edge",
    ):
        assert not (stage / gone).is_symlink() and not (stage / gone).exists(), gone
    assert (stage / "etc/anpr-edge/config.yaml").exists() and (stage / "var/lib/anpr-edge/events.csv").exists()
    assert (stage / "usr/local/bin/other-tool").exists()
    install(stage, "--uninstall")  # twice is fine
    install(stage, "--uninstall", "--purge")
    assert not (stage / "etc/anpr-edge").exists() and not (stage / "var/lib/anpr-edge").exists()


def test_prefix_and_bindir_are_substituted(tmp_path: Path) -> None:
    stage = tmp_path / "root"
    install(stage, "--prefix", "/srv/anpr", "--bindir", "/usr/bin")
    unit = (stage / "etc/systemd/system/anpr-edge.service").read_text()
    assert "ExecStart=/srv/anpr/venv/bin/anpr-edge run" in unit
    assert "dir: /srv/anpr/models" in (stage / "etc/anpr-edge/config.yaml").read_text()
    assert os.readlink(stage / "usr/bin/anpr-edge") == "../../srv/anpr/venv/bin/anpr-edge"


def test_bad_option_is_clear(tmp_path: Path) -> None:
    r = subprocess.run(["bash", str(ROOT / "install.sh"), "--frobnicate"], capture_output=True, text=True)
    assert r.returncode == 1 and "unknown option --frobnicate" in r.stderr


@pytest.mark.slow
def test_a_real_install_puts_a_working_anpr_edge_on_the_path(tmp_path: Path) -> None:
    """The Python environment install.sh builds (pinned runtime, no torch), run through the PATH link."""
    stage = tmp_path / "root"
    install(stage, venv=True)
    env = {**os.environ, "PATH": f"{stage / 'usr/local/bin'}{os.pathsep}{os.environ['PATH']}"}
    version = subprocess.run(["anpr-edge", "--version"], capture_output=True, text=True, env=env)
    assert version.returncode == 0 and version.stdout.startswith("anpr-edge "), version.stderr
    assert shutil.which("anpr-edge", path=env["PATH"]) == str(stage / "usr/local/bin/anpr-edge")
    cfg = stage / "etc/anpr-edge/config.yaml"
    cfg.write_text(cfg.read_text().replace("/opt/anpr-edge/models", str(stage / "opt/anpr-edge/models")))
    check = subprocess.run(["anpr-edge", "check-config", str(cfg)], capture_output=True, text=True, env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    site = next((stage / "opt/anpr-edge/venv/lib").glob("python3*/site-packages"))
    assert not (site / "torch").exists()


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
