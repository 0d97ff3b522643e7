"""What a reload (SIGHUP) has to do, decided from the old and the new configuration alone.

``plan_reload`` is pure: it reads two :class:`~anpr_edge.config.schema.Config` and returns a
:class:`ReloadPlan`; the app applies it. Cameras whose capture settings did not change keep running and
take new recognition settings at their next frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from anpr_edge.config.schema import CameraConfig, Config


@dataclass(frozen=True, slots=True)
class ReloadPlan:
    #: Models, outputs, storage, snapshots or device id changed: every camera and sink restarts and the
    #: models are loaded again (``stop`` then holds every running camera, ``start`` every new one).
    rebuild: bool
    stop: tuple[str, ...] = ()  # cameras removed or disabled
    start: tuple[str, ...] = ()  # cameras added or enabled
    restart: tuple[str, ...] = ()  # capture settings changed
    update: tuple[str, ...] = ()  # only recognition settings (or target_fps, roi) changed

    @property
    def empty(self) -> bool:
        return not (self.rebuild or self.stop or self.start or self.restart or self.update)


def capture_key(cam: CameraConfig) -> tuple[Any, ...]:
    """What the capture thread was opened with: a change restarts the camera."""
    return (cam.source, cam.loop, cam.stall_timeout_s, cam.reconnect_max_s)


def shared_key(cfg: Config) -> tuple[Any, ...]:
    """What the models and sinks were built from: a change rebuilds them. ``models.performance: auto`` turns
    into another hint when one camera becomes several or back, so the hint in use counts too."""
    return (cfg.models, cfg.performance_hint(), cfg.outputs, cfg.storage, cfg.snapshots, cfg.device_id)


def enabled(cfg: Config) -> dict[str, CameraConfig]:
    return {c.name: c for c in cfg.cameras if c.enabled}


def plan_reload(old: Config, new: Config) -> ReloadPlan:
    before, after = enabled(old), enabled(new)
    if shared_key(new) != shared_key(old):
        return ReloadPlan(rebuild=True, stop=tuple(before), start=tuple(after))
    kept = [n for n in after if n in before]
    return ReloadPlan(
        rebuild=False,
        stop=tuple(n for n in before if n not in after),
        start=tuple(n for n in after if n not in before),
        restart=tuple(n for n in kept if capture_key(after[n]) != capture_key(before[n])),
        update=tuple(
            n
            for n in kept
            if capture_key(after[n]) == capture_key(before[n])
            and (after[n] != before[n] or new.camera_settings(after[n]) != old.camera_settings(before[n]))
        ),
    )
