"""Every threshold and window of the recognition chain, defined once.

The YAML ``recognition`` section (and each camera's overrides), the CLI's recognition options and the
pipeline all use this one model: its fields carry their default, bounds and description.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from anpr_edge.inference.ocr import CharThresholds

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
Point = tuple[float, float]


class RecognitionSettings(BaseModel):
    """Detector, reader, tracker and event settings of one camera."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    conf: Prob | None = Field(None, description="detector confidence threshold (unset: the model's own)")
    iou: Prob = Field(0.5, description="detector NMS IoU")
    match_iou: Prob = Field(0.3, description="IoU to continue a track")
    max_misses: int = Field(5, ge=0, le=1000, description="frames a track survives unseen")
    ocr_every_n: int = Field(1, ge=1, le=100, description="OCR every n-th processed frame")
    ocr_variants: int = Field(9, ge=1, le=9, description="crops read per plate, characters voted (1-9)")
    settled_every: int = Field(
        4,
        ge=1,
        le=100,
        description="a plate whose last 3 reads are the same complete plate is read only on every n-th frame "
        "that is read (ocr_every_n; 1: all of them); the reads between would repeat it, and every n-th still "
        "catches another car",
    )
    detect_settled_s: float = Field(
        0.07,
        ge=0,
        le=1,
        description="while every plate followed is settled (last 3 reads the same complete plate) and was found "
        "on the detector's last frame, a frame less than this many seconds after the detector's last run skips it "
        "(0.07: every other frame at 25 fps, every frame at 14 fps or less; 0: every frame)",
    )
    verify_zoom: float = Field(
        5.0, ge=0, le=20, description="second look: each box re-detected in a crop this many box widths wide (0: off)"
    )
    verify_conf: Prob = Field(0.4, description="score the second look needs to keep a box")
    rectify: bool | Literal["auto"] = Field(
        "auto",
        description="read each plate warped level from its corners (the models folder's corner model finds "
        "them, else a detector that gives them) and tell square plates by them; auto: as the reader was "
        "trained (its metadata's rectified; the shipped reader reads boxes)",
    )
    roi_detect: bool = Field(
        True,
        description="with a camera roi, the detector sees only the roi's bounding rectangle, cut from the full "
        "frame (a lane's small plates come out larger at the same cost); false: the whole frame",
    )
    motion_threshold: float = Field(
        8.0,
        ge=0,
        le=255,
        description="idle frames: no detector while no 32x18 cell changes this many grey levels and no plate"
        " is followed (0: detector on every frame)",
    )
    idle_check_s: float = Field(1.0, gt=0, le=60, description="idle frames: the detector still runs this often")
    char_conf_thr: Prob = Field(0.5, description="probability under which a character is '#'")
    char_conf_thr_letters: Prob | None = Field(None, description="override for letter positions")
    char_conf_thr_digits: Prob | None = Field(None, description="override for digit positions")
    min_reads: int = Field(3, ge=1, le=100, description="OCR'd frames before an early event")
    emit_conf: Prob = Field(0.8, description="every character at least this sure for an early event")
    dedup_window_ms: float = Field(200.0, ge=0, le=60_000, description="same plate never twice within this")
    repeat_window_s: float = Field(
        10.0,
        ge=0,
        le=86_400,
        description="a plate found again where a pass's plate was last seen (boxes overlapping), within this, "
        "belongs to that pass (a car standing at the barrier)",
    )
    pass_gap_s: float = Field(
        2.0, ge=0, le=600, description="a track starting this soon after a pass's last sight, nearby, continues it"
    )
    pass_distance: float = Field(
        1.5, ge=0, le=20, description="nearby: box centres within this many plate widths (pass_gap_s)"
    )
    direction_line: tuple[Point, Point] | None = Field(
        None,
        description="[[x1, y1], [x2, y2]] in frame pixels: a plate crossing it is 'in' (from the left of the "
        "line, looking from the first point to the second) or 'out'; unset: approaching / departing by the "
        "plate's growth",
    )
    direction_growth: float = Field(
        1.15, gt=1.0, le=5.0, description="plate width ratio over a pass that says approaching / departing"
    )

    @field_validator("rectify", mode="before")
    @classmethod
    def _auto_or_bool(cls, v: object) -> object:
        """One message for a value that is none of the three (not one per branch of the type)."""
        words = {"auto": "auto", "true": True, "false": False}
        if isinstance(v, bool) or v in words.values():
            return v
        if isinstance(v, str) and v.lower() in words:
            return words[v.lower()]
        raise ValueError(f"must be auto, true or false, got {v!r}")

    @field_validator("direction_line")
    @classmethod
    def _line(cls, v: tuple[Point, Point] | None) -> tuple[Point, Point] | None:
        if v is not None and v[0] == v[1]:
            raise ValueError("the two points of direction_line must differ")
        return v

    @property
    def thresholds(self) -> CharThresholds:
        return CharThresholds.from_options(self.char_conf_thr, self.char_conf_thr_letters, self.char_conf_thr_digits)


#: The defaults, for code that has no settings of its own (model loading, export scoring).
DEFAULTS = RecognitionSettings()
