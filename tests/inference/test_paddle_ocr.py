"""The PaddleOCR reader: the pure edges with hand-made arrays, then the real PP-OCR model read offline from
RapidOCR's wheel (skipped, with the reason, where the wheel is not installed)."""

from __future__ import annotations

import importlib.util

import cv2
import numpy as np
import pytest

from anpr_edge.core.plates import DIGITS, LETTERS
from anpr_edge.core.results import Detection
from anpr_edge.errors import ModelLoadError
from anpr_edge.inference.ocr import CharThresholds
from anpr_edge.inference.paddle_ocr import (
    ALPHABET,
    HEIGHT,
    WIDTH,
    PaddleOCR,
    crop_line,
    decode,
    default_model,
    fit_template,
    fold_matrix,
    onnx_metadata,
    to_batch,
)

needs_wheel = pytest.mark.skipif(
    importlib.util.find_spec("rapidocr_onnxruntime") is None,
    reason="rapidocr_onnxruntime not installed (scripts/setup.sh --paddle)",
)


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, body: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(body)) + body


def test_onnx_metadata_reads_metadata_props_past_other_fields() -> None:
    entry = field(1, b"character") + field(2, "A\nБ\n7".encode())
    model = varint(1 << 3) + varint(8) + field(7, b"\x00" * 300) + field(14, entry) + field(14, field(1, b"k"))
    assert onnx_metadata(model) == {"character": "A\nБ\n7", "k": ""}
    with pytest.raises(ValueError, match="truncated"):
        onnx_metadata(model[:-1])


def test_fold_maps_look_alikes_to_the_plate_alphabet_and_nothing_else() -> None:
    chars = ["A", "а", "В", "7", "中", "Ｋ", "o", "-", "R", "O", "0"]
    m = fold_matrix(chars)
    assert m.shape == (len(chars) + 2, len(ALPHABET))
    target = {i + 1: c for i, c in enumerate(chars)}
    expect = {"A": "A", "а": "A", "В": "B", "7": "7", "Ｋ": "K", "o": "O", "O": "O", "0": "0"}
    for row, ch in target.items():
        hit = [ALPHABET[k] for k in np.flatnonzero(m[row])]
        assert hit == ([expect[ch]] if ch in expect else []), ch
    assert not m[0].any() and not m[-1].any()  # the blank and the space


def test_decode_follows_ppocr_path_and_drops_characters_that_are_no_plate_character() -> None:
    chars = ["A", "1", "-", "中"]
    fold = fold_matrix(chars)
    path = [0, 1, 1, 0, 3, 2, 0, 2, 4, 0]  # blank A A blank '-' 1 blank 1 中 blank
    probs = np.full((len(path), len(chars) + 2), 0.01, np.float32)
    for t, k in enumerate(path):
        probs[t, k] = 0.9
    probs[2, 1] = 0.95  # A peaks at its second frame
    rows = decode(probs, fold)
    assert rows.shape == (3, len(ALPHABET))
    assert [ALPHABET[int(r.argmax())] for r in rows] == ["A", "1", "1"]
    assert rows[0, ALPHABET.index("A")] == pytest.approx(0.95)
    assert decode(np.eye(len(chars) + 2, dtype=np.float32)[[0, 0]], fold).shape == (0, len(ALPHABET))


def test_fit_template_moves_o_and_zero_by_position() -> None:
    read = np.zeros((8, len(ALPHABET)), np.float32)
    o, z = ALPHABET.index("O"), ALPHABET.index("0")
    read[:, z] = 0.9  # every position read as 0
    read[:, o] = 0.05
    fitted = fit_template(read)
    assert fitted[0, o] == pytest.approx(0.95) and fitted[0, z] == 0  # letter position
    assert fitted[1, z] == pytest.approx(0.95) and fitted[1, o] == 0  # digit position
    assert np.array_equal(fit_template(read[:5]), read[:5])  # not plate-long: unchanged


def test_crop_line_keeps_the_aspect_and_repeats_the_edge() -> None:
    frame = np.full((100, 300, 3), 200, np.uint8)
    line = crop_line(frame, (-20.0, 10.0, 180.0, 50.0))  # partly outside the frame
    assert line.shape[0] == HEIGHT and line.shape[2] == 3
    assert abs(line.shape[1] / HEIGHT - 1.08 * 200 / (1.24 * 40)) < 0.1
    assert crop_line(frame[:, :, 0], (0.0, 0.0, 3000.0, 10.0)).shape == (HEIGHT, WIDTH, 3)  # grey in, capped
    batch = to_batch([line])
    assert batch.shape == (1, 3, HEIGHT, WIDTH)
    assert batch[0, :, :, : line.shape[1]].min() == pytest.approx(200 / 127.5 - 1, abs=0.02)
    assert np.all(batch[0, :, :, line.shape[1] :] == 0)  # padding is mid grey


def plate_image(text: str) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    img = np.full((200, 640, 3), 255, np.uint8)
    cv2.putText(img, text, (40, 130), cv2.FONT_HERSHEY_SIMPLEX, 2.4, (0, 0, 0), 6, cv2.LINE_AA)
    (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 2.4, 6)
    return img, (30.0, 130.0 - h - 10, 40.0 + w + 10, 145.0)


@needs_wheel
@pytest.mark.parametrize("device", ["cpu", "onnx-cpu"])
def test_the_wheels_model_reads_plates_offline(device: str) -> None:
    if device == "onnx-cpu" and importlib.util.find_spec("onnxruntime") is None:
        pytest.skip("onnxruntime not installed")
    ocr = PaddleOCR.load(device, CharThresholds())
    assert default_model().is_file() and ocr.spec.alphabet == DIGITS + LETTERS
    for text in ("A123BC77", "O309OK01", "K777KK777"):
        img, box = plate_image(text)
        det = Detection(box, 1.0)
        (read,) = ocr(img, [det])
        assert read.text == text and read.probs.shape == (len(text), len(ALPHABET))
        # The pipeline's calls: one crop variant per frame, then read_crops.
        (again,) = ocr.read_crops(ocr.variant_crops(img, [det], 3), [det])
        assert again.text == text
    (voted,) = ocr(img, [det], variants=9)
    assert voted.text == "K777KK777"
    assert ocr(img, []) == []


def test_a_missing_wheel_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelLoadError, match=r"rapidocr_onnxruntime is not installed \(pip install --no-deps"):
        default_model()
