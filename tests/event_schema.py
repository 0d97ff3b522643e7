"""The documented payload contract, ``docs/event.schema.json``, checked with jsonschema: every event payload a
test sees (plate events new and update, camera availability) goes through :func:`assert_valid_event`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "docs" / "event.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text())
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FormatChecker())


def event_errors(payload: Any) -> list[str]:
    """Why ``payload`` is not a documented event (empty when it is); oneOf failures name each branch's reason."""
    out = []
    for err in VALIDATOR.iter_errors(payload):
        where = "/".join(str(p) for p in err.absolute_path) or "(payload)"
        out.append(f"{where}: {err.message}")
        out += [f"  {'/'.join(str(p) for p in c.absolute_path) or '(payload)'}: {c.message}" for c in err.context]
    return out


def assert_valid_event(payload: Any) -> None:
    errors = event_errors(payload)
    assert not errors, f"payload does not match {SCHEMA_PATH.name}:\n" + "\n".join(errors) + f"\n{payload}"
