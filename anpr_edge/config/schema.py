"""The daemon's configuration: one typed tree, validated once.

Every field has a default, a bound and a description; unknown keys are rejected. Components get
their typed section, never a dict. Reading YAML (with line numbers for errors) is
:mod:`anpr_edge.config.load`; the checks ``run`` and ``check-config`` share are :mod:`anpr_edge.config.checks`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from anpr_edge.inference.detector import parse_size
from anpr_edge.inference.runtime.base import auto_hint
from anpr_edge.recognition.settings import RecognitionSettings

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
#: Camera names become file names and MQTT topic levels: no path separators, no leading dot ("..", ".x").
SAFE_NAME = re.compile(r"(?!\.)[A-Za-z0-9_.-]{1,64}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OcrConfig(Strict):
    engine: Literal["crnn", "paddle"] = Field(
        "crnn",
        description="the plate reader: crnn (ours, in models.dir) or paddle (PP-OCR from RapidOCR's wheel, an "
        "optional install: scripts/setup.sh --paddle or install.sh --paddle; docs/ocr-engines.md compares them)",
    )


class ModelsConfig(Strict):
    dir: Path = Field(Path("/opt/anpr-edge/models"), description="folder with plate_detector.* and plate_ocr.*")
    device: Literal["auto", "cpu", "gpu", "npu", "cuda", "onnx-cpu"] = Field("auto", description="inference device")
    cache_dir: Path | None = Field(None, description="OpenVINO compiled-model cache (faster start)")
    performance: Literal["auto", "latency", "throughput"] = Field(
        "auto",
        description="performance hint (OpenVINO; onnx-cpu: one thread per inference for throughput): latency "
        "(each frame as fast as it goes: one camera), throughput "
        "(the most frames per second over several cameras, each frame slower), auto: latency for one enabled "
        "camera, throughput for more",
    )
    precision: Literal["auto", "f32", "bf16", "int8"] = Field(
        "auto",
        description="inference precision on the CPU: f32, bf16 (CPUs with native bf16), int8 (the models' "
        "quantized copies, plate_*.int8.xml); auto: what each model's card measured best on CPUs (models/README.md)",
    )
    detector_input: str | None = Field(
        None,
        description="detector input WIDTHxHEIGHT, multiples of 32 (unset: the model's, 512x288 shipped); "
        "640x384 also finds plates 50-80 px wide in 1080p, 1.7x slower",
    )

    @field_validator("detector_input")
    @classmethod
    def _size(cls, v: str | None) -> str | None:
        if v is not None:
            parse_size(v)  # ValueError → a validation error naming the key
        return v

    @property
    def detector_input_size(self) -> tuple[int, int] | None:
        return None if self.detector_input is None else parse_size(self.detector_input)


#: The YAML ``recognition`` section is the recognition settings themselves (defined once, in recognition/).
RecognitionConfig = RecognitionSettings


def _overrides_model() -> type[Strict]:
    """``RecognitionConfig`` with every field optional (same bounds, no default): unset keys inherit."""
    fields: dict[str, Any] = {}
    for name, f in RecognitionConfig.model_fields.items():
        bounded: Any = Annotated[(f.annotation, *f.metadata)] if f.metadata else f.annotation
        fields[name] = (bounded | None, Field(None, description=f.description))
    return create_model(
        "RecognitionOverrides",
        __base__=Strict,
        __doc__="Per-camera overrides: any recognition key, unset keys inherit the global section.",
        **fields,
    )


if TYPE_CHECKING:
    RecognitionOverrides = Strict
else:
    RecognitionOverrides = _overrides_model()


class CameraConfig(Strict):
    name: str = Field(
        ...,
        description="unique; 1-64 letters, digits, '_', '-', '.', not starting with '.' (in topics and file names)",
    )
    source: str | int = Field(
        ..., description="rtsp://, http(s)://, /dev/videoN or an index, a video file, an image folder"
    )
    loop: bool = Field(False, description="replay a video file / image folder forever")
    target_fps: float = Field(10.0, gt=0, le=120, description="frames per second to process at most")
    roi: list[tuple[float, float]] | None = Field(None, description="polygon [[x, y], ...] in frame pixels")
    stall_timeout_s: float = Field(5.0, gt=0, le=600, description="no frame for this long: reconnect")
    reconnect_max_s: float = Field(30.0, ge=1, le=3600, description="upper bound of the reconnect backoff")
    decode_threads: int = Field(
        1, ge=0, le=16, description="FFmpeg decoding threads of a video or stream (0: FFmpeg's choice, one per core)"
    )
    recognition: RecognitionOverrides = Field(default_factory=RecognitionOverrides)
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not SAFE_NAME.fullmatch(v):
            raise ValueError(
                f"{v!r} is not a safe camera name: use 1-64 letters, digits, '_', '-' or '.', not starting with "
                "'.' (the name becomes part of file names and MQTT topics)"
            )
        return v

    @field_validator("roi")
    @classmethod
    def _roi(cls, v: list[tuple[float, float]] | None) -> list[tuple[float, float]] | None:
        if v is not None and len(v) < 3:
            raise ValueError("roi needs at least 3 points")
        return v

    @field_validator("source")
    @classmethod
    def _source(cls, v: str | int) -> str | int:
        if isinstance(v, str) and not v.strip():
            raise ValueError("source is empty")
        return v


class CsvConfig(Strict):
    enabled: bool = True
    path: str = Field("/var/lib/anpr-edge/events.csv", description="may contain {camera} for one file per camera")
    columns: list[Literal["camera", "confidence", "event_id", "partial", "track_id"]] = Field(
        default_factory=list, description="extra columns after time;plate_num"
    )


class TlsConfig(Strict):
    enabled: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = Field(False, description="skip hostname verification (testing only)")


class HomeAssistantConfig(Strict):
    """``outputs.mqtt.homeassistant``: ``true``, or a mapping (then on unless ``enabled: false``)."""

    enabled: bool = Field(False, description="publish Home Assistant MQTT discovery configs (retained)")
    discovery_prefix: str = Field(
        "homeassistant", pattern=r"^[^#+\s]+$", description="Home Assistant's discovery prefix (no wildcards)"
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        if isinstance(v, bool):
            return {"enabled": v}
        return {"enabled": True, **v} if isinstance(v, dict) else v


class MqttConfig(Strict):
    enabled: bool = False
    host: str = "localhost"
    port: int = Field(1883, ge=1, le=65535)
    client_id: str | None = Field(None, description="default anpr-edge-<device_id>")
    keepalive: int = Field(30, ge=5, le=3600)
    username: str | None = None
    password_file: Path | None = Field(
        None, description="file with the password (or $CREDENTIALS_DIRECTORY/mqtt_password)"
    )
    protocol: Literal["3.1.1", "5"] = "3.1.1"
    topic_prefix: str | None = Field(None, description="default anpr/<device_id>")
    stats_interval_s: float = Field(30.0, ge=1, le=3600)
    reconnect_max_s: float = Field(30.0, ge=1, le=3600)
    tls: TlsConfig = Field(default_factory=TlsConfig)
    homeassistant: HomeAssistantConfig = Field(
        default_factory=lambda: HomeAssistantConfig(enabled=False),
        description="Home Assistant discovery: a device per camera with its last plate and camera state",
    )

    @model_validator(mode="after")
    def _homeassistant_needs_mqtt(self) -> MqttConfig:
        if self.homeassistant.enabled and not self.enabled:
            raise ValueError("homeassistant needs outputs.mqtt.enabled: true")
        return self


class OutputsConfig(Strict):
    csv: CsvConfig = Field(default_factory=CsvConfig)
    jsonl: Path | None = Field(None, description="also append full events as JSON lines here")
    mqtt: MqttConfig = Field(default_factory=MqttConfig)


class StorageConfig(Strict):
    state_dir: Path = Field(Path("/var/lib/anpr-edge"), description="outbox, status file, snapshots")
    outbox_max_events: int = Field(100_000, ge=10, le=10_000_000, description="oldest dropped (counted) beyond this")


class LoggingConfig(Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    status_interval_s: float = Field(60.0, ge=1, le=3600, description="period of the one-line status log")


class SnapshotsConfig(Strict):
    enabled: bool = False
    dir: Path | None = Field(None, description="default <state_dir>/snapshots")
    max_files: int = Field(2000, ge=1, le=1_000_000, description="events kept (frame + crop each), oldest out")
    max_age_days: float = Field(7.0, ge=0, le=3650, description="events older than this deleted (0: no age limit)")
    max_total_mb: float = Field(2000.0, gt=0, le=10_000_000, description="total size kept, oldest out")
    jpeg_quality: int = Field(85, ge=30, le=100, description="JPEG quality of the frame (the crop: at least 95)")
    crop: bool = Field(True, description="also save the plate crop beside the frame (<name>_plate.jpg)")


def parse_listen(listen: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9464`` for IPv6) → ``(host, port)``; ``ValueError`` naming what is wrong."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected host:port (e.g. 127.0.0.1:9464), got {listen!r}")
    return host.removeprefix("[").removesuffix("]"), int(port)


class HttpConfig(Strict):
    """``http``: a mapping, or ``false`` to turn the endpoint off."""

    enabled: bool = True
    listen: str = Field(
        "127.0.0.1:9464",
        description="host:port of GET /healthz and /metrics (loopback by default; port 0: any free port)",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {"enabled": v} if isinstance(v, bool) else v

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        parse_listen(v)
        return v


class Config(Strict):
    device_id: str = Field("anpr-edge", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    ocr: OcrConfig = Field(default_factory=OcrConfig)
    recognition: RecognitionConfig = Field(default_factory=RecognitionConfig)
    cameras: list[CameraConfig] = Field(..., min_length=1)
    outputs: OutputsConfig = Field(default_factory=OutputsConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    snapshots: SnapshotsConfig = Field(default_factory=SnapshotsConfig)
    http: HttpConfig = Field(default_factory=HttpConfig, description="health and metrics over HTTP; false: off")

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        names = [c.name for c in self.cameras]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"camera names must be unique, repeated: {', '.join(dup)}")
        return self

    def performance_hint(self) -> str:
        """``models.performance`` with ``auto`` decided by the number of enabled cameras."""
        if self.models.performance != "auto":
            return self.models.performance
        return auto_hint(sum(c.enabled for c in self.cameras))

    def camera_settings(self, cam: CameraConfig) -> RecognitionSettings:
        return self.recognition.model_copy(update=cam.recognition.model_dump(exclude_none=True))

    @property
    def topic_prefix(self) -> str:
        return self.outputs.mqtt.topic_prefix or f"anpr/{self.device_id}"
