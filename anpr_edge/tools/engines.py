"""``anpr-edge eval FOLDER --engine crnn,paddle``: OCR engines side by side on the same labelled plates.

Each engine reads every labelled box of the folder (``high`` and ``low`` quality, scored separately, as
``eval`` scores the OCR alone) with the run's recognition settings, and its time per crop is measured the
way video reads plates: one crop per plate per call, cropping and decoding included. The table has one
row per engine and quality; a paired line per quality says where the engines differ (sign test).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from anpr_edge.core.results import Detection
from anpr_edge.errors import AnprError
from anpr_edge.inference.models import Reader, load_reader
from anpr_edge.inference.ocr import CharThresholds
from anpr_edge.sources.files import read_image
from anpr_edge.tools.labels import SCORED, LabelRow
from anpr_edge.tools.metrics import OcrScore, paired, rate

#: Engines ``--engine`` accepts, in the order they are reported.
ENGINES = ("crnn", "paddle")


class Settings(Protocol):
    """The recognition settings the comparison uses (``RecognitionSettings``)."""

    @property
    def thresholds(self) -> CharThresholds: ...

    @property
    def ocr_variants(self) -> int: ...


def parse_engines(value: str) -> list[str]:
    """``crnn,paddle`` → ``["crnn", "paddle"]``; an unknown or repeated name is a one-line error."""
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in ENGINES]
    if not names or unknown:
        raise AnprError(f"--engine {value!r}: choose from {', '.join(ENGINES)} (comma-separated)")
    if len(set(names)) != len(names):
        raise AnprError(f"--engine {value!r}: an engine is named twice")
    return names


@dataclass
class EngineScore:
    """One engine's reads of the labelled boxes, by quality, and its milliseconds per crop."""

    engine: str
    device: str
    scores: dict[str, OcrScore] = field(default_factory=dict)
    ms: list[float] = field(default_factory=list)

    @property
    def ms_p50(self) -> float:
        return statistics.median(self.ms) if self.ms else 0.0


def score_engine(
    engine: str,
    reader: Reader,
    folder: Path,
    by_image: dict[str, list[LabelRow]],
    thresholds: CharThresholds,
    variants: int,
) -> EngineScore:
    """Read every scored box of ``by_image`` with ``variants`` crops (voted), and time one crop per plate."""
    out = EngineScore(engine, reader.backend.device)
    for name, rows in sorted(by_image.items()):
        scored = [r for r in rows if r.quality in SCORED and r.plate]
        if not scored:
            continue
        img = read_image(folder / "images" / name)
        dets = [Detection(r.box, 1.0) for r in scored]
        for det in dets:
            start = time.perf_counter()
            reader.read_crops(reader.crops(img, [det], 1), [det], thresholds)
            out.ms.append((time.perf_counter() - start) * 1000.0)
        reads = reader.read_crops(reader.crops(img, dets, variants), dets, thresholds)
        for r, read in zip(scored, reads, strict=True):
            out.scores.setdefault(r.quality, OcrScore()).add(r.plate, read.text, [p for _, p in read.chars])
    return out


def table(results: Sequence[EngineScore], variants: int) -> list[str]:
    """The comparison as a Markdown table (it goes into the docs as printed), then paired lines."""
    crops = f"{variants} crops per plate, voted" if variants > 1 else "one crop per plate"
    lines = [
        f"OCR engines on labelled boxes ({crops}; ms per crop: one crop per call, crop + inference + decode, median)",
        "",
        "| engine | device | plates | exact | chars | unread (#) | wrong (p≥0.5) | ms per crop |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        for q in SCORED:
            s = res.scores.get(q)
            if s is None:
                continue
            lines.append(
                f"| {res.engine} [{q}] | {res.device} | {s.plates} | {rate(s.exact, s.plates)} | {s.char_acc:.1%} | "
                f"{s.unread_chars} | {s.wrong_chars} ({s.wrong_confident}) | {res.ms_p50:.1f} |"
            )
    if len(results) >= 2:
        first = results[0]
        lines.append("")
        for other in results[1:]:
            for q in SCORED:
                if q in first.scores and q in other.scores:
                    pair = paired(first.scores[q].outcomes, other.scores[q].outcomes)
                    lines.append(f"paired ocr[{q}] {first.engine} vs {other.engine}: {pair}")
    return lines


def compare_engines(
    engines: str,
    models: Path,
    device: str,
    folder: Path,
    by_image: dict[str, list[LabelRow]],
    settings: Settings,
    precision: str = "auto",
) -> list[str]:
    """``eval --engine``: load every named engine first (a missing one fails before any scoring), score each."""
    names = parse_engines(engines)
    thresholds = settings.thresholds
    readers = [(n, load_reader(n, models / "plate_ocr", device, None, "latency", precision)) for n in names]
    variants = settings.ocr_variants
    return table([score_engine(n, r, folder, by_image, thresholds, variants) for n, r in readers], variants)
