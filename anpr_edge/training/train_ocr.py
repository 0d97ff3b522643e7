"""Train the plate CRNN with CTC on synthetic crops; validate on synthetic and real-dev crops.

Run ``python -m anpr_edge.training.train_ocr --help``. Synthetic data comes in seeded chunks
(``gen`` sub-command, may run beside training); ``train`` picks up every chunk present at the start of
each epoch, resumes from ``last.pt`` in ``--out`` and appends to ``metrics.csv``.
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from anpr_edge.core.plates import UNREAD, constrain
from anpr_edge.inference.contract import metadata_path
from anpr_edge.inference.corners import CornerModel
from anpr_edge.inference.ocr_core import ctc_greedy_decode
from anpr_edge.tools.labels import TRAINED_FRACTION, holdout
from anpr_edge.tools.metrics import OcrScore
from anpr_edge.training.crnn import CRNN
from anpr_edge.training.ocr_data import (
    READ_ALPHABET,
    SMALL_SHOT_WIDTH,
    CropSpec,
    LabelledCrop,
    RealPlate,
    Synthesis,
    camera_variant,
    generate,
    load_npz,
    load_spec,
    load_synthesis,
    random_jitter,
    real_plates,
    save_spec,
    save_synthesis,
    small_shot,
    with_found_corners,
)

logger = logging.getLogger("anpr_edge.training.train_ocr")

ALPHABET = READ_ALPHABET
MEAN, STD = 127.5, 127.5
VAL_SEED = 999
#: Share of real training crops that ``--real-crops camera`` re-shoots (:func:`camera_variant`).
CAMERA_SHARE = 0.5


def encode(texts: list[str], alphabet: str = ALPHABET) -> tuple[torch.Tensor, torch.Tensor]:
    idx = [alphabet.index(c) + 1 for t in texts for c in t]
    return torch.tensor(idx, dtype=torch.long), torch.tensor([len(t) for t in texts], dtype=torch.long)


def to_batch(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy((images.astype(np.float32)[:, None] - MEAN) / STD)


@torch.no_grad()
def score(model: CRNN, crops: list[LabelledCrop], by: str = "quality", alphabet: str = ALPHABET) -> dict[str, OcrScore]:
    """Exact and per-character accuracy of ``model``'s reads of ``crops``, by ``by`` (a crop attribute; "" =
    all together). Plates are fitted to the template; a position read as ``UNREAD`` stays ``UNREAD``."""
    model.eval()
    out: dict[str, OcrScore] = {}
    for i in range(0, len(crops), 256):
        part = crops[i : i + 256]
        probs = torch.softmax(model(to_batch(np.stack([c.image for c in part]))), -1).numpy()
        for c, p in zip(part, probs, strict=True):
            dec = ctc_greedy_decode(p, alphabet)
            if len(dec.text) in (8, 9):
                text, chars = constrain(dec.probs, alphabet, 0.0, 0.0)
                text = "".join(UNREAD if d == UNREAD else t for d, t in zip(dec.text, text, strict=True))
            else:
                text, chars = dec.text, tuple((ch, p_) for ch, p_ in zip(dec.text, dec.char_probs, strict=True))
            key = getattr(c, by) if by else "all"
            out.setdefault(key, OcrScore()).add(c.text, text, [p_ for _, p_ in chars])
    return out


def split_real(plates: list[RealPlate], fraction: float, swap: bool = False) -> tuple[list[RealPlate], list[RealPlate]]:
    """(trained on, validation): the images ``holdout(name, fraction)`` keeps for training, or with ``swap``
    the others, so that a second model of a cross-fit trains on the first one's validation images."""
    train = [p for p in plates if holdout(p.source, fraction) != swap]
    return train, [p for p in plates if holdout(p.source, fraction) == swap]


def chunk_paths(data_dir: Path) -> list[Path]:
    return sorted(data_dir.glob("chunk_*.npz"))


def cmd_gen(args: argparse.Namespace) -> None:
    if not 0.0 <= args.deskew_rise <= 1.0 or (args.deskew_rise != 1.0 and not args.deskew):
        raise SystemExit(f"--deskew-rise {args.deskew_rise}: must be 0-1, and only with --deskew")
    synthesis = Synthesis(args.wide_roll, (args.plate_width[0], args.plate_width[1]), args.dusk, args.unreadable)
    if problem := synthesis.problem():
        raise SystemExit(problem)
    if args.rectified and args.deskew:
        raise SystemExit("--rectified and --deskew: a rectified crop is level already; choose one")
    spec = CropSpec(deskew=args.deskew, deskew_rise=args.deskew_rise, rectified=args.rectified)
    cached = chunk_paths(args.data_dir) or (args.data_dir / "val.npz").exists()
    if cached and load_spec(args.data_dir) != spec:
        raise SystemExit(f"{args.data_dir} holds crops cut as {load_spec(args.data_dir)}, not {spec}")
    held = load_synthesis(args.data_dir)
    if cached and held != synthesis:
        raise SystemExit(f"{args.data_dir} holds plates made with {held.describe()}, not {synthesis.describe()}")
    save_spec(args.data_dir, spec)
    save_synthesis(args.data_dir, synthesis)
    val = args.data_dir / "val.npz"
    if not val.exists():
        generate(args.val_size, VAL_SEED, spec, val, synthesis)
        logger.info("wrote %s", val)
    for k in range(args.first, args.first + args.chunks):
        path = args.data_dir / f"chunk_{k:04d}.npz"
        if path.exists():
            continue
        t = time.time()
        generate(args.chunk_size, k, spec, path, synthesis)
        logger.info("wrote %s (%d samples, %.0f s)", path, args.chunk_size, time.time() - t)


def cmd_train(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    alphabet = load_synthesis(args.data_dir).alphabet
    model = CRNN(len(alphabet) + 1)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    start_epoch, best = _resume(args, model, opt, alphabet)
    spec = load_spec(args.data_dir)
    if spec.rectified and args.real_dev and not metadata_path(args.corner_model).is_file():
        raise SystemExit(
            f"{args.data_dir} holds rectified crops: the real plates need --corner-model (not found: "
            f"{args.corner_model}.json)"
        )
    extra = _load_extra(args.extra)
    if stray := sorted({c for t in extra[1] for c in t} - set(alphabet)):
        raise SystemExit(f"--extra: labels with {''.join(stray)!r}, which {args.data_dir}'s reader does not read")
    logger.info("crops: %s", spec)
    val_images, val_texts = load_npz(args.data_dir / "val.npz")
    val = [LabelledCrop(im, t) for im, t in zip(val_images, val_texts, strict=True)]
    real, real_train = _real_dev(args, spec)
    mix = _Mix(alphabet, spec, extra, real_train)
    # Recorded in the checkpoints, so that export scores the model on the real images it did not train on.
    meta = {
        "alphabet": alphabet,
        "crop_spec": asdict(spec),
        "real_split": {"fraction": args.real_train_fraction, "swapped": args.swap_real_split},
    }
    for epoch in range(start_epoch, args.epochs):
        synthetic, chunks = _synthetic(args)
        t0 = time.time()  # the epoch's training and scoring, not its loading (metrics.csv's seconds)
        loss, lr = _train_epoch(args, model, opt, epoch, synthetic, mix)
        syn = score(model, val, by="", alphabet=alphabet)["all"]
        real_scores = score(model, real, alphabet=alphabet) if real else {}
        row = _metrics_row(epoch, loss, lr, syn, real_scores, chunks, time.time() - t0)
        _append_metrics(args.out / "metrics.csv", row)
        logger.info("epoch %d %s", epoch, row)
        if "high" in real_scores:
            logger.info("real high: %s", real_scores["high"].summary())
        if syn.exact_acc > best:
            best = syn.exact_acc
            torch.save({"model": model.state_dict(), "epoch": epoch, **meta}, args.out / "best.pt")
        state = {"model": model.state_dict(), "opt": opt.state_dict(), "epoch": epoch, "best": best, **meta}
        torch.save(state, args.out / "last.pt")
        plot_metrics(args.out / "metrics.csv", args.out / "metrics.png")


def _resume(args: argparse.Namespace, model: CRNN, opt: torch.optim.Optimizer, alphabet: str) -> tuple[int, float]:
    """Load ``--out``'s ``last.pt`` (model, optimiser, epoch, best score) or ``--init``'s weights into ``model``;
    the first epoch to train and the best synthetic exact score so far."""
    last = args.out / "last.pt"
    if last.exists():
        state = torch.load(last, map_location="cpu", weights_only=False)
        if state.get("alphabet", ALPHABET) != alphabet:
            raise SystemExit(f"{last} reads {state.get('alphabet', ALPHABET)!r}, {args.data_dir}'s crops {alphabet!r}")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        logger.info("resumed from %s at epoch %d", last, state["epoch"] + 1)
        return state["epoch"] + 1, state["best"]
    if args.init:
        model.load_state_dict(init_weights(args.init, alphabet))
        logger.info("fine-tuning from %s (classes %s)", args.init, alphabet)
    return 0, -1.0


def _real_dev(args: argparse.Namespace, spec: CropSpec) -> tuple[list[LabelledCrop], list[RealPlate]]:
    """real-dev's held-out crops (validation) and its training plates, or none where it is absent."""
    if not (args.real_dev and (args.real_dev / "labels.csv").exists()):
        logger.warning("real-dev not found at %s: validating on synthetic crops only", args.real_dev)
        return [], []
    plates = real_plates(args.real_dev)
    if spec.rectified:  # a rectified reader reads the plates warped from the corners the corner model finds
        plates = with_found_corners(plates, CornerModel.load(args.corner_model, "cpu", precision="f32"))
    real_train, held_out = split_real(plates, args.real_train_fraction, args.swap_real_split)
    real = [plate.crop(spec) for plate in held_out]
    logger.info("real-dev crops: %d held out for validation, %d for training", len(real), len(real_train))
    return real, real_train


@dataclass(frozen=True, slots=True)
class _Mix:
    """What a training batch is made of besides the synthetic crops, and the reader's classes."""

    alphabet: str
    spec: CropSpec
    extra: tuple[np.ndarray, list[str]]  # imported crops (``--extra``) and their labels
    real_train: list[RealPlate]  # real-dev's training plates


def _synthetic(args: argparse.Namespace) -> tuple[tuple[np.ndarray, list[str]], int]:
    """The newest ``--max-chunks`` synthetic chunks' crops and labels (read at each epoch: ``gen`` may have added
    some), and how many chunks they are."""
    chunks = chunk_paths(args.data_dir)[-args.max_chunks :]
    if not chunks:
        raise SystemExit(f"no synthetic chunks in {args.data_dir}: run the gen sub-command first")
    parts = [load_npz(p) for p in chunks]
    return (np.concatenate([p[0] for p in parts]), [t for p in parts for t in p[1]]), len(chunks)


def _train_epoch(
    args: argparse.Namespace,
    model: CRNN,
    opt: torch.optim.Optimizer,
    epoch: int,
    synthetic: tuple[np.ndarray, list[str]],
    mix: _Mix,
) -> tuple[float, float]:
    """One epoch of ``--steps`` steps on ``synthetic`` crops mixed with ``mix``: the mean loss and the last
    learning rate."""
    rng = np.random.default_rng(args.seed * 1000 + epoch)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    model.train()
    loss_sum, lr, total_steps = 0.0, args.lr, args.epochs * args.steps
    for step in range(args.steps):
        gstep = epoch * args.steps + step
        lr = args.lr * 0.5 * (1 + math.cos(math.pi * min(gstep / total_steps, 1.0)))
        if gstep < 300:
            lr *= (gstep + 1) / 300
        for g in opt.param_groups:
            g["lr"] = lr
        images, texts = _batch(args, rng, synthetic, mix)
        x = to_batch(images)
        logp = model(x).log_softmax(-1).permute(1, 0, 2)  # T, N, C
        targets, lengths = encode(texts, mix.alphabet)
        loss = ctc(logp, targets, torch.full((x.shape[0],), logp.shape[0], dtype=torch.long), lengths)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        loss_sum += float(loss.detach())
    return loss_sum / args.steps, lr


def _batch(
    args: argparse.Namespace, rng: np.random.Generator, synthetic: tuple[np.ndarray, list[str]], mix: _Mix
) -> tuple[np.ndarray, list[str]]:
    """One training batch: ``--batch`` synthetic crops (:func:`_shift`), then ``--extra-per-batch`` imported
    ones (:func:`_extra_crop`), then ``--real-per-batch`` real-dev plates (:func:`_real_crop`, :func:`_jitter`),
    drawn from ``rng`` in that order."""
    images, texts = synthetic
    idx = rng.integers(0, len(images), args.batch)
    batch_imgs, batch_txt = np.stack([_shift(images[i], rng) for i in idx]), [texts[i] for i in idx]
    extra_imgs, extra_txt = mix.extra
    if len(extra_txt) and args.extra_per_batch:
        pick = rng.integers(0, len(extra_txt), args.extra_per_batch)
        shots = [_extra_crop(extra_imgs[i], args.extra_small, rng) for i in pick]
        batch_imgs = np.concatenate([batch_imgs, np.stack(shots)])
        batch_txt = batch_txt + [extra_txt[i] for i in pick]
    if mix.real_train and args.real_per_batch:
        pick = rng.integers(0, len(mix.real_train), args.real_per_batch)
        # One crop then its light jitter, plate by plate (the stage-1 order of random draws).
        real = [_jitter(_real_crop(mix.real_train[i], mix.spec, args.real_crops, rng).image, rng) for i in pick]
        batch_imgs = np.concatenate([batch_imgs, np.stack(real)])
        batch_txt = batch_txt + [mix.real_train[i].text for i in pick]
    return batch_imgs, batch_txt


def _metrics_row(
    epoch: int,
    loss: float,
    lr: float,
    syn: OcrScore,
    real: dict[str, OcrScore],
    chunks: int,
    seconds: float,
) -> dict[str, object]:
    """An epoch's row of ``metrics.csv``: loss, learning rate, synthetic and real-dev scores."""

    def real_score(quality: str, value: str) -> object:
        return round(getattr(real[quality], value), 4) if quality in real else ""

    return {
        "epoch": epoch,
        "loss": round(loss, 4),
        "lr": f"{lr:.2e}",
        "syn_exact": round(syn.exact_acc, 4),
        "syn_char": round(syn.char_acc, 4),
        "real_high_exact": real_score("high", "exact_acc"),
        "real_high_char": real_score("high", "char_acc"),
        "real_low_exact": real_score("low", "exact_acc"),
        "chunks": chunks,
        "seconds": round(seconds, 1),
    }


def _append_metrics(path: Path, row: dict[str, object]) -> None:
    """``row`` appended to the CSV at ``path`` (its header first where the file is new)."""
    new_file = not path.exists()
    with path.open("a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(row))
        if new_file:
            w.writeheader()
        w.writerow(row)


def init_weights(path: Path, alphabet: str) -> dict[str, torch.Tensor]:
    """The weights of the checkpoint at ``path`` for a reader of ``alphabet``. A checkpoint whose classes
    are the start of ``alphabet`` (a reader without ``UNREAD``, fine-tuned to have it) gets the new classes'
    rows added to its head: zero weights and the lowest bias it has, so that it starts reading nearly as before
    (its classes' scores unchanged, the new one as unlikely as its least likely class)."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    weights: dict[str, torch.Tensor] = dict(state["model"])
    held = state.get("alphabet", ALPHABET)
    if held == alphabet:
        return weights
    if not alphabet.startswith(held):
        raise SystemExit(f"--init {path}: its classes {held!r} are not the start of this data's {alphabet!r}")
    w, b = weights["head.weight"], weights["head.bias"]
    new = len(alphabet) - len(held)
    weights["head.weight"] = torch.cat([w, torch.zeros((new, *w.shape[1:]), dtype=w.dtype)])
    weights["head.bias"] = torch.cat([b, torch.full((new,), float(b.min()), dtype=b.dtype)])
    return weights


def _load_extra(paths: list[Path]) -> tuple[np.ndarray, list[str]]:
    """Imported real crops (``importers``) to mix into every batch."""
    parts = [load_npz(p) for p in paths]
    if not parts:
        return np.zeros((0, 32, 128), np.uint8), []
    logger.info("mixing in %d imported crops from %s", sum(len(t) for _, t in parts), ", ".join(map(str, paths)))
    return np.concatenate([i for i, _ in parts]), [t for _, ts in parts for t in ts]


def _share(text: str) -> float:
    """An argparse type: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share from 0 to 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a share from 0 to 1, got {text}")
    return value


def _extra_crop(img: np.ndarray, small: float, rng: np.random.Generator) -> np.ndarray:
    """An imported crop shifted (:func:`_shift`); a share ``small`` of them first re-shot small
    (:func:`small_shot`). With ``small`` 0 no random draw is added (the recipes before it draw the same)."""
    if small > 0 and rng.random() < small:
        img = small_shot(img, rng)
    return _shift(img, rng)


def _real_crop(plate: RealPlate, spec: CropSpec, mode: str, rng: np.random.Generator) -> LabelledCrop:
    """A training crop of a real plate: ``fixed`` = the box's crop shifted in crop pixels (stage 1);
    ``source`` = cut from the photo with a random box jitter, so loose edges show the real surroundings;
    ``camera`` = as ``source``, but half of them first re-shot by :func:`camera_variant` (rolled, smaller,
    relit, degraded)."""
    if mode == "camera" and rng.random() < CAMERA_SHARE:
        plate = camera_variant(plate, rng)
    if mode in ("source", "camera"):
        return plate.crop(spec, random_jitter(rng))
    crop = plate.crop(spec)
    return LabelledCrop(_shift(crop.image, rng), crop.text, crop.quality, crop.source)


def _shift(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Cheap online augmentation of a cached crop: small shift/scale (box jitter) and contrast."""
    h, w = img.shape
    # Zooming in cuts plate edges, zooming out leaves loose ones: both happen with detector boxes.
    sx, sy = rng.uniform(0.88, 1.12), rng.uniform(0.85, 1.15)
    m = np.array([[sx, 0, rng.uniform(-5, 5) + (1 - sx) * w / 2], [0, sy, rng.uniform(-3, 3) + (1 - sy) * h / 2]])
    out = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    out = (out - out.mean()) * rng.uniform(0.7, 1.2) + out.mean() + rng.uniform(-20, 20)
    return np.clip(out, 0, 255).astype(np.uint8)


def _jitter(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light augmentation for the few real crops: brightness, contrast and noise."""
    out = img.astype(np.float32) * rng.uniform(0.7, 1.2) + rng.uniform(-25, 25)
    out += rng.normal(0, rng.uniform(0, 6), out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def plot_metrics(csv_path: Path, png: Path) -> None:
    """Loss and accuracy curves, for a person to judge the run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with csv_path.open() as fh:
        rows = list(csv.DictReader(fh))
    ep = [int(r["epoch"]) for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(ep, [float(r["loss"]) for r in rows])
    a.set_title("CTC loss")
    a.set_yscale("log")
    for key in ("syn_exact", "real_high_exact", "real_high_char", "real_low_exact"):
        vals = [(e, float(r[key])) for e, r in zip(ep, rows, strict=True) if r.get(key)]
        if vals:
            b.plot(*zip(*vals, strict=True), label=key)
    b.set_title("accuracy")
    b.legend()
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)


def parser() -> argparse.ArgumentParser:
    """The command line (also used by ``reproduce`` to check its recipe)."""
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen", help="write synthetic chunks")
    g.add_argument("--data-dir", type=Path, default=Path("work/ocr_data"))
    g.add_argument("--first", type=int, default=0)
    g.add_argument("--chunks", type=int, default=12)
    g.add_argument("--chunk-size", type=int, default=10_000)
    g.add_argument("--val-size", type=int, default=2_000)
    g.add_argument(
        "--deskew",
        action="store_true",
        help="cut level crops: each plate turned by its measured slope (the model's metadata then says deskew)",
    )
    g.add_argument(
        "--rectified",
        action="store_true",
        help="cut each plate warped level from its corners, as a corner model's corners land (the model's "
        "metadata then says rectified; real plates get their corners from --corner-model when training)",
    )
    g.add_argument(
        "--deskew-rise",
        type=float,
        default=1.0,
        help="share (0-1) of the slope's rise taken off a level crop's height: 1 = tight, lower = looser",
    )
    g.add_argument(
        "--wide-roll",
        type=float,
        default=0.0,
        help="share (0-1) of plates rolled uniformly up to 18 degrees instead of the usual sd 4 (crooked plates)",
    )
    g.add_argument(
        "--plate-width",
        type=float,
        nargs=2,
        default=list(Synthesis().plate_width),
        metavar=("MIN", "MAX"),
        help="plate width at camera resolution, px, drawn log-uniformly (default 50 320: from far-away plates "
        "blown up to close ones)",
    )
    g.add_argument(
        "--dusk",
        type=float,
        default=0.0,
        help="share (0-1) of plates seen at dusk from a moving camera: dim, low contrast, a colour cast, motion "
        "blur, gain noise",
    )
    g.add_argument(
        "--unreadable",
        type=float,
        default=0.0,
        help="share (0-1) of plates with one or two characters made unreadable (mud, snow, a smear, worn paint, a "
        f"bar in front), labelled {UNREAD!r}: the reader learns a class for a character it cannot read",
    )
    t = sub.add_parser("train", help="train (resumes from OUT/last.pt)")
    t.add_argument("--data-dir", type=Path, default=Path("work/ocr_data"))
    t.add_argument("--out", type=Path, default=Path("work/ocr"))
    t.add_argument("--real-dev", type=Path, default=Path("../shared/real-dev"))
    t.add_argument(
        "--real-train-fraction",
        type=float,
        default=TRAINED_FRACTION,
        help="fraction of real-dev images (by name hash) mixed into training; the rest is validation "
        "(default: the shipped models' split, so `anpr-edge eval --split untrained` stays honest; 0 = none)",
    )
    t.add_argument(
        "--swap-real-split",
        action="store_true",
        help="train on the real-dev images --real-train-fraction leaves out and validate on the rest: the "
        "second fold of a cross-fit, whose model is scored with `anpr-edge eval --split trained`",
    )
    t.add_argument("--real-per-batch", type=int, default=8)
    t.add_argument(
        "--real-crops",
        choices=("fixed", "source", "camera"),
        default="fixed",
        help="how real training crops are jittered: fixed = shift the box's crop (stage 1), "
        "source = cut each from the photo with a random box jitter, camera = as source, half of them "
        "first rolled, shrunk, relit and degraded as by another camera",
    )
    t.add_argument(
        "--corner-model",
        type=Path,
        default=Path("models/camera/plate_corners"),
        help="with a rectified data folder: the corner model that gives the real plates their corners",
    )
    t.add_argument("--init", type=Path, help="start from this checkpoint's weights (fine-tuning), if no last.pt")
    t.add_argument("--extra", type=Path, nargs="*", default=[], help="imported crops (.npz from importers)")
    t.add_argument("--extra-per-batch", type=int, default=32, help="imported crops per batch (the mix ratio)")
    t.add_argument(
        "--extra-small",
        type=_share,
        default=0.0,
        help=f"share (0-1) of the imported crops first re-shot small (a crop {SMALL_SHOT_WIDTH[0]:g}-"
        f"{SMALL_SHOT_WIDTH[1]:g} px wide: shrunk, blurred, noisy, JPEG'd, stretched back)",
    )
    t.add_argument("--epochs", type=int, default=40)
    t.add_argument("--steps", type=int, default=500)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--max-chunks", type=int, default=30)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--seed", type=int, default=0)
    return p


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = parser().parse_args(argv)
    random.seed(0)
    {"gen": cmd_gen, "train": cmd_train}[args.cmd](args)


if __name__ == "__main__":
    main()
