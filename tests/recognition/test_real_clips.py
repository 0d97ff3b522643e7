"""Clips built from real photos (../shared/real-dev), written as real video files and played through the
recognition pipeline with the shipped models: what a barrier camera shows, event by event.

Each clip moves one real photo of a car over a grey 1280x720 frame at 4 fps: approaching (growing), departing
(shrinking), leaving the frame sideways, and the same plate twice 3 s apart. The photos are chosen among the
real-dev plates the shipped models read on the still photo; the plates are checked against labels.csv.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr_edge.core.geometry import iou
from anpr_edge.core.results import Box, PlateEvent
from anpr_edge.inference.models import Models
from anpr_edge.inference.ocr_core import expand_box
from anpr_edge.recognition.pipeline import CameraPipeline
from anpr_edge.recognition.settings import RecognitionSettings
from anpr_edge.sources.files import VideoSource
from anpr_edge.tools.labels import read_labels
from tests.conftest import MODELS, REAL_DEV, needs_models, needs_real_dev

pytestmark = [needs_models, needs_real_dev]

SIZE = (1280, 720)
FPS = 4.0
PHOTOS = ("010.jpg", "043.jpg", "118.jpg")


@dataclass(frozen=True, slots=True)
class Shot:
    """Where the photo's plate is in one frame: its centre and its width in frame pixels (None: no car)."""

    centre: tuple[float, float] | None
    width: float = 0.0


def photo(name: str) -> tuple[np.ndarray, Box, str]:
    row = next(r for r in read_labels(REAL_DEV / "labels.csv") if r.image == name)
    image = cv2.imread(str(REAL_DEV / "images" / name))
    assert image is not None
    return image, row.box, row.plate


def frame_of(image: np.ndarray, plate: Box, shot: Shot) -> tuple[np.ndarray, Box | None]:
    """The photo scaled so its plate is ``shot.width`` wide, its plate centred on ``shot.centre``."""
    canvas = np.full((SIZE[1], SIZE[0], 3), 96, np.uint8)
    if shot.centre is None:
        return canvas, None
    s = shot.width / (plate[2] - plate[0])
    pcx, pcy = (plate[0] + plate[2]) / 2 * s, (plate[1] + plate[3]) / 2 * s
    m = np.array([[s, 0, shot.centre[0] - pcx], [0, s, shot.centre[1] - pcy]], np.float32)
    cv2.warpAffine(image, m, SIZE, dst=canvas, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_TRANSPARENT)
    box = tuple(v * s + (m[0, 2] if i % 2 == 0 else m[1, 2]) for i, v in enumerate(plate))
    return canvas, box  # type: ignore[return-value]


def write_clip(path: Path, image: np.ndarray, plate: Box, shots: list[Shot]) -> list[Box | None]:
    out = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), FPS, SIZE)
    boxes = []
    for shot in shots:
        frame, box = frame_of(image, plate, shot)
        out.write(frame)
        boxes.append(box)
    out.release()
    return boxes


def approach(n: int = 10, reverse: bool = False) -> list[Shot]:
    """A plate growing from 110 to 300 px wide while it comes down the frame (reversed: going away)."""
    shots = [Shot((640.0, 330.0 + 25 * i), 110.0 * (300 / 110) ** (i / (n - 1))) for i in range(n)]
    return shots[::-1] if reverse else shots


def gap(seconds: float) -> list[Shot]:
    return [Shot(None)] * round(seconds * FPS)


@pytest.fixture(scope="module")
def models() -> Models:
    return Models.load(MODELS / "plate_detector", MODELS / "plate_ocr", "cpu")


def play(models: Models, clip: Path) -> Iterator[tuple[list[PlateEvent], tuple[Box, ...]]]:
    pipe = CameraPipeline("gate", models, RecognitionSettings())
    t = 0.0
    for fr in VideoSource(clip):
        t = fr.t
        result = pipe.run(fr.image, fr.t)
        yield list(result.events), tuple(d.box for d in result.detections)
    yield list(pipe.flush(t + 1.0).events), ()


def events_of(models: Models, clip: Path) -> list[PlateEvent]:
    return [e for events, _ in play(models, clip) for e in events]


def passes(events: list[PlateEvent]) -> dict[str, PlateEvent]:
    """The last word on each pass: event id -> its latest version (new or update)."""
    out: dict[str, PlateEvent] = {}
    for e in events:
        out[e.event_id] = e
    return out


@pytest.mark.parametrize("name", PHOTOS)
def test_a_car_approaching_at_4_fps_is_one_event_read_right(models: Models, tmp_path: Path, name: str) -> None:
    image, plate, text = photo(name)
    write_clip(tmp_path / "in.mp4", image, plate, gap(0.5) + approach() + gap(2.0))
    events = events_of(models, tmp_path / "in.mp4")
    assert [e.type for e in events].count("new") == 1
    (last,) = passes(events).values()
    assert last.plate == text and last.direction == "approaching"


@pytest.mark.parametrize("name", PHOTOS)
def test_a_car_departing_is_one_event_going_away(models: Models, tmp_path: Path, name: str) -> None:
    image, plate, text = photo(name)
    write_clip(tmp_path / "out.mp4", image, plate, gap(0.5) + approach(reverse=True) + gap(2.0))
    (last,) = passes(events_of(models, tmp_path / "out.mp4")).values()
    assert last.plate == text and last.direction == "departing"


def test_a_car_leaving_the_frame_sends_no_second_event(models: Models, tmp_path: Path) -> None:
    """It stands, then drives out to the right 40 px a frame: the plate is cut by the edge, then gone."""
    image, plate, text = photo("010.jpg")
    shots = [Shot((700.0, 450.0), 220.0)] * 6 + [Shot((700.0 + 60.0 * i, 450.0), 220.0) for i in range(1, 12)]
    write_clip(tmp_path / "leave.mp4", image, plate, gap(0.5) + shots + gap(2.0))
    events = events_of(models, tmp_path / "leave.mp4")
    assert [e.plate for e in events if e.type == "new"] == [text]
    assert all(e.plate == text for e in events)  # an update never brings junk


def test_the_same_plate_twice_3_s_apart_is_two_passes(models: Models, tmp_path: Path) -> None:
    image, plate, text = photo("043.jpg")
    write_clip(tmp_path / "two.mp4", image, plate, gap(0.5) + approach() + gap(3.0) + approach() + gap(2.0))
    new = [e for e in events_of(models, tmp_path / "two.mp4") if e.type == "new"]
    assert [e.plate for e in new] == [text, text]
    assert new[1].first_seen - new[0].first_seen > 3.0


def test_4_fps_moving_40_px_a_frame_keeps_one_track_and_whole_plates(models: Models, tmp_path: Path) -> None:
    """The low-frame-rate case of a gate: one identity, and every box the reader gets covers the plate."""
    image, plate, text = photo("118.jpg")
    shots = [Shot((200.0 + 40.0 * i, 400.0), 180.0) for i in range(20)]
    truth = write_clip(tmp_path / "slow.mp4", image, plate, gap(0.5) + shots + gap(2.0))
    seen: list[tuple[Box, Box]] = []
    events: list[PlateEvent] = []
    for (found, boxes), true in zip(play(models, tmp_path / "slow.mp4"), [*truth, None], strict=True):
        events += found
        if true is not None and boxes:
            overlaps = [iou(b, true) for b in boxes]
            seen.append((boxes[overlaps.index(max(overlaps))], true))
    assert len(seen) >= 18  # found in (nearly) every frame
    spec = models.ocr.spec
    for box, true in seen:  # the reader's crop (box and margin) holds every character (the plate less its rim)
        x1, y1, x2, y2 = expand_box(box, spec.crop_margin_x, spec.crop_margin_y)
        rim = 0.02 * (true[2] - true[0])
        assert x1 <= true[0] + rim and x2 >= true[2] - rim and y1 <= true[1] + 2 and y2 >= true[3] - 2, (box, true)
    assert len({e.track_id for e in events}) == 1 and [e.plate for e in events if e.type == "new"] == [text]


Photo = tuple[np.ndarray, Box, str]  # image, plate box, plate


def standing_cars(path: Path, first_frames: int = 14, fps: float = FPS) -> tuple[Photo, Photo]:
    """A clip of one car standing at the barrier for ``first_frames`` frames, the next in the same spot for 10,
    then none for 8, at ``fps``: the two photos (image, plate box, plate)."""
    first, second = photo("010.jpg"), photo("043.jpg")
    spot = Shot((640.0, 420.0), 220.0)
    frames = [frame_of(first[0], first[1], spot)[0]] * first_frames + [frame_of(second[0], second[1], spot)[0]] * 10
    out = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, SIZE)
    for frame in [*frames, *[frame_of(first[0], first[1], Shot(None))[0]] * 8]:
        out.write(frame)
    out.release()
    return first, second


def test_a_settled_plate_is_read_every_4th_frame_and_the_next_car_in_its_box_is_caught(
    models: Models, tmp_path: Path
) -> None:
    """A car stands at the barrier: once its last 3 reads are the same plate, it is read every 4th frame
    only (``settled_every``); the next car stopping in the same spot is still read and reported."""
    first, second = standing_cars(tmp_path / "stand.mp4")
    pipe = CameraPipeline("gate", models, RecognitionSettings())
    read_on: list[int] = []
    new_on: dict[str, int] = {}  # plate -> frame its new event came on
    events: list[PlateEvent] = []
    t = 0.0
    for fr in VideoSource(tmp_path / "stand.mp4"):
        t, index = fr.t, pipe.frame_index
        result = pipe.run(fr.image, fr.t)
        events += result.events
        new_on.update({e.plate: index for e in result.events if e.type == "new"})
        if any(r is not None for r in result.reads):
            read_on.append(index)
    events += pipe.flush(t + 1.0).events
    assert read_on[:3] == [0, 1, 2] and 5 not in read_on and {4, 8, 12} <= set(read_on)
    assert pipe.settled_skips >= 6
    assert [e.plate for e in events if e.type == "new"] == [first[2], second[2]]
    # The second car (from frame 14) is read at frame 16 at the latest, then on every frame until its event.
    assert {16, 17, 18} <= set(read_on) and new_on[second[2]] <= 18, (read_on, new_on)


def standing_car_runs(
    models: Models, clip: Path, skips: tuple[float, ...]
) -> list[tuple[list[tuple[str, str, str | None]], dict[str, int], int]]:
    """The standing-car clip through a pipeline with each ``detect_settled_s``: its events (type, plate,
    direction), the clip's frame each plate's new event came on, and the frames the detector skipped."""
    runs = []
    for skip in skips:
        pipe = CameraPipeline("gate", models, RecognitionSettings(detect_settled_s=skip))
        events: list[PlateEvent] = []
        new_at: dict[str, int] = {}  # plate -> the clip's frame its new event came on
        t = 0.0
        for i, fr in enumerate(VideoSource(clip)):
            t, found = fr.t, pipe.run(fr.image, fr.t).events
            events += found
            new_at.update({e.plate: i for e in found if e.type == "new"})
        events += pipe.flush(t + 1.0).events
        runs.append(([(e.type, e.plate, e.direction) for e in events], new_at, pipe.stats().coasted_frames))
    return runs


@pytest.mark.parametrize("swap", [13, 14, 15])
def test_a_settled_scene_skips_the_detector_within_detect_settled_s_and_nothing_is_lost(
    models: Models, tmp_path: Path, swap: int
) -> None:
    """``detect_settled_s: 0.3`` at 4 fps (frames 0.25 s apart): while the car standing at the barrier is
    settled, the detector skips every other frame; the events are those of a detector on every frame, the next
    car's (whichever frame it comes on) at most a frame later. The default (0.07 s) skips nothing at 4 fps."""
    first, second = standing_cars(tmp_path / "stand.mp4", swap)
    every, skipping, default = standing_car_runs(models, tmp_path / "stand.mp4", (0.0, 0.3, 0.07))
    (events_1, new_1, coasted_1), (events_2, new_2, coasted_2) = every, skipping
    assert events_2 == events_1 and [p for kind, p, _ in events_1 if kind == "new"] == [first[2], second[2]]
    assert coasted_1 == 0 and coasted_2 >= 8  # the standing cars' frames, every other one
    assert new_2[second[2]] <= new_1[second[2]] + 1
    assert default == every


def test_at_25_fps_the_default_skips_the_detector_on_a_standing_car_and_nothing_is_lost(
    models: Models, tmp_path: Path
) -> None:
    """At 25 fps the default ``detect_settled_s`` (0.07 s) looks at a settled scene on every other frame: the
    same events as a detector on every frame, the next car's at most a frame later."""
    first, second = standing_cars(tmp_path / "stand.mp4", 14, fps=25.0)
    (events_0, new_0, coasted_0), (events_d, new_d, coasted_d) = standing_car_runs(
        models, tmp_path / "stand.mp4", (0.0, RecognitionSettings().detect_settled_s)
    )
    assert events_d == events_0 and [p for kind, p, _ in events_0 if kind == "new"] == [first[2], second[2]]
    assert coasted_0 == 0 and coasted_d >= 4
    assert new_d[second[2]] <= new_0[second[2]] + 1


def test_the_detector_is_skipped_only_soon_after_its_last_look(models: Models, tmp_path: Path) -> None:
    """A car standing at the barrier, frames 0.04 s apart: once its plate is settled the detector skips a frame
    now and then, never two in a row with the default 0.07 s, never the first frame, never with
    ``detect_settled_s: 0``, never a frame whose clock went back."""
    standing_cars(tmp_path / "stand.mp4", 24)
    frames = [fr.image for fr in VideoSource(tmp_path / "stand.mp4")][:20]
    at_25 = [i * 0.04 for i in range(len(frames))]

    def skipped(settings: RecognitionSettings, images: list[np.ndarray], times: list[float]) -> list[int]:
        pipe, out = CameraPipeline("gate", models, settings), []
        for i, (image, t) in enumerate(zip(images, times, strict=True)):
            before = pipe.coasted_frames
            pipe.run(image, t)
            out += [i] * (pipe.coasted_frames - before)
        return out

    default = skipped(RecognitionSettings(), frames, at_25)
    assert default and 0 not in default and not any(i + 1 in default for i in default), default
    assert skipped(RecognitionSettings(detect_settled_s=0), frames, at_25) == []
    k = default[-1]
    back = [*at_25[:k], at_25[k - 1] - 0.01, *at_25[k + 1 :]]  # the stream clock goes back on that frame
    assert k not in skipped(RecognitionSettings(), frames, back)


@pytest.mark.parametrize("keep", [True, False])
def test_events_carry_their_best_reads_frame_only_where_frames_are_kept(
    models: Models, tmp_path: Path, keep: bool
) -> None:
    """With ``keep_frames`` (the daemon's, where snapshots are saved) each event comes with a frame the car was
    read in, not the empty frame it left behind; without, with none (no 1080p frame held per plate)."""
    image, plate, _ = photo(PHOTOS[0])
    write_clip(tmp_path / "in.mp4", image, plate, gap(0.5) + approach() + gap(2.0))
    pipe = CameraPipeline("gate", models, RecognitionSettings(), keep_frames=keep)
    shown: list[np.ndarray] = []
    frames: list[np.ndarray | None] = []
    for fr in VideoSource(tmp_path / "in.mp4"):
        shown.append(fr.image)
        result = pipe.run(fr.image, fr.t)
        frames += result.event_frames
    frames += pipe.flush(fr.t + 1.0).event_frames
    assert frames  # the pass gave events
    if not keep:
        assert all(f is None for f in frames) and not pipe.best_frames
        return
    for f in frames:  # one of the clip's frames, with the car in it
        assert f is not None and any(f is s for s in shown) and float(f.std()) > 10
