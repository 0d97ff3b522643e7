"""Offline commands: ``process`` (video / image folder → CSV of events) and ``read`` (per image)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from anpr_edge.core.results import FrameResult, PlateEvent, PlateRead
from anpr_edge.errors import InputError
from anpr_edge.inference.models import Models
from anpr_edge.recognition.pipeline import CameraPipeline, read_still
from anpr_edge.recognition.settings import RecognitionSettings
from anpr_edge.sinks.csv_sink import CsvSink, video_time
from anpr_edge.sinks.jsonl import JsonlSink
from anpr_edge.sources.files import IMAGE_SUFFIXES, list_images, open_source, read_image

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


def draw(frame: np.ndarray, reads: list[PlateRead | None], dets: list[Any]) -> np.ndarray:
    """Boxes and reads drawn on a copy of the frame."""
    out = frame.copy()
    for det, read in zip(dets, reads, strict=True):
        x1, y1, x2, y2 = (int(v) for v in det.box)
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 220, 0), 2)
        label = f"{read.text} {read.confidence:.2f}" if read else f"{det.score:.2f}"
        cv2.putText(out, label, (x1, max(15, y1 - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 220, 0), 2)
    return out


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
    """Run the pipeline over a video or folder; returns the number of events written."""
    source = open_source(opts.input, opts.fps)
    if opts.show and not os.environ.get("DISPLAY"):
        raise InputError("--show needs a display (DISPLAY is not set); use --annotate out.mp4 instead")
    pipe = CameraPipeline(opts.input.stem, models, settings)
    writer: cv2.VideoWriter | None = None
    events_n = 0
    if opts.save_crops_dir:
        opts.save_crops_dir.mkdir(parents=True, exist_ok=True)
    progress = Progress(source.frame_count, opts.progress)
    next_t = 0.0
    with contextlib.ExitStack() as stack:
        csv_sink = stack.enter_context(CsvSink(opts.out, video_time))
        jsonl = stack.enter_context(JsonlSink(opts.json)) if opts.json else None

        def emit(events: list[PlateEvent]) -> None:
            nonlocal events_n
            for e in events:
                csv_sink.write(e)
                if jsonl:
                    jsonl.write(e)
                events_n += 1

        last_t = 0.0
        try:
            for frame in source:
                last_t = frame.t
                if opts.target_fps and frame.t + 1e-9 < next_t:
                    continue
                if opts.target_fps:
                    next_t = frame.t + 1.0 / opts.target_fps
                result = pipe.run(frame.image, frame.t)
                emit(list(result.events))
                if opts.save_crops_dir:
                    save_crops(opts.save_crops_dir, frame.index, result)
                if opts.annotate or opts.show:
                    vis = draw(frame.image, list(result.reads), list(result.detections))
                    if opts.annotate:
                        if writer is None:
                            h, w = vis.shape[:2]
                            writer = cv2.VideoWriter(
                                str(opts.annotate), cv2.VideoWriter.fourcc(*"mp4v"), source.fps, (w, h)
                            )
                            if not writer.isOpened():
                                raise InputError(f"{opts.annotate}: cannot write video")
                        writer.write(vis)
                    if opts.show:
                        show(vis)
                progress.update(frame.index + 1, events_n)
        finally:
            # Whatever happened, tracks that already have a read become rows.
            emit(pipe.flush(last_t))
            progress.close()
            if writer is not None:
                writer.release()
    for path, file in [(opts.out, csv_sink.file), *([(opts.json, jsonl.file)] if jsonl else [])]:
        if file.held:  # the disk refused them to the end; close() logged each in full
            raise InputError(f"{path}: {len(file.held)} of {events_n} event(s) not written (disk full or failing)")
    return events_n


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
