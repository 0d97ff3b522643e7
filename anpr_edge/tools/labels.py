"""The real-dev label format (``labels.csv``: ``image;plate;x1;y1;x2;y2[;quality]``) and its split."""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass
from pathlib import Path

from anpr_edge.core.plates import normalise
from anpr_edge.errors import InputError

#: Label qualities whose plates can be read (scored separately); the others are detector-only.
SCORED = ("high", "low")

#: Share of real-dev images (by name hash) the shipped models were trained on; the rest is held out.
TRAINED_FRACTION = 0.5


@dataclass(frozen=True, slots=True)
class LabelRow:
    """One row of a real-dev style ``labels.csv``: ``image;plate;x1;y1;x2;y2[;quality]``."""

    image: str
    plate: str
    box: tuple[float, float, float, float]
    quality: str


def read_labels(csv_path: Path) -> list[LabelRow]:
    """Parse a real-dev ``labels.csv``; a malformed row is an error naming the file and line."""
    rows: list[LabelRow] = []
    with csv_path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter=";")
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:6]] != ["image", "plate", "x1", "y1", "x2", "y2"]:
            raise InputError(f"{csv_path}: header must start with image;plate;x1;y1;x2;y2, got {header}")
        for lineno, rec in enumerate(reader, start=2):
            if not rec or not "".join(rec).strip():
                continue
            try:
                x1, y1, x2, y2 = (float(v) for v in rec[2:6])
            except ValueError as exc:
                raise InputError(f"{csv_path}:{lineno}: bad box {rec[2:6]}") from exc
            if x2 <= x1 or y2 <= y1:
                raise InputError(f"{csv_path}:{lineno}: empty box {rec[2:6]}")
            quality = rec[6].strip() if len(rec) > 6 and rec[6].strip() else "high"
            rows.append(LabelRow(rec[0].strip(), normalise(rec[1]), (x1, y1, x2, y2), quality))
    return rows


def holdout(image_name: str, fraction: float) -> bool:
    """Deterministic split of real images by name: True means "may be trained on"."""
    return (zlib.crc32(image_name.encode()) % 1000) / 1000.0 < fraction


def trained_on(image_name: str) -> bool:
    """True for real-dev images the shipped models saw in training."""
    return holdout(image_name, TRAINED_FRACTION)


def rows_by_image(csv_path: Path, split: str = "all") -> dict[str, list[LabelRow]]:
    """Rows of ``labels.csv`` grouped by image, for the ``all``, ``trained`` or ``untrained`` split."""
    if split not in ("all", "trained", "untrained"):
        raise ValueError(f"split must be all, trained or untrained, got {split!r}")
    out: dict[str, list[LabelRow]] = {}
    for row in read_labels(csv_path):
        if split == "all" or (split == "trained") == trained_on(row.image):
            out.setdefault(row.image, []).append(row)
    return out


def read_unboxed(csv_path: Path) -> dict[str, list[tuple[float, float, float, float]]]:
    """Plates a labels file leaves unboxed (``image;x1;y1;x2;y2;what``), by image: an audit of background
    plates, so that a detector finding them is not charged a false positive."""
    out: dict[str, list[tuple[float, float, float, float]]] = {}
    try:
        lines = csv_path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{csv_path}: cannot read the unboxed-plates file ({exc})") from exc
    for lineno, line in enumerate(lines[1:], start=2):
        rec = line.split(";")
        if not line.strip() or line.startswith("#"):
            continue
        try:
            x1, y1, x2, y2 = (float(v) for v in rec[1:5])
        except ValueError as exc:
            raise InputError(f"{csv_path}:{lineno}: expected image;x1;y1;x2;y2;what, got {line!r}") from exc
        out.setdefault(rec[0].strip(), []).append((x1, y1, x2, y2))
    return out
