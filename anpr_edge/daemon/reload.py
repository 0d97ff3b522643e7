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
    #: The models must be loaded again (``models`` or the performance hint in use changed).
    models: bool
    #: The sinks must be opened again (outputs, storage, snapshots or device id changed).
    sinks: bool
    stop: tuple[str, ...] = ()  # cameras removed or disabled; with ``rebuild``, every running camera
    start: tuple[str, ...] = ()  # cameras added or enabled
    restart: tuple[str, ...] = ()  # capture settings changed
    update: tuple[str, ...] = ()  # only recognition settings (or target_fps, roi) changed

    @property
    def rebuild(self) -> bool:
        """Models or sinks are new: every camera restarts on them."""
        return self.models or self.sinks

    @property
    def empty(self) -> bool:
        return not (self.rebuild or self.stop or self.start or self.restart or self.update)


def capture_key(cam: CameraConfig) -> tuple[Any, ...]:
    """What the capture thread was opened with: a change restarts the camera."""
    return (cam.source, cam.loop, cam.stall_timeout_s, cam.reconnect_max_s, cam.decode_threads)


def models_key(cfg: Config) -> tuple[Any, ...]:
    """What the models were loaded with. ``models.performance: auto`` turns into another hint when one
    camera becomes several or back, so the hint in use counts too."""
    return (cfg.models, cfg.ocr, cfg.performance_hint())


def sinks_key(cfg: Config) -> tuple[Any, ...]:
    """What the sinks were opened with."""
    return (cfg.outputs, cfg.storage, cfg.snapshots, cfg.device_id)


def enabled(cfg: Config) -> dict[str, CameraConfig]:
    return {c.name: c for c in cfg.cameras if c.enabled}


def plan_reload(old: Config, new: Config) -> ReloadPlan:
    before, after = enabled(old), enabled(new)
    models, sinks = models_key(new) != models_key(old), sinks_key(new) != sinks_key(old)
    if models or sinks:
        return ReloadPlan(models, sinks, stop=tuple(before), start=tuple(after))
    kept = [n for n in after if n in before]
    return ReloadPlan(
        models=False,
        sinks=False,
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
