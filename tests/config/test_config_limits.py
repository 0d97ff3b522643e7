"""#21.8, 9, 12, 13: unsafe camera names, hostile YAML, every problem in one pass, run-time checks."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anpr_edge.config.load import MAX_BYTES, load, parse
from anpr_edge.errors import ConfigError
from tests.conftest import ROOT

GOOD = "cameras:\n  - {name: gate, source: rtsp://cam/s}\n"


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b", "../etc", "x" * 65, "sp ace"])
def test_an_unsafe_camera_name_is_refused_naming_it(name: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse(f"cameras:\n  - name: '{name}'\n    source: rtsp://cam/s\n", "c.yaml")
    msg = str(exc.value)
    assert msg.startswith("c.yaml:2: cameras[0].name:") and "\n" not in msg
    if len(name) < 65:
        assert repr(name) in msg and "not a safe camera name" in msg


@pytest.mark.parametrize("name", ["gate", "gate-1", "cam.2", "_x", "-x", "A.b_c-9"])
def test_safe_names_still_load(name: str) -> None:
    assert parse(f"cameras:\n  - {{name: '{name}', source: x.mp4}}\n").cameras[0].name == name


def laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n" + GOOD


HOSTILE = [
    ("billion laughs", laughs(), "once its aliases (*name) are expanded"),
    ("alias inside itself", "a: &a [1, *a]\n" + GOOD, "an alias refers to a value that contains it"),
    ("deep nesting", "x: " + "[" * 5000 + "]" * 5000 + "\n" + GOOD, "nested"),
    ("too big", "# " + "x" * (MAX_BYTES + 10) + "\n" + GOOD, f"over the {MAX_BYTES} a configuration may have"),
]


def limited_load(path: Path) -> subprocess.CompletedProcess[str]:
    """``check-config`` in a child with 2 GiB of address space, so a regression fails instead of eating RAM."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    cmd = [sys.executable, "-m", "anpr_edge.cli", "check-config", str(path)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, preexec_fn=limit, cwd=ROOT)


@pytest.mark.parametrize(("text", "needle"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_yaml_is_refused_fast_with_one_line(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    t0 = time.monotonic()
    with pytest.raises(ConfigError, match=r"refused|contains it|nested") as exc:
        load(path)
    assert time.monotonic() - t0 < 1.0
    assert needle in str(exc.value) and "\n" not in str(exc.value)
    r = limited_load(path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and needle in r.stderr, r.stderr[-500:]


def test_every_problem_is_reported_in_one_pass_with_lines() -> None:
    text = (
        "device_id: gate\n"
        "cameras:\n"
        "  - name: a\n"
        "    source: x.mp4\n"
        "    target_fps: 0\n"
        "  - name: '..'\n"
        "    source: y.mp4\n"
        "recognition: {conf: 3}\n"
        "colour: red\n"
    )
    with pytest.raises(ConfigError) as exc:
        parse(text, "c.yaml")
    lines = str(exc.value).splitlines()
    assert len(lines) == 4, lines
    assert [ln.split(": ")[0] for ln in lines] == ["c.yaml:5", "c.yaml:6", "c.yaml:8", "c.yaml:9"]
    assert "cameras[0].target_fps" in lines[0] and "cameras[1].name" in lines[1] and "colour: unknown key" in lines[3]


def check_config(cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "anpr_edge.cli", "check-config", str(cfg), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_check_config_finds_run_time_failures_in_one_pass(tmp_path: Path, tiny_models: Path) -> None:
    """Output folders that cannot be written, TLS files missing, a model that does not load: each one line
    with its YAML line, all at once (they used to pass check-config and fail at run)."""
    broken_models = tmp_path / "models"
    broken_models.mkdir()
    for f in tiny_models.iterdir():
        (broken_models / f.name).write_bytes(f.read_bytes())
    (broken_models / "plate_ocr.xml").write_text("<net>not a model</net>")
    (broken_models / "plate_ocr.onnx").write_bytes(b"")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    video = tmp_path / "v.mp4"
    video.write_bytes(b"")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"models: {{dir: {broken_models}, device: cpu}}\n"
        f"cameras:\n  - {{name: a, source: {video}}}\n"
        f"outputs:\n"
        f"  csv: {{path: {blocker}/events.csv}}\n"
        f"  mqtt:\n"
        f"    enabled: true\n"
        f"    tls: {{enabled: true, ca_file: {tmp_path}/ca.pem}}\n"
        f"storage: {{state_dir: {blocker}/state}}\n"
    )
    r = check_config(cfg)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("anpr-edge: error:")]
    wanted = {
        ":1: models.dir:": "plate_ocr",
        ":5: outputs.csv.path:": "is not a folder",
        ":8: outputs.mqtt.tls.ca_file:": "cannot read",
        ":9: storage.state_dir:": "is not a folder",
    }
    for where, what in wanted.items():
        assert any(where in e and what in e for e in errors), (where, errors)
    assert len(errors) == len(wanted), errors


def test_check_config_on_a_read_only_folder(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=16k", "tmpfs", str(ro)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a read-only tmpfs here (needs root)")
    try:
        cfg = tmp_path / "c.yaml"
        cams = "cameras:\n  - {name: a, source: '0'}\n"
        cfg.write_text(f"models: {{dir: {tmp_path}}}\n{cams}storage: {{state_dir: {ro}}}\n")
        r2 = check_config(cfg)
    finally:
        subprocess.run(["umount", "-l", str(ro)], check=False)
    assert f"storage.state_dir: cannot write in {ro} (Read-only file system)" in r2.stderr, r2.stderr


def test_check_config_probe_names_cameras_that_do_not_answer(tmp_path: Path, tiny_models: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"models: {{dir: {tiny_models}, device: cpu}}\n"
        f"cameras:\n  - {{name: a, source: 'rtsp://u:s3cret@127.0.0.1:{closed}/cam', stall_timeout_s: 2}}\n"
        f"storage: {{state_dir: {tmp_path}/state}}\noutputs: {{csv: {{path: {tmp_path}/e.csv}}}}\n"
    )
    assert check_config(cfg).returncode == 0  # without --probe the camera is not asked
    r = check_config(cfg, "--probe")
    assert r.returncode == 2 and f"cameras[0].source: not reachable: cannot reach 127.0.0.1:{closed}" in r.stderr
    assert "s3cret" not in r.stderr
