"""Reading a configuration file: YAML → :class:`~anpr_edge.config.schema.Config`, errors with file:line.

Every problem of a file is reported in one pass, one line each (``config.yaml:14: cameras[0].target_fps:
Input should be greater than 0``). Relative paths are resolved against the file's folder.

A hostile file is refused before it costs memory: over ``MAX_BYTES``, nested over ``MAX_DEPTH`` levels, or
over ``MAX_VALUES`` values once its aliases are expanded (a "billion laughs" file is about 100 bytes of
anchors that expand to 10^9 values), or an alias that contains itself.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from anpr_edge.config.schema import Config
from anpr_edge.errors import ConfigError
from anpr_edge.sources.urls import register_secret

KeyPath = tuple[str | int, ...]

MAX_BYTES = 256 << 10  # the shipped, fully commented config is 4 KiB
MAX_DEPTH = 64
MAX_VALUES = 20_000  # a configuration of 64 cameras has about 2000
MAX_PROBLEMS = 50  # reported one per line; then how many more
#: libyaml's loader where PyYAML has it (its wheels do): a tenth of the pure-Python one's time.
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Loaded:
    """A validated configuration with the YAML line of every key path (for later checks' messages)."""

    config: Config
    source: str
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def where(self, key: KeyPath) -> str:
        return where(self.source, self.lines, key)


def line_of(lines: dict[KeyPath, int], key: KeyPath) -> int:
    """The YAML line of the deepest known prefix of ``key`` (0 when none is known)."""
    return next((lines[key[:i]] for i in range(len(key), 0, -1) if key[:i] in lines), 0)


def where(source: str, lines: dict[KeyPath, int], key: KeyPath) -> str:
    """``file:line`` of the deepest known prefix of ``key`` (``file`` alone when none is known)."""
    line = line_of(lines, key)
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
    """``("cameras", 0, "roi")`` → ``cameras[0].roi``; a key that is not a plain name is quoted
    (``'a\\nb'``), so the message stays on one line."""
    text = ""
    for part in loc:
        name = str(part) if re.fullmatch(r"[\w-]+", str(part)) else repr(str(part))
        text += f"[{part}]" if isinstance(part, int) else (f".{name}" if text else name)
    return text or "(top level)"


#: Location parts pydantic adds for unions and validators (``list[str]``, ``function-after[...]``).
VALIDATOR_PART = re.compile(r"[a-z_-]+\[.*\]|function-.*")


def user_loc(loc: tuple[Any, ...], lines: dict[KeyPath, int]) -> tuple[Any, ...]:
    """``loc`` without the parts pydantic adds; a key of the file that looks like one is kept."""
    kept: tuple[Any, ...] = ()
    for part in loc:
        if isinstance(part, str) and VALIDATOR_PART.fullmatch(part) and (*kept, part) not in lines:
            continue
        kept = (*kept, part)
    return kept


def _validation_problems(exc: ValidationError, source: str, lines: dict[KeyPath, int]) -> list[str]:
    """One line per problem, in the order of the file's lines."""
    msgs: list[tuple[int, str]] = []
    for err in exc.errors():
        loc = user_loc(tuple(err["loc"]), lines)
        msg = err["msg"].replace("Extra inputs are not permitted", "unknown key")
        if err["type"] == "extra_forbidden" and loc and (near := close_key(loc)):
            msg += f" (did you mean {near}?)"
        msgs.append((line_of(lines, loc), f"{where(source, lines, loc)}: {format_key(loc)}: {msg}"))
    return [m for _, m in sorted(msgs, key=lambda lm: lm[0])]


def close_key(loc: tuple[Any, ...]) -> str | None:
    """The key most like the unknown one at ``loc`` (a typo, or a setting that was renamed) among those its
    section takes, if one is close."""
    near = difflib.get_close_matches(str(loc[-1]), sorted(keys_at(Config, loc[:-1])), n=1, cutoff=0.75)
    return near[0] if near else None


def keys_at(model: type[BaseModel], path: tuple[Any, ...]) -> set[str]:
    """The keys the section at ``path`` (list indices and dict keys skipped) of ``model`` takes."""
    if not path:
        return set(model.model_fields)
    f = model.model_fields.get(str(path[0]))
    if f is None:  # a list index or a dict key: the same model one level down
        return keys_at(model, path[1:])
    return {k for sub in nested_models(f.annotation) for k in keys_at(sub, path[1:])}


def nested_models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds (``X``, ``X | None``, ``list[X]``, ``dict[str, X]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in nested_models(arg)]


def compose(text: str, source: str) -> tuple[yaml.Node | None, yaml.SafeLoader]:
    """The YAML document as nodes (aliases not expanded yet), checked against the limits."""
    try:
        aliases = check_events(text, source)  # before composing, which recurses once per level
        loader = LOADER(text)
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise yaml_error(exc, source) from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply (a configuration is a few levels deep)") from None
    if node is not None and aliases:
        check_size(node, source)
    return node, loader


def yaml_error(exc: yaml.YAMLError, source: str) -> ConfigError:
    """``file:line: not valid YAML (problem)`` on one line."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{source}:{mark.line + 1}" if mark else source
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [""])[0]
    return ConfigError(f"{where}: not valid YAML ({problem})")


def check_events(text: str, source: str) -> bool:
    """Refuse a document nested over ``MAX_DEPTH`` levels or with over ``MAX_VALUES`` values as written,
    reading its events only as far as that; True when it has aliases (:func:`check_size` then counts
    what they expand to). Flow brackets are counted first, on the raw text: YAML's scanner looks far
    ahead on ``[[[[...``."""
    depth = 0
    for m in re.finditer(r"[\[\]{}]", text):
        depth += 1 if m.group() in "[{" else -1
        if depth > MAX_DEPTH:
            line = text.count("\n", 0, m.start()) + 1
            raise ConfigError(f"{source}:{line}: nested over {MAX_DEPTH} levels; refused")
    depth, aliases = 0, False
    for n, event in enumerate(yaml.parse(text, Loader=LOADER)):
        if n > MAX_VALUES:
            raise ConfigError(f"{source}: over {MAX_VALUES} values; refused (a configuration has a few hundred)")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else 0
                raise ConfigError(f"{source}:{line}: nested over {MAX_DEPTH} levels; refused")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        aliases = aliases or isinstance(event, yaml.AliasEvent)
    return aliases


def check_size(root: yaml.Node, source: str) -> None:
    """Refuse a document with aliases that is nested over ``MAX_DEPTH`` levels, has more than ``MAX_VALUES``
    values once its aliases are expanded, or has an alias inside itself. Counts each shared node once per use, without
    expanding anything (a walk over the node graph, sizes memoised)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    open_nodes: set[int] = set()
    while stack:
        node, depth, done = stack.pop()
        children = _children(node)
        if done:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[id(node)] > MAX_VALUES:
                raise ConfigError(
                    f"{source}: over {MAX_VALUES} values once its aliases (*name) are expanded; refused "
                    "(a configuration has a few hundred)"
                )
            continue
        if depth > MAX_DEPTH:
            raise ConfigError(f"{source}:{node.start_mark.line + 1}: nested over {MAX_DEPTH} levels; refused")
        if id(node) in open_nodes:
            raise ConfigError(f"{source}:{node.start_mark.line + 1}: an alias refers to a value that contains it")
        if id(node) in sizes:
            continue
        open_nodes.add(id(node))
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def parse_loaded(text: str, source: str = "<config>") -> Loaded:
    """Validate YAML text; raise :class:`ConfigError` with one ``file:line: key.path: problem`` line per
    problem, all of them."""
    node, loader = compose(text, source)
    try:
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise yaml_error(exc, source) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the configuration must be a mapping of keys (got {type(data).__name__})")
    lines = key_lines(node) if node is not None else {}
    try:
        return Loaded(Config.model_validate(data), source, lines)
    except ValidationError as exc:
        problems = _validation_problems(exc, source, lines)
        more = [f"{source}: ... and {len(problems) - MAX_PROBLEMS} more"] if len(problems) > MAX_PROBLEMS else []
        raise ConfigError("\n".join(problems[:MAX_PROBLEMS] + more)) from None


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
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            size = path.stat().st_size
            raise ConfigError(f"{path}: {size} bytes, over the {MAX_BYTES} a configuration may have; refused")
        return raw.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: a folder, not a configuration file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration ({exc.strerror or exc})") from None


def load_loaded(path: Path) -> Loaded:
    """Read, validate and resolve a configuration file, keeping the YAML line of every key."""
    loaded = parse_loaded(read_config_text(path), str(path))
    for cam in loaded.config.cameras:  # from now on no log line, status or error text shows a password
        if isinstance(cam.source, str):
            register_secret(cam.source)
    return Loaded(resolve(loaded.config, path.resolve().parent), loaded.source, loaded.lines)


def load(path: Path) -> Config:
    """Read, validate and resolve a configuration file (relative paths against its folder)."""
    return load_loaded(path).config
