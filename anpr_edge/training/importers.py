"""Bring your own data: import labelled plate crops into the OCR training layout (an ``.npz`` chunk).

Formats:

* **nomeroff-net / AUTO.RIA OCR** (``<split>/img/*.png`` + ``<split>/ann/*.json`` whose ``description`` is
  the text): Cyrillic → Latin, kept only when the text fits the Russian template;
* **real-dev style** (``images/`` + ``labels.csv``: ``image;plate;x1;y1;x2;y2[;quality]``): your own photos,
  cropped exactly as the runtime crops detector boxes.

and detection sets into a YOLO dataset for the detector (one class, ``plate``):

* **YOLO** (``images/<split>/``, ``labels/<split>/``, a ``data.yaml``) and **COCO JSON** (``annotations.json`` +
  images): boxes checked and kept for the plate classes. ``--classes`` takes class names (from ``data.yaml``
  ``names`` or COCO ``categories``) or ids; by default the classes whose name says plate/licence/number
  are kept (every class when no name does, and the report says so).

Every rejected item is reported with its file and reason; nothing is dropped silently.

    python -m anpr_edge.training.importers nomeroff DATASET_DIR --split train --out work/ocr_data/extra_train.npz
    python -m anpr_edge.training.importers folder PHOTOS_DIR --out work/ocr_data/extra_mine.npz
    python -m anpr_edge.training.importers download autoriaNumberplateOcrRu-2021-09-01 --to datasets/
    python -m anpr_edge.training.importers yolo SET_DIR --out work/det_mine
    python -m anpr_edge.training.importers coco annotations.json --images IMG_DIR --out work/det_mine
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import yaml

from anpr_edge.core.plates import is_valid, normalise
from anpr_edge.errors import AnprError, InputError
from anpr_edge.tools.labels import read_labels
from anpr_edge.training.ocr_data import CropSpec, real_crops

logger = logging.getLogger("anpr_edge.training.importers")


@dataclass
class ImportReport:
    kept: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    classes: str = ""  # which source classes became "plate" (detection sets)

    def summary(self) -> str:
        reasons = Counter(r for _, r in self.rejected)
        text = ", ".join(f"{n} {r}" for r, n in reasons.most_common()) or "none"
        kept_classes = f"; plate classes: {self.classes}" if self.classes else ""
        return f"kept {self.kept}, rejected {len(self.rejected)} ({text}){kept_classes}"


PLATE_NAME = re.compile(r"plate|licen[cs]e|number|\blp\b|nomer", re.IGNORECASE)


def resolve_classes(names: dict[int, str], wanted: list[str] | None, source: Path) -> tuple[set[int] | None, str]:
    """Class ids that are plates, and how they were chosen (for the report).

    ``wanted`` items are class names (case-insensitive) or ids; ``None`` picks the classes whose name
    says plate/licence/number, or every class (``None``) when no name does."""
    if wanted is None:
        ids = {i for i, n in names.items() if PLATE_NAME.search(n)}
        if not ids:
            return None, "all (no class name says plate)" if names else "all (no class names)"
        return ids, ", ".join(f"{i}={names[i]}" for i in sorted(ids)) + " (by name)"
    by_name = {n.lower(): i for i, n in names.items()}
    ids = set()
    for item in wanted:
        if item.lower() in by_name:
            ids.add(by_name[item.lower()])
        elif item.isdigit() and (not names or int(item) in names):
            ids.add(int(item))
        else:
            known = ", ".join(f"{i}={n}" for i, n in sorted(names.items())) or "none (no names found)"
            raise InputError(f"{source}: class {item!r} not found; classes: {known}")
    return ids, ", ".join(f"{i}={names.get(i, '?')}" for i in sorted(ids))


def yolo_names(root: Path) -> dict[int, str]:
    """``names`` from a YOLO set's ``data.yaml`` (a list or an id → name mapping); empty when absent."""
    path = next((p for p in (root / "data.yaml", root / "dataset.yaml") if p.is_file()), None)
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names = data.get("names", {}) if isinstance(data, dict) else {}
        items = enumerate(names) if isinstance(names, list) else names.items()
        return {int(i): str(n) for i, n in items}
    except (yaml.YAMLError, ValueError, AttributeError, TypeError) as exc:
        raise InputError(f"{path}: cannot read class names ({type(exc).__name__}: {exc})") from None


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


def _write_yolo(
    out: Path, split: str, name: str, img: np.ndarray, boxes: list[tuple[float, float, float, float]]
) -> None:
    """One image and its class-0 YOLO label file (boxes in pixels, clipped)."""
    h, w = img.shape[:2]
    (out / "images" / split).mkdir(parents=True, exist_ok=True)
    (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out / "images" / split / f"{name}.jpg"), img)
    lines = []
    for x1, y1, x2, y2 in boxes:
        x1, y1, x2, y2 = max(0.0, x1), max(0.0, y1), min(float(w), x2), min(float(h), y2)
        lines.append(f"0 {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}")
    (out / "labels" / split / f"{name}.txt").write_text("".join(f"{line}\n" for line in lines))


def _finish_yolo(out: Path) -> None:
    splits = sorted(p.name for p in (out / "images").iterdir() if p.is_dir())
    val = "val" if "val" in splits else splits[0]
    (out / "data.yaml").write_text(
        f"path: {out.resolve()}\ntrain: images/{'train' if 'train' in splits else splits[0]}\nval: images/{val}\n"
        "names:\n  0: plate\n"
    )


def import_yolo(root: Path, out: Path, wanted: list[str] | None = None) -> ImportReport:
    """A YOLO-format set (``images/<split>``, ``labels/<split>``) → our one-class layout under ``out``."""
    img_root = root / "images"
    if not img_root.is_dir() or not (root / "labels").is_dir():
        raise InputError(f"{root}: expected images/ and labels/ folders (YOLO layout)")
    classes, chosen = resolve_classes(yolo_names(root), wanted, root / "data.yaml")
    report = ImportReport(classes=chosen)
    for img_path in sorted(p for p in img_root.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp")):
        rel = img_path.relative_to(img_root)
        split = rel.parts[0] if len(rel.parts) > 1 else "train"
        label = (root / "labels" / rel).with_suffix(".txt")
        img = cv2.imread(str(img_path))
        if img is None:
            report.rejected.append((str(img_path), "unreadable image"))
            continue
        if not label.is_file():
            report.rejected.append((str(img_path), "no label file"))
            continue
        h, w = img.shape[:2]
        boxes, bad = [], False
        for line in label.read_text().splitlines():
            parts = line.split()
            if not parts:
                continue
            try:
                c, cx, cy, bw, bh = int(parts[0]), *map(float, parts[1:5])
            except (ValueError, TypeError):
                bad = True
                break
            if not (0 <= cx <= 1 and 0 <= cy <= 1 and 0 < bw <= 1 and 0 < bh <= 1):
                bad = True
                break
            if classes is None or c in classes:
                boxes.append(((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h))
        if bad:
            report.rejected.append((str(label), "malformed label line (class cx cy w h, normalised)"))
            continue
        _write_yolo(out, split, f"{split}_{img_path.stem}", img, boxes)
        report.kept += 1
    if report.kept:
        _finish_yolo(out)
    return report


def import_coco(
    annotations: Path, images: Path, out: Path, split: str = "train", wanted: list[str] | None = None
) -> ImportReport:
    """COCO JSON (``images``, ``annotations`` with ``bbox`` = x, y, w, h) → one-class YOLO under ``out``."""
    try:
        data = json.loads(annotations.read_text(encoding="utf-8"))
        names = {int(c["id"]): str(c["name"]) for c in data.get("categories", [])}
        classes, chosen = resolve_classes(names, wanted, annotations)
        by_image: dict[int, list[tuple[float, float, float, float]]] = {}
        for a in data["annotations"]:
            if classes is not None and int(a.get("category_id", -1)) not in classes:
                continue
            x, y, bw, bh = (float(v) for v in a["bbox"])
            by_image.setdefault(int(a["image_id"]), []).append((x, y, x + bw, y + bh))
        entries = [(int(i["id"]), str(i["file_name"])) for i in data["images"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{annotations}: not a COCO detection file ({type(exc).__name__}: {exc})") from None
    report = ImportReport(classes=chosen)
    for image_id, name in entries:
        img = cv2.imread(str(images / name))
        if img is None:
            report.rejected.append((str(images / name), "image missing or unreadable"))
            continue
        _write_yolo(out, split, Path(name).stem, img, by_image.get(image_id, []))
        report.kept += 1
    if report.kept:
        _finish_yolo(out)
    return report


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
    y = sub.add_parser("yolo")
    y.add_argument("root", type=Path)
    y.add_argument("--out", type=Path, required=True)
    classes_help = "plate classes by name or id (default: the classes named plate/licence/number)"
    y.add_argument("--classes", nargs="+", help=classes_help)
    c = sub.add_parser("coco")
    c.add_argument("annotations", type=Path)
    c.add_argument("--images", type=Path, required=True)
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--classes", nargs="+", help=classes_help)
    d = sub.add_parser("download")
    d.add_argument("name", choices=sorted(DATASETS))
    d.add_argument("--to", type=Path, default=Path("datasets"))
    a = p.parse_args(argv)
    try:
        if a.cmd == "download":
            print(f"downloaded to {download(a.name, a.to)}")
            return 0
        if a.cmd in ("yolo", "coco"):
            rep = (
                import_yolo(a.root, a.out, a.classes)
                if a.cmd == "yolo"
                else import_coco(a.annotations, a.images, a.out, wanted=a.classes)
            )
            for file, reason in rep.rejected[:20]:
                logger.warning("rejected %s: %s", file, reason)
            print(f"{a.out}: {rep.summary()}")
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
