"""Bad input to the CLI: one line on stderr, non-zero exit, no traceback, rows already written kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.daemon_helpers import write_video


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "anpr_edge.cli", *args], capture_output=True, text=True, timeout=120)


def assert_one_line_error(r: subprocess.CompletedProcess[str], needle: str) -> None:
    assert r.returncode != 0, r.stdout
    assert "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("anpr-edge: error:")]
    assert len(errors) == 1 and needle in errors[0], r.stderr


def test_missing_input(tiny_models: Path, tmp_path: Path) -> None:
    r = cli("process", str(tmp_path / "nope.mp4"), "--out", str(tmp_path / "o.csv"), "--models", str(tiny_models))
    assert_one_line_error(r, "nope.mp4: no such file or folder")


def test_not_a_video(tiny_models: Path, tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video\n" * 100)
    r = cli("process", str(bad), "--out", str(tmp_path / "o.csv"), "--models", str(tiny_models))
    assert_one_line_error(r, "notes.mp4")


def test_truncated_video_keeps_rows_already_written(tiny_models: Path, tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", frames=200)
    data = video.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "o.csv"
    out.write_text("time;plate_num\n00:01.00;A123BC77\n")
    r = cli("process", str(cut), "--out", str(out), "--models", str(tiny_models))
    assert_one_line_error(r, "cut.mp4")
    assert out.read_text().startswith("time;plate_num\n00:01.00;A123BC77\n")


def test_empty_folder_and_folder_of_non_images(tiny_models: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(
        cli("process", str(empty), "--out", str(tmp_path / "o.csv"), "--models", str(tiny_models)),
        "no images in folder",
    )
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.txt").write_text("x")
    assert_one_line_error(cli("read", str(junk), "--models", str(tiny_models)), "no images in folder")


def test_corrupt_image_names_the_file(tiny_models: Path, tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.jpg"), np.zeros((100, 200, 3), np.uint8))
    (folder / "b.jpg").write_bytes(b"\xff\xd8 broken")
    assert_one_line_error(cli("read", str(folder), "--models", str(tiny_models)), "b.jpg: not a readable image")


def test_missing_model(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", frames=5)
    r = cli("process", str(video), "--out", str(tmp_path / "o.csv"), "--models", str(tmp_path))
    assert_one_line_error(r, "no models found")


def test_odd_frame_sizes_are_processed(tiny_models: Path, tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    for i, (w, h) in enumerate([(1, 1), (7, 3), (333, 1001), (1921, 1079)]):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((h, w, 3), 128, np.uint8))
    r = cli("process", str(folder), "--out", str(tmp_path / "o.csv"), "--models", str(tiny_models))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "o.csv").read_text().splitlines()[0] == "time;plate_num"


def test_bad_threshold_option(tiny_models: Path, tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", frames=5)
    r = cli("process", str(video), "--out", str(tmp_path / "o.csv"), "--models", str(tiny_models), "--conf", "7")
    assert_one_line_error(r, "--conf: input should be less than or equal to 1, got 7.0")


def test_show_without_display_is_clear(tiny_models: Path, tmp_path: Path) -> None:
    import os

    video = write_video(tmp_path / "v.mp4", frames=5)
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "anpr_edge.cli",
            "process",
            str(video),
            "--out",
            str(tmp_path / "o.csv"),
            "--models",
            str(tiny_models),
            "--show",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert_one_line_error(r, "--show needs a display")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux): every write to it fails")
def test_a_full_disk_for_the_csv_is_one_clear_line(tiny_models: Path, tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", frames=10)
    r = cli("process", str(video), "--out", "/dev/full", "--models", str(tiny_models))
    assert_one_line_error(r, "/dev/full: cannot open CSV for appending (No space left on device)")


def test_every_command_prints_its_help() -> None:
    """``--help`` of every subcommand prints usage (a ``%`` in a help text once made argparse raise)."""
    from anpr_edge.cli.main import build_parser

    action = build_parser()._subparsers._group_actions[0]  # type: ignore[union-attr]
    assert isinstance(action.choices, dict)
    for name in action.choices:
        r = subprocess.run([sys.executable, "-m", "anpr_edge.cli", name, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "usage:" in r.stdout, (name, r.stderr[-300:])
