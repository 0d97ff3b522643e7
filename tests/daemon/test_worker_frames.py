"""A camera keeps frames for snapshots only where snapshots are saved: the real router, worker and pipeline
(tiny models), the worker's frame step called directly instead of a capture thread."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anpr_edge.config.load import load
from anpr_edge.daemon.worker import CameraWorker
from anpr_edge.inference.models import Models
from anpr_edge.sinks.router import EventRouter
from tests.daemon_helpers import write_config


@pytest.mark.parametrize("snapshots", [True, False])
def test_frames_are_kept_only_where_snapshots_are_saved(tmp_path: Path, tiny_models: Path, snapshots: bool) -> None:
    cfg_path = write_config(
        tmp_path / "c.yaml",
        tiny_models,
        [{"name": "gate", "source": "0"}],
        tmp_path / "state",
        snapshots={"enabled": snapshots},
    )
    cfg = load(cfg_path)
    router = EventRouter(cfg)
    try:
        models = Models.load(tiny_models / "plate_detector", tiny_models / "plate_ocr", "cpu")
        cam = cfg.cameras[0]
        worker = CameraWorker(cam, cfg.camera_settings(cam), models, router)
        assert router.snapshots_on is snapshots and worker.pipeline.keep_frames is snapshots
        worker.update_settings(cam, cfg.camera_settings(cam).model_copy(update={"min_reads": 2}))
        worker._apply_pending_settings()  # what the worker's loop does before its next frame (SIGHUP)
        assert worker.pipeline.settings.min_reads == 2 and worker.pipeline.keep_frames is snapshots
        worker._process(np.full((720, 1280, 3), 96, np.uint8), 0.0)
        assert worker.frames_out == 1 and (worker._last_frame is not None) is snapshots
        assert worker.respawn().pipeline.keep_frames is snapshots
    finally:
        router.close()
