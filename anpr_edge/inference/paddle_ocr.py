"""A second OCR engine: PaddleOCR's PP-OCRv4 text recogniser, from RapidOCR's wheel (``ocr.engine: paddle``).

The model file ships inside the ``rapidocr_onnxruntime`` wheel (``models/ch_PP-OCRv4_rec_infer.onnx``),
so nothing is downloaded at run time; only that file is used, run by our own runtime (OpenVINO, or ONNX
Runtime for ``cuda`` / ``onnx-cpu``), so RapidOCR's own Python code and its dependencies are not needed.

The recogniser reads any text: 6,623 classes (Chinese, Latin, digits, punctuation). Its per-frame
probabilities are folded onto the plate alphabet (a plate character's column sums its Latin upper and
lower case and its Cyrillic look-alikes; other characters are dropped), and from there the read is
voted and fitted to the plate template exactly as the CRNN's is. The reader has the same
call shape as :class:`~anpr_edge.inference.ocr.PlateOCR` (``crops``, ``read_crops``, ``__call__``,
``variant_crops``, ``spec.alphabet``), so the pipeline, the tracker's vote and the event gate take it unchanged.
"""

from __future__ import annotations

import importlib.util
import math
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.core.plates import CYRILLIC_TO_LATIN, DIGITS, LETTERS, TEMPLATES
from anpr_edge.core.results import Detection, PlateRead
from anpr_edge.errors import ModelLoadError
from anpr_edge.inference.contract import OcrSpec
from anpr_edge.inference.ocr import CharThresholds, CropReader, plate_reads
from anpr_edge.inference.ocr_core import box_variant, box_variants, class_runs, expand_box
from anpr_edge.inference.runtime.base import DEVICES, HINTS, ONNX_DEVICES, OPENVINO_DEVICES, Backend

#: The wheel and the file in it (``pip install --no-deps rapidocr_onnxruntime==1.4.4``; see scripts/setup.sh).
PACKAGE = "rapidocr_onnxruntime"
MODEL = "models/ch_PP-OCRv4_rec_infer.onnx"
#: Input of PP-OCRv4 rec as RapidOCR feeds it: BGR, height 48, padded to width 320, (x / 255 - 0.5) / 0.5.
HEIGHT, WIDTH = 48, 320
CLASSES = 6625  # blank + 6,623 characters + space
#: Margin added around the detector's box (fractions of its width / height): PP-OCR was trained on text
#: lines cut with room around them; chosen before any scoring, not tuned on real-dev.
MARGIN_X, MARGIN_Y = 0.04, 0.12
ALPHABET = DIGITS + LETTERS
INSTALL_HINT = f"pip install --no-deps {PACKAGE}==1.4.4 (scripts/setup.sh --paddle)"


def default_model() -> Path:
    """The PP-OCR recogniser inside the installed RapidOCR wheel (found without importing RapidOCR)."""
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in locations:
        path = Path(folder) / MODEL
        if path.is_file():
            return path
    raise ModelLoadError(f"ocr engine paddle: {PACKAGE} is not installed ({INSTALL_HINT})")


def onnx_metadata(data: bytes) -> dict[str, str]:
    """``metadata_props`` of a serialised ONNX ``ModelProto`` (field 14: key = 1, value = 2), read from the
    protobuf wire format directly, so no ONNX library is needed to get the recogniser's character list."""

    def varint(buf: bytes, i: int) -> tuple[int, int]:
        shift = result = 0
        while True:
            if i >= len(buf):
                raise ValueError("truncated varint")
            b = buf[i]
            result |= (b & 0x7F) << shift
            i += 1
            if b < 0x80:
                return result, i
            shift += 7

    def fields(buf: bytes) -> list[tuple[int, bytes]]:
        out, i = [], 0
        while i < len(buf):
            key, i = varint(buf, i)
            number, wire = key >> 3, key & 7
            if wire == 0:
                _, i = varint(buf, i)
            elif wire == 1:
                i += 8
            elif wire == 5:
                i += 4
            elif wire == 2:
                n, i = varint(buf, i)
                if i + n > len(buf):
                    raise ValueError("truncated field")
                out.append((number, buf[i : i + n]))
                i += n
            else:
                raise ValueError(f"unsupported wire type {wire}")
        return out

    meta: dict[str, str] = {}
    for number, body in fields(data):
        if number == 14:
            entry = dict(fields(body))
            meta[entry.get(1, b"").decode("utf-8")] = entry.get(2, b"").decode("utf-8")
    return meta


def fold_matrix(characters: Sequence[str], alphabet: str = ALPHABET) -> np.ndarray:
    """``(1 + len(characters) + 1, len(alphabet))`` 0/1 matrix: PP-OCR class → plate character.

    PP-OCR's classes are the blank, ``characters``, then a space. A plate character collects its Latin
    upper and lower case, their full-width forms (NFKC) and its Cyrillic look-alikes (upper and lower);
    the blank and every other class (Chinese, other letters, punctuation, the space) map to no plate
    character (a zero row).
    """
    latin_of = {c: c for c in alphabet}
    for cyr, lat in CYRILLIC_TO_LATIN.items():
        latin_of[cyr] = lat
        latin_of[cyr.lower()] = lat
    for c in LETTERS:
        latin_of[c.lower()] = c
    classes = ["", *characters, " "]
    m = np.zeros((len(classes), len(alphabet)), np.float32)
    for i, ch in enumerate(classes):
        target = latin_of.get(unicodedata.normalize("NFKC", ch), "") if i > 0 else ""
        if target:
            m[i, alphabet.index(target)] = 1.0
    return m


def decode(probs: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Greedy CTC over PP-OCR's ``(T, classes)`` probabilities, kept to plate characters.

    The path is PP-OCR's own (best class per frame; repeats merged, blanks dropped), so the text is what
    RapidOCR would print. Each emitted character that is a plate character (a non-zero row of ``fold``)
    becomes one position: the plate alphabet's probabilities at the frame where it peaks, look-alikes
    summed. A character that is none (a hyphen, ``RUS``, a flag read as a glyph) emits nothing; summing
    the thousands of other classes into the blank instead would swamp real characters.
    """
    plate: np.ndarray = fold.sum(axis=1) > 0
    rows: list[np.ndarray] = []
    for k, start, end in class_runs(probs):
        if k != 0 and plate[k]:
            peak = start + int(probs[start:end, k].argmax())
            rows.append(probs[peak] @ fold)
    return np.stack(rows).astype(np.float32) if rows else np.zeros((0, fold.shape[1]), np.float32)


def fit_template(probs: np.ndarray, alphabet: str = ALPHABET) -> np.ndarray:
    """On a plate-long read (8 or 9 positions), the letter O and the digit 0 are one glyph: at a letter
    position the ``0`` probability moves to ``O``, at a digit position ``O``'s moves to ``0``.

    Our CRNN learnt the plate font's two shapes; PP-OCR reads any text and takes the plate's O for a 0.
    """
    template = TEMPLATES.get(probs.shape[0])
    if template is None or "O" not in alphabet or "0" not in alphabet:
        return probs
    o, z = alphabet.index("O"), alphabet.index("0")
    out = probs.copy()
    for i, kind in enumerate(template):
        src, dst = (z, o) if kind == "L" else (o, z)
        out[i, dst] += out[i, src]
        out[i, src] = 0.0
    return out


def crop_line(frame: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The plate with a margin, as a BGR text line ``HEIGHT`` high keeping its aspect (at most ``WIDTH``
    wide); parts outside the frame repeat the edge, as :func:`~anpr_edge.inference.ocr_core.crop_plate`."""
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    x1, y1, x2, y2 = expand_box(box, MARGIN_X, MARGIN_Y)
    w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    out_w = max(8, min(WIDTH, math.ceil(HEIGHT * w / h)))
    sx, sy = out_w / w, HEIGHT / h
    if min(sx, sy) < 0.5:  # a large plate: shrink with an area filter first (warpAffine has none)
        xi1, yi1 = max(int(x1), 0), max(int(y1), 0)
        xi2, yi2 = min(math.ceil(x2), frame.shape[1]), min(math.ceil(y2), frame.shape[0])
        if xi2 > xi1 and yi2 > yi1:
            part = cv2.resize(frame[yi1:yi2, xi1:xi2], None, fx=2 * sx, fy=2 * sy, interpolation=cv2.INTER_AREA)
            fx, fy = part.shape[1] / (xi2 - xi1), part.shape[0] / (yi2 - yi1)
            m = np.array([[sx / fx, 0.0, (xi1 - x1) * sx], [0.0, sy / fy, (yi1 - y1) * sy]], np.float32)
            return cv2.warpAffine(part, m, (out_w, HEIGHT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    m = np.array([[sx, 0.0, -x1 * sx], [0.0, sy, -y1 * sy]], np.float32)
    return cv2.warpAffine(frame, m, (out_w, HEIGHT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def to_batch(lines: Sequence[np.ndarray]) -> np.ndarray:
    """``N x 3 x HEIGHT x WIDTH`` float32: ``(x / 255 - 0.5) / 0.5``, zero (mid grey) padding on the right."""
    batch = np.zeros((len(lines), 3, HEIGHT, WIDTH), np.float32)
    for i, line in enumerate(lines):
        w = min(line.shape[1], WIDTH)
        batch[i, :, :, :w] = line[:, :w].transpose(2, 0, 1).astype(np.float32) / 127.5 - 1.0
    return batch


def _open(path: Path, device: str, cache_dir: Path | None, hint: str, precision: str) -> Backend:
    """The ``.onnx`` file itself on either runtime (the factory maps a stem to ``.xml`` for OpenVINO)."""
    if device not in DEVICES:
        raise ModelLoadError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    shapes = ((None, 3, HEIGHT, WIDTH), (None, None, CLASSES))
    if device in ONNX_DEVICES:
        from anpr_edge.inference.runtime.onnx import OnnxBackend

        return OnnxBackend(path, ONNX_DEVICES[device], *shapes, hint)
    from anpr_edge.inference.runtime.openvino import OpenVinoBackend

    return OpenVinoBackend(path, OPENVINO_DEVICES[device], *shapes, cache_dir, HINTS[hint], precision)


class PaddleOCR(CropReader):
    """``ocr(frame, detections) -> list[PlateRead]``, as :class:`~anpr_edge.inference.ocr.PlateOCR`."""

    def __init__(self, backend: Backend, characters: Sequence[str], thresholds: CharThresholds, max_batch: int = 8):
        if len(characters) + 2 != CLASSES:
            raise ModelLoadError(f"PP-OCR character list has {len(characters)} entries, expected {CLASSES - 2}")
        self.backend, self.thresholds, self.max_batch = backend, thresholds, max_batch
        self.fold = fold_matrix(characters)
        # What the event gate and the tracker's vote need: the plate alphabet of the reads' probabilities.
        self.spec = OcrSpec(WIDTH, HEIGHT, ALPHABET, crop_margin_x=MARGIN_X, crop_margin_y=MARGIN_Y)

    @classmethod
    def load(
        cls,
        device: str,
        thresholds: CharThresholds,
        cache_dir: Path | None = None,
        hint: str = "latency",
        model: Path | None = None,
        precision: str = "f32",
    ) -> PaddleOCR:
        """``precision``: f32 or bf16 on the CPU (resolved by :func:`~anpr_edge.inference.models.load_reader`)."""
        path = model or default_model()
        try:
            meta = onnx_metadata(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"{path}: cannot read the PP-OCR model ({exc})") from None
        if "character" not in meta:
            raise ModelLoadError(f"{path}: no 'character' list in the model's metadata")
        return cls(_open(path, device, cache_dir, hint, precision), meta["character"].splitlines(), thresholds)

    def crops(self, frame: np.ndarray, detections: Sequence[Detection], variants: int = 1) -> list[np.ndarray]:
        """``variants`` jittered text lines per plate, plate by plate (the CRNN's box variants)."""
        return [crop_line(frame, box) for d in detections for box in box_variants(d.box, variants)]

    def variant_crops(self, frame: np.ndarray, detections: Sequence[Detection], variant: int) -> list[np.ndarray]:
        """Crop number ``variant`` (:data:`~anpr_edge.inference.ocr_core.BOX_VARIANTS`) of each detection."""
        return [crop_line(frame, box_variant(d.box, variant)) for d in detections]

    def read_crops(
        self, crops: Sequence[np.ndarray], detections: Sequence[Detection], thresholds: CharThresholds | None = None
    ) -> list[PlateRead]:
        thr = thresholds or self.thresholds
        if not detections:
            return []
        decoded: list[np.ndarray] = []
        for start in range(0, len(crops), self.max_batch):
            probs = self.backend.infer(to_batch(crops[start : start + self.max_batch]))
            decoded += [fit_template(decode(p, self.fold)) for p in probs]
        return plate_reads(decoded, detections, ALPHABET, thr)
