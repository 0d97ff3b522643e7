"""Is the daemon healthy? A pure function of a typed sample of its numbers and a clock.

``/healthz`` and the ``anpr_camera_up`` metric both come from :func:`evaluate`: a camera is up when it
delivered a frame within its ``stall_timeout_s`` (a camera that has not delivered one yet is not up)
and its pipeline is not stuck on a frame; a sink is healthy as it reports itself
(:class:`~anpr_edge.sinks.router.SinkState`: MQTT connected, no rows waiting for a failing disk).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from anpr_edge.daemon.status import MqttStats, mqtt_stats
from anpr_edge.sinks.router import EventRouter, SinkState

#: A pipeline busy on one frame this long (and at least twice the camera's stall timeout) is stuck.
STUCK_S = 30.0


@dataclass(frozen=True, slots=True)
class CameraSample:
    """One camera's counters and clocks (monotonic seconds), read without touching its threads."""

    name: str
    state: str  # capture state: connecting, streaming, stalled, failed, reconnecting, finished, stopped
    frames_in: int
    frames_processed: int
    frames_idle: int  # processed with no detector run: nothing moved
    frames_skipped: int  # over target_fps, by design
    frames_dropped: int  # overwritten before the pipeline took them: the CPU did not keep up
    reconnects: int
    events: int
    started_at: float
    last_frame_at: float | None  # None: no frame yet
    busy_since: float | None  # the pipeline's current frame started then (None: waiting for one)
    stall_timeout_s: float
    finished: bool  # a non-looping file reached its end
    worker_alive: bool


@dataclass(frozen=True, slots=True)
class Sample:
    """Everything health and metrics read, taken at one moment."""

    cameras: tuple[CameraSample, ...]
    sinks: tuple[SinkState, ...]
    mqtt: MqttStats | None
    events: int


def take_sample(cameras: tuple[CameraSample, ...], router: EventRouter | None) -> Sample:
    """The :class:`Sample` of ``cameras`` and the sinks of ``router`` (None: no sinks open)."""
    sinks = tuple(router.sink_states()) if router else ()
    return Sample(cameras, sinks, mqtt_stats(router.mqtt) if router else None, router.events if router else 0)


@dataclass(frozen=True, slots=True)
class CameraHealth:
    name: str
    up: bool
    last_frame_age_s: float | None
    problem: str  # empty when up


@dataclass(frozen=True, slots=True)
class Health:
    cameras: tuple[CameraHealth, ...]
    sinks: tuple[SinkState, ...]

    @property
    def problems(self) -> tuple[str, ...]:
        cams = tuple(f"camera {c.name}: {c.problem}" for c in self.cameras if not c.up)
        return cams + tuple(f"{s.name}: {s.detail}" for s in self.sinks if not s.healthy)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        """The body of ``/healthz``: small, and naming what is not healthy."""
        return {
            "status": "ok" if self.healthy else "unhealthy",
            "problems": list(self.problems),
            "cameras": {
                c.name: {
                    "up": c.up,
                    "last_frame_age_s": None if c.last_frame_age_s is None else round(c.last_frame_age_s, 2),
                }
                for c in self.cameras
            },
            "sinks": {s.name: {"healthy": s.healthy, **({"detail": s.detail} if s.detail else {})} for s in self.sinks},
        }


def camera_health(c: CameraSample, now: float) -> CameraHealth:
    age = None if c.last_frame_at is None else max(0.0, now - c.last_frame_at)
    problem = ""
    if c.finished:
        pass  # a file camera that played to its end did what it was asked
    elif not c.worker_alive:
        problem = "pipeline thread stopped"
    elif c.busy_since is not None and now - c.busy_since > max(STUCK_S, 2 * c.stall_timeout_s):
        problem = f"pipeline stuck on one frame for {now - c.busy_since:.1f} s"
    elif age is None:
        problem = f"no frame yet ({c.state} for {max(0.0, now - c.started_at):.1f} s)"
    elif age > c.stall_timeout_s:
        problem = f"no frame for {age:.1f} s (stall_timeout_s {c.stall_timeout_s:g}, {c.state})"
    return CameraHealth(c.name, not problem, age, problem)


def evaluate(sample: Sample, now: float) -> Health:
    """Health at monotonic time ``now``: every camera up and every sink healthy."""
    return Health(tuple(camera_health(c, now) for c in sample.cameras), sample.sinks)
