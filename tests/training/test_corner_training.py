"""Corner-model training pieces: a training sample's corners are where its crop shows them, and the export
runs through ONNX and OpenVINO with the same numbers as torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="corner training needs torch (pip install -e '.[train]')")
pytest.importorskip("onnx", reason="the export needs onnx (pip install -e '.[train]')")


def test_a_sample_shows_its_corners_where_its_fractions_say() -> None:
    """Mirrored or not, moved and grown: each corner's mark is within a fifth of a pixel of its label."""
    from anpr_edge.training.train_corners import SPEC, sample

    corners = np.array([[60.3, 40.6], [200.5, 46.2], [198.1, 80.7], [62.8, 76.4]], np.float32)
    ys, xs = np.mgrid[0:128, 0:256]
    blobs = sum(np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / 8.0) for x, y in corners)  # a soft mark on each
    context = np.clip(blobs * 255, 0, 255).astype(np.uint8)
    rng = np.random.default_rng(0)
    for _ in range(12):
        crop, frac = sample(context, corners, rng, jitter=True)
        assert crop.shape == (64, 128) and frac.shape == (4, 2)
        for fx, fy in frac:
            u, v = fx * SPEC.input_width, fy * SPEC.input_height  # pixel index coordinates
            y0, x0 = max(int(v) - 5, 0), max(int(u) - 5, 0)
            patch = crop[y0 : int(v) + 6, x0 : int(u) + 6].astype(float)
            patch -= patch.min()  # the sample's brightness shift is no part of the mark
            ys, xs = np.mgrid[y0 : y0 + patch.shape[0], x0 : x0 + patch.shape[1]]
            cx, cy = (patch * xs).sum() / patch.sum(), (patch * ys).sum() / patch.sum()
            assert abs(cx - u) < 0.25 and abs(cy - v) < 0.25, (u, v, cx, cy)


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


def test_training_tools_say_what_is_missing(tmp_path: Path) -> None:
    from anpr_edge.training.train_corners import main

    for argv, says in (
        (["train", "--data", str(tmp_path / "none")], "train.npz"),
        (["export", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path / "c")], "checkpoint not found"),
        (
            ["gen", "--real-train", str(tmp_path), "--real-dev", str(tmp_path), "--out", str(tmp_path / "d")],
            "no photos",
        ),
    ):
        with pytest.raises(SystemExit, match=says):
            main(argv)
    assert not (tmp_path / "c.xml").exists() and not (tmp_path / "d").exists()


def test_rectified_and_deskewed_crops_are_one_or_the_other(tmp_path: Path) -> None:
    from anpr_edge.training.train_ocr import main

    with pytest.raises(SystemExit, match="--rectified and --deskew"):
        main(["gen", "--data-dir", str(tmp_path / "d"), "--rectified", "--deskew", "--chunks", "0"])
    assert not (tmp_path / "d").exists()


def test_bench_costs_show_the_corner_model_only_where_a_folder_has_one() -> None:
    from anpr_edge.tools.bench import format_costs

    text = format_costs(
        {
            "models": {"detector": 9.5, "reader_1": 1.6, "reader_4": 0.48},
            "models/camera": {"detector": 16.4, "reader_1": 1.6, "reader_4": 0.36, "corners_1": 0.9},
        },
        "a CPU",
    )
    lines = text.splitlines()
    assert "corners ms/plate" in lines[1]
    assert lines[2].split()[-1] == "-" and lines[3].split()[-1] == "0.900"
