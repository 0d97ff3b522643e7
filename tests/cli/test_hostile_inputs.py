"""#21.10: every bad input gives one line naming the thing (and, where there is one, the fix); no traceback.

Each case runs the CLI's entry point (``anpr_edge.cli.main.main``) on real files written here: configs with
wrong types, missing and unreadable files, corrupt images and truncated videos, broken model files, bad
URLs, bad options. The assertion is the user's view: the exit code, exactly one ``anpr-edge: error:`` line
on stderr containing the expected words, and no ``Traceback`` anywhere. The entry point is called in this
process rather than in a new Python per case: 80 interpreter starts with OpenVINO take minutes on a
2-core box, and the same function is what the ``anpr-edge`` script runs (tests/cli/test_cli_errors.py runs
some of the same inputs as real subprocesses). The YAML bombs run in a child process with limited memory.
"""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr_edge.cli.main import main
from tests.conftest import ROOT
from tests.daemon_helpers import write_video


@dataclass(frozen=True)
class Case:
    name: str
    argv: Callable[[Path], list[str]]  # given the workspace folder
    needle: str
    code: int = 2
    bomb: bool = False  # could eat the machine's memory if a check regressed: run in a limited subprocess


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory, tiny_models: Path) -> Path:
    """One workspace for every case: models (good and broken), media, configs."""
    w = tmp_path_factory.mktemp("hostile")
    (w / "models").symlink_to(tiny_models)
    broken = {
        "bad_json": ("plate_detector.json", "{not json"),
        "bad_xml": ("plate_ocr.xml", "<net>garbage</net>"),
        "wrong_task": ("plate_detector.json", None),
        "wrong_shape": ("plate_detector.json", None),
    }
    for name, (fname, text) in broken.items():
        d = w / name
        d.mkdir()
        for f in tiny_models.iterdir():
            (d / f.name).write_bytes(f.read_bytes())
        if text is not None:
            (d / fname).write_text(text)
            if fname.endswith(".xml"):
                (d / fname.replace(".xml", ".onnx")).write_bytes(b"")
    ocr_meta = (tiny_models / "plate_ocr.json").read_text()
    (w / "wrong_task" / "plate_detector.json").write_text(ocr_meta)
    det_meta = (tiny_models / "plate_detector.json").read_text()
    (w / "wrong_shape" / "plate_detector.json").write_text(det_meta.replace("640", "608"))
    write_video(w / "v.mp4", frames=20)
    data = (w / "v.mp4").read_bytes()
    (w / "cut.mp4").write_bytes(data[: len(data) // 3])
    (w / "text.mp4").write_text("not a video\n" * 50)
    (w / "empty").mkdir()
    (w / "junk").mkdir()
    (w / "junk" / "a.txt").write_text("x")
    (w / "imgs").mkdir()
    cv2.imwrite(str(w / "imgs" / "a.png"), np.zeros((100, 200, 3), np.uint8))
    (w / "corrupt").mkdir()
    (w / "corrupt" / "b.jpg").write_bytes(b"\xff\xd8 broken")
    (w / "odd").mkdir()
    cv2.imwrite(str(w / "odd" / "0.png"), np.full((360, 640, 3), 40, np.uint8))
    cv2.imwrite(str(w / "odd" / "1.png"), np.full((4000, 2, 3), 200, np.uint8))
    cv2.imwrite(str(w / "one.png"), np.zeros((10, 10, 3), np.uint8))
    (w / "a-file").write_text("a file, not a folder\n")
    (w / "state").mkdir()
    (w / "bad-state").mkdir()
    (w / "bad-state" / "status.json").write_text("{half")
    (w / "other.csv").write_text("a;b;c\n1;2;3\n")
    return w


CAM = "cameras:\n  - {name: gate, source: rtsp://cam/s}\n"


def config(text: str, models: str = "models", extra: str = "") -> Callable[[Path], list[str]]:
    """``check-config`` on a file with ``text`` (cameras etc.); models and a writable state folder added."""

    def argv(w: Path) -> list[str]:
        body = text.replace("{W}", str(w))
        head = f"models: {{dir: {w / models}, device: cpu}}\n" if "models:" not in body else ""
        tail = "" if "storage:" in body else f"storage: {{state_dir: {w}/state}}\n"
        out = "" if "outputs:" in body else f"outputs: {{csv: {{path: {w}/state/e.csv}}}}\n"
        path = w / f"cfg-{abs(hash(text + models + extra))}.yaml"
        path.write_text(head + body + tail + out + extra)
        return ["check-config", str(path)]

    return argv


def raw_config(content: bytes) -> Callable[[Path], list[str]]:
    def argv(w: Path) -> list[str]:
        path = w / f"raw-{abs(hash(content))}.yaml"
        path.write_bytes(content)
        return ["check-config", str(path)]

    return argv


def laughs() -> bytes:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return ("\n".join(lines) + "\n" + CAM).encode()


def m(w: Path, models: str = "models") -> list[str]:
    return ["--models", str(w / models), "--device", "cpu"]


CONFIG_CASES = [
    Case("empty file", raw_config(b""), "must be a mapping of keys (got NoneType)"),
    Case("a list", raw_config(b"- a\n- b\n"), "must be a mapping of keys (got list)"),
    Case("a scalar", raw_config(b"hello\n"), "must be a mapping of keys (got str)"),
    Case("unclosed bracket", raw_config(b"cameras: [\n"), "not valid YAML"),
    Case("tab indent", raw_config(b"cameras:\n\t- name: a\n"), "not valid YAML"),
    Case("not utf-8", raw_config(b"device_id: \xff\xfe\n" + CAM.encode()), "not UTF-8 text"),
    Case("nul bytes", raw_config(b"\0\0\0\0"), "not valid YAML"),
    Case("billion laughs", raw_config(laughs()), "once its aliases (*name) are expanded", bomb=True),
    Case("alias in itself", raw_config(b"a: &a [1, *a]\n" + CAM.encode()), "contains it", bomb=True),
    Case("deep nesting", raw_config(b"x: " + b"[" * 3000 + b"]" * 3000 + b"\n"), "nested over 64 levels", bomb=True),
    Case("2 MB", raw_config(b"# " + b"x" * (2 << 20) + b"\n"), "a configuration may have; refused", bomb=True),
    Case("missing file", lambda w: ["check-config", str(w / "nope.yaml")], "nope.yaml: configuration file not found"),
    Case("a folder", lambda w: ["check-config", str(w / "empty")], "a folder, not a configuration file"),
    Case("no cameras", config("cameras: []\n"), "cameras: List should have at least 1 item"),
    Case("cameras missing", config("device_id: x\n"), "cameras: Field required"),
    Case("unknown key", config(CAM + "colour: red\n"), "colour: unknown key"),
    Case("name ..", config("cameras:\n  - {name: '..', source: x.mp4}\n"), "'..' is not a safe camera name"),
    Case("name a/b", config("cameras:\n  - {name: a/b, source: x.mp4}\n"), "'a/b' is not a safe camera name"),
    Case("same names", config(CAM + "  - {name: gate, source: y.mp4}\n"), "camera names must be unique"),
    Case("fps text", config("cameras:\n  - {name: a, source: '0', target_fps: fast}\n"), "cameras[0].target_fps"),
    Case("fps < 0", config("cameras:\n  - {name: a, source: '0', target_fps: -1}\n"), "greater than 0"),
    Case("roi 2 points", config("cameras:\n  - {name: a, source: '0', roi: [[0, 0], [1, 1]]}\n"), "3 points"),
    Case("roi text", config("cameras:\n  - {name: a, source: '0', roi: [[a, 0], [1, 1], [2, 2]]}\n"), "roi[0][0]"),
    Case("empty source", config("cameras:\n  - {name: a, source: '  '}\n"), "source is empty"),
    Case("url no host", config("cameras:\n  - {name: a, source: 'rtsp://'}\n"), "no host in rtsp://"),
    Case("url ftp", config("cameras:\n  - {name: a, source: 'ftp://cam/s'}\n"), "unsupported scheme ftp://"),
    Case("url port", config("cameras:\n  - {name: a, source: 'rtsp://cam:99999/s'}\n"), "bad host or port"),
    Case("url creds no host", config("cameras:\n  - {name: a, source: 'rtsp://u:p@ss/w@'}\n"), "no host"),
    Case("missing video", config("cameras:\n  - {name: a, source: /no/such.mp4}\n"), "/no/such.mp4 does not exist"),
    Case("conf 1.5", config(CAM + "recognition: {conf: 1.5}\n"), "recognition.conf"),
    Case("max_misses -1", config(CAM + "recognition: {max_misses: -1}\n"), "recognition.max_misses"),
    Case("recognition typo", config(CAM + "recognition: {confidence: 0.5}\n"), "recognition.confidence: unknown key"),
    Case("override bound", config("cameras:\n  - {name: a, source: '0', recognition: {iou: 2}}\n"), "recognition.iou"),
    Case("device tpu", config(CAM + "models: {dir: {W}/models, device: tpu}\n"), "models.device"),
    Case("input 512", config(CAM + "models: {dir: {W}/models, detector_input: '512'}\n"), "models.detector_input"),
    Case("input x", config(CAM, extra="models_x: 1\n"), "models_x: unknown key"),
    Case("input stride", config(CAM + "models: {dir: {W}/models, detector_input: 500x288}\n"), "multiple of 32"),
    Case("config no models", config(CAM, models="empty"), "plate_detector.json: model metadata not found"),
    Case("config models json", config(CAM, models="bad_json"), "plate_detector.json: unreadable model metadata"),
    Case("models xml", config(CAM, models="bad_xml"), "plate_ocr"),
    Case("models task", config(CAM, models="wrong_task"), "expected a plate_detector model"),
    Case("models shape", config(CAM, models="wrong_shape"), "608"),
    Case("mqtt port", config(CAM + "outputs: {mqtt: {port: 70000}}\n"), "outputs.mqtt.port"),
    Case("csv column", config(CAM + "outputs: {csv: {columns: [speed]}}\n"), "outputs.csv.columns[0]"),
    Case("csv under file", config(CAM + "outputs: {csv: {path: '{W}/a-file/e.csv'}}\n"), "a-file is not a folder"),
    Case("csv is folder", config(CAM + "outputs: {csv: {path: '{W}/empty'}}\n"), "is a folder, not a file"),
    Case("state under file", config(CAM + "storage: {state_dir: '{W}/a-file/s'}\n"), "storage.state_dir"),
    Case(
        "tls ca missing",
        config(CAM + "outputs: {mqtt: {enabled: true, tls: {enabled: true, ca_file: /no/ca.pem}}}\n"),
        "outputs.mqtt.tls.ca_file: cannot read /no/ca.pem",
    ),
    Case(
        "tls cert no key",
        config(CAM + "outputs: {mqtt: {enabled: true, tls: {enabled: true, cert_file: '{W}/a-file'}}}\n"),
        "cert_file and key_file go together",
    ),
    Case(
        "password file",
        config(CAM + "outputs: {mqtt: {enabled: true, password_file: /no/pw}}\n"),
        "outputs.mqtt.password_file: cannot read /no/pw",
    ),
    Case("log level", config(CAM + "logging: {level: LOUD}\n"), "logging.level"),
    Case("snapshots 0", config(CAM + "snapshots: {max_files: 0}\n"), "snapshots.max_files"),
    Case("device_id space", config(CAM + "device_id: 'gate 1'\n"), "device_id"),
]

PROCESS_CASES = [
    Case("no input", lambda w: ["process", str(w / "nope.mp4"), "--out", str(w / "o.csv"), *m(w)], "no such file"),
    Case("not a video", lambda w: ["process", str(w / "text.mp4"), "--out", str(w / "o.csv"), *m(w)], "text.mp4"),
    Case("truncated", lambda w: ["process", str(w / "cut.mp4"), "--out", str(w / "o.csv"), *m(w)], "cut.mp4"),
    Case("empty folder", lambda w: ["process", str(w / "empty"), "--out", str(w / "o.csv"), *m(w)], "no images"),
    Case("non-images", lambda w: ["process", str(w / "junk"), "--out", str(w / "o.csv"), *m(w)], "no images"),
    Case("one image", lambda w: ["process", str(w / "one.png"), "--out", str(w / "o.csv"), *m(w)], "a single image"),
    Case("conf 7", lambda w: ["process", str(w / "v.mp4"), "--out", str(w / "o.csv"), *m(w), "--conf", "7"], "--conf"),
    Case("fps -1", lambda w: ["process", str(w / "v.mp4"), "--out", str(w / "o.csv"), *m(w), "--fps", "-1"], "--fps"),
    Case(
        "min_reads 0",
        lambda w: ["process", str(w / "v.mp4"), "--out", str(w / "o.csv"), *m(w), "--min_reads", "0"],
        "--min_reads: input should be greater than or equal to 1",
    ),
    Case(
        "target_fps 0",
        lambda w: ["process", str(w / "v.mp4"), "--out", str(w / "o.csv"), *m(w), "--target_fps", "0"],
        "--target_fps must be positive",
    ),
    Case(
        "input abc",
        lambda w: ["process", str(w / "v.mp4"), "--out", str(w / "o.csv"), *m(w), "--detector_input", "abc"],
        "--detector_input",
    ),
    Case(
        "no models",
        lambda w: ["process", str(w / "v.mp4"), "--out", str(w / "o.csv"), *m(w, "empty")],
        "no models found",
    ),
    Case(
        "models json",
        lambda w: ["process", str(w / "v.mp4"), "--out", str(w / "o.csv"), *m(w, "bad_json")],
        "unreadable model metadata",
    ),
    Case(
        "out under file",
        lambda w: ["process", str(w / "v.mp4"), "--out", str(w / "a-file" / "o.csv"), *m(w)],
        "cannot open CSV",
    ),
    Case(
        "out other columns",
        lambda w: ["process", str(w / "v.mp4"), "--out", str(w / "other.csv"), *m(w)],
        "existing CSV has columns",
    ),
    Case("out /dev/full", lambda w: ["process", str(w / "v.mp4"), "--out", "/dev/full", *m(w)], "No space left"),
    Case(
        "ocr engine",
        lambda w: ["process", str(w / "v.mp4"), "--out", str(w / "o.csv"), *m(w), "--ocr_engine", "tesseract"],
        "unknown --ocr_engine",
    ),
    Case("read missing", lambda w: ["read", str(w / "nope.png"), *m(w)], "no such file or folder"),
    Case("read text", lambda w: ["read", str(w / "text.mp4"), *m(w)], "not an image file"),
    Case("read corrupt", lambda w: ["read", str(w / "corrupt"), *m(w)], "b.jpg: not a readable image"),
    Case("read empty", lambda w: ["read", str(w / "empty"), "--json", *m(w)], "no images in folder"),
    Case("eval missing", lambda w: ["eval", str(w / "nope"), *m(w)], "labels file not found"),
    Case("eval no labels", lambda w: ["eval", str(w / "imgs"), *m(w)], "labels.csv: labels file not found"),
    Case("bench missing", lambda w: ["bench", "--input", str(w / "nope.mp4"), *m(w)], "no such video file"),
    Case("bench cameras", lambda w: ["bench", "--input", str(w / "v.mp4"), "--cameras", "0", *m(w)], "must be 1-64"),
]


def daemon_config(w: Path, body: str, models: str = "models") -> Path:
    path = w / f"run-{abs(hash(body + models))}.yaml"
    path.write_text(f"models: {{dir: {w / models}, device: cpu}}\n{body.replace('{W}', str(w))}")
    return path


DAEMON_CASES = [
    Case(
        "status no file",
        lambda w: ["status", "--config", str(daemon_config(w, CAM + "storage: {state_dir: '{W}/state'}\n"))],
        "no status file: is the daemon running?",
    ),
    Case(
        "status garbage",
        lambda w: ["status", "--config", str(daemon_config(w, CAM + "storage: {state_dir: '{W}/bad-state'}\n"))],
        "unreadable status",
    ),
    Case("run no config", lambda w: ["run", "--config", str(w / "nope.yaml")], "configuration file not found"),
    Case(
        "run bad key",
        lambda w: ["run", "--config", str(daemon_config(w, CAM + "storage: {state_dir: '{W}/state'}\nfoo: 1\n"))],
        "foo: unknown key",
    ),
    Case(
        "run csv",
        lambda w: [
            "run",
            "--config",
            str(
                daemon_config(
                    w, CAM + "storage: {state_dir: '{W}/state'}\noutputs: {csv: {path: '{W}/a-file/e.csv'}}\n"
                )
            ),
        ],
        "outputs.csv.path: ",
    ),
    Case(
        "run bad model",
        lambda w: ["run", "--config", str(daemon_config(w, CAM + "storage: {state_dir: '{W}/state'}\n", "bad_xml"))],
        "plate_ocr",
    ),
    Case(
        "barrier allow",
        lambda w: [
            "barrier",
            "--config",
            str(daemon_config(w, CAM + "storage: {state_dir: '{W}/state'}\n")),
            "--allow",
            str(w / "nope.txt"),
        ],
        "nope.txt: cannot read allow-list",
    ),
]

CASES = CONFIG_CASES + PROCESS_CASES + DAEMON_CASES


def test_there_are_at_least_60_inputs() -> None:
    assert len(CASES) >= 60 and len({c.name for c in CASES}) == len(CASES)


def run_limited(argv: list[str]) -> tuple[int, str]:
    """The CLI in a child process with 2 GiB of address space and 60 s: a config bomb that got through
    would fail the test instead of swapping the machine to death."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    cmd = [sys.executable, "-m", "anpr_edge.cli", *argv]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, preexec_fn=limit, cwd=ROOT)
    return r.returncode, r.stderr


@pytest.fixture
def restored_signals() -> Iterator[None]:
    """``run`` installs SIGTERM/SIGINT/SIGHUP handlers before a failing start: put pytest's back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    yield
    for s, h in saved.items():
        signal.signal(s, h)


@pytest.mark.usefixtures("restored_signals")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_line(case: Case, ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = case.argv(ws)
    if case.bomb:
        code, err = run_limited(argv)
    else:
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
        err = capsys.readouterr().err
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("anpr-edge: error:")]
    assert code == case.code and len(errors) == 1 and case.needle in errors[0], (code, err[-2000:])


def test_a_frame_the_pipeline_cannot_take_is_skipped_with_one_line(
    ws: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frame the pipeline fails on is skipped with one warning line naming it; the rest is processed.
    The 2x4000 image that once crashed the letterbox is read now, so the failure is injected for frames
    2 px wide (``ANPR_EDGE_FAULT=frame:2``, documented in recognition/pipeline.py)."""
    monkeypatch.setenv("ANPR_EDGE_FAULT", "frame:2")
    code = main(["process", str(ws / "odd"), "--out", str(ws / "odd.csv"), "--quiet", *m(ws)])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err, err
    warnings = [line for line in err.splitlines() if "skipped" in line]
    assert len(warnings) == 1 and "1.png" in warnings[0] and "2x4000" in warnings[0], err
    assert (ws / "odd.csv").read_text().splitlines()[0] == "time;plate_num"
