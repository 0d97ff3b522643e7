"""Every shipped config validates; broken ones give one line naming the key (and YAML line)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from anpr_edge.config.load import load, parse
from anpr_edge.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
GOOD = """\
device_id: gate-1
cameras:
  - name: entry
    source: rtsp://u:p@10.0.0.5/s
"""


@pytest.mark.parametrize("path", sorted((ROOT / "config").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_validate(path: Path) -> None:
    cfg = load(path)
    assert cfg.cameras


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        GOOD + "models: {dir: m}\nstorage: {state_dir: s}\noutputs: {csv: {path: e.csv}}\n"
    )
    cfg = load(tmp_path / "c.yaml")
    assert cfg.models.dir == tmp_path / "m" and cfg.storage.state_dir == tmp_path / "s"
    assert cfg.outputs.csv.path == str(tmp_path / "e.csv")


def test_performance_auto_is_latency_for_one_camera_and_throughput_for_more() -> None:
    second = "  - name: exit\n    source: rtsp://u:p@10.0.0.6/s\n"
    assert parse(GOOD).performance_hint() == "latency"
    assert parse(GOOD + second).performance_hint() == "throughput"
    assert parse(GOOD + second + "    enabled: false\n").performance_hint() == "latency"  # enabled ones count
    assert parse(GOOD + second + "models: {performance: latency}\n").performance_hint() == "latency"
    assert parse(GOOD + "models: {performance: throughput}\n").performance_hint() == "throughput"
    with pytest.raises(ConfigError, match=r"models\.performance: Input should be 'auto', 'latency' or 'throughput'"):
        parse(GOOD + "models: {performance: fast}\n")


def test_camera_override_merges_with_global() -> None:
    cfg = parse(GOOD.replace("s\n", "s\n    recognition: {conf: 0.6}\n") + "recognition: {iou: 0.4}\n")
    s = cfg.camera_settings(cfg.cameras[0])
    assert (s.conf, s.iou) == (0.6, 0.4)


def test_rectify_is_auto_true_or_false_and_a_camera_can_go_back_to_auto() -> None:
    assert parse(GOOD).camera_settings(parse(GOOD).cameras[0]).rectify == "auto"
    cfg = parse(GOOD.replace("s\n", "s\n    recognition: {rectify: auto}\n") + "recognition: {rectify: true}\n")
    assert cfg.recognition.rectify is True and cfg.camera_settings(cfg.cameras[0]).rectify == "auto"


BROKEN = [
    ("cameras: []\n", "cameras", 1),
    (GOOD + "colour: red\n", "colour: unknown key", 5),
    (GOOD.replace("entry", "en try"), "cameras[0].name", 3),
    (GOOD + "    target_fps: 0\n", "cameras[0].target_fps", 5),
    (GOOD + "    fps: 10\n", "cameras[0].fps: unknown key", 5),
    (GOOD + "    target_fsp: 10\n", "cameras[0].target_fsp: unknown key (did you mean target_fps?)", 5),
    (GOOD + "recognition: {detect_settled_every: 2}\n", "unknown key (did you mean detect_settled_s?)", 5),
    (GOOD + "outputs: {mqtt: {hots: x}}\n", "outputs.mqtt.hots: unknown key (did you mean host?)", 5),
    (GOOD + '"cameras[0]": 1\n', "'cameras[0]': unknown key", 5),  # a key that looks like a location
    (GOOD + '"ocr_every_m\\nx": 1\n', "'ocr_every_m\\nx': unknown key", 5),  # a newline in a key: one line still
    (GOOD + "recognition: {conf: 1.5}\n", "recognition.conf", 5),
    (GOOD + "recognition: {max_misses: -1}\n", "recognition.max_misses", 5),
    (GOOD + "recognition: {rectify: maybe}\n", "recognition.rectify", 5),
    (GOOD + "models: {device: tpu}\n", "models.device", 5),
    (GOOD + "models: {detector_input: 512}\n", "models.detector_input", 5),
    (GOOD + "outputs: {mqtt: {port: 70000}}\n", "outputs.mqtt.port", 5),
    (GOOD + "outputs: {csv: {columns: [speed]}}\n", "outputs.csv.columns[0]", 5),
    (GOOD + "  - name: entry\n    source: x.mp4\n", "camera names must be unique", None),
    (GOOD + "    roi: [[0, 0], [1, 1]]\n", "cameras[0].roi", 5),
    (GOOD + "logging: {level: LOUD}\n", "logging.level", 5),
    ("cameras:\n  - name: a\n    source: [\n", "not valid YAML", None),
    ("- just\n- a list\n", "must be a mapping", None),
    (GOOD.replace("    source: rtsp://u:p@10.0.0.5/s\n", ""), "cameras[0].source: Field required", 3),
]


@pytest.mark.parametrize(("text", "needle", "line"), BROKEN, ids=[b[1] for b in BROKEN])
def test_broken_config_names_the_key(text: str, needle: str, line: int | None) -> None:
    with pytest.raises(ConfigError) as exc:
        parse(text, "cfg.yaml")
    msg = str(exc.value)
    assert needle in msg and "\n" not in msg
    if line is not None:
        assert msg.startswith(f"cfg.yaml:{line}:")


def test_check_config_cli_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD + "    target_fps: fast\n")
    r = subprocess.run(
        [sys.executable, "-m", "anpr_edge.cli", "check-config", str(bad)], capture_output=True, text=True
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "cameras[0].target_fps" in r.stderr and "Traceback" not in r.stderr


def test_check_config_reports_missing_models_and_files(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("models: {dir: nowhere}\ncameras:\n  - {name: a, source: missing.mp4}\n")
    r = subprocess.run(
        [sys.executable, "-m", "anpr_edge.cli", "check-config", str(cfg)], capture_output=True, text=True
    )
    assert r.returncode == 2 and "models.dir" in r.stderr and "cameras[0].source" in r.stderr


def test_recognition_settings_are_defined_once() -> None:
    """The YAML section is the pipeline's settings class itself; per-camera overrides mirror its keys."""
    from anpr_edge.config.schema import RecognitionConfig, RecognitionOverrides
    from anpr_edge.recognition.settings import RecognitionSettings

    assert RecognitionConfig is RecognitionSettings
    assert set(RecognitionOverrides.model_fields) == set(RecognitionSettings.model_fields)
    assert RecognitionOverrides().model_dump() == dict.fromkeys(RecognitionSettings.model_fields)


def test_check_config_checks_the_detector_input_against_the_model(tmp_path: Path) -> None:
    models = ROOT / "models"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"models: {{dir: {models}, detector_input: 500x288}}\ncameras:\n  - {{name: a, source: '0'}}\n")
    cmd = [sys.executable, "-m", "anpr_edge.cli", "check-config", str(cfg)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 2 and "models.detector_input: 500x288 is not a multiple of 32" in r.stderr
    cfg.write_text(cfg.read_text().replace("500x288", "512x288"))
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "performance auto: latency)" in r.stdout  # one camera: what auto turns into


def test_the_ocr_engine_is_chosen_in_the_config() -> None:
    assert parse(GOOD).ocr.engine == "crnn"
    assert parse(GOOD + "ocr:\n  engine: paddle\n").ocr.engine == "paddle"
    with pytest.raises(ConfigError, match=r"ocr\.engine"):
        parse(GOOD + "ocr:\n  engine: tesseract\n")


def test_models_precision_is_one_of_the_runtime_precisions() -> None:
    assert parse(GOOD).models.precision == "auto"
    assert parse(GOOD + "models: {precision: int8}\n").models.precision == "int8"
    with pytest.raises(ConfigError, match=r"models\.precision: Input should be 'auto', 'f32', 'bf16' or 'int8'"):
        parse(GOOD + "models: {precision: fp8}\n")


def test_check_config_names_models_precision_when_a_precision_cannot_run(tmp_path: Path) -> None:
    """int8 without the quantized copy (a models folder without ``plate_detector.int8.xml``) is the
    precision's problem, reported under that key, not under ``models.dir``."""
    import shutil

    models = tmp_path / "m"
    models.mkdir()
    for f in (ROOT / "models").glob("plate_*"):
        if ".int8." not in f.name:
            shutil.copy(f, models / f.name)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"models: {{dir: {models}, precision: int8}}\ncameras:\n  - {{name: a, source: '0'}}\n")
    r = subprocess.run(
        [sys.executable, "-m", "anpr_edge.cli", "check-config", str(cfg)], capture_output=True, text=True
    )
    assert r.returncode == 2 and "models.precision" in r.stderr and "plate_detector.int8.xml" in r.stderr, r.stderr
