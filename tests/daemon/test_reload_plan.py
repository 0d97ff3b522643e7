"""The reload plan is a pure function of the old and the new configuration."""

from __future__ import annotations

import dataclasses

import pytest

from anpr_edge.config.load import parse
from anpr_edge.daemon.reload import ReloadPlan, plan_reload

BASE = """\
cameras:
  - {name: a, source: rtsp://h/a}
  - {name: b, source: rtsp://h/b}
  - {name: c, source: rtsp://h/c, enabled: false}
"""


def camera_b(extra: str) -> str:
    return BASE.replace("rtsp://h/b}", f"rtsp://h/b, {extra}}}")


CASES = [
    ("nothing", BASE, ReloadPlan(False, False)),
    ("threshold", camera_b("recognition: {conf: 0.9}"), ReloadPlan(False, False, update=("b",))),
    ("global threshold", BASE + "recognition: {iou: 0.4}\n", ReloadPlan(False, False, update=("a", "b"))),
    ("target_fps", camera_b("target_fps: 3"), ReloadPlan(False, False, update=("b",))),
    ("source", BASE.replace("h/a}", "h/a2}"), ReloadPlan(False, False, restart=("a",))),
    ("stall timeout", camera_b("stall_timeout_s: 9"), ReloadPlan(False, False, restart=("b",))),
    ("enable", BASE.replace("enabled: false", "enabled: true"), None),  # three cameras: hint changes
    ("outputs", BASE + "outputs: {jsonl: e.jsonl}\n", ReloadPlan(False, True, stop=("a", "b"), start=("a", "b"))),
    ("models", BASE + "models: {device: cpu}\n", ReloadPlan(True, False, stop=("a", "b"), start=("a", "b"))),
]


@pytest.mark.parametrize(("name", "new", "expected"), CASES, ids=[c[0] for c in CASES])
def test_plan(name: str, new: str, expected: ReloadPlan | None) -> None:
    got = plan_reload(parse(BASE), parse(new))
    if expected is None:  # enabling c keeps the hint (already throughput) and starts only c
        expected = ReloadPlan(False, False, start=("c",))
    assert got == expected
    assert got.empty == (name == "nothing")


def test_one_camera_left_changes_the_performance_hint_so_models_are_rebuilt() -> None:
    one = BASE.replace("  - {name: b, source: rtsp://h/b}\n", "")
    got = plan_reload(parse(BASE), parse(one))
    assert got.models and not got.sinks and got.stop == ("a", "b") and got.start == ("a",)


def test_removed_camera_is_stopped_added_one_started() -> None:
    new = BASE.replace("name: b, source: rtsp://h/b", "name: d, source: rtsp://h/d")
    assert plan_reload(parse(BASE), parse(new)) == ReloadPlan(False, False, stop=("b",), start=("d",))


def test_plan_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ReloadPlan(False, False).models = True  # type: ignore[misc]
