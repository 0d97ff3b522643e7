"""Health is a pure function of a sample and a clock: each rule, with an injected ``now``."""

from __future__ import annotations

import dataclasses

import pytest

from anpr_edge.daemon.health import CameraSample, Sample, evaluate
from anpr_edge.sinks.router import SinkState


def cam(name: str = "gate", **kw: object) -> CameraSample:
    base = CameraSample(
        name=name,
        state="streaming",
        frames_in=100,
        frames_processed=90,
        frames_idle=50,
        frames_skipped=5,
        frames_dropped=5,
        reconnects=0,
        events=2,
        started_at=0.0,
        last_frame_at=99.0,
        busy_since=None,
        stall_timeout_s=5.0,
        finished=False,
        worker_alive=True,
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def sample(*cams: CameraSample, sinks: tuple[SinkState, ...] = ()) -> Sample:
    return Sample(cameras=cams, sinks=sinks, mqtt=None, events=0)


def test_every_camera_fresh_and_every_sink_healthy_is_healthy() -> None:
    h = evaluate(sample(cam("a"), cam("b"), sinks=(SinkState("mqtt", True, ""),)), now=100.0)
    assert h.healthy and h.problems == ()
    body = h.to_json()
    assert body["status"] == "ok" and body["cameras"]["a"] == {"up": True, "last_frame_age_s": 1.0}
    assert body["sinks"] == {"mqtt": {"healthy": True}}


@pytest.mark.parametrize(
    ("camera", "now", "problem"),
    [
        (cam(last_frame_at=90.0), 100.0, "camera gate: no frame for 10.0 s (stall_timeout_s 5, streaming)"),
        (cam(last_frame_at=None, state="failed"), 3.0, "camera gate: no frame yet (failed for 3.0 s)"),
        (cam(worker_alive=False), 100.0, "camera gate: pipeline thread stopped"),
        (cam(busy_since=60.0), 100.0, "camera gate: pipeline stuck on one frame for 40.0 s"),
    ],
    ids=["stale", "never", "dead-worker", "stuck"],
)
def test_a_camera_that_is_not_delivering_names_itself(camera: CameraSample, now: float, problem: str) -> None:
    h = evaluate(sample(camera, cam("other")), now)
    assert not h.healthy and h.problems == (problem,)
    assert h.to_json()["status"] == "unhealthy" and h.to_json()["cameras"]["other"]["up"]


def test_the_limit_is_the_cameras_own_stall_timeout() -> None:
    c = cam(last_frame_at=100.0, stall_timeout_s=5.0)
    assert evaluate(sample(c), 105.0).healthy
    assert not evaluate(sample(c), 105.01).healthy
    slow = cam(last_frame_at=100.0, stall_timeout_s=20.0)
    assert evaluate(sample(slow), 119.0).healthy


def test_a_busy_frame_is_stuck_only_past_30_s_and_twice_the_timeout() -> None:
    assert evaluate(sample(cam(busy_since=75.0, last_frame_at=99.0)), 100.0).healthy
    assert evaluate(sample(cam(busy_since=75.0, last_frame_at=99.0, stall_timeout_s=20.0)), 114.0).healthy


def test_a_file_camera_that_played_to_its_end_is_not_a_problem() -> None:
    assert evaluate(sample(cam(finished=True, state="finished", last_frame_at=1.0, worker_alive=False)), 100.0).healthy


def test_an_unhealthy_sink_names_itself() -> None:
    h = evaluate(sample(cam(), sinks=(SinkState("mqtt", False, "not connected to 127.0.0.1:1883"),)), 100.0)
    assert h.problems == ("mqtt: not connected to 127.0.0.1:1883",)
    assert h.to_json()["sinks"]["mqtt"] == {"healthy": False, "detail": "not connected to 127.0.0.1:1883"}
