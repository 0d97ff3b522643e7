"""Render test/demo videos: cars with known plates passing a gate camera, with exact timing.

Each :class:`Car` enters at ``enter_s`` and leaves at ``leave_s``; its plate is fully in frame from
``enter_s`` on (``full_at``), so tests can check an event's time against the car's first full
appearance. A car with ``speed=0`` stands still (the barrier case).

    python -m anpr_edge.training.demo_video --out config/demo/demo.mp4
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.training.augment import style_plate
from anpr_edge.training.render import render_plate
from anpr_edge.training.video_io import to_h264


@dataclass(frozen=True, slots=True)
class Car:
    plate: str
    enter_s: float
    leave_s: float
    lane_x: float = 0.5  # centre of the lane, fraction of the frame width
    standing: bool = False
    colour: tuple[int, int, int] = (90, 90, 160)


def background(w: int, h: int, seed: int) -> np.ndarray:
    """A static gate scene: sky, wall, road with markings, a barrier arm."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 3] = (200, 180, 150)
    img[h // 3 : h // 2] = (120, 130, 140)
    img[h // 2 :] = (85, 85, 90)
    for x in range(0, w, w // 8):
        cv2.line(img, (x, h // 2), (w // 2 + (x - w // 2) * 3, h), (200, 200, 200), 6)
    cv2.rectangle(img, (w // 10, h // 2 - 40), (w - w // 10, h // 2 - 25), (30, 30, 200), -1)
    cv2.putText(img, "STOP", (w // 12, h // 3 + 60), cv2.FONT_HERSHEY_SIMPLEX, 3, (255, 255, 255), 8)
    noise = rng.normal(0, 4, img.shape).astype(np.int16)
    return np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def car_state(car: Car, t: float, h: int) -> tuple[float, float] | None:
    """(plate centre y, plate width) at time t, or None when the car is not in view."""
    if not car.enter_s <= t < car.leave_s:
        return None
    if car.standing:
        return h * 0.7, 260.0
    f = (t - car.enter_s) / max(car.leave_s - car.enter_s, 1e-6)
    return h * (0.45 + 0.4 * f), 150.0 + 150.0 * f  # approaching: lower and larger


def draw_car(
    frame: np.ndarray, car: Car, plate_img: np.ndarray, cy: float, pw: float
) -> tuple[float, float, float, float]:
    h, w = frame.shape[:2]
    cx = car.lane_x * w
    ph = pw * plate_img.shape[0] / plate_img.shape[1]
    bw, bh = pw * 4.2, pw * 2.4
    x1, y1 = int(cx - bw / 2), int(cy - bh * 0.75)
    cv2.rectangle(frame, (x1, y1), (int(cx + bw / 2), int(cy + bh * 0.25)), car.colour, -1)
    cv2.rectangle(frame, (x1 + int(bw * 0.1), y1), (int(cx + bw * 0.4), y1 + int(bh * 0.3)), (40, 40, 40), -1)
    for sx in (-0.38, 0.38):
        cv2.ellipse(
            frame,
            (int(cx + sx * bw), int(cy - bh * 0.2)),
            (int(pw * 0.3), int(pw * 0.12)),
            0,
            0,
            360,
            (235, 235, 235),
            -1,
        )
    px1, py1 = round(cx - pw / 2), round(cy - ph / 2)
    small = cv2.resize(plate_img, (round(pw), round(ph)), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    ys, xs = max(py1, 0), max(px1, 0)
    ye, xe = min(py1 + sh, h), min(px1 + sw, w)
    if ye > ys and xe > xs:
        frame[ys:ye, xs:xe] = small[ys - py1 : ye - py1, xs - px1 : xe - px1]
    return (float(px1), float(py1), float(px1 + sw), float(py1 + sh))


def render_video(
    path: Path,
    cars: list[Car],
    duration_s: float,
    fps: int = 25,
    size: tuple[int, int] = (1920, 1080),
    seed: int = 0,
    h264: bool = True,
) -> Path:
    """Write the clip (H.264 via ffmpeg when available, else OpenCV mp4v)."""
    w, h = size
    rng = random.Random(seed)
    plates = {c.plate: style_plate(render_plate(c.plate, px_per_mm=1.0).image, rng) for c in cars}
    bg = background(w, h, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = path.with_suffix(".tmp.mp4")
    writer = cv2.VideoWriter(str(raw), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    noise_rng = np.random.default_rng(seed)
    for i in range(round(duration_s * fps)):
        t = i / fps
        frame = bg.copy()
        for car in sorted(cars, key=lambda c: car_state(c, t, h) or (0, 0)):
            st = car_state(car, t, h)
            if st:
                draw_car(frame, car, plates[car.plate], *st)
        frame = cv2.add(frame, noise_rng.integers(0, 6, frame.shape, dtype=np.uint8))
        writer.write(frame)
    writer.release()
    if h264 and to_h264(raw, path):
        raw.unlink()
    else:
        raw.replace(path)
    return path


DEMO_CARS = [
    Car("A123BC77", 1.0, 4.0, 0.35),
    Car("K777KK777", 4.5, 7.5, 0.6, colour=(40, 40, 40)),
    Car("X623EM199", 8.0, 11.0, 0.45, colour=(160, 160, 160)),
    Car("E014CX86", 11.5, 14.0, 0.5, standing=True, colour=(30, 90, 30)),
]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("config/demo/demo.mp4"))
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=720)
    p.add_argument("--fps", type=int, default=25)
    a = p.parse_args(argv)
    render_video(a.out, DEMO_CARS, 15.0, a.fps, (a.width, a.height))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
