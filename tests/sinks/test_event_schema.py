"""docs/event.schema.json with jsonschema: every payload type the daemon publishes validates, and what breaks
the contract does not."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from anpr_edge.sinks.camera_state import availability_payload
from anpr_edge.sinks.jsonl import event_payload
from tests.event_schema import SCHEMA, assert_valid_event, event_errors
from tests.sinks.test_csv import event

TIME = "2026-11-24T10:00:00.000Z"


def plate(**changes: Any) -> dict[str, Any]:
    return event_payload(dataclasses.replace(event(), **changes), TIME)


def test_the_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize(
    "payload",
    [
        plate(),
        plate(type="update"),
        plate(direction="approaching", format="one-row"),
        plate(type="update", direction="out", snapshot="/var/lib/anpr-edge/snapshots/x.jpg"),
        plate(plate="A12#BC77", partial=True),
        event_payload(event(), None),  # `anpr-edge process --json`: no wall-clock time
        availability_payload("gate", True, "streaming", TIME),
        availability_payload("gate", False, "reconnecting", TIME, "no frame for 5.2 s"),
    ],
    ids=["new", "update", "direction", "update-snapshot", "partial", "offline", "up", "down"],
)
def test_every_payload_type_validates(payload: dict[str, Any]) -> None:
    assert_valid_event(payload)


def test_older_plate_payloads_without_type_still_validate() -> None:
    payload = plate()
    for key in ("type", "format", "direction"):
        payload.pop(key, None)
    assert_valid_event(payload)


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ({**plate(), "type": "deleted"}, "'deleted' is not one of ['new', 'update']"),
        ({**plate(), "colour": "red"}, "Additional properties are not allowed ('colour' was unexpected)"),
        ({**plate(), "plate": "HELLO"}, "'HELLO' does not match"),
        ({**plate(), "time": "yesterday"}, "'yesterday' is not a 'date-time'"),
        ({**plate(), "direction": "sideways"}, "'sideways' is not one of"),
        ({k: v for k, v in plate().items() if k != "event_id"}, "'event_id' is a required property"),
        ({**availability_payload("gate", True, "streaming", TIME), "available": "yes"}, "'yes' is not of type"),
        ({k: v for k, v in availability_payload("g", True, "s", TIME).items() if k != "camera"}, "'camera' is a"),
    ],
    ids=["type", "extra-key", "plate", "time", "direction", "no-event-id", "available", "no-camera"],
)
def test_what_breaks_the_contract_is_refused(payload: dict[str, Any], why: str) -> None:
    errors = event_errors(payload)
    assert errors and any(why in e for e in errors), errors
