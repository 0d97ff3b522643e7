"""A reader's class for an unreadable character: smudged training plates labelled ``#``, the head grown for it,
its export, and the runtime writing ``#`` where that class takes the mass."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import numpy as np
import pytest

from anpr_edge.core.plates import DIGITS, LETTERS, UNREAD
from anpr_edge.core.results import Detection
from anpr_edge.errors import ModelLoadError
from anpr_edge.inference.contract import OcrSpec
from anpr_edge.inference.ocr import CharThresholds, plate_reads

pytest.importorskip("PIL", reason="training tools need Pillow (pip install -e '.[train]')")

READ = DIGITS + LETTERS


def test_character_boxes_are_where_each_character_is_drawn() -> None:
    """Changing one character of a plate changes ink inside its box only."""
    from anpr_edge.training.render import char_boxes, render_plate

    for text, other in (("A123BC77", "A123BX77"), ("M209OO777", "M209OO717"), ("K555EH78", "E555EH78")):
        i = next(k for k, (a, b) in enumerate(zip(text, other, strict=True)) if a != b)
        a, b = (render_plate(t, px_per_mm=1.0).image.astype(int) for t in (text, other))
        changed = np.abs(a - b).max(axis=2) > 0
        boxes = char_boxes(text, 1.0)
        x1, y1, x2, y2 = (round(v) for v in boxes[i])
        inside = np.zeros_like(changed)
        inside[y1 - 1 : y2 + 1, x1 - 1 : x2 + 1] = True
        assert changed.any() and not (changed & ~inside).any(), text
        assert len(boxes) == len(text) and all(b[2] <= c[0] for b, c in itertools.pairwise(boxes))  # left to right


def test_a_smudged_character_is_covered_and_its_neighbours_are_not() -> None:
    from anpr_edge.training.augment import SMUDGES, smudge, style_plate
    from anpr_edge.training.render import char_boxes, render_plate

    plate = style_plate(render_plate("A123BC77", px_per_mm=1.0).image, random.Random(0))
    boxes = [tuple(round(v) for v in b) for b in char_boxes("A123BC77", 1.0)]
    kinds = set()
    for seed in range(40):
        peek = random.Random(seed)
        peek.uniform(0, 1), peek.uniform(0, 1)  # the centre's two draws, then the kind's
        kinds.add(peek.choice(SMUDGES))
        out = smudge(plate, char_boxes("A123BC77", 1.0)[2], random.Random(seed)).astype(int)
        diff = [float(np.abs(out[y1:y2, x1:x2] - plate[y1:y2, x1:x2]).mean()) for x1, y1, x2, y2 in boxes]
        assert diff[2] > 25, (seed, diff)  # the character is covered
        assert max(diff[0], *diff[4:]) < 5, (seed, diff)  # the characters two places away and more are untouched
    assert kinds == set(SMUDGES)


def test_unreadable_plates_are_labelled_and_older_folders_keep_their_pixels() -> None:
    from anpr_edge.training.ocr_data import CropSpec, Synthesis, synthetic_sample, unreadable_positions

    rng = random.Random(3)
    state = rng.getstate()
    assert unreadable_positions("A123BC77", 0.0, rng) == () and rng.getstate() == state  # nothing drawn at 0
    drawn = [unreadable_positions("A123BC777", 0.5, random.Random(s)) for s in range(400)]
    assert 0.4 < np.mean([bool(d) for d in drawn]) < 0.6 and {len(d) for d in drawn} == {0, 1, 2}
    spec, plain = CropSpec(rectified=True), Synthesis(plate_width=(40.0, 385.0))
    texts = [synthetic_sample(s, spec, Synthesis(plate_width=(40.0, 385.0), unreadable=1.0)).text for s in range(30)]
    assert all(1 <= t.count(UNREAD) <= 2 for t in texts)
    assert all(UNREAD not in synthetic_sample(s, spec, plain).text for s in range(30))
    assert Synthesis(unreadable=0.3).alphabet == READ + UNREAD and plain.alphabet == READ
    assert Synthesis(unreadable=0.3).describe().endswith("--unreadable 0.3")
    assert Synthesis(unreadable=1.5).problem() == "--unreadable 1.5: must be a share, 0-1"


def test_a_data_folder_remembers_its_unreadable_share(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from anpr_edge.training.ocr_data import load_synthesis
    from anpr_edge.training.train_ocr import main

    data = tmp_path / "data"
    small = ["--chunks", "1", "--chunk-size", "2", "--val-size", "2"]
    main(["gen", "--data-dir", str(data), *small, "--unreadable", "0.5"])
    assert load_synthesis(data).unreadable == 0.5 and json.loads((data / "synthetic.json").read_text())["unreadable"]
    with pytest.raises(SystemExit, match=r"--unreadable 0\.5, not --wide-roll 0 --plate-width 50 320$"):
        main(["gen", "--data-dir", str(data), "--first", "1", "--chunks", "1", "--chunk-size", "2"])


def test_a_reader_grows_a_class_for_unreadable_characters_and_reads_as_before(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from anpr_edge.training.crnn import CRNN
    from anpr_edge.training.train_ocr import encode, init_weights

    torch.manual_seed(0)
    old = CRNN(len(READ) + 1).eval()
    path = tmp_path / "old.pt"
    torch.save({"model": old.state_dict(), "alphabet": READ}, path)
    grown = CRNN(len(READ) + 2).eval()
    grown.load_state_dict(init_weights(path, READ + UNREAD))
    x = torch.randn(2, 1, 32, 128)
    with torch.no_grad():
        a, b = old(x), grown(x)
    assert torch.allclose(a, b[..., : len(READ) + 1], atol=1e-5)  # every old class scores as before
    assert torch.allclose(b[..., -1], torch.full_like(b[..., -1], float(old.head.bias.detach().min())))
    assert init_weights(path, READ).keys() == old.state_dict().keys()
    with pytest.raises(SystemExit, match="are not the start of"):
        init_weights(path, UNREAD + READ)
    targets, lengths = encode(["A12#BC77"], READ + UNREAD)
    assert targets.tolist()[3] == len(READ) + 1 and lengths.tolist() == [8]


def test_the_runtime_writes_unread_where_that_class_takes_the_mass() -> None:
    alphabet = READ + UNREAD
    probs = np.zeros((8, len(alphabet)), np.float32)
    for i, ch in enumerate("A123BC77"):
        probs[i, alphabet.index(ch)] = 1.0
    probs[4] = 0.0
    probs[4, alphabet.index("B")], probs[4, alphabet.index(UNREAD)] = 0.35, 0.65  # mostly "cannot read"
    (read,) = plate_reads([probs], [Detection((0, 0, 100, 22), 0.9)], alphabet, CharThresholds())
    assert read.text == "A123#C77" and read.chars[4][0] == "B" and read.chars[4][1] == pytest.approx(0.35)
    OcrSpec(128, 32, alphabet).validate("plate_ocr.json")  # a model with that class loads
    for bad in (UNREAD, READ + "Z", READ + UNREAD + UNREAD):
        with pytest.raises(ModelLoadError, match="must be distinct plate characters"):
            OcrSpec(128, 32, bad).validate("plate_ocr.json")


def test_a_reader_with_the_unreadable_class_exports_with_it(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from anpr_edge.inference.contract import load_spec
    from anpr_edge.inference.ocr import PlateOCR
    from anpr_edge.training.crnn import CRNN
    from anpr_edge.training.export_ocr import export

    torch.manual_seed(1)
    ckpt = tmp_path / "unread.pt"
    torch.save({"model": CRNN(len(READ) + 2).state_dict(), "epoch": 0, "alphabet": READ + UNREAD}, ckpt)
    export(ckpt, tmp_path / "m" / "plate_ocr", tol=1e-2, samples=4)
    spec = load_spec(tmp_path / "m" / "plate_ocr", "plate_ocr")
    assert isinstance(spec, OcrSpec) and spec.alphabet == READ + UNREAD
    ocr = PlateOCR.load(tmp_path / "m" / "plate_ocr", "cpu", CharThresholds())
    assert ocr.backend.infer(np.zeros((2, 1, 32, 128), np.float32)).shape == (2, 32, len(READ) + 2)


def test_pseudo_labels_refuse_a_reader_of_other_classes_in_one_line(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from anpr_edge.training.crnn import CRNN
    from anpr_edge.training.pseudo_label import load_reader

    ckpt = tmp_path / "unread.pt"
    torch.save({"model": CRNN(len(READ) + 2).state_dict(), "alphabet": READ + UNREAD}, ckpt)
    with pytest.raises(SystemExit, match=r"unread\.pt: reads .*#'; the rule compares readers of"):
        load_reader(ckpt)


def test_training_on_unreadable_plates_keeps_the_class_and_refuses_mixed_runs(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from anpr_edge.training.train_ocr import main

    small = ["--chunks", "1", "--chunk-size", "8", "--val-size", "4"]
    unread, plain, out = tmp_path / "unread", tmp_path / "plain", tmp_path / "run"
    main(["gen", "--data-dir", str(unread), *small, "--unreadable", "0.5"])
    main(["gen", "--data-dir", str(plain), *small])
    run = ["train", "--out", str(out), "--epochs", "1", "--steps", "2", "--batch", "4", "--real-dev", str(tmp_path)]
    main([*run, "--data-dir", str(unread)])
    for name in ("best.pt", "last.pt"):
        state = torch.load(out / name, map_location="cpu", weights_only=False)
        assert state["alphabet"] == READ + UNREAD and state["model"]["head.bias"].shape == (len(READ) + 2,)
    with pytest.raises(SystemExit, match=r"last\.pt reads '.*#', .*plain's crops '0123456789ABEKMHOPCTYX'$"):
        main([*run, "--data-dir", str(plain)])  # resuming a run with another alphabet
    extra = tmp_path / "extra.npz"
    np.savez(extra, images=np.zeros((1, 32, 128), np.uint8), texts=np.array(["A12#BC77"]))
    with pytest.raises(SystemExit, match=r"--extra: labels with '#', which .*plain's reader does not read"):
        main(["train", "--out", str(tmp_path / "run2"), "--data-dir", str(plain), "--extra", str(extra)])
