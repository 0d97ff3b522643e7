"""Corner-model training pieces: a training sample's corners are where its crop shows them, and the export
runs through ONNX and OpenVINO with the same numbers as torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="corner training needs torch (pip install -e '.[train]')")
pytest.importorskip("onnx", reason="the export needs onnx (pip install -e '.[train]')")


def test_a_sample_shows_its_corners_where_its_fractions_say() -> None:
    from anpr_edge.training.train_corners import sample

    context = np.zeros((128, 256), np.uint8)
    corners = np.array([[60.0, 40.0], [200.0, 46.0], [198.0, 80.0], [62.0, 76.0]], np.float32)
    for x, y in corners.astype(int):
        context[y - 1 : y + 2, x - 1 : x + 2] = 255
    crop, frac = sample(context, corners, np.random.default_rng(0), jitter=False)
    assert crop.shape == (64, 128) and frac.shape == (4, 2)
    for fx, fy in frac:
        x, y = int(fx * 128), int(fy * 64)
        assert crop[max(y - 2, 0) : y + 3, max(x - 2, 0) : x + 3].max() > 100  # the dot is there


def test_export_matches_torch_through_openvino(tmp_path: Path) -> None:
    from anpr_edge.inference.corners import CornerModel
    from anpr_edge.training.train_corners import CornerNet, main

    torch.manual_seed(0)
    net = CornerNet()
    net.eval()
    ckpt = tmp_path / "best.pt"
    torch.save({"model": net.state_dict(), "epoch": 0, "val_error": 0.5}, ckpt)
    assert main(["export", "--checkpoint", str(ckpt), "--out", str(tmp_path / "plate_corners")]) == 0
    model = CornerModel.load(tmp_path / "plate_corners", "cpu", precision="f32")
    crops = [np.random.default_rng(i).integers(0, 255, (64, 128), dtype=np.uint8) for i in range(3)]
    x = (torch.from_numpy(np.stack(crops).astype(np.float32))[:, None] - 127.5) / 127.5
    with torch.no_grad():
        expected = net(x).numpy().reshape(-1, 4, 2)
    assert model.fractions(crops) == pytest.approx(expected, abs=1e-3)


def test_rectified_synthetic_crops_are_seeded_and_differ_from_box_crops() -> None:
    pytest.importorskip("PIL", reason="rendering plates needs Pillow (pip install -e '.[train]')")
    from anpr_edge.training.ocr_data import CropSpec, synthetic_sample

    a, b = synthetic_sample(5, CropSpec(rectified=True)), synthetic_sample(5, CropSpec(rectified=True))
    assert a.image.shape == (32, 128) and np.array_equal(a.image, b.image) and a.text == b.text
    boxed = synthetic_sample(5, CropSpec())
    assert boxed.text == a.text and not np.array_equal(boxed.image, a.image)


def test_a_real_plate_re_shot_keeps_its_corners_on_its_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    from anpr_edge.training import ocr_data
    from anpr_edge.training.ocr_data import CropSpec, RealPlate, camera_variant

    monkeypatch.setattr(ocr_data, "CAMERA_RELIGHT", 0.0)  # no glare or shadow over the marks
    frame = np.full((400, 600), 90, np.uint8)
    quad = np.array([[200.0, 150.0], [400.0, 170.0], [398.0, 215.0], [202.0, 200.0]], np.float32)
    for x, y in quad.astype(int):
        frame[y - 3 : y + 4, x - 3 : x + 4] = 255  # a bright mark on each corner
    box = (200.0, 150.0, 400.0, 215.0)
    plate = RealPlate(frame, box, "A123BC77", "high", "drawn", quad)
    for seed in range(5):
        moved = camera_variant(plate, np.random.default_rng(seed))
        assert moved.corners is not None
        for x, y in moved.corners:
            r = max(2, round(0.02 * (moved.box[2] - moved.box[0])))
            patch = moved.frame[max(int(y) - r, 0) : int(y) + r + 1, max(int(x) - r, 0) : int(x) + r + 1]
            assert patch.max() > 140, f"seed {seed}: no mark at the moved corner ({x:.0f}, {y:.0f})"
    crop = plate.crop(CropSpec(rectified=True))
    assert crop.image.shape == (32, 128) and crop.text == "A123BC77"
