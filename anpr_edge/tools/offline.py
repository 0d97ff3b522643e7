"""Offline commands: ``process`` (video / image folder → CSV of events) and ``read`` (per image)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.core.results import FrameResult, PlateEvent, PlateRead, TrackView
from anpr_edge.errors import InputError
from anpr_edge.inference.models import Models
from anpr_edge.recognition.pipeline import CameraPipeline, read_still
from anpr_edge.recognition.settings import RecognitionSettings
from anpr_edge.sinks.csv_sink import CsvSink, video_time
from anpr_edge.sinks.jsonl import JsonlSink
from anpr_edge.sources.files import IMAGE_SUFFIXES, Frame, list_images, open_source, read_image

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProcessOptions:
    input: Path
    out: Path
    fps: float | None = None
    target_fps: float | None = None
    json: Path | None = None
    annotate: Path | None = None
    save_crops_dir: Path | None = None
    show: bool = False
    progress: bool = True


def draw(frame: np.ndarray, tracks: tuple[TrackView, ...]) -> np.ndarray:
    """Each track's box (or plate outline, from its corners) and its voted plate, on a copy of the frame."""
    out = frame.copy()
    for tr in tracks:
        x1, y1, x2, y2 = (int(v) for v in tr.box)
        if tr.corners is not None:
            cv2.polylines(out, [np.array(tr.corners, np.int32)], True, (0, 220, 0), 2)
        else:
            cv2.rectangle(out, (x1, y1), (x2, y2), (0, 220, 0), 2)
        label = f"#{tr.track_id} {tr.plate}" if tr.plate else f"#{tr.track_id}"
        cv2.putText(out, label, (x1, max(15, y1 - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 220, 0), 2)
    return out


#: The VP9 fourcc OpenCV's writer takes for each container browsers play.
VP9_FOURCC = {".mp4": "vp09", ".webm": "VP90"}


class Annotated:
    """The ``--annotate`` video: VP9 in the file's container (``.mp4`` or ``.webm``), which browsers play."""

    def __init__(self, path: Path, fps: float) -> None:
        if path.suffix.lower() not in VP9_FOURCC:
            raise InputError(f"{path}: --annotate writes .mp4 or .webm (VP9, plays in browsers)")
        self.path, self.fps = path, fps
        self.writer: cv2.VideoWriter | None = None

    def write(self, frame: np.ndarray) -> None:
        if self.writer is None:
            h, w = frame.shape[:2]
            fourcc = cv2.VideoWriter.fourcc(*VP9_FOURCC[self.path.suffix.lower()])
            self.writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, (w, h))
            if not self.writer.isOpened():
                raise InputError(f"{self.path}: cannot write a VP9 video here")
        self.writer.write(frame)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()


class Progress:
    """A one-line progress bar on a terminal; silent elsewhere."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled = total, enabled and sys.stderr.isatty()
        self.start = time.monotonic()

    def update(self, done: int, events: int) -> None:
        if not self.enabled or done % 10:
            return
        rate = done / max(time.monotonic() - self.start, 1e-6)
        total = f"/{self.total} ({done / self.total:.0%})" if self.total else ""
        sys.stderr.write(f"\rframe {done}{total}  {rate:.1f} fps  events {events}   ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def process(models: Models, settings: RecognitionSettings, opts: ProcessOptions) -> int:
    """Run the pipeline over a video or folder; returns the number of events written (new and updates)."""
    source = open_source(opts.input, opts.fps)
    if opts.show and not os.environ.get("DISPLAY"):
        raise InputError("--show needs a display (DISPLAY is not set); use --annotate out.mp4 instead")
    pipe = CameraPipeline(opts.input.stem, models, settings)
    if opts.save_crops_dir:
        opts.save_crops_dir.mkdir(parents=True, exist_ok=True)
    progress = Progress(source.frame_count, opts.progress)
    with contextlib.ExitStack() as stack:
        sinks: list[CsvSink | JsonlSink] = [stack.enter_context(CsvSink(opts.out, video_time))]
        if opts.json:
            sinks.append(stack.enter_context(JsonlSink(opts.json)))
        video = Annotated(opts.annotate, source.fps) if opts.annotate else None
        if video is not None:
            stack.callback(video.close)
        written = 0

        def emit(events: tuple[PlateEvent, ...] | list[PlateEvent]) -> None:
            nonlocal written
            for e in events:
                for sink in sinks:
                    sink.write(e)
                written += 1

        last_t, skipped = 0.0, [0]
        try:
            for frame in paced(source, opts.target_fps):
                last_t = frame.t
                result = run_or_skip(pipe, frame, skipped)
                if result is None:
                    continue
                emit(result.events)
                show_frame(frame, result, opts, video)
                progress.update(frame.index + 1, written)
        finally:
            emit(pipe.flush(last_t).events)  # whatever happened, tracks that already have a read become rows
            progress.close()
    for path, sink in zip([opts.out, opts.json], sinks, strict=False):
        if sink.file.held:  # the disk refused them to the end; close() logged each in full
            raise InputError(f"{path}: {len(sink.file.held)} of {written} event(s) not written (disk full or failing)")
    return written


def run_or_skip(pipe: CameraPipeline, frame: Frame, skipped: list[int]) -> FrameResult | None:
    """``pipe.run`` on the frame; a frame the pipeline cannot take (a 2x4000 image) is skipped with one
    warning line naming it (the first skipped frame, then every 100th)."""
    try:
        return pipe.run(frame.image, frame.t)
    except Exception as exc:  # one bad frame must not end a long run
        skipped[0] += 1
        if skipped[0] == 1 or skipped[0] % 100 == 0:
            h, w = frame.image.shape[:2]
            what = frame.name or f"frame {frame.index} ({frame.t:.2f} s)"
            reason = " ".join(str(exc).split())[:300]
            logger.warning("%s: a %dx%d frame skipped (%d so far): %s", what, w, h, skipped[0], reason)
        return None


def paced(source: Iterable[Frame], target_fps: float | None) -> Iterator[Frame]:
    """The frames of ``source``, at most ``target_fps`` per second of stream time."""
    next_t = 0.0
    for frame in source:
        if target_fps and frame.t + 1e-9 < next_t:
            continue
        if target_fps:
            next_t = frame.t + 1.0 / target_fps
        yield frame


def show_frame(frame: Frame, result: FrameResult, opts: ProcessOptions, video: Annotated | None) -> None:
    """Crops to ``--save_crops_dir``, the annotated frame to ``--annotate`` and ``--show``."""
    if opts.save_crops_dir:
        save_crops(opts.save_crops_dir, frame.index, result)
    if video is not None or opts.show:
        vis = draw(frame.image, result.tracks)
        if video is not None:
            video.write(vis)
        if opts.show:
            show(vis)


def save_crops(folder: Path, index: int, result: FrameResult) -> None:
    """The OCR input of every plate read on this frame, named ``<frame>_<n>_<read>.png``."""
    for i, (crop, read) in enumerate(zip(result.crops, result.reads, strict=True)):
        if crop is not None and read is not None:
            cv2.imwrite(str(folder / f"{index:06d}_{i}_{read.text}.png"), crop)


def show(img: np.ndarray) -> None:
    try:
        cv2.imshow("anpr-edge", img)
        cv2.waitKey(1)
    except cv2.error:
        raise InputError(
            "--show needs OpenCV with GUI support (this install is headless); use --annotate out.mp4"
        ) from None


def read_images(models: Models, settings: RecognitionSettings, paths: list[Path]) -> list[tuple[Path, list[PlateRead]]]:
    """Detect and read every plate of each image (no tracking)."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(list_images(p))
        elif p.is_file():
            if p.suffix.lower() not in IMAGE_SUFFIXES:
                raise InputError(f"{p}: not an image file")
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    out = []
    for f in files:
        img = read_image(f)
        out.append((f, read_still(models, img, settings)))
    return out


def read_json(path: Path, reads: list[PlateRead]) -> str:
    return json.dumps(
        {
            "image": str(path),
            "plates": [
                {
                    "text": r.text,
                    "confidence": round(r.confidence, 4),
                    "chars": [[c, round(p, 4)] for c, p in r.chars],
                    "box": [round(v, 1) for v in r.detection.box],
                    "det_conf": round(r.detection.score, 4),
                }
                for r in reads
            ],
        },
        ensure_ascii=False,
    )
