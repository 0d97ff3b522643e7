"""Snapshots: the frame with the box drawn and the plate crop, written whole; retention by count, bytes and age
(with an injected clock), counting files left by an earlier run."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import cv2
import numpy as np

from anpr_edge.config.schema import SnapshotsConfig
from anpr_edge.core.results import PlateEvent
from anpr_edge.sinks.snapshots import SnapshotStore
from tests.sinks.test_csv import event


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def frame() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 60, (360, 640, 3), dtype=np.uint8)  # dark noise: the green box stands out


def ev(i: int, plate: str = "A123BC77") -> PlateEvent:
    return dataclasses.replace(
        event(plate, 100.0 + i), event_id=f"{i:08d}ffff", box=(200.0, 150.0, 320.0, 180.0), last_seen=100.0 + i
    )


def test_frame_has_the_box_drawn_and_the_crop_is_the_plate(tmp_path: Path) -> None:
    store = SnapshotStore(SnapshotsConfig(enabled=True), tmp_path / "snaps")
    out = store.save(ev(1), frame())
    assert out.snapshot is not None
    path = Path(out.snapshot)
    assert path.parent == tmp_path / "snaps" and path.name == "cam_101000_A123BC77_00000001.jpg"
    img = cv2.imread(str(path))
    assert img is not None and img.shape == (360, 640, 3)
    b, g, r = img[165, 200].astype(int)  # on the box's left edge
    assert g > 150 and b < 90 and r < 90, (b, g, r)
    crop = cv2.imread(str(path.with_name(path.stem + "_plate.jpg")))
    assert crop is not None and crop.shape == (30, 120, 3)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.stem + "_plate.jpg"]  # no temp files


def test_unread_characters_do_not_put_hash_in_paths(tmp_path: Path) -> None:
    out = SnapshotStore(SnapshotsConfig(enabled=True), tmp_path).save(ev(1, "A12#BC77"), frame())
    assert out.snapshot is not None and "#" not in out.snapshot and "A12-BC77" in out.snapshot


def test_crop_can_be_turned_off(tmp_path: Path) -> None:
    SnapshotStore(SnapshotsConfig(enabled=True, crop=False), tmp_path).save(ev(1), frame())
    assert len(list(tmp_path.glob("*.jpg"))) == 1


def test_count_retention_keeps_the_newest_events_with_their_crops(tmp_path: Path) -> None:
    clock = Clock()
    store = SnapshotStore(SnapshotsConfig(enabled=True, max_files=3), tmp_path, clock)
    for i in range(5):
        clock.t += 1
        store.save(ev(i), frame())
    names = sorted(p.name for p in tmp_path.glob("*.jpg"))
    assert len(names) == 6 and all(f"_0000000{i}" in " ".join(names) for i in (2, 3, 4))
    assert store.removed == 2


def test_size_retention_counts_bytes(tmp_path: Path) -> None:
    clock = Clock()
    one = SnapshotStore(SnapshotsConfig(enabled=True), tmp_path / "probe", clock)
    one.save(ev(0), frame())
    per_event = sum(p.stat().st_size for p in (tmp_path / "probe").iterdir())
    cfg = SnapshotsConfig(enabled=True, max_total_mb=2.5 * per_event / 2**20)
    store = SnapshotStore(cfg, tmp_path / "s", clock)
    for i in range(6):
        clock.t += 1
        store.save(ev(i), frame())
    assert len(list((tmp_path / "s").glob("*_plate.jpg"))) == 2
    assert sum(p.stat().st_size for p in (tmp_path / "s").iterdir()) <= 2.5 * per_event


def test_age_retention_also_removes_files_of_an_earlier_run(tmp_path: Path) -> None:
    clock = Clock()
    old = tmp_path / "cam_1_A123BC77_deadbeef.jpg"
    for p in (old, old.with_name(old.stem + "_plate.jpg")):
        p.write_bytes(b"jpeg")
        os.utime(p, (clock.t - 3 * 86400, clock.t - 3 * 86400))
    fresh = tmp_path / "cam_2_K777KK777_cafebabe.jpg"
    fresh.write_bytes(b"jpeg")
    os.utime(fresh, (clock.t - 3600, clock.t - 3600))
    store = SnapshotStore(SnapshotsConfig(enabled=True, max_age_days=2), tmp_path, clock).start()
    try:
        assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name]  # pruned at start
        clock.t += 2 * 86400
        assert store.prune() == 1 and not fresh.exists()
    finally:
        store.close()


def test_no_age_limit(tmp_path: Path) -> None:
    clock = Clock()
    store = SnapshotStore(SnapshotsConfig(enabled=True, max_age_days=0), tmp_path, clock)
    store.save(ev(1), frame())
    clock.t += 3650 * 86400
    assert store.prune() == 0
