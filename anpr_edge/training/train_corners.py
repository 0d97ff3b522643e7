"""Train the plate-corner model (:mod:`anpr_edge.inference.corners`): synthetic plates with exact corners,
each seen through a box moved and grown as a detector's box is.

    python -m anpr_edge.training.train_corners gen --out work/corner_data --seed 1
    python -m anpr_edge.training.train_corners train --data work/corner_data --out work/corners --seed 1
    python -m anpr_edge.training.train_corners export --checkpoint work/corners/best.pt \
        --out models/camera/plate_corners

``gen``: the training photos of :mod:`~anpr_edge.training.pose_scenes`' split for the same seed (the
backgrounds of that seed's validation tiles are never used) and the trained half of real-dev; each gives
``--per-image`` tiles with synthetic GOST plates pasted in (yaw to 45 degrees, night IR, blur, dirt, rain,
bars: ``pose_scenes.make_tile``). Every synthetic plate at least ``--min-width`` px wide is kept as a context
image (its box with wide margins, at twice the model's input) and its corners there. Real plates have no
corner labels and are not used. A tenth of the photos (by seed) is the early-stopping split.

``train``: each step cuts every sampled plate's context through a jittered box (:data:`JITTER`), as the
runtime cuts a frame through a detector box (:func:`~anpr_edge.inference.corners.corner_crop`), and learns
the corners as the expected positions of four heatmaps (L1 in input pixels, and a pull of each heatmap to
a Gaussian at its corner). Checkpoints every epoch (``last.pt``; ``--resume`` continues it), ``best.pt`` by
the early-stopping split's mean corner error over plate width.

``export``: ONNX and OpenVINO IR (FP32) with ``plate_corners.json``; torch, ONNX Runtime and OpenVINO must
agree within ``--tol`` (fraction of the input) or the export fails.
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from anpr_edge.core.results import Box
from anpr_edge.inference.contract import CornerSpec, write_spec
from anpr_edge.inference.corners import corner_crop, corner_window, to_fractions
from anpr_edge.inference.ocr_core import to_tensor
from anpr_edge.tools.metrics import corner_error
from anpr_edge.training.export_ocr import export_onnx, export_openvino
from anpr_edge.training.pose_scenes import Photo, make_tile, real_dev_photos, real_train_photos, split_photos

logger = logging.getLogger("anpr_edge.training.train_corners")

SPEC = CornerSpec(input_width=128, input_height=64)
#: Context kept per plate: its box grown by these fractions of its width / height on every side.
CONTEXT_MARGIN = (0.6, 1.2)
#: Standard deviation of a detector box's edges, in box widths (left, right) and heights (top, bottom).
JITTER = (0.04, 0.08)


def context_box(box: Box) -> Box:
    """The region kept around a plate's box (:data:`CONTEXT_MARGIN`): room for any jittered window."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    mx, my = CONTEXT_MARGIN
    return (x1 - mx * w, y1 - my * h, x2 + mx * w, y2 + my * h)


def cut(image: np.ndarray, region: Box, out_w: int, out_h: int) -> np.ndarray:
    """``region`` of ``image`` stretched to ``out_w x out_h`` (edge pixels outside it)."""
    x1, y1, x2, y2 = region
    m = np.array([[out_w / (x2 - x1), 0, -x1 * out_w / (x2 - x1)], [0, out_h / (y2 - y1), -y1 * out_h / (y2 - y1)]])
    area = (x2 - x1) > 2 * out_w
    flags = cv2.INTER_AREA if area else cv2.INTER_LINEAR
    if area:  # warpAffine has no area filter: shrink the whole image first
        f = 2 * out_w / (x2 - x1)
        image = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        m = m @ np.diag([1 / f, 1 / f, 1])
    return cv2.warpAffine(image, m.astype(np.float32), (out_w, out_h), flags=flags, borderMode=cv2.BORDER_REPLICATE)


def contexts(photo: Photo, rng: random.Random, per_image: int, min_width: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Context images (grey, 2x the model's input) and corners (pixels there) of a photo's synthetic plates."""
    image = cv2.imread(str(photo.path))
    if image is None:
        logger.warning("%s: unreadable, skipped", photo.path)
        return []
    h, w = image.shape[:2]
    boxes = tuple((b[0] * w, b[1] * h, b[2] * w, b[3] * h) for b in photo.boxes) if photo.normalised else photo.boxes
    out = []
    cw, ch = 2 * SPEC.input_width, 2 * SPEC.input_height
    for _ in range(per_image):
        tile, plates = make_tile(image, boxes, rng, 320, synth=1.0)
        grey = cv2.cvtColor(tile, cv2.COLOR_BGR2GRAY)
        for p in plates:
            if p.corners is None or p.box[2] - p.box[0] < min_width:
                continue
            region = context_box(p.box)
            out.append((cut(grey, region, cw, ch), to_fractions(p.corners, region) * (cw, ch)))
    return out


def cmd_gen(a: argparse.Namespace) -> None:
    """Plate contexts of the training photos: a tenth of the photos (by ``--seed``) for early stopping."""
    rng = random.Random(a.seed)
    photos = real_train_photos(a.real_train) if (a.real_train / "images").is_dir() else []
    _, train_photos = split_photos(photos, a.pose_val, random.Random(a.pose_seed))
    dev = real_dev_photos(a.real_dev, trained=True) if (a.real_dev / "labels.csv").exists() else []
    if not train_photos and not dev:
        raise SystemExit(f"no photos: neither {a.real_train}/images nor {a.real_dev}/labels.csv is there")
    every = train_photos + dev
    rng.shuffle(every)
    n_hold = len(every) // 10
    # real-dev's few photos are cut 4 times as often as the others (as pose_scenes does), after the split
    held = [p for p in every[:n_hold] for _ in range(4 if p in dev else 1)]
    kept = [p for p in every[n_hold:] for _ in range(4 if p in dev else 1)]
    for split, part in (("val", held), ("train", kept)):
        images, corners = [], []
        for i, photo in enumerate(part):
            for img, c in contexts(photo, rng, a.per_image, a.min_width):
                images.append(img)
                corners.append(c)
            if i % 200 == 0:
                logger.info("%s: %d of %d photos, %d plates", split, i, len(part), len(images))
        a.out.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            a.out / f"{split}.npz", images=np.stack(images), corners=np.stack(corners).astype(np.float32)
        )
        logger.info("%s: %d plates from %d photos", split, len(images), len(part))


def sample(
    context: np.ndarray, corners: np.ndarray, rng: np.random.Generator, jitter: bool
) -> tuple[np.ndarray, np.ndarray]:
    """One model input cut from a plate's context through a detector-like box, and its corner fractions."""
    x1, y1 = corners[:, 0].min(), corners[:, 1].min()
    x2, y2 = corners[:, 0].max(), corners[:, 1].max()
    w, h = x2 - x1, y2 - y1
    if jitter:
        sx, sy = JITTER
        d = np.clip(rng.normal(0, 1, 4), -2.5, 2.5) * (sx * w, sy * h, sx * w, sy * h)
        x1, y1, x2, y2 = x1 + d[0], y1 + d[1], x2 + d[2], y2 + d[3]
    box = (float(x1), float(y1), float(x2), float(y2))
    crop = corner_crop(context, box, SPEC)  # the runtime's cut
    frac = to_fractions(corners, corner_window(box, SPEC))
    if jitter and rng.random() < 0.5:  # mirrored: TL <-> TR, BL <-> BR; pixel u goes to W - 1 - u
        crop = crop[:, ::-1]
        frac = np.stack([1 - frac[:, 0] - 1 / SPEC.input_width, frac[:, 1]], axis=1)[[1, 0, 3, 2]]
    if jitter and rng.random() < 0.5:
        crop = np.clip(crop * rng.uniform(0.6, 1.4) + rng.uniform(-40, 40), 0, 255)
    return np.ascontiguousarray(crop, np.float32), frac.astype(np.float32)


def _conv(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class CornerNet(nn.Module):
    """Encoder to 1/16, back up to 1/4 with lateral joins; four heatmaps whose expected positions are the
    corners (TL, TR, BR, BL) as (x, y) fractions of the input: output ``(N, 8)``."""

    def __init__(self) -> None:
        super().__init__()
        self.s2 = nn.Sequential(_conv(1, 16, 2), _conv(16, 32, 2), _conv(32, 32))
        self.s3 = nn.Sequential(_conv(32, 48, 2), _conv(48, 48))
        self.s4 = nn.Sequential(_conv(48, 96, 2), _conv(96, 96), _conv(96, 96, dilation=2))
        self.lat3, self.up3 = nn.Conv2d(96, 48, 1), _conv(48, 48)
        self.lat2, self.up2 = nn.Conv2d(48, 32, 1), _conv(32, 32)
        self.head = nn.Conv2d(32, 4, 1)

    def heatmaps(self, x: torch.Tensor) -> torch.Tensor:
        f2 = self.s2(x)
        f3 = self.s3(f2)
        f4 = self.s4(f3)
        u3 = self.up3(f3 + nn.functional.interpolate(self.lat3(f4), size=f3.shape[2:], mode="nearest"))
        u2 = self.up2(f2 + nn.functional.interpolate(self.lat2(u3), size=f2.shape[2:], mode="nearest"))
        return self.head(u2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return expected(self.heatmaps(x).flatten(2).softmax(-1), *SPEC_GRID)


SPEC_GRID = (SPEC.input_height // 4, SPEC.input_width // 4)


def expected(p: torch.Tensor, gh: int, gw: int) -> torch.Tensor:
    """``(N, 4, gh * gw)`` spatial probabilities -> ``(N, 8)`` expected (x, y) fractions (cell centres)."""
    xs = (torch.arange(gw, dtype=p.dtype) + 0.5) / gw
    ys = (torch.arange(gh, dtype=p.dtype) + 0.5) / gh
    grid_x, grid_y = xs.repeat(gh), ys.repeat_interleave(gw)
    return torch.stack([(p * grid_x).sum(-1), (p * grid_y).sum(-1)], dim=-1).flatten(1)


def loss_of(model: CornerNet, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 of the corners in input pixels, and cross-entropy of each heatmap to a Gaussian at its corner."""
    gh, gw = SPEC_GRID
    logits = model.heatmaps(x).flatten(2)
    pred = expected(logits.softmax(-1), gh, gw).view(-1, 4, 2)
    scale = torch.tensor([SPEC.input_width, SPEC.input_height], dtype=x.dtype)
    l1 = ((pred - target).abs() * scale).mean()
    cx = (torch.arange(gw) + 0.5).repeat(gh)
    cy = (torch.arange(gh) + 0.5).repeat_interleave(gw)
    tx, ty = target[..., 0:1] * gw, target[..., 1:2] * gh
    gauss = torch.exp(-((cx - tx) ** 2 + (cy - ty) ** 2) / 2.0)
    gauss = gauss / gauss.sum(-1, keepdim=True).clamp_min(1e-6)
    ce = -(gauss * logits.log_softmax(-1)).sum(-1).mean()
    return l1 + 0.1 * ce


def relative_error(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per plate, :func:`~anpr_edge.tools.metrics.corner_error` of fractions of the input, in input pixels."""
    scale = np.array([SPEC.input_width, SPEC.input_height])
    return corner_error(pred.reshape(-1, 4, 2) * scale, target.reshape(-1, 4, 2) * scale)


def batch(
    images: np.ndarray, corners: np.ndarray, idx: np.ndarray, rng: np.random.Generator, jitter: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """The samples of plates ``idx`` as the model's input ``(N, 1, H, W)`` and their corners ``(N, 4, 2)``."""
    xs, ys = zip(*(sample(images[i], corners[i], rng, jitter) for i in idx), strict=True)
    return torch.from_numpy(to_tensor(list(xs), SPEC.mean, SPEC.std)), torch.from_numpy(np.stack(ys))


def evaluate(model: CornerNet, val: tuple[np.ndarray, np.ndarray], seed: int) -> float:
    """Mean corner error over plate width on the early-stopping split (its jitter fixed by ``seed``)."""
    model.eval()
    rng = np.random.default_rng(seed)
    errors = []
    with torch.no_grad():
        for start in range(0, len(val[0]), 256):
            idx = np.arange(start, min(start + 256, len(val[0])))
            x, y = batch(*val, idx, rng, jitter=True)
            errors.append(relative_error(model(x).numpy(), y.numpy()))
    model.train()
    return float(np.concatenate(errors).mean())


def _resume(a: argparse.Namespace, parts: dict[str, Any]) -> tuple[int, float, np.random.Generator]:
    """First epoch, best error and sampling generator: from ``last.pt`` with ``--resume``, else fresh."""
    if not (a.resume and (a.out / "last.pt").exists()):
        return 0, math.inf, np.random.default_rng(a.seed)
    state = torch.load(a.out / "last.pt", weights_only=False)
    if state.get("epochs", a.epochs) != a.epochs:
        raise SystemExit(f"--epochs {a.epochs}: {a.out / 'last.pt'} is a run of {state['epochs']} epochs; resume it so")
    for key, part in parts.items():
        part.load_state_dict(state[key])
    first = state["epoch"] + 1
    logger.info("resumed from %s at epoch %d", a.out / "last.pt", first)
    return first, state["best"], np.random.default_rng([a.seed, first])


def _log_epoch(log: Path, epoch: int, loss: float, err: float, best: float, seconds: float) -> None:
    """One row of ``metrics.csv`` and one log line."""
    new = not log.exists()
    with log.open("a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["epoch", "loss", "val_corner_error", "seconds"])
        w.writerow([epoch, f"{loss:.4f}", f"{err:.4f}", f"{seconds:.0f}"])
    logger.info(
        "epoch %d: loss %.4f, corner error %.2f%% (best %.2f%%), %.0f s", epoch, loss, 100 * err, 100 * best, seconds
    )


def cmd_train(a: argparse.Namespace) -> None:
    """Train (or, with ``--resume``, continue) on a ``gen`` folder; ``last.pt`` and ``best.pt`` every epoch."""
    missing = [str(a.data / f"{s}.npz") for s in ("train", "val") if not (a.data / f"{s}.npz").is_file()]
    if missing:
        raise SystemExit(f"not found: {', '.join(missing)} (make them with train_corners gen --out {a.data})")
    if a.samples < a.batch:
        raise SystemExit(f"--samples {a.samples}: an epoch needs at least one batch of {a.batch}")
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    data = {s: np.load(a.data / f"{s}.npz") for s in ("train", "val")}
    train = (data["train"]["images"], data["train"]["corners"])
    val = (data["val"]["images"], data["val"]["corners"])
    model = CornerNet()
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    steps_per_epoch = a.samples // a.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, a.lr, total_steps=a.epochs * steps_per_epoch, pct_start=0.05)
    a.out.mkdir(parents=True, exist_ok=True)
    first, best, rng = _resume(a, {"model": model, "opt": opt, "sched": sched})
    for epoch in range(first, a.epochs):
        t0, total = time.time(), 0.0
        for _ in range(steps_per_epoch):
            x, y = batch(*train, rng.integers(0, len(train[0]), a.batch), rng, jitter=True)
            loss = loss_of(model, x, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        err = evaluate(model, val, a.seed)
        best = min(best, err)
        parts = {"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}
        torch.save({**parts, "epoch": epoch, "epochs": a.epochs, "best": best}, a.out / "last.pt")
        if err <= best:
            torch.save({"model": model.state_dict(), "epoch": epoch, "val_error": err}, a.out / "best.pt")
        _log_epoch(a.out / "metrics.csv", epoch, total / steps_per_epoch, err, best, time.time() - t0)


def parity(model: CornerNet, onnx_path: Path, xml_path: Path) -> float:
    """Largest difference of ONNX Runtime's and OpenVINO's corners from torch's, on 4 random inputs."""
    import onnxruntime as ort
    import openvino as ov

    x = np.random.default_rng(0).uniform(-1, 1, (4, 1, SPEC.input_height, SPEC.input_width)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    onnx_out = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    ov_out = ov.Core().compile_model(str(xml_path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})(x)[0]
    return max(float(np.abs(onnx_out - ref).max()), float(np.abs(ov_out - ref).max()))


def cmd_export(a: argparse.Namespace) -> int:
    """ONNX + OpenVINO IR (FP32) + metadata, made in a scratch folder and moved beside ``--out`` only when
    torch, ONNX Runtime and OpenVINO agree: a failed export leaves the model there untouched."""
    if not a.checkpoint.is_file():
        raise SystemExit(f"{a.checkpoint}: checkpoint not found")
    model = CornerNet()
    state = torch.load(a.checkpoint, weights_only=False)
    model.load_state_dict(state["model"])
    model.eval()
    scratch = a.out.parent / f".export-{a.out.name}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    stem = scratch / a.out.name
    try:
        export_onnx(model, stem.with_suffix(".onnx"), SPEC.input_height, SPEC.input_width, output="corners")
        export_openvino(stem.with_suffix(".onnx"), stem.with_suffix(".xml"), fp16=False)
        diff = parity(model, stem.with_suffix(".onnx"), stem.with_suffix(".xml"))
        if diff > a.tol:
            logger.error("parity: largest difference %.5f > %.5f; nothing written to %s", diff, a.tol, a.out.parent)
            return 1
        info = {
            "checkpoint": str(a.checkpoint),
            "epoch": state.get("epoch"),
            "val_corner_error": state.get("val_error"),
            "parameters": sum(p.numel() for p in model.parameters()),
            "parity": round(diff, 6),
        }
        write_spec(stem, SPEC, info)
        for suffix in (".onnx", ".xml", ".bin", ".json"):
            stem.with_suffix(suffix).replace(a.out.with_suffix(suffix))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    logger.info("exported %s (.onnx/.xml/.bin/.json; parity %.6f)", a.out, diff)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen", help="plate contexts with exact corners")
    g.add_argument("--out", type=Path, default=Path("work/corner_data"))
    g.add_argument("--real-train", type=Path, default=Path("../shared/real-train/k4gl7p"))
    g.add_argument("--real-dev", type=Path, default=Path("../shared/real-dev"))
    g.add_argument("--per-image", type=int, default=6)
    g.add_argument(
        "--pose-val", type=int, default=300, help="validation tiles of the pose dataset whose photos to avoid"
    )
    g.add_argument("--min-width", type=float, default=10.0)
    g.add_argument("--pose-seed", type=int, default=1, help="seed of the pose dataset whose validation photos to avoid")
    g.add_argument("--seed", type=int, default=1)
    t = sub.add_parser("train", help="train the corner model")
    t.add_argument("--data", type=Path, default=Path("work/corner_data"))
    t.add_argument("--out", type=Path, default=Path("work/corners"))
    t.add_argument("--epochs", type=int, default=24)
    t.add_argument("--samples", type=int, default=20000, help="samples per epoch")
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--resume", action="store_true")
    e = sub.add_parser("export", help="ONNX + OpenVINO IR + metadata")
    e.add_argument("--checkpoint", type=Path, default=Path("work/corners/best.pt"))
    e.add_argument("--out", type=Path, default=Path("work/models_mine/plate_corners"))
    e.add_argument("--tol", type=float, default=1e-3)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    a = parser().parse_args(argv)
    if a.cmd == "gen":
        cmd_gen(a)
    elif a.cmd == "train":
        cmd_train(a)
    else:
        return cmd_export(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
