"""The second opinion on unsure reads: how two reads of a plate become one (hand-made probabilities), when the
camera folder's second reader is asked (real OpenVINO runtime, shipped models), and how a folder with a
second reader that cannot do its job is refused in one line."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from anpr_edge.core.plates import second_opinion
from anpr_edge.core.results import Detection, PlateRead
from anpr_edge.errors import ModelLoadError
from anpr_edge.inference.models import SECOND_READER, Models
from anpr_edge.inference.ocr import CharThresholds
from anpr_edge.recognition.pipeline import CameraPipeline, read_still
from anpr_edge.recognition.second_opinion import merged
from anpr_edge.recognition.settings import RecognitionSettings
from tests.core.test_plates import ALPHABET, one_hot
from tests.recognition.test_rectified_reading import CAMERA, turned_plate

DEFAULT = CAMERA.parent


def test_the_second_reader_is_heard_only_where_it_is_sure() -> None:
    first = one_hot("A123BC77", 0.4)  # unsure everywhere
    second = one_hot("A123BC77", 0.9)
    second[1] = one_hot("7", 0.55)[0]  # a digit under its 0.6
    second[4] = one_hot("H", 0.95)[0]  # sure, and not what the first read (B)
    out = second_opinion(first, second, ALPHABET, 0.8, 0.6)
    np.testing.assert_allclose(out[0], (first[0] + second[0]) / 2)  # agree, sure: averaged
    np.testing.assert_array_equal(out[1], first[1])  # not sure: the first read stands
    np.testing.assert_allclose(out[4], np.full(len(ALPHABET), 1 / len(ALPHABET)))  # disagree: no evidence
    text, _ = CharThresholds().read(out, ALPHABET)
    assert text == "A#23#C77"


def at(text: str, i: int, probs: dict[str, float], p: float = 0.9) -> np.ndarray:
    """``one_hot(text, p)`` with position ``i`` holding ``probs`` and the rest of its mass spread evenly."""
    out = one_hot(text, p)
    rest = (1.0 - sum(probs.values())) / (len(ALPHABET) - len(probs))
    out[i] = rest
    for c, v in probs.items():
        out[i, ALPHABET.index(c)] = v
    return out


def read_of(first: np.ndarray, second: np.ndarray, unsure: tuple[float, float] = (0.5, 0.5)) -> str:
    return CharThresholds().read(second_opinion(first, second, ALPHABET, 0.8, 0.6, unsure), ALPHABET)[0]


def test_where_the_first_reader_is_unsure_its_runner_up_named_by_the_sure_second_is_heard() -> None:
    """The first reader unsure at a digit (7 at 0.48, 1 second at 0.22) and the second sure of 1: averaged, 1 is
    read, also through the runtime's merge; a sure second reader naming a character the first did not put second,
    or disagreeing where the first was sure, leaves no evidence (``#``)."""
    first = at("A123BC77", 6, {"7": 0.48, "1": 0.22})
    second = one_hot("A123BC17", 0.99)
    out = second_opinion(first, second, ALPHABET, 0.8, 0.6, unsure=(0.5, 0.5))
    np.testing.assert_allclose(out[6], (first[6] + second[6]) / 2)
    assert read_of(first, second) == "A123BC17"
    assert read_of(first, second, (0.0, 0.0)) == "A123BC#7"  # no threshold given: SO3's merge
    assert read_of(first, one_hot("A123BC47", 0.99)) == "A123BC#7"  # 4: not its runner-up
    assert read_of(at("A123BC77", 6, {"7": 0.6, "1": 0.3}), second) == "A123BC#7"  # the first was sure of 7
    detection = Detection((0.0, 0.0, 120.0, 30.0), 0.9)
    unsure_read = PlateRead("A123BC#7", (("7", 0.48),) * 8, first, detection)
    sure_read = PlateRead("A123BC17", (("1", 0.99),) * 8, second, detection)
    assert merged(unsure_read, sure_read, ALPHABET, CharThresholds(), (0.8, 0.6)).text == "A123BC17"


def test_unsure_is_judged_by_the_letter_or_digit_threshold_of_the_first_reads_character() -> None:
    first = at("A123BC77", 4, {"B": 0.6, "H": 0.3})  # a letter's place, B at 0.6
    second = one_hot("A123HC77", 0.95)
    assert read_of(first, second, (0.7, 0.3)) == "A123HC77"  # letters unsure under 0.7: heard
    assert read_of(first, second, (0.5, 0.9)) == "A123#C77"  # letters sure from 0.5: not


def test_a_runner_up_is_one_of_the_classes_the_place_allows_and_more_than_noise() -> None:
    """At a letter's place the first read's best letter is B (a digit 8 leads the row): its runner-up is the
    next letter, H, not the digit; a runner-up under 0.10 or tied with a third class is none."""
    second_h = one_hot("A123HC77", 0.95)
    assert read_of(at("A123BC77", 4, {"8": 0.45, "B": 0.3, "H": 0.15}), second_h) == "A123HC77"
    second_1 = one_hot("A123BC17", 0.99)
    assert read_of(at("A123BC77", 6, {"7": 0.45, "1": 0.05}), second_1) == "A123BC#7"  # 0.05: noise
    assert read_of(at("A123BC77", 6, {"7": 0.4, "1": 0.2, "4": 0.2}), second_1) == "A123BC#7"  # a tie


def test_a_second_read_of_another_length_stands_only_whole_and_sure() -> None:
    first = one_hot("A123BC77", 0.4)
    whole = one_hot("A123BC178", 0.9)
    assert second_opinion(first, whole, ALPHABET, 0.8, 0.6) is whole
    unsure = whole.copy()
    unsure[6] = one_hot("1", 0.55)[0]  # a digit under its 0.6
    assert second_opinion(first, unsure, ALPHABET, 0.8, 0.6) is first
    assert second_opinion(first, one_hot("A123BC1789", 0.99), ALPHABET, 0.8, 0.6) is first  # not a plate
    faint = one_hot("A123BC456", 0.9)
    faint[8] = one_hot("6", 0.55)[0]  # a ninth mark under 0.60 after a region no 3-digit code starts with
    out = second_opinion(first, faint, ALPHABET, 0.8, 0.6)  # stands without it, also where 0.55 would be read
    assert out.shape == (8, len(ALPHABET)) and CharThresholds().read(out, ALPHABET)[0] == "A123BC45"


def test_a_ninth_position_left_without_evidence_goes_and_the_read_stays_paired() -> None:
    """Disagreeing on a ninth mark after a 2-digit region: the merged read is an 8-character plate
    whose probabilities have 8 rows, as the tracker needs."""
    first, second = one_hot("A123BC455", 0.4), one_hot("A123BC453", 0.9)  # no 3-digit region starts 45
    detection = Detection((0.0, 0.0, 120.0, 30.0), 0.9)
    unsure = PlateRead("#########", (("#", 0.4),) * 9, first, detection)
    other = PlateRead("A123BC453", (("3", 0.9),) * 9, second, detection)
    read = merged(unsure, other, ALPHABET, CharThresholds(), (0.8, 0.6))
    assert read.text == "A123BC45" and read.probs.shape == (8, len(ALPHABET)) and len(read.chars) == 8


@pytest.fixture(scope="module")
def camera() -> Models:
    return Models.load(CAMERA / "plate_detector", CAMERA / "plate_ocr", "cpu")


def test_the_camera_folder_has_a_second_reader_of_rectified_crops(camera: Models) -> None:
    assert camera.second is not None and camera.second.spec.rectified
    assert camera.second.spec.alphabet == camera.ocr.spec.alphabet
    assert (camera.second.spec.sure_letters, camera.second.spec.sure_digits) == (0.8, 0.6)


def test_only_unsure_reads_are_read_again(camera: Models) -> None:
    frame = turned_plate()
    without = dataclasses.replace(camera, second=None)
    plain, plain_alone = (CameraPipeline("gate", m, RecognitionSettings(motion_threshold=0)) for m in (camera, without))
    strict = RecognitionSettings(motion_threshold=0, char_conf_thr=0.999)  # every first read has a '#'
    unsure, alone = (CameraPipeline("gate", m, strict) for m in (camera, without))
    first_unsure = 0
    for t in (0.0, 0.25, 0.5, 0.75):
        plain.run(frame, t)
        (first,) = plain_alone.run(frame, t).reads
        assert first is not None
        first_unsure += "#" in first.text
        (again,) = unsure.run(frame, t).reads
        (strict_first,) = alone.run(frame, t).reads
        assert again is not None and strict_first is not None and "#" in strict_first.text
        assert again.detection == strict_first.detection  # the first read's box, the merged probabilities
    assert plain.stats().second_reads == first_unsure < 4  # plates read whole are not read again
    assert unsure.stats().second_reads == 4 and alone.stats().second_reads == 0
    (still,) = read_still(camera, frame, strict)
    (plain_still,) = read_still(without, frame, strict)
    assert still.detection == plain_still.detection  # a still is read again too: its probabilities merged
    assert still.probs.shape == plain_still.probs.shape and not np.array_equal(still.probs, plain_still.probs)


def folder_with(tmp_path: Path, change: dict[str, object], base: Path = CAMERA) -> Path:
    """A copy of ``base`` (reader and detector: no int8 copies, no ONNX) with the camera folder's second reader,
    its metadata changed by ``change``."""
    folder = tmp_path / "models"
    keep = ("plate_detector.xml", "plate_detector.bin", "plate_detector.json", "plate_ocr.xml", "plate_ocr.bin")
    folder.mkdir()
    for name in (*keep, "plate_ocr.json", "plate_corners.xml", "plate_corners.bin", "plate_corners.json"):
        if (base / name).is_file():
            shutil.copy(base / name, folder / name)
    for suffix in (".xml", ".bin"):
        shutil.copy(CAMERA / f"{SECOND_READER}{suffix}", folder / f"{SECOND_READER}{suffix}")
    meta = json.loads((CAMERA / f"{SECOND_READER}.json").read_text())
    (folder / f"{SECOND_READER}.json").write_text(json.dumps({**meta, **change}))
    return folder


@pytest.mark.parametrize(
    ("change", "base", "said"),
    [
        ({"rectified": False}, CAMERA, "rectified is false; a second reader must read rectified crops"),
        ({"sure_digits": 0.0}, CAMERA, "needs sure_letters and sure_digits above 0"),
        ({"alphabet": ALPHABET[::-1]}, CAMERA, "differs from the reader's"),
        ({"sure_letters": 1.5}, CAMERA, "sure_letters must be at least 0 and under 1, got 1.5"),
        ({}, DEFAULT, "nothing beside .* finds corners"),  # the default folder: no corner model, no keypoints
    ],
)
def test_a_second_reader_that_cannot_do_its_job_is_refused(
    tmp_path: Path, change: dict[str, object], base: Path, said: str
) -> None:
    folder = folder_with(tmp_path, change, base)
    with pytest.raises(ModelLoadError, match=said) as caught:
        Models.load(folder / "plate_detector", folder / "plate_ocr", "cpu")
    assert "\n" not in str(caught.value) and SECOND_READER in str(caught.value)
    (folder / f"{SECOND_READER}.json").unlink()
    Models.load(folder / "plate_detector", folder / "plate_ocr", "cpu")  # without it, the folder loads
