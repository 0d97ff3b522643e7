"""The approach anpr-edge replaces, timed on the same clip: ultralytics + torch on the same weights.

Per frame: ``YOLO.predict`` (ultralytics' own letterbox, inference and NMS, at the detector's input size)
on the decoded frame, then each box cut and read by the CRNN checkpoint in torch, one batch a frame. The
weights are the shipped models' own checkpoints, so the difference to ``anpr-edge bench`` is the runtime
and the pipeline around it, not the models. Runs in the training environment (ultralytics, torch):

    $ANPR_EDGE_TRAIN_PYTHON -m anpr_edge.training.bench_torch --input work/bench_1080p.mp4
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.inference.ocr_core import crop_plate
from anpr_edge.training.pseudo_label import load_reader


def run(
    detector: Path, reader: Path, video: Path, imgsz: tuple[int, int], frames: int, threads: int
) -> dict[str, float]:
    import torch
    from ultralytics import YOLO

    torch.set_num_threads(threads)
    yolo, crnn = YOLO(str(detector)), load_reader(reader)
    cap = cv2.VideoCapture(str(video))
    times: list[float] = []
    wall0 = 0.0
    n = 0
    while n < frames + 5:
        ok, frame = cap.read()
        if not ok:
            break
        if n == 5:
            wall0 = time.perf_counter()
        t0 = time.perf_counter()
        boxes = yolo.predict(frame, imgsz=[imgsz[1], imgsz[0]], conf=0.5, verbose=False, device="cpu")[0].boxes
        crops = [crop_plate(frame, tuple(map(float, b)), 0.03, 0.08, 128, 32) for b in boxes.xyxy.tolist()]
        if crops:
            with torch.no_grad():
                x = torch.from_numpy((np.stack(crops).astype(np.float32)[:, None] - 127.5) / 127.5)
                crnn(x).softmax(-1)
        if n >= 5:
            times.append((time.perf_counter() - t0) * 1000)
        n += 1
    wall = time.perf_counter() - wall0 if wall0 else 0.0
    return {"frames": len(times), "fps": len(times) / wall if wall else 0.0, "frame_ms_p50": float(np.median(times))}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", type=Path, required=True, help="video file (the one given to anpr-edge bench)")
    p.add_argument("--detector", type=Path, default=Path("models/checkpoints/plate_yolo11n.pt"))
    p.add_argument("--reader", type=Path, default=Path("models/checkpoints/plate_ocr_crnn.pt"))
    p.add_argument("--imgsz", default="512x288", help="detector input WxH (anpr-edge bench's)")
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--threads", type=int, default=2, help="torch threads (the box's cores)")
    a = p.parse_args(argv)
    w, h = (int(v) for v in a.imgsz.lower().split("x"))
    print(json.dumps(run(a.detector, a.reader, a.input, (w, h), a.frames, a.threads), indent=1))


if __name__ == "__main__":
    main()
