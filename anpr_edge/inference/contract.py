"""The model contract: the JSON metadata beside every model file, read and validated in one place.

``models/plate_detector.json``, ``models/plate_ocr.json`` (and a corner model's ``plate_corners.json``)
describe their model (input size, normalisation, alphabet, letterbox) for both the OpenVINO IR and the
ONNX file of the same name.
Nothing model-specific is hard-coded in the pipeline: it all comes from here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from anpr_edge.core.plates import DIGITS, LETTERS, UNREAD
from anpr_edge.errors import ModelLoadError

SCHEMA = "anpr-edge/model/1"


def check_precision(where: str, precision: str) -> None:
    if precision not in ("f32", "bf16", "int8"):
        raise ModelLoadError(f"{where}: cpu_precision must be f32, bf16 or int8, got {precision!r}")


@dataclass(frozen=True, slots=True)
class DetectorSpec:
    """YOLO (ultralytics export): ``(1, 3, H, W)`` RGB in [0, 1], output ``(1, 4 + classes + 3 * keypoints,
    anchors)``: a detection model has no keypoints, the plate-corner (pose) model 4 (TL, TR, BR, BL)."""

    input_width: int
    input_height: int
    stride: int = 32
    pad_value: int = 114
    scale: float = 1.0 / 255.0
    classes: tuple[str, ...] = ("plate",)
    task: str = "plate_detector"
    #: The model's operating point: the confidence threshold its card's metrics were measured at. A run
    #: that sets no ``conf`` uses it, so a re-trained detector brings its own (metadata before this key: 0.5).
    conf: float = 0.5
    keypoints: int = 0
    #: The precision ``models.precision: auto`` runs it at on the CPU, chosen by measurement (models/README.md).
    cpu_precision: str = "f32"

    @property
    def outputs(self) -> int:
        """Values per anchor: box, class scores, then (x, y, visibility) per keypoint."""
        return 4 + len(self.classes) + 3 * self.keypoints

    def validate(self, where: str) -> None:
        check_precision(where, self.cpu_precision)
        if self.keypoints not in (0, 4):
            raise ModelLoadError(f"{where}: keypoints={self.keypoints} must be 0 (boxes) or 4 (plate corners)")
        if not 0.0 < self.conf < 1.0:
            raise ModelLoadError(f"{where}: conf={self.conf} must be between 0 and 1")
        for name, v in (("input_width", self.input_width), ("input_height", self.input_height)):
            if v <= 0 or v % self.stride:
                raise ModelLoadError(f"{where}: {name}={v} must be a positive multiple of stride {self.stride}")
        if not self.classes:
            raise ModelLoadError(f"{where}: classes is empty")


@dataclass(frozen=True, slots=True)
class OcrSpec:
    """CTC OCR: ``(N, 1, H, W)`` grey ``(x - mean) / std``, output probabilities ``(N, T, 1 + alphabet)``.

    The alphabet is plate characters and, for a reader trained to say so, ``UNREAD``: a character it cannot
    read. That class is never written as a plate character; the mass it takes lowers the probability of the
    character read there, which at a threshold of 0.5 or more is then written ``#`` whenever ``UNREAD`` leads."""

    input_width: int
    input_height: int
    alphabet: str
    mean: float = 127.5
    std: float = 127.5
    blank: int = 0
    crop_margin_x: float = 0.03
    crop_margin_y: float = 0.08
    task: str = "plate_ocr"
    deskew: bool = False  # crops are turned level by the plate's slope (ocr_core.skew_angle) before stretching
    deskew_rise: float = 1.0  # share of the slope's rise taken off a level crop's height (ocr_core.deskewed_size)
    temperature: float = 1.0  # confidence calibration (ocr_core.temper), fitted by training.calibrate
    rectified: bool = False  # trained on plates warped level from their corners: read so unless told otherwise
    cpu_precision: str = "f32"  # what ``models.precision: auto`` runs on the CPU, chosen by measurement
    #: As a second reader (``plate_ocr_second``): the least probability at which its letter (digit) is heard
    #: (:func:`~anpr_edge.core.plates.second_opinion`). A first reader ignores them.
    sure_letters: float = 0.0
    sure_digits: float = 0.0

    def validate(self, where: str) -> None:
        if self.input_width <= 0 or self.input_height <= 0:
            raise ModelLoadError(f"{where}: input size must be positive")
        check_precision(where, self.cpu_precision)
        for name, sure in (("sure_letters", self.sure_letters), ("sure_digits", self.sure_digits)):
            if isinstance(sure, bool) or not isinstance(sure, int | float) or not 0.0 <= sure < 1.0:
                raise ModelLoadError(f"{where}: {name} must be at least 0 and under 1, got {sure!r}")
        bad = set(self.alphabet) - set(DIGITS + LETTERS + UNREAD)
        if bad or len(set(self.alphabet)) != len(self.alphabet) or not self.alphabet.strip(UNREAD):
            raise ModelLoadError(
                f"{where}: alphabet {self.alphabet!r} must be distinct plate characters (and {UNREAD!r} for unreadable)"
            )
        if self.blank != 0:
            raise ModelLoadError(f"{where}: blank must be class 0, got {self.blank}")
        if self.std <= 0:
            raise ModelLoadError(f"{where}: std must be positive")
        for name, flag in (("deskew", self.deskew), ("rectified", self.rectified)):
            if not isinstance(flag, bool):
                raise ModelLoadError(f"{where}: {name} must be true or false, got {flag!r}")
        if not 0.1 <= self.temperature <= 10.0:
            raise ModelLoadError(f"{where}: temperature must be between 0.1 and 10, got {self.temperature}")
        if not 0.0 <= self.deskew_rise <= 1.0:
            raise ModelLoadError(f"{where}: deskew_rise must be between 0 and 1, got {self.deskew_rise}")


@dataclass(frozen=True, slots=True)
class CornerSpec:
    """Plate-corner model: ``(N, 1, H, W)`` grey ``(x - mean) / std`` of a box cut with its margins, output
    ``(N, 8)``: the corners TL, TR, BR, BL as (x, y) fractions of that cut."""

    input_width: int
    input_height: int
    crop_margin_x: float = 0.15
    crop_margin_y: float = 0.35
    mean: float = 127.5
    std: float = 127.5
    task: str = "plate_corners"
    cpu_precision: str = "f32"

    def validate(self, where: str) -> None:
        if self.input_width <= 0 or self.input_height <= 0:
            raise ModelLoadError(f"{where}: input size must be positive")
        check_precision(where, self.cpu_precision)
        if not (0.0 <= self.crop_margin_x <= 1.0 and 0.0 <= self.crop_margin_y <= 1.0):
            raise ModelLoadError(f"{where}: crop margins must be between 0 and 1")
        if self.std <= 0:
            raise ModelLoadError(f"{where}: std must be positive")


Spec = DetectorSpec | OcrSpec | CornerSpec
_TYPES: dict[str, type[DetectorSpec] | type[OcrSpec] | type[CornerSpec]] = {
    "plate_detector": DetectorSpec,
    "plate_ocr": OcrSpec,
    "plate_corners": CornerSpec,
}


def metadata_path(model_path: Path) -> Path:
    """``models/plate_ocr.xml`` → ``models/plate_ocr.json``."""
    return model_path.with_suffix(".json")


def load_spec(model_path: Path, task: str) -> Spec:
    """Read and validate the metadata of ``model_path``; errors name the file."""
    meta = metadata_path(model_path)
    try:
        raw: Any = json.loads(meta.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"{meta}: model metadata not found (every model needs its .json)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{meta}: unreadable model metadata: {exc}") from None
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
        raise ModelLoadError(f"{meta}: 'schema' must be {SCHEMA!r}")
    if raw.get("task") != task:
        raise ModelLoadError(f"{meta}: expected a {task} model, metadata says {raw.get('task')!r}")
    cls = _TYPES[task]
    fields = {k: v for k, v in raw.items() if k not in ("schema", "info")}
    if "classes" in fields:
        fields["classes"] = tuple(fields["classes"])
    try:
        spec = cls(**fields)
    except TypeError as exc:
        raise ModelLoadError(f"{meta}: {exc}") from None
    try:
        spec.validate(str(meta))
    except TypeError:  # a value of the wrong kind ("input_width": "128") fails a comparison
        raise ModelLoadError(f"{meta}: a value has the wrong type (numbers must be numbers)") from None
    return spec


def write_spec(model_path: Path, spec: Spec, info: dict[str, Any] | None = None) -> Path:
    """Write the metadata beside ``model_path`` (used by the export tools)."""
    data: dict[str, Any] = {"schema": SCHEMA, **asdict(spec)}
    if info:
        data["info"] = info
    path = metadata_path(model_path)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
