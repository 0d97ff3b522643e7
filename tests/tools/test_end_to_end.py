"""The shipped models on a 1080p video rendered here: N cars → exactly N rows, right plates, on time.

Needs the shipped models and the plate renderer (Pillow and the GOST font from ../shared/fonts, or
the test is skipped with the reason).
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import needs_models
from tests.event_schema import assert_valid_event

pytestmark = needs_models


def font_available() -> bool:
    try:
        from anpr_edge.training.render import DEFAULT_FONT
    except ImportError:
        return False
    return DEFAULT_FONT.is_file()


needs_font = pytest.mark.skipif(not font_available(), reason="Pillow or ../shared/fonts/GOST-R-50577-93.ttf missing")


def seconds(text: str) -> float:
    parts = [float(p) for p in text.split(":")]
    return parts[-1] + 60 * parts[-2] + (3600 * parts[0] if len(parts) == 3 else 0)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[object]]:
    if not font_available():
        pytest.skip("Pillow or ../shared/fonts/GOST-R-50577-93.ttf missing")
    from anpr_edge.training.demo_video import Car, render_video

    cars = [
        Car("A123BC77", 0.5, 3.5, 0.3),
        Car("K777KK777", 3.0, 6.0, 0.7, colour=(40, 40, 40)),  # overlaps the first in time
        Car("X623EM199", 6.5, 9.5, 0.45, colour=(150, 150, 150)),
        Car("E014CX86", 10.0, 20.0, 0.5, standing=True, colour=(30, 90, 30)),  # stands 10 s at the barrier
    ]
    path = tmp_path_factory.mktemp("e2e") / "gate.mp4"
    render_video(path, cars, 21.0, fps=25, size=(1920, 1080))
    return path, list(cars)


@needs_font
@pytest.mark.parametrize("fps", [None, 5.0])  # 5: a busy box; a track then outlives its car by 1 s
def test_process_writes_one_row_per_car_on_time(
    clip: tuple[Path, list[object]], tmp_path: Path, fps: float | None
) -> None:
    video, cars = clip
    out, js = tmp_path / "out.csv", tmp_path / "events.jsonl"
    cmd = [sys.executable, "-m", "anpr_edge.cli", "process", str(video), "--out", str(out), "--json", str(js)]
    cmd += ["--device", "cpu", *(["--target_fps", str(fps)] if fps else [])]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(out.open(), delimiter=";"))
    assert rows[0] == ["time", "plate_num"]
    got = {plate: seconds(t) for t, plate in rows[1:]}
    assert len(rows) - 1 == len(cars), rows
    for car in cars:
        assert car.plate in got, rows  # type: ignore[attr-defined]
        late = 0.2 + (1 / fps if fps else 0.0)  # the first processed frame with the car in view
        assert abs(got[car.plate] - car.enter_s) <= late, (car, got)  # type: ignore[attr-defined]
    events = [json.loads(line) for line in js.read_text().splitlines()]
    for e in events:
        assert_valid_event(e)
    assert all(len(e["chars"]) == len(e["plate"]) and 0 < e["confidence"] <= 1 for e in events)


def test_annotate_writes_vp9_that_browsers_play_with_the_voted_plates(tmp_path: Path) -> None:
    """Two seconds of the bundled demo clip, annotated: a VP9 video (ffprobe says so where it is installed) of
    every frame."""
    import cv2

    full = cv2.VideoCapture(str(Path(__file__).resolve().parents[2] / "config" / "demo" / "demo.mp4"))
    demo = tmp_path / "demo2s.mp4"
    cut = cv2.VideoWriter(str(demo), cv2.VideoWriter.fourcc(*"mp4v"), 25, (640, 360))
    for _ in range(50):
        ok, frame = full.read()
        assert ok
        cut.write(cv2.resize(frame, (640, 360)))
    cut.release()
    out = tmp_path / "seen.mp4"
    cmd = [sys.executable, "-m", "anpr_edge.cli", "process", str(demo), "--out", str(tmp_path / "e.csv")]
    r = subprocess.run([*cmd, "--annotate", str(out), "--device", "cpu"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    written, source = cv2.VideoCapture(str(out)), cv2.VideoCapture(str(demo))
    assert written.get(cv2.CAP_PROP_FRAME_COUNT) == source.get(cv2.CAP_PROP_FRAME_COUNT) > 0
    if shutil.which("ffprobe"):
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", str(out)],
            capture_output=True,
            text=True,
        )
        assert probe.stdout.strip() == "vp9"
    bad = subprocess.run([*cmd, "--annotate", str(tmp_path / "x.avi")], capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "--annotate writes .mp4 or .webm" in bad.stderr and "Traceback" not in bad.stderr
