from __future__ import annotations

import numpy as np
import pytest

from anpr_edge.errors import InputError
from anpr_edge.inference.detector import InputBuffer, Letterbox, decode, letterbox, to_input


@pytest.mark.parametrize(("w", "h"), [(1920, 1080), (1280, 720), (720, 1280), (641, 383), (33, 17)])
def test_letterbox_keeps_aspect_and_centres(w: int, h: int) -> None:
    img = np.full((h, w, 3), 255, np.uint8)
    out, lb = letterbox(img, 640, 384)
    assert out.shape == (384, 640, 3)
    r = min(640 / w, 384 / h)
    assert lb.scale == pytest.approx(r)
    nw, nh = round(w * r), round(h * r)
    assert out[int(lb.pad_y) : int(lb.pad_y) + nh, int(lb.pad_x) : int(lb.pad_x) + nw].min() == 255
    assert abs(lb.pad_x - (640 - nw) / 2) <= 0.5 and abs(lb.pad_y - (384 - nh) / 2) <= 0.5


def yolo_out(boxes: list[tuple[float, float, float, float, float]], anchors: int = 20) -> np.ndarray:
    out = np.zeros((1, 5, anchors), np.float32)
    for i, (cx, cy, w, h, s) in enumerate(boxes):
        out[0, :, i] = (cx, cy, w, h, s)
    return out


def test_decode_unletterboxes_and_nms() -> None:
    lb = Letterbox(scale=1 / 3, pad_x=0, pad_y=12)
    out = yolo_out([(100, 112, 60, 20, 0.9), (102, 112, 60, 20, 0.8), (400, 200, 30, 10, 0.6), (10, 10, 5, 5, 0.1)])
    dets = decode(out, lb, 1920, 1080, conf=0.3, iou=0.5)
    assert [round(d.score, 2) for d in dets] == [0.9, 0.6]
    assert dets[0].box == pytest.approx((210, 270, 390, 330))


def test_decode_drops_a_second_box_on_part_of_a_better_one() -> None:
    """A box on a plate's region (inside the plate's box) goes; one beside a plate, or around a better box, stays."""
    plate = (200, 100, 120, 30, 0.9)  # x 140-260, y 85-115
    region = (235, 100, 44, 24, 0.7)  # x 213-257: all inside the plate, IoU with it 0.29 (NMS keeps it)
    beside = (320, 100, 100, 30, 0.8)  # x 270-370: touches nothing
    dets = decode(yolo_out([plate, region, beside]), Letterbox(1.0, 0, 0), 640, 384, conf=0.3, iou=0.5)
    assert [round(d.score, 2) for d in dets] == [0.9, 0.8]
    around = decode(yolo_out([(200, 100, 140, 40, 0.6), region]), Letterbox(1.0, 0, 0), 640, 384, 0.3, 0.5)
    assert [round(d.score, 2) for d in around] == [0.7, 0.6]  # the better box is the inner one: both stay
    half = decode(yolo_out([plate, (250, 100, 60, 30, 0.7)]), Letterbox(1.0, 0, 0), 640, 384, 0.3, 0.5)
    assert len(half) == 2  # two thirds inside the plate (IoU 0.29), a third outside: not a second box on it


def test_decode_clips_to_frame() -> None:
    dets = decode(yolo_out([(5, 5, 40, 40, 0.9)]), Letterbox(1.0, 0, 0), 100, 100, 0.3, 0.5)
    assert dets[0].box == (0.0, 0.0, 25.0, 25.0)


def test_decode_rejects_wrong_layout() -> None:
    with pytest.raises(ValueError, match="expected"):
        decode(np.zeros((1, 3, 10)), Letterbox(1, 0, 0), 10, 10, 0.3, 0.5)


def pose_out(plates: list[tuple[float, float, float, float, float, list[tuple[int, int]]]]) -> np.ndarray:
    """A (1, 17, anchors) corner-model output: box, score, then (x, y, visibility) for TL, TR, BR, BL."""
    out = np.zeros((1, 17, 10), np.float32)
    for i, (cx, cy, w, h, s, corners) in enumerate(plates):
        out[0, :5, i] = (cx, cy, w, h, s)
        for k, (x, y) in enumerate(corners):
            out[0, 5 + 3 * k : 8 + 3 * k, i] = (x, y, 0.9)
    return out


def test_decode_maps_corners_back_through_the_letterbox() -> None:
    lb = Letterbox(scale=0.5, pad_x=0, pad_y=4)
    corners = [(80, 104), (120, 100), (121, 116), (79, 120)]  # a slightly turned plate, input pixels
    dets = decode(pose_out([(100, 110, 42, 20, 0.9, corners), (300, 60, 40, 10, 0.2, corners)]), lb, 640, 360, 0.5, 0.5)
    assert len(dets) == 1
    assert dets[0].box == pytest.approx((158, 192, 242, 232))
    assert np.array(dets[0].corners) == pytest.approx(np.array([(160, 200), (240, 192), (242, 224), (158, 232)]))


def test_decode_keeps_the_corners_of_the_box_nms_keeps() -> None:
    a = [(0, 0), (10, 0), (10, 5), (0, 5)]
    b = [(1, 1), (11, 1), (11, 6), (1, 6)]
    dets = decode(
        pose_out([(50, 50, 40, 10, 0.7, b), (51, 50, 40, 10, 0.95, a)]), Letterbox(1, 0, 0), 100, 100, 0.3, 0.5
    )
    assert len(dets) == 1 and dets[0].score == pytest.approx(0.95)
    assert np.array(dets[0].corners) == pytest.approx(np.array(a))


def test_decode_rejects_a_keypoint_count_that_is_not_corners() -> None:
    with pytest.raises(ValueError, match="keypoints"):
        decode(np.zeros((1, 5 + 6, 10), np.float32), Letterbox(1, 0, 0), 10, 10, 0.3, 0.5)


def test_letterbox_keeps_at_least_one_row_of_a_very_thin_frame() -> None:
    out, lb = letterbox(np.full((2, 4000, 3), 255, np.uint8), 960, 544)
    assert out.shape == (544, 960, 3) and out.max() == 255 and lb.scale == pytest.approx(0.24)


def test_input_buffer_makes_what_letterbox_and_to_input_make_frame_after_frame() -> None:
    """The reused buffer gives the same tensor as fresh arrays, also when the frame size changes between frames
    (the padding moves) and for a view of a larger frame (an ROI), and it writes in the same memory."""
    rng = np.random.default_rng(3)
    buf = InputBuffer(512, 288, 114)
    big = rng.integers(0, 256, (1200, 2000, 3), dtype=np.uint8)
    frames = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in [(1080, 1920), (1080, 1440), (1920, 1080)]]
    frames += [big[100:700, 300:1900], np.full((288, 512, 3), 7, np.uint8), frames[0]]
    first = None
    for frame in frames:
        x, lb = buf.fill(frame, 1 / 255)
        img, want_lb = letterbox(frame, 512, 288, 114)
        np.testing.assert_array_equal(x, to_input(img, 1 / 255))
        assert lb == want_lb
        first = x if first is None else first
        assert x is first


def test_input_buffer_refuses_a_frame_that_is_not_bgr_uint8() -> None:
    buf = InputBuffer(512, 288, 114)
    for frame in (np.zeros((1080, 1920), np.uint8), np.zeros((1080, 1920, 4), np.uint8), np.zeros((8, 8, 3))):
        with pytest.raises(InputError, match="BGR frames of uint8"):
            buf.fill(frame, 1 / 255)
