"""Reading a configuration file: YAML → :class:`~anpr_edge.config.schema.Config`, errors with file:line.

Every problem of a file is reported in one pass, one line each (``config.yaml:14: cameras[0].target_fps:
Input should be greater than 0``). Relative paths are resolved against the file's folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from anpr_edge.config.schema import Config
from anpr_edge.errors import ConfigError

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Loaded:
    """A validated configuration with the YAML line of every key path (for later checks' messages)."""

    config: Config
    source: str
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def where(self, key: KeyPath) -> str:
        return where(self.source, self.lines, key)


def where(source: str, lines: dict[KeyPath, int], key: KeyPath) -> str:
    """``file:line`` of the deepest known prefix of ``key`` (``file`` alone when none is known)."""
    line = next((lines[key[:i]] for i in range(len(key), 0, -1) if key[:i] in lines), None)
    return f"{source}:{line}" if line else source


def key_lines(node: yaml.Node, path: KeyPath = ()) -> dict[KeyPath, int]:
    """Map every key path of a composed YAML document to its 1-based line."""
    out = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = (*path, k.value)
            out.update(key_lines(v, key))
            out[key] = k.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            out.update(key_lines(v, (*path, i)))
    return out


def format_key(loc: tuple[Any, ...]) -> str:
    """``("cameras", 0, "roi")`` → ``cameras[0].roi``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _validation_problems(exc: ValidationError, source: str, lines: dict[KeyPath, int]) -> list[str]:
    msgs = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and re.fullmatch(r"[a-z_]+\[.*\]|function-.*", p)))
        msg = err["msg"].replace("Extra inputs are not permitted", "unknown key")
        msgs.append(f"{where(source, lines, loc)}: {format_key(loc)}: {msg}")
    return msgs


def parse_loaded(text: str, source: str = "<config>") -> Loaded:
    """Validate YAML text; raise :class:`ConfigError` with ``file:line: key.path: problem``."""
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the configuration must be a mapping of keys (got {type(data).__name__})")
    lines = key_lines(node) if node is not None else {}
    try:
        return Loaded(Config.model_validate(data), source, lines)
    except ValidationError as exc:
        msgs = _validation_problems(exc, source, lines)
        more = f" (and {len(msgs) - 1} more)" if len(msgs) > 1 else ""
        raise ConfigError(msgs[0] + more) from None


def parse(text: str, source: str = "<config>") -> Config:
    """Validate YAML text into a :class:`Config` (paths as written)."""
    return parse_loaded(text, source).config


def resolve(cfg: Config, base: Path) -> Config:
    """Relative paths in the file are relative to the file's folder, not to the working directory."""

    def r(p: Path | None) -> Path | None:
        return None if p is None or p.is_absolute() else base / p

    def src(s: str | int) -> str | int:
        if isinstance(s, int) or "://" in s or s.startswith("/") or s.isdigit():
            return s
        return str(base / s)

    csv = cfg.outputs.csv
    m = cfg.models
    return cfg.model_copy(
        update={
            "models": m.model_copy(update={"dir": r(m.dir) or m.dir, "cache_dir": r(m.cache_dir) or m.cache_dir}),
            "cameras": [c.model_copy(update={"source": src(c.source)}) for c in cfg.cameras],
            "outputs": cfg.outputs.model_copy(
                update={
                    "csv": csv.model_copy(
                        update={"path": csv.path if csv.path.startswith("/") else str(base / csv.path)}
                    ),
                    "jsonl": r(cfg.outputs.jsonl) or cfg.outputs.jsonl,
                }
            ),
            "storage": cfg.storage.model_copy(update={"state_dir": r(cfg.storage.state_dir) or cfg.storage.state_dir}),
            "snapshots": cfg.snapshots.model_copy(update={"dir": r(cfg.snapshots.dir) or cfg.snapshots.dir}),
        }
    )


def read_config_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration ({exc})") from None


def load_loaded(path: Path) -> Loaded:
    """Read, validate and resolve a configuration file, keeping the YAML line of every key."""
    loaded = parse_loaded(read_config_text(path), str(path))
    return Loaded(resolve(loaded.config, path.resolve().parent), loaded.source, loaded.lines)


def load(path: Path) -> Config:
    """Read, validate and resolve a configuration file (relative paths against its folder)."""
    return load_loaded(path).config
