"""Checks of a valid configuration against the machine it runs on, shared by ``check-config`` and ``run``.

The schema (:mod:`anpr_edge.config.schema`) says whether a value is allowed; these say whether it will
work here: model files present and loadable with the shapes their metadata promise, output folders
writable, TLS and password files readable, camera files there, camera URLs well formed and (with
``probe``) cameras answering. Every problem is found in one pass and reported as one line naming the
YAML line and key. A problem ``run`` cannot start with is fatal; one that only keeps a camera from
streaming (its file missing, its host down) is a warning at ``run``, which starts the other cameras.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from anpr_edge.config.load import KeyPath, Loaded, format_key, line_of, load_loaded
from anpr_edge.config.schema import Config
from anpr_edge.errors import AnprError, ConfigError, PrecisionError

if TYPE_CHECKING:
    from anpr_edge.inference.models import Models

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Problem:
    key: KeyPath
    message: str
    fatal: bool = True  # False: only a camera is affected; run warns and starts the rest

    def line(self, loaded: Loaded) -> str:
        return f"{loaded.where(self.key)}: {format_key(self.key)}: {self.message}"


def model_problems(cfg: Config, load_models: bool) -> list[Problem]:
    """Metadata files present; the detector input a multiple of the model's stride; with ``load_models``,
    both models compiled on the configured device, their shapes checked."""
    missing = [f"{s}.json" for s in ("plate_detector", "plate_ocr") if not (cfg.models.dir / f"{s}.json").is_file()]
    if missing:
        also = f" (nor {missing[1]})" if len(missing) > 1 else ""
        fix = "set models.dir to the folder with plate_detector.* and plate_ocr.*"
        return [Problem(("models", "dir"), f"{cfg.models.dir / missing[0]}: model metadata not found{also}; {fix}")]
    from anpr_edge.inference.contract import DetectorSpec, load_spec

    try:
        spec = load_spec(cfg.models.dir / "plate_detector.json", "plate_detector")
    except AnprError as exc:
        return [Problem(("models", "dir"), str(exc))]
    size = cfg.models.detector_input_size
    if size is not None and isinstance(spec, DetectorSpec) and (size[0] % spec.stride or size[1] % spec.stride):
        why = f"{cfg.models.detector_input} is not a multiple of {spec.stride}"
        return [Problem(("models", "detector_input"), why)]
    if not load_models:
        return []
    try:
        models_of(cfg)
    except PrecisionError as exc:
        return [Problem(("models", "precision"), str(exc))]
    except AnprError as exc:
        return [Problem(("models", "dir"), str(exc))]
    return []


def models_of(cfg: Config) -> Models:
    """Load and compile the models as ``cfg`` asks (folder, device, cache, input, hint, engine, precision)."""
    from anpr_edge.inference.models import Models

    m = cfg.models
    stems = (m.dir / "plate_detector", m.dir / "plate_ocr")
    size = m.detector_input_size
    return Models.load(*stems, m.device, m.cache_dir, size, cfg.performance_hint(), cfg.ocr.engine, m.precision)


def writable_folder_problem(folder: Path) -> str | None:
    """Why files cannot be created in ``folder`` (created later if missing), or None. Tries for real (a
    temporary file), since permission bits say nothing for root or on a read-only mount."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        return f"cannot write in {existing} ({exc.strerror or exc})"
    return None


def output_folders(cfg: Config) -> list[tuple[KeyPath, Path]]:
    """Every folder the daemon writes in, with the key that names it."""
    out: list[tuple[KeyPath, Path]] = [(("storage", "state_dir"), cfg.storage.state_dir)]
    out += [(("outputs", "csv", "path"), p.parent) for p in csv_paths(cfg)]
    if cfg.outputs.jsonl is not None:
        out.append((("outputs", "jsonl"), cfg.outputs.jsonl.parent))
    if cfg.snapshots.enabled:
        out.append((("snapshots", "dir"), cfg.snapshots.dir or cfg.storage.state_dir / "snapshots"))
    return out


def csv_paths(cfg: Config) -> list[Path]:
    if not cfg.outputs.csv.enabled:
        return []
    template = cfg.outputs.csv.path
    return sorted({Path(template.replace("{camera}", c.name)) for c in cfg.cameras})


def output_problems(cfg: Config) -> list[Problem]:
    key: KeyPath = ("outputs", "csv", "path")
    problems = [Problem(key, f"{p} is a folder, not a file") for p in csv_paths(cfg) if p.is_dir()]
    seen: set[Path] = set()
    for key, folder in output_folders(cfg):
        why = None if folder in seen else writable_folder_problem(folder)
        seen.add(folder)
        if why:
            problems.append(Problem(key, why))
    return problems


def readable_problem(path: Path) -> str | None:
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        return f"cannot read {path} ({exc.strerror or exc})"
    return None


def mqtt_problems(cfg: Config) -> list[Problem]:
    mq = cfg.outputs.mqtt
    if not mq.enabled:
        return []
    files: list[tuple[KeyPath, Path | None]] = [(("outputs", "mqtt", "password_file"), mq.password_file)]
    tls = mq.tls
    problems = []
    if tls.enabled:
        files += [(("outputs", "mqtt", "tls", k), getattr(tls, k)) for k in ("ca_file", "cert_file", "key_file")]
        if (tls.cert_file is None) != (tls.key_file is None):
            problems.append(Problem(("outputs", "mqtt", "tls"), "cert_file and key_file go together: give both"))
    for key, path in files:
        why = readable_problem(path) if path is not None else None
        if why:
            problems.append(Problem(key, why))
    return problems


def source_problems(cfg: Config, probe: bool, timeout_s: float = 5.0) -> list[Problem]:
    """Camera files present, URLs well formed; with ``probe``, every enabled camera opened (or asked)."""
    from anpr_edge.sources.probe import url_problem

    problems = []
    for i, cam in enumerate(cfg.cameras):
        src, key = cam.source, ("cameras", i, "source")
        if isinstance(src, str) and "://" in src:
            why = url_problem(src)
        elif isinstance(src, str) and not src.startswith("/dev/") and not src.isdigit():
            why = None if Path(src).exists() else f"{src} does not exist"
        else:
            why = None
        if why is None and probe and cam.enabled:
            why = probe_problem(src, min(timeout_s, cam.stall_timeout_s))
        if why:
            problems.append(Problem(key, why, fatal=False))
    return problems


def probe_problem(source: str | int, timeout_s: float) -> str | None:
    """Open the camera as the daemon would and read one frame."""
    from anpr_edge.sources.capture import open_reader
    from anpr_edge.sources.urls import redact

    try:
        reader = open_reader(source, False, timeout_s)
    except OSError as exc:
        return f"not reachable: {redact(str(exc))}"
    try:
        frame = reader.read()
    finally:
        reader.release()
    return None if frame is not None else f"opened, but no frame within {timeout_s:g} s"


def check(loaded: Loaded, *, probe: bool = False, load_models: bool = True) -> list[Problem]:
    """Every problem, in the order of the file's lines."""
    cfg = loaded.config
    found = model_problems(cfg, load_models) + source_problems(cfg, probe) + output_problems(cfg) + mqtt_problems(cfg)
    return sorted(found, key=lambda p: line_of(loaded.lines, p.key))


def raise_fatal(loaded: Loaded, problems: Iterable[Problem]) -> None:
    """A :class:`ConfigError` with every fatal problem, one line each; the others logged as warnings."""
    fatal = [p.line(loaded) for p in problems if p.fatal]
    for p in problems:
        if not p.fatal:
            logger.warning("%s", p.line(loaded))
    if fatal:
        raise ConfigError("\n".join(fatal))


def load_checked(path: Path) -> Config:
    """What ``run`` and a reload use: the file loaded, and refused (every problem named) when the daemon
    could not run with it. Models are loaded by the daemon itself, so their files are only looked for."""
    loaded = load_loaded(path)
    raise_fatal(loaded, check(loaded, load_models=False))
    return loaded.config
