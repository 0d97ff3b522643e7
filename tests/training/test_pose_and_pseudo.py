"""The plate-corner dataset's labels and the pseudo-label rule, on hand-made inputs."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from anpr_edge.training.pose_eval import label_corners
from anpr_edge.training.pose_scenes import Plate, label_lines
from anpr_edge.training.pseudo_label import Read, judge
from anpr_edge.training.scenes import MinedBox
from tests.tools.test_end_to_end import needs_font


def test_pose_labels_carry_corners_or_mark_them_unlabelled() -> None:
    corners = np.array([[10, 20], [110, 18], [112, 40], [9, 42]], np.float32)
    lines = label_lines([Plate((9, 18, 112, 42), corners), Plate((200, 200, 260, 215), None)], 320)
    first, second = (ln.split() for ln in lines)
    assert len(first) == len(second) == 17 and first[0] == second[0] == "0"
    assert [float(v) for v in first[5:8]] == pytest.approx([10 / 320, 20 / 320, 2])
    assert second[5:] == ["0"] * 12  # a real box: its corners are not labelled
    box, back = label_corners(lines[0], 320)  # type: ignore[misc]
    assert np.allclose(back, corners, atol=0.01) and box == pytest.approx((9, 18, 112, 42), abs=0.01)
    assert label_corners(lines[1], 320) is None


@needs_font
def test_a_pasted_plate_lies_inside_the_tile_with_its_exact_corners() -> None:
    from anpr_edge.training.pose_scenes import paste

    tile = np.full((320, 320, 3), 114, np.uint8)
    plate = paste(tile, random.Random(3), 120.0, [(0.0, 0.0, 100.0, 100.0)])
    assert plate is not None and plate.corners is not None
    x1, y1, x2, y2 = plate.box
    assert 0 <= x1 < x2 <= 320 and 0 <= y1 < y2 <= 320 and not (x1 < 100 and y1 < 100)  # not on the taken box
    assert plate.corners[:, 0].min() == pytest.approx(x1) and plate.corners[:, 1].max() == pytest.approx(y2)
    inside = tile[round(plate.corners[:, 1].mean()), round(plate.corners[:, 0].mean())]
    assert (inside != 114).any()  # the plate was drawn where its corners say


@pytest.mark.parametrize(
    ("reads", "label"),
    [
        ((Read("A123BC77", 0.95), Read("A123BC77", 0.97)), "A123BC77"),
        ((Read("A123BC77", 0.95), Read("A123BC78", 0.97)), None),  # the readers disagree
        ((Read("A123BC77", 0.85), Read("A123BC77", 0.97)), None),  # one character not sure enough
        ((Read("A123BC7", 0.99), Read("A123BC7", 0.99)), None),  # not a whole plate of the template
    ],
)
def test_a_pseudo_label_needs_agreement_the_template_and_sure_characters(
    reads: tuple[Read, Read], label: str | None
) -> None:
    assert judge(reads, 0.9).label == label


@pytest.mark.parametrize("kind", ["lettering", "sign"])
def test_distractors_are_pasted_beside_the_plates_never_on_them(kind: str) -> None:
    from anpr_edge.training.pose_scenes import distract
    from anpr_edge.training.signs import sign

    rng = random.Random(5)
    placed = 0
    for _ in range(20):
        tile = np.full((320, 320, 3), 114, np.uint8)
        patch = sign(rng) if kind == "sign" else None
        distract(tile, rng, [(0.0, 0.0, 320.0, 160.0)], patch)  # the top half holds a plate
        assert (tile[:160] == 114).all()  # nothing drawn over the plate
        placed += int((tile[160:] != 114).any())  # the lettering went below it (when a spot was found)
    assert placed >= 15


@pytest.mark.parametrize("fonts", ["system", "none"])
def test_a_sign_is_an_opaque_board_with_text_on_it(fonts: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from anpr_edge.training import signs

    if fonts == "none":  # a machine without a Cyrillic TrueType font: Latin text in stroke fonts
        monkeypatch.setattr(signs, "SIGN_FONTS", ())
    elif not signs.sign_fonts():
        pytest.skip("no Cyrillic TrueType font among the system fonts (fonts-dejavu)")
    rng = random.Random(3)
    for _ in range(30):
        board = signs.sign(rng)
        assert board.ndim == 3 and board.shape[2] == 4 and board.dtype == np.uint8
        assert board.shape[0] >= 30 and board.shape[1] >= 30
        opaque = board[:, :, 3] == 255
        assert opaque.mean() > 0.6  # a board (or an octagon), not loose letters
        colours = board[opaque][:, :3].astype(int)
        assert np.ptp(colours.sum(axis=1)) > 200  # text that stands out from its board


@pytest.mark.parametrize(
    ("read", "greyed"),
    [
        ("A123BC77", True),  # a whole plate nobody boxed
        ("#1##B#7#", True),  # a small plate, partly read
        ("##1#####", False),  # one character: lettering, not a plate
        ("C0HAT", False),  # a badge's word
        ("A123BC7777", False),  # too long for a plate
    ],
)
def test_a_false_box_is_greyed_out_when_its_read_may_be_a_plate(read: str, greyed: bool) -> None:
    from anpr_edge.training.pose_scenes import maybe_plate

    assert maybe_plate(read) is greyed


def _mined(box: tuple[float, float, float, float], greyed: bool) -> MinedBox:
    return MinedBox("a.jpg", box, 0.4, "C0HAT", greyed)


def test_tiles_are_cut_around_mined_false_boxes_and_greyed_ones_are_blanked() -> None:
    from anpr_edge.training.pose_scenes import cut

    image = np.full((720, 1280, 3), 200, np.uint8)
    plate, negative, greyed = (100.0, 600.0, 220.0, 630.0), (900.0, 100.0, 1000.0, 130.0), (600.0, 400.0, 700.0, 430.0)
    for (x1, y1, x2, y2), colour in ((plate, (0, 255, 0)), (negative, (0, 0, 255)), (greyed, (255, 0, 0))):
        image[int(y1) : int(y2), int(x1) : int(x2)] = colour
    mined = (_mined(negative, False), _mined(greyed, True))
    around_negative = 0
    for seed in range(40):
        tile, plates = cut(image, (plate,), random.Random(seed), 320, mined)
        red = ((tile[:, :, 2] > 200) & (tile[:, :, 1] < 60)).any()
        around_negative += int(red and not plates)  # a tile around the false box, with no plate label
        assert not ((tile[:, :, 0] > 200) & (tile[:, :, 1] < 60)).any()  # the greyed box never shows
    assert 12 <= around_negative <= 30  # about half the tiles
    assert (image[400:430, 600:700] == (255, 0, 0)).all()  # the photo itself is left alone


def test_a_greyed_box_changes_no_random_draw_and_no_other_pixel() -> None:
    """Recipes made before mining (no mined boxes) and photos with only greyed boxes cut the same tiles."""
    from anpr_edge.training.pose_scenes import GREY, cut

    image = np.random.default_rng(1).integers(0, 255, (720, 1280, 3), np.uint8)
    image[400:430, 600:700] = GREY  # already grey where the box is greyed: any other change would show
    boxes = ((100.0, 600.0, 220.0, 630.0),)
    greyed = (_mined((600.0, 400.0, 700.0, 430.0), True),)
    for seed in range(20):
        rng_a, rng_b = random.Random(seed), random.Random(seed)
        a, plates_a = cut(image, boxes, rng_a, 320)
        b, plates_b = cut(image, boxes, rng_b, 320, greyed)
        assert (a == b).all() and plates_a == plates_b
        assert rng_a.random() == rng_b.random()  # the same draws: the rest of the recipe is unchanged


@needs_font
def test_mining_greys_a_plate_nobody_boxed_and_teaches_a_box_on_a_labelled_plate(tmp_path: Path) -> None:
    """The shipped camera detector and reader, on a drawn car: with no label its plate is a false box that reads
    as a plate (greyed out); labelled only on its left fifth, the detector's box on the plate overlaps the label
    (taught, never greyed: greying would blank a labelled plate)."""
    import cv2

    from anpr_edge.training.augment import style_plate
    from anpr_edge.training.demo_video import Car, background, draw_car
    from anpr_edge.training.pose_scenes import Photo, mine_photos
    from anpr_edge.training.render import render_plate
    from tests.conftest import MODELS, have_models

    if not have_models():
        pytest.skip("needs the shipped models")
    frame = background(1920, 1080, seed=5)
    plate = style_plate(render_plate("M209OO77", px_per_mm=1.0).image, random.Random(2))
    x1, y1, x2, y2 = draw_car(frame, Car("M209OO77", 0, 1, lane_x=0.5), plate, 1080 * 0.7, 260.0)
    path = tmp_path / "car.jpg"
    cv2.imwrite(str(path), frame)
    left = ((x1 / 1920, y1 / 1080, (x1 + (x2 - x1) / 5) / 1920, y2 / 1080),)  # normalised, as real-train's
    unlabelled, labelled = mine_photos(MODELS / "camera", [Photo(path, ()), Photo(path, left, normalised=True)])
    near = [m for m in unlabelled.mined if abs(m.box[0] - x1) < 20 and abs(m.box[2] - x2) < 20]
    assert len(near) == 1 and near[0].unboxed_plate  # a whole plate nobody boxed: greyed
    on_label = [m for m in labelled.mined if abs(m.box[0] - x1) < 20 and abs(m.box[2] - x2) < 20]
    assert len(on_label) == 1 and not on_label[0].unboxed_plate  # overlaps the labelled part: taught


def test_a_second_set_of_photos_adds_tiles_to_a_split_rather_than_replacing_them(tmp_path: Path) -> None:
    import cv2

    from anpr_edge.training.pose_scenes import Photo, write_split

    photo = tmp_path / "car.jpg"
    cv2.imwrite(str(photo), np.full((360, 640, 3), 90, np.uint8))
    one = Photo(photo, ((200.0, 200.0, 300.0, 225.0),))
    rng = random.Random(0)
    n = write_split(tmp_path / "set", "train", [one, one], 1, rng, 320, 0.0)
    n += write_split(tmp_path / "set", "train", [one], 2, rng, 320, 0.0, first=n)
    assert n == 4
    assert len(list((tmp_path / "set" / "images" / "train").glob("*.jpg"))) == 4
    assert len(list((tmp_path / "set" / "labels" / "train").glob("*.txt"))) == 4


def test_heldout_counts_found_plates_and_boxes_on_and_off_the_labels(tmp_path: Path) -> None:
    """The shipped camera detector on a drawn car: labelled, its plate is found and its box is on a label;
    labelled elsewhere, the label is missed and the box is on none. An unreadable photo is skipped."""
    import cv2

    from anpr_edge.inference.detector import PlateDetector
    from anpr_edge.training.augment import style_plate
    from anpr_edge.training.demo_video import Car, background, draw_car
    from anpr_edge.training.pose_eval import boxes_on_photos
    from anpr_edge.training.pose_scenes import Photo
    from anpr_edge.training.render import render_plate
    from tests.conftest import MODELS, have_models

    if not have_models():
        pytest.skip("needs the shipped models")
    frame = background(1920, 1080, seed=5)
    plate = style_plate(render_plate("M209OO77", px_per_mm=1.0).image, random.Random(2))
    x1, y1, x2, y2 = draw_car(frame, Car("M209OO77", 0, 1, lane_x=0.5), plate, 1080 * 0.7, 260.0)
    path, broken = tmp_path / "car.jpg", tmp_path / "broken.jpg"
    cv2.imwrite(str(path), frame)
    broken.write_bytes(b"not a jpeg")
    on = (x1 / 1920, y1 / 1080, x2 / 1920, y2 / 1080)
    elsewhere = (0.05, 0.05, 0.1, 0.08)
    det = PlateDetector.load(MODELS / "camera" / "plate_detector", "cpu", None, 0.5, precision="f32")
    assert boxes_on_photos(det, [Photo(path, (on,), normalised=True)]) == (1, 1, 1, 0)
    photos = [Photo(path, (elsewhere,), normalised=True), Photo(broken, (on,), normalised=True)]
    assert boxes_on_photos(det, photos) == (1, 0, 0, 1)


def test_heldout_photos_are_the_split_the_dataset_kept_out_of_training(tmp_path: Path) -> None:
    from anpr_edge.training.pose_eval import heldout_photos
    from anpr_edge.training.pose_scenes import real_train_photos, split_photos

    (tmp_path / "images").mkdir()
    for i in range(40):
        (tmp_path / "images" / f"{i:03d}.jpg").write_bytes(b"")
    val, train = split_photos(real_train_photos(tmp_path), 20, random.Random(2))
    held = heldout_photos(tmp_path, 20, 2)
    assert [p.path for p in held] == [p.path for p in val] and len(held) == 10
    assert not {p.path for p in held} & {p.path for p in train}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--models", "{tmp}/none"], "model metadata not found"),
        (["--models", "{tmp}", "--real-train", "{tmp}/none"], "no photos"),
    ],
)
def test_heldout_says_in_one_line_what_is_missing(tmp_path: Path, args: list[str], says: str) -> None:
    from anpr_edge.training.pose_eval import main

    photos = tmp_path / "rt" / "images"
    photos.mkdir(parents=True)
    (photos / "a.jpg").write_bytes(b"")
    argv = ["heldout", "--seed", "2", "--real-train", str(tmp_path / "rt")]
    with pytest.raises(SystemExit) as exc:
        main(argv + [a.format(tmp=tmp_path) for a in args])
    assert says in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--signs", "1.5"], "--signs 1.5: a fraction"),
        (["--distractors", "-0.1"], "--distractors -0.1: a fraction"),
        (["--sign-min-width", "0"], "--sign-min-width 0: from 1"),
    ],
)
def test_pose_scenes_refuses_shares_and_widths_out_of_range(argv: list[str], says: str, tmp_path: Path) -> None:
    from anpr_edge.training import pose_scenes

    with pytest.raises(SystemExit) as stop:
        pose_scenes.main(["--out", str(tmp_path / "tiles"), *argv])
    assert str(stop.value).startswith(says)
    assert not (tmp_path / "tiles").exists()


def test_photo_plates_are_cut_by_their_boxes_and_narrow_ones_left_out(tmp_path: Path) -> None:
    """``pseudo_label --photos``: each labelled box of a k4gl7p photo at least MIN_WIDTH px wide becomes a crop
    named after its photo and box, cut as the reader cuts a box; a narrower box and a photo without a label give
    none."""
    import cv2

    from anpr_edge.training.ocr_data import CropSpec
    from anpr_edge.training.pseudo_label import cut_photo_plates

    root = tmp_path / "real-train"
    (root / "k4gl7p" / "images").mkdir(parents=True)
    (root / "k4gl7p" / "labels").mkdir()
    photo = np.full((400, 800, 3), 90, np.uint8)
    photo[100:140, 100:300] = 255  # a white plate, 200 px wide
    cv2.imwrite(str(root / "k4gl7p" / "images" / "car.jpg"), photo)
    cv2.imwrite(str(root / "k4gl7p" / "images" / "empty.jpg"), photo)
    wide = "0 0.25 0.3 0.25 0.1"  # x 100-300, y 100-140
    narrow = "0 0.8 0.8 0.025 0.02"  # 20 px wide
    (root / "k4gl7p" / "labels" / "car.txt").write_text(f"{wide}\n{narrow}\n")
    names, crops = cut_photo_plates(root, CropSpec(), min_width=30)
    assert [Path(n).name for n in names] == ["car.jpg#0"]
    assert crops.shape == (1, CropSpec().height, CropSpec().width)
    assert crops[0, 10:22, 20:108].mean() > 200  # the plate fills the crop's middle
