"""Bring your own data: import labelled plate crops into the OCR training layout (an ``.npz`` chunk).

Formats:

* **nomeroff-net / AUTO.RIA OCR** (``<split>/img/*.png`` + ``<split>/ann/*.json`` whose ``description`` is
  the text): Cyrillic → Latin, kept only when the text fits the Russian template;
* **real-dev style** (``images/`` + ``labels.csv``: ``image;plate;x1;y1;x2;y2[;quality]``): your own photos,
  cropped exactly as the runtime crops detector boxes.

Every rejected item is reported with its file and reason; nothing is dropped silently.

    python -m anpr_edge.training.importers nomeroff DATASET_DIR --split train --out work/ocr_data/extra_train.npz
    python -m anpr_edge.training.importers folder PHOTOS_DIR --out work/ocr_data/extra_mine.npz
    python -m anpr_edge.training.importers download autoriaNumberplateOcrRu-2021-09-01 --to datasets/
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.errors import AnprError, InputError
from anpr_edge.labels import read_labels
from anpr_edge.plates import is_valid, normalise
from anpr_edge.training.ocr_data import CropSpec, real_crops

logger = logging.getLogger("anpr_edge.training.importers")


@dataclass
class ImportReport:
    kept: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)

    def summary(self) -> str:
        reasons = Counter(r for _, r in self.rejected)
        text = ", ".join(f"{n} {r}" for r, n in reasons.most_common()) or "none"
        return f"kept {self.kept}, rejected {len(self.rejected)} ({text})"


def _to_input(img: np.ndarray, spec: CropSpec) -> np.ndarray:
    grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return cv2.resize(grey, (spec.width, spec.height), interpolation=cv2.INTER_AREA)


def import_nomeroff(root: Path, split: str, spec: CropSpec) -> tuple[np.ndarray, list[str], ImportReport]:
    """Read ``root/split/ann/*.json`` + ``root/split/img/<name>.png`` (nomeroff-net OCR layout)."""
    ann_dir, img_dir = root / split / "ann", root / split / "img"
    if not ann_dir.is_dir() or not img_dir.is_dir():
        raise InputError(f"{root / split}: expected ann/ and img/ folders (nomeroff-net OCR layout)")
    report = ImportReport()
    images: list[np.ndarray] = []
    texts: list[str] = []
    for ann in sorted(ann_dir.glob("*.json")):
        try:
            data = json.loads(ann.read_text(encoding="utf-8"))
            raw = data["description"]
        except (OSError, ValueError, KeyError, TypeError):
            report.rejected.append((str(ann), "unreadable annotation (no 'description')"))
            continue
        text = normalise(str(raw))
        if not is_valid(text):
            report.rejected.append((str(ann), "not a Russian type-1 plate"))
            continue
        name = str(data.get("name") or ann.stem)
        candidates = [img_dir / f"{name}.png", img_dir / f"{ann.stem}.png", img_dir / f"{name}.jpg"]
        path = next((c for c in candidates if c.is_file()), None)
        img = cv2.imread(str(path)) if path else None
        if img is None:
            report.rejected.append((str(ann), "image missing or unreadable"))
            continue
        images.append(_to_input(img, spec))
        texts.append(text)
        report.kept += 1
    return _stack(images, spec), texts, report


def import_folder(folder: Path, spec: CropSpec) -> tuple[np.ndarray, list[str], ImportReport]:
    """Photos + ``labels.csv`` (real-dev format), cropped as the runtime crops detector boxes."""
    report = ImportReport()
    rows = read_labels(folder / "labels.csv")
    for r in rows:
        if not r.plate:
            report.rejected.append((r.image, "empty plate text"))
        elif not is_valid(r.plate):
            report.rejected.append((r.image, "not a Russian type-1 plate"))
    crops = real_crops(folder, spec, qualities=tuple({r.quality for r in rows}))
    keep = [c for c in crops if is_valid(c.text)]
    report.kept = len(keep)
    return _stack([c.image for c in keep], spec), [c.text for c in keep], report


def _stack(images: list[np.ndarray], spec: CropSpec) -> np.ndarray:
    return np.stack(images) if images else np.zeros((0, spec.height, spec.width), np.uint8)


def save(out: Path, images: np.ndarray, texts: list[str]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, images=images, texts=np.array(texts))


DATASETS = {
    # name → (Hugging Face dataset repo, what it is)
    "autoriaNumberplateOcrRu-2021-09-01": (
        "nomeroff-net/autoriaNumberplateOcrRu",
        "AUTO.RIA Russian OCR crops, CC BY 4.0",
    ),
}


def download(name: str, to: Path) -> Path:
    """Fetch a public dataset with huggingface_hub (optional dependency); one clear line offline."""
    if name not in DATASETS:
        raise AnprError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    try:
        from huggingface_hub import snapshot_download  # type: ignore[import-not-found]
    except ImportError:
        raise AnprError("huggingface_hub is not installed: pip install huggingface_hub") from None
    repo, _ = DATASETS[name]
    try:
        return Path(snapshot_download(repo_id=repo, repo_type="dataset", local_dir=str(to / name)))
    except Exception as exc:  # network errors come in many classes
        raise AnprError(f"cannot download {repo}: no network or no access ({type(exc).__name__})") from None


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    n = sub.add_parser("nomeroff")
    n.add_argument("root", type=Path)
    n.add_argument("--split", default="train")
    n.add_argument("--out", type=Path, required=True)
    f = sub.add_parser("folder")
    f.add_argument("folder", type=Path)
    f.add_argument("--out", type=Path, required=True)
    d = sub.add_parser("download")
    d.add_argument("name", choices=sorted(DATASETS))
    d.add_argument("--to", type=Path, default=Path("datasets"))
    a = p.parse_args(argv)
    try:
        if a.cmd == "download":
            print(f"downloaded to {download(a.name, a.to)}")
            return 0
        spec = CropSpec()
        images, texts, report = (
            import_nomeroff(a.root, a.split, spec) if a.cmd == "nomeroff" else import_folder(a.folder, spec)
        )
        for file, reason in report.rejected[:20]:
            logger.warning("rejected %s: %s", file, reason)
        save(a.out, images, texts)
        print(f"{a.out}: {report.summary()}")
        return 0
    except AnprError as exc:
        print(f"importers: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
