"""Training tools: renderer, datasets, scene labels, OCR export parity, evaluation metrics."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import yaml

from anpr_edge.core.plates import edit_ops, is_valid
from anpr_edge.tools.labels import read_labels
from anpr_edge.tools.metrics import DetScore, OcrScore, corner_error, paired, sign_test, wilson_interval
from tests.conftest import REAL_DEV

pytest.importorskip("PIL", reason="training tools need Pillow (pip install -e '.[train]')")


def test_random_plates_are_valid_and_render() -> None:
    from anpr_edge.training.render import random_plate, render_plate

    rng = random.Random(0)
    plates = [random_plate(rng) for _ in range(500)]
    assert all(is_valid(p) for p in plates)
    assert {len(p) for p in plates} == {8, 9}
    img = render_plate(plates[0], px_per_mm=1.0).image
    assert img.shape == (112, 520, 3) and img.dtype == np.uint8
    assert img.mean() > 150  # a white plate with black characters


def test_synthetic_samples_are_seeded_and_shaped() -> None:
    from anpr_edge.training.ocr_data import CropSpec, synthetic_sample

    a, b = synthetic_sample(7, CropSpec()), synthetic_sample(7, CropSpec())
    assert a.text == b.text and np.array_equal(a.image, b.image)
    assert a.image.shape == (32, 128) and is_valid(a.text)


def test_scene_labels_are_valid_yolo_boxes_matching_pasted_plates(tmp_path: Path) -> None:
    from anpr_edge.training.scenes import build

    build(tmp_path, n_train=12, size=320, seed=3, real_dev=None, real_fraction=0.0)
    labels = sorted((tmp_path / "labels" / "train").glob("*.txt"))
    assert len(labels) == 12 and (tmp_path / "contact_sheet.png").is_file()
    manifest = (tmp_path / "manifest.csv").read_text().splitlines()[1:]
    total = 0
    for line, lab in zip(manifest, labels, strict=True):
        rows = [r.split() for r in lab.read_text().splitlines() if r.strip()]
        assert int(line.split(";")[3]) == len(rows)
        for r in rows:
            c, cx, cy, w, h = r[0], *map(float, r[1:])
            assert c == "0" and 0 < w <= 1 and 0 < h <= 1
            # six decimals in the file: allow their rounding on both edges
            assert cx - w / 2 >= -1e-4 and cx + w / 2 <= 1.0001 and cy - h / 2 >= -1e-4 and cy + h / 2 <= 1.0001
            assert 2.0 < w / h * 1.0 < 8.0  # plate-shaped (aspect ~4.6, perspective allowed)
        total += len(rows)
    assert total > 0


def test_ocr_export_parity_on_a_tiny_model(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from anpr_edge.inference.contract import OcrSpec, load_spec
    from anpr_edge.inference.ocr import CharThresholds, PlateOCR
    from anpr_edge.training.crnn import CRNN
    from anpr_edge.training.export_ocr import export
    from anpr_edge.training.train_ocr import ALPHABET

    torch.manual_seed(0)
    ckpt = tmp_path / "tiny.pt"
    crops = {"width": 128, "height": 32, "margin_x": 0.03, "margin_y": 0.08, "deskew": True}
    torch.save({"model": CRNN(len(ALPHABET) + 1).state_dict(), "epoch": 0, "crop_spec": crops}, ckpt)
    diffs = export(ckpt, tmp_path / "m" / "plate_ocr", tol=1e-2, samples=8, real_dev=REAL_DEV)
    assert diffs["onnx"] < 1e-4 and diffs["openvino"] < 1e-2
    spec = load_spec(tmp_path / "m" / "plate_ocr", "plate_ocr")
    assert isinstance(spec, OcrSpec) and spec.alphabet == ALPHABET
    assert spec.deskew  # the checkpoint's crops were cut level: the runtime must cut them so too
    ocr = PlateOCR.load(tmp_path / "m" / "plate_ocr", "cpu", CharThresholds())
    assert ocr.backend.infer(np.zeros((3, 1, 32, 128), np.float32)).shape == (3, 32, len(ALPHABET) + 1)
    card = (tmp_path / "m" / "README.md").read_text()
    assert "### `plate_ocr` as last exported" in card and f"`{ckpt}` (epoch 0)" in card and "onnx " in card
    if (REAL_DEV / "labels.csv").is_file():  # an untrained net reads nothing right, but it is scored
        assert "- real-dev, images not trained on, labelled boxes, 1 crop per plate: plates 48  exact 0.0%" in card
        # a model of the swapped fold (train_ocr --swap-real-split) is scored on the other half
        swapped = tmp_path / "swapped.pt"
        torch.save({**torch.load(ckpt), "real_split": {"fraction": 0.5, "swapped": True}}, swapped)
        export(swapped, tmp_path / "s" / "plate_ocr", tol=1e-2, samples=8, real_dev=REAL_DEV)
        card = (tmp_path / "s" / "README.md").read_text()
        fold = "(the swapped fold: the trained split)"
        assert f"- real-dev, images not trained on {fold}, labelled boxes, 1 crop per plate: plates 36" in card


def test_ocr_export_writes_the_operating_point_asked_for(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from anpr_edge.inference.contract import OcrSpec, load_spec
    from anpr_edge.training.crnn import CRNN
    from anpr_edge.training.export_ocr import main
    from anpr_edge.training.train_ocr import ALPHABET

    torch.manual_seed(0)
    ckpt = tmp_path / "tiny.pt"
    torch.save({"model": CRNN(len(ALPHABET) + 1).state_dict(), "epoch": 0}, ckpt)
    out, common = tmp_path / "m" / "plate_ocr_second", ["--checkpoint", str(ckpt), "--real-dev", str(tmp_path)]
    assert main([*common, "--out", str(out), "--temperature", "0.95", "--sure", "0.8", "0.6"]) == 0
    spec = load_spec(out, "plate_ocr")
    assert isinstance(spec, OcrSpec) and (spec.temperature, spec.sure_letters, spec.sure_digits) == (0.95, 0.8, 0.6)
    bad = tmp_path / "bad" / "plate_ocr"
    assert main([*common, "--out", str(bad), "--sure", "1.5", "0.6"]) == 2
    assert "sure_letters must be at least 0 and under 1, got 1.5" in caplog.text and not bad.parent.exists()


def test_ocr_export_fails_on_parity_mismatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    from anpr_edge.training import export_ocr
    from anpr_edge.training.crnn import CRNN, CRNNWithSoftmax
    from anpr_edge.training.train_ocr import ALPHABET

    ckpt = tmp_path / "tiny.pt"
    torch.save({"model": CRNN(len(ALPHABET) + 1).state_dict(), "epoch": 0}, ckpt)
    real_export = export_ocr.export_openvino

    def broken(onnx_path: Path, xml_path: Path, fp16: bool) -> None:
        # The IR silently comes from other weights: parity must catch it.
        other = tmp_path / "other.onnx"
        torch.manual_seed(123)
        export_ocr.export_onnx(CRNNWithSoftmax(CRNN(len(ALPHABET) + 1)), other, 32, 128)
        real_export(other, xml_path, fp16)

    monkeypatch.setattr(export_ocr, "export_openvino", broken)
    with pytest.raises(export_ocr.ParityError):
        export_ocr.export(ckpt, tmp_path / "m" / "plate_ocr", tol=1e-3, samples=4)


def test_ocr_score_known_answers() -> None:
    s = OcrScore()
    s.add("A123BC77", "A123BC77", [0.9] * 8)
    s.add("A123BC77", "A128BC77", [0.9, 0.9, 0.9, 0.7, 0.9, 0.9, 0.9, 0.9])
    s.add("A123BC77", "A12#BC77", [0.9, 0.9, 0.9, 0.3, 0.9, 0.9, 0.9, 0.9])
    assert s.exact_acc == pytest.approx(1 / 3)
    assert s.char_acc == pytest.approx(1 - 2 / 24)
    assert s.confusions == {("3", "8"): 1} and s.wrong_confident == 1 and s.unread_chars == 1
    assert s.outcomes == [True, False, False]
    assert edit_ops("A123BC777", "A123BC77")[0] == 1
    assert "exact 33.3% (1/3, CI 6.1%-79.2%)" in s.summary()


def test_wilson_interval_known_answers() -> None:
    """Closed forms: 0 of n has upper bound z²/(n + z²); the interval of n - k mirrors that of k."""
    assert wilson_interval(0, 10) == pytest.approx((0.0, 1.96**2 / (10 + 1.96**2)))
    lo, hi = wilson_interval(46, 48)
    assert (lo, hi) == pytest.approx((0.8602, 0.9885), abs=1e-4)
    assert wilson_interval(2, 48) == pytest.approx((1 - hi, 1 - lo))
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_paired_comparison_counts_discordant_plates_and_tests_them() -> None:
    """Only plates one model gets and the other misses count; 5 to 0 is p = 2/32, 3 to 0 is 2/8."""
    assert sign_test(5, 0) == pytest.approx(0.0625) and sign_test(0, 3) == pytest.approx(0.25)
    assert sign_test(0, 0) == 1.0 and sign_test(4, 4) == 1.0
    assert sign_test(10, 2) == pytest.approx(2 * (1 + 12 + 66) / 4096)
    a = [True, True, False, True, False]
    b = [True, False, False, False, True]
    assert paired(a, b) == "both right 1, only this 2, only the other 1, both wrong 1  (sign test p = 1.00)"
    with pytest.raises(ValueError, match="different lengths: 5 and 4"):
        paired(a, b[:4])


def test_corner_error_known_answers() -> None:
    truth = np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 22.0], [0.0, 22.0]])
    moved = truth + np.array([[3.0, 4.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])  # one corner 5 px off: 1.25 on average
    assert corner_error(moved, truth) == pytest.approx([0.0125])
    both = corner_error(np.stack([truth, moved]), np.stack([truth, truth]))
    assert both == pytest.approx([0.0, 0.0125])
    tiny = np.zeros((4, 2))  # a plate under 1 px wide counts as 1 px wide
    assert corner_error(tiny + 1.0, tiny) == pytest.approx([np.sqrt(2)])


def test_det_score_known_answers() -> None:
    d = DetScore()
    d.add([(0, 0, 100, 20), (200, 200, 260, 215)], [(2, 1, 101, 21), (500, 500, 600, 520)])
    d.add([(0, 0, 200, 40), (10, 10, 40, 20)], [], ignore=[])
    assert d.recall == pytest.approx(1 / 4) and d.precision == pytest.approx(1 / 2) and d.false_pos == 1
    assert d.outcomes == [True, False, False, False]
    assert d.by_bucket == {"80-150": [1, 1], "40-80": [0, 1], ">150": [0, 1], "<40": [0, 1]}
    assert "recall@0.5 25.0% (1/4, CI 4.6%-69.9%)" in d.summary()
    assert "(>= 40 px: 33.3% (1/3" in d.summary()  # the 30 px plate is not in the fair figure
    assert "of them high or low: 33.3% (1/3" in d.summary()  # no qualities given: every plate can be read
    r = DetScore()  # the camera-grade figure: readable plates (high or low) at least 40 px wide
    r.add([(0, 0, 100, 20), (200, 200, 260, 215), (0, 50, 30, 60)], [(2, 1, 101, 21)], readable=[True, False, True])
    assert r.readable == [1, 1] and "(>= 40 px: 50.0% (1/2" in r.summary() and "high or low: 100.0% (1/1" in r.summary()


def test_labels_reader_rejects_bad_rows(tmp_path: Path) -> None:
    from anpr_edge.errors import InputError

    f = tmp_path / "labels.csv"
    f.write_text("image;plate;x1;y1;x2;y2;quality\na.jpg;а123вс77;1;2;30;12;high\n")
    assert read_labels(f)[0].plate == "A123BC77"
    f.write_text("image;plate;x1;y1;x2;y2\na.jpg;A123BC77;1;2;x;12\n")
    with pytest.raises(InputError, match=r"labels\.csv:2: bad box"):
        read_labels(f)


def test_mining_sorts_false_boxes_into_negatives_and_unboxed_plates(tmp_path: Path) -> None:
    """A plate nobody boxed is masked, not taught as background (shipped models, real runtime)."""
    import cv2

    from anpr_edge.training.augment import style_plate
    from anpr_edge.training.demo_video import Car, background, draw_car
    from anpr_edge.training.render import render_plate
    from anpr_edge.training.scenes import mine
    from tests.conftest import MODELS, have_models
    from tests.tools.test_end_to_end import font_available

    if not have_models() or not font_available():
        pytest.skip("needs the shipped models and the plate font (../shared/fonts)")
    (tmp_path / "images").mkdir()
    frame = background(1920, 1080, seed=5)
    plate = style_plate(render_plate("M209OO77", px_per_mm=1.0).image, random.Random(2))
    box = draw_car(frame, Car("M209OO77", 0, 1, lane_x=0.5), plate, 1080 * 0.7, 260.0)
    cv2.imwrite(str(tmp_path / "images" / "a.jpg"), frame)
    # No label row boxes anything on a.jpg: the plate there is a "background plate nobody boxed".
    found = mine(MODELS, tmp_path, {"a.jpg": []})
    plates = [m for m in found if m.unboxed_plate]
    assert len(plates) == 1 and plates[0].image == "a.jpg"
    assert all(abs(a - b) < 20 for a, b in zip(plates[0].box, box, strict=True))


def test_level_crops_are_cut_alike_in_training_and_at_run_time(tiny_models: Path) -> None:
    """A model trained on level crops gets the same pixels from ``PlateOCR.crops`` as training cut."""
    import dataclasses

    from anpr_edge.core.results import Detection
    from anpr_edge.inference.ocr import CharThresholds, PlateOCR
    from anpr_edge.training.augment import ocr_training_crop
    from anpr_edge.training.ocr_data import CropSpec, synthetic_sample
    from anpr_edge.training.render import random_plate

    rng = random.Random(11)
    scene, box, _ = ocr_training_crop(random_plate(rng), rng)
    ocr = PlateOCR.load(tiny_models / "plate_ocr", "cpu", CharThresholds())
    level = dataclasses.replace(ocr.spec, deskew=True)
    ocr_level = PlateOCR(ocr.backend, level, ocr.thresholds)
    spec = CropSpec(deskew=True)
    assert np.array_equal(ocr_level.crops(scene, [Detection(box, 1.0)])[0], spec.cut(scene, box))
    assert np.array_equal(ocr.crops(scene, [Detection(box, 1.0)])[0], CropSpec().cut(scene, box))
    assert synthetic_sample(3, spec).image.shape == (32, 128)


def test_ocr_data_folder_keeps_one_kind_of_crop(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from anpr_edge.training.ocr_data import CropSpec, load_spec
    from anpr_edge.training.train_ocr import main

    data = tmp_path / "data"
    main(["gen", "--data-dir", str(data), "--chunks", "1", "--chunk-size", "2", "--val-size", "2", "--deskew"])
    assert load_spec(data) == CropSpec(deskew=True) and (data / "chunk_0000.npz").is_file()
    with pytest.raises(SystemExit, match=r"holds crops cut as .*deskew=True"):
        main(["gen", "--data-dir", str(data), "--first", "1", "--chunks", "1", "--chunk-size", "2"])
    assert load_spec(tmp_path / "old") == CropSpec()  # folders from before crop_spec.json: plain crops
    with pytest.raises(SystemExit, match=r"--deskew-rise 0\.5: must be 0-1, and only with --deskew"):
        main(["gen", "--data-dir", str(tmp_path / "other"), "--deskew-rise", "0.5"])


def test_swapped_real_split_trains_on_the_other_fold() -> None:
    pytest.importorskip("torch")
    from anpr_edge.tools.labels import TRAINED_FRACTION, trained_on
    from anpr_edge.training.ocr_data import RealPlate
    from anpr_edge.training.train_ocr import split_real

    frame = np.zeros((4, 4), np.uint8)
    plates = [RealPlate(frame, (0, 0, 4, 4), "A123BC77", "high", f"{i:03d}.jpg") for i in range(40)]
    train, val = split_real(plates, TRAINED_FRACTION)
    assert [p.source for p in train] == [p.source for p in plates if trained_on(p.source)]
    assert 5 < len(train) < 35 and len(train) + len(val) == len(plates)
    swapped_train, swapped_val = split_real(plates, TRAINED_FRACTION, swap=True)
    assert swapped_train == val and swapped_val == train
    assert split_real(plates, 0.0) == ([], plates)  # no real training images


def test_camera_variants_of_a_real_plate_keep_it_in_their_box() -> None:
    """A re-shot plate: smaller (never under 50 px unless it was), rolled, still boxed, and seeded."""
    import cv2

    from anpr_edge.training.ocr_data import CAMERA_MIN_WIDTH, CropSpec, RealPlate, camera_variant
    from anpr_edge.training.render import render_plate

    plate = cv2.cvtColor(render_plate("A123BC77", px_per_mm=0.5).image, cv2.COLOR_BGR2GRAY)  # 260 x 56
    frame = np.full((400, 600), 30, np.uint8)
    frame[200:256, 150:410] = plate
    real = RealPlate(frame, (150.0, 200.0, 410.0, 256.0), "A123BC77", "high", "x.jpg")
    for seed in range(30):
        shot = camera_variant(real, np.random.default_rng(seed))
        x1, y1, x2, y2 = shot.box
        h, w = shot.frame.shape
        assert -1 <= x1 < x2 <= w + 1 and -1 <= y1 < y2 <= h + 1, (seed, shot.box, shot.frame.shape)
        width = x2 - x1  # the turned box: the plate's width and a little of its height
        assert 0.98 * CAMERA_MIN_WIDTH <= width <= 260 * np.cos(np.radians(8)) + 56 * np.sin(np.radians(8)) + 2
        inside = shot.frame[int(y1) + 2 : int(y2) - 1, int(x1) + 2 : int(x2) - 1]
        assert inside.mean() > shot.frame.mean() + 20, seed  # the bright plate is where its box says
        assert shot.crop(CropSpec()).image.shape == (32, 128) and shot.text == real.text
    again = camera_variant(real, np.random.default_rng(3)).frame
    assert np.array_equal(again, camera_variant(real, np.random.default_rng(3)).frame)
    small = RealPlate(cv2.resize(frame, None, fx=0.15, fy=0.15), (22.5, 30.0, 61.5, 38.4), "A123BC77", "high", "s.jpg")
    boxes = [camera_variant(small, np.random.default_rng(seed)).box for seed in range(5)]
    assert all(x2 - x1 >= 0.98 * 39 for x1, _, x2, _ in boxes)  # a plate already under 50 px is not shrunk


def _roll_degrees(quad: np.ndarray) -> float:
    """A quad's roll: the mean slope of its top and bottom edges (yaw tilts them equally and oppositely)."""
    (tl, tr, br, bl) = quad
    top = np.degrees(np.arctan2(tr[1] - tl[1], tr[0] - tl[0]))
    bottom = np.degrees(np.arctan2(br[1] - bl[1], br[0] - bl[0]))
    return float((top + bottom) / 2)


def test_wide_roll_rolls_that_share_of_plates_up_to_its_limit() -> None:
    from anpr_edge.training.augment import WIDE_ROLL, perspective_quad

    def rolls(share: float) -> np.ndarray:
        rng = random.Random(5)
        return np.abs([_roll_degrees(perspective_quad(520, 112, rng, wide_roll=share)) for _ in range(400)])

    usual, half, every = rolls(0.0), rolls(0.5), rolls(1.0)
    assert (usual > 8).mean() < 0.1  # sd 4 degrees: a plate rolled past 8 is rare
    assert every.max() <= WIDE_ROLL + 1 and (every > 8).mean() > 0.45  # uniform up to 18: over half past 8
    assert 0.2 < (half > 8).mean() < (every > 8).mean()


def test_ocr_data_folder_keeps_one_way_of_making_plates(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import json

    from anpr_edge.training.ocr_data import Synthesis, load_synthesis
    from anpr_edge.training.train_ocr import main

    data = tmp_path / "data"
    small = ["--chunks", "1", "--chunk-size", "2", "--val-size", "2"]
    main(["gen", "--data-dir", str(data), *small, "--wide-roll", "0.35", "--plate-width", "80", "385"])
    assert load_synthesis(data) == Synthesis(0.35, (80.0, 385.0)) and (data / "chunk_0000.npz").is_file()
    more = ["gen", "--data-dir", str(data), "--first", "1", "--chunks", "1", "--chunk-size", "2"]
    with pytest.raises(
        SystemExit,
        match=r"holds plates made with --wide-roll 0\.35 --plate-width 80 385, not --wide-roll 0 --plate-width 50 320",
    ):
        main(more)
    main([*more, "--wide-roll", "0.35", "--plate-width", "80", "385"])  # the same settings add chunks
    assert (data / "chunk_0001.npz").is_file()
    assert load_synthesis(tmp_path / "old") == Synthesis()  # folders from before synthetic.json
    (tmp_path / "roll").mkdir()
    (tmp_path / "roll" / "synthetic.json").write_text(json.dumps({"wide_roll": 0.35}))  # from before --plate-width
    assert load_synthesis(tmp_path / "roll") == Synthesis(0.35, (50.0, 320.0))
    with pytest.raises(SystemExit, match=r"--wide-roll 1\.5: must be a share, 0-1"):
        main(["gen", "--data-dir", str(tmp_path / "other"), "--wide-roll", "1.5"])
    with pytest.raises(SystemExit, match=r"--plate-width 300 200: must be MIN < MAX within 16-520 px"):
        main(["gen", "--data-dir", str(tmp_path / "other"), "--plate-width", "300", "200"])
    with pytest.raises(SystemExit, match=r"--dusk 2: must be a share, 0-1"):
        main(["gen", "--data-dir", str(tmp_path / "other"), "--dusk", "2"])
    main(["gen", "--data-dir", str(tmp_path / "dusk"), *small, "--dusk", "0.35"])
    with pytest.raises(SystemExit, match=r"--plate-width 50 320 --dusk 0\.35, not --wide-roll 0 --plate-width 50 320$"):
        main(["gen", "--data-dir", str(tmp_path / "dusk"), "--first", "1", "--chunks", "1", "--chunk-size", "2"])


def test_dusk_dims_and_flattens_a_plate_and_leaves_older_data_alone() -> None:
    """The dusk look lowers contrast (haze, dim light, gain); at share 0 it draws nothing from the generator, so
    a folder made before it gets the same pixels."""
    from anpr_edge.training.augment import dusk, ocr_training_crop
    from anpr_edge.training.render import render_plate

    plate = render_plate("A123BC77", px_per_mm=0.4).image
    plate = np.ascontiguousarray(plate if plate.ndim == 3 else np.repeat(plate[:, :, None], 3, axis=2))
    for seed in range(20):
        out = dusk(plate, random.Random(seed))
        assert out.shape == plate.shape and out.dtype == np.uint8
        assert out.std() < 0.95 * plate.std()
    a, box_a, _ = ocr_training_crop("A123BC77", random.Random(7))
    b, box_b, _ = ocr_training_crop("A123BC77", random.Random(7), dusk_share=0.0)
    assert np.array_equal(a, b) and box_a == box_b


def test_plate_width_sets_the_camera_resolution_plate() -> None:
    """The crop's box (before its detector-like jitter of a few per cent) is as wide as asked."""
    from anpr_edge.training.augment import ocr_training_crop

    for lo, hi in ((50.0, 60.0), (300.0, 320.0)):
        rng = random.Random(1)
        widths = [ocr_training_crop("A123BC77", rng, plate_width=(lo, hi))[1] for _ in range(20)]
        assert all(0.85 * lo <= x2 - x1 <= 1.15 * hi for x1, _, x2, _ in widths)


def test_grilles_are_drawn_clipped_and_never_over_a_plate() -> None:
    from anpr_edge.training.scenes import NEGATIVE_MIXES, grille, grille_above

    assert all(len(m) == 8 and list(m) == sorted(m) for m in NEGATIVE_MIXES.values())
    img = np.full((200, 300, 3), 90, np.uint8)
    plate = (100.0, 150.0, 160.0, 165.0)
    grille_above(img, random.Random(0), plate, [plate, (0.0, 0.0, 300.0, 149.0)])  # a plate fills the space above
    assert (img == 90).all()
    grille_above(img, random.Random(0), plate, [plate])
    assert (img != 90).any() and (img[150:165, 100:160] == 90).all()
    grille(img, random.Random(1), -20, -10, 80, 20)  # hanging off the corner: clipped
    assert (img[:10, :60] != 90).any()


def test_a_watermark_with_a_year_is_no_unboxed_plate_under_the_stricter_rule() -> None:
    from anpr_edge.training.scenes import unboxed_plate

    assert unboxed_plate("H627##046")  # the stage-3 rule: "Helvetics/2016" passed as a plate
    assert not unboxed_plate("H627##046", max_unread=1)
    assert unboxed_plate("M209OO77", 1) and unboxed_plate("#188EA98", 1)
    assert not unboxed_plate("Y80#", 1)


def test_pooled_detector_data(tmp_path: Path) -> None:
    """Several --data files pool their training folders (relative to each file's path) and keep the first val."""
    from anpr_edge.training.train_detector import pooled_data

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\nnames:\n  0: plate\n")
    (b / "data.yaml").write_text(f"path: {b}\ntrain: [images/train, extra]\nval: images/val\nnames: [plate]\n")
    assert pooled_data([a / "data.yaml"], tmp_path / "out.yaml") == (a / "data.yaml").resolve()
    out = pooled_data([a / "data.yaml", b / "data.yaml"], tmp_path / "runs" / "x.data.yaml")
    spec = yaml.safe_load(out.read_text())
    assert spec["train"] == [str(a / "images/train"), str(b / "images/train"), str(b / "extra")]
    assert spec["val"] == [str(a / "images/val")] and spec["names"] == {0: "plate"}
    (b / "bad.yaml").write_text("val: images/val\n")
    with pytest.raises(SystemExit, match=r"bad\.yaml: no 'train' entry"):
        pooled_data([a / "data.yaml", b / "bad.yaml"], out)


@pytest.mark.parametrize("flag", ["--init", "--teacher"])
def test_train_detector_names_missing_weights(tmp_path: Path, flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A weights file that is not there is one line naming the flag and the path, before ultralytics loads."""
    from anpr_edge.training.train_detector import main

    with pytest.raises(SystemExit) as stop:
        main([flag, str(tmp_path / "nope.pt"), "--project", str(tmp_path / "runs")])
    assert stop.value.code == 2
    assert f"{flag} {tmp_path / 'nope.pt'}: no such weights file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "--dis weighs the distillation loss: it needs --teacher"),
        (["--teacher", "{teacher}"], "--dis 0.0: the weight must be > 0"),
    ],
)
def test_train_detector_checks_distillation_weight(
    tmp_path: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dis without a teacher, or a weight that is not positive, is a parser error before ultralytics loads."""
    from anpr_edge.training.train_detector import main

    teacher = tmp_path / "teacher.pt"
    teacher.write_bytes(b"not read: the check comes first")
    args = [x.format(teacher=teacher) for x in extra] + ["--dis", "0", "--project", str(tmp_path / "runs")]
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


def test_small_shots_blur_a_crop_seeded_and_leave_older_recipes_alone() -> None:
    """A re-shot crop keeps its size but loses detail (the plate seen 70-120 px wide); one narrower than that
    is left as it is; and with no share re-shot, an imported crop draws exactly what it drew before."""
    import cv2

    from anpr_edge.training.ocr_data import small_shot
    from anpr_edge.training.render import render_plate
    from anpr_edge.training.train_ocr import _extra_crop, _shift

    crop = cv2.resize(cv2.cvtColor(render_plate("A123BC77").image, cv2.COLOR_BGR2GRAY), (128, 32))
    sharp = cv2.Laplacian(crop, cv2.CV_32F).var()
    for seed in range(10):
        shot = small_shot(crop, np.random.default_rng(seed))
        assert shot.shape == crop.shape and shot.dtype == np.uint8
        assert cv2.Laplacian(shot, cv2.CV_32F).var() < 0.8 * sharp, seed
        assert np.array_equal(shot, small_shot(crop, np.random.default_rng(seed)))
    narrow = crop[:, :64].copy()
    assert np.array_equal(small_shot(narrow, np.random.default_rng(0)), narrow)
    assert np.array_equal(_extra_crop(crop, 0.0, np.random.default_rng(5)), _shift(crop, np.random.default_rng(5)))
    assert not np.array_equal(_extra_crop(crop, 1.0, np.random.default_rng(5)), _shift(crop, np.random.default_rng(5)))


def test_calibration_on_a_fold_with_no_wrong_character_is_flagged() -> None:
    """Reads that are all right sharpen without end: the fit lands on the grid's lowest temperature, and that
    is said; a fold with wrong characters read confidently gets a temperature inside the grid."""
    from anpr_edge.training.calibrate import TEMPERATURES, edge_note, fit

    alphabet = "0123456789ABEKMHOPCTXY"

    def frames(text: str, p: float) -> np.ndarray:  # CTC frames: each character then a blank, at p
        out = np.full((2 * len(text), len(alphabet) + 1), (1 - p) / len(alphabet), np.float32)
        for i, ch in enumerate(text):
            out[2 * i, :] = (1 - p) / len(alphabet)
            out[2 * i, 1 + alphabet.index(ch)] = p
            out[2 * i + 1, :] = (1 - p) / len(alphabet)
            out[2 * i + 1, 0] = p
        return out

    right = [frames("A123BC77", 0.9)] * 20
    t = fit(right, ["A123BC77"] * 20, alphabet)
    assert t == TEMPERATURES[0] and "too few wrong" in str(edge_note(t))
    wrong = [frames("A123BC78", 0.9)] * 5  # confidently wrong last character: softening pays
    t = fit(right + wrong, ["A123BC77"] * 25, alphabet)
    assert TEMPERATURES[0] < t < TEMPERATURES[-1] and edge_note(t) is None
    assert "confidence" in str(edge_note(float(TEMPERATURES[-1])))
    all_wrong = [frames("B456EK89", 0.99)] * 5  # every character confidently wrong: soften to the end
    assert fit(all_wrong, ["A123BC77"] * 5, alphabet) == TEMPERATURES[-1]


def test_quantize_without_nncf_says_where_it_is_in_one_line(tmp_path: Path) -> None:
    import importlib.util

    from anpr_edge.training.quantize import main

    if importlib.util.find_spec("nncf") is not None:
        pytest.skip("nncf is installed here (the training environment): nothing to refuse")
    out = tmp_path / "int8"
    with pytest.raises(SystemExit, match=r"^quantize needs nncf, which the training environment has"):
        main(["--models", str(tmp_path / "none"), "--out", str(out)])
    assert not out.exists()  # refused before any work
