"""Importers on small fixtures in the real formats (images written here): counts, labels, rejections."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr_edge.training.importers import import_folder, import_nomeroff
from anpr_edge.training.ocr_data import CropSpec


def plate_png(path: Path) -> None:
    img = np.full((40, 180, 3), 230, np.uint8)
    cv2.putText(img, "A123BC77", (5, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2)
    cv2.imwrite(str(path), img)


def test_nomeroff_layout(tmp_path: Path) -> None:
    ann, img = tmp_path / "train" / "ann", tmp_path / "train" / "img"
    ann.mkdir(parents=True)
    img.mkdir(parents=True)
    items = {"ok1": "А123ВС77", "ok2": "x623em777", "foreign": "AB1234CD", "noimg": "K777KK777"}
    for name, text in items.items():
        (ann / f"{name}.json").write_text(json.dumps({"description": text, "name": name}, ensure_ascii=False))
        if name != "noimg":
            plate_png(img / f"{name}.png")
    (ann / "broken.json").write_text("{not json")
    images, texts, report = import_nomeroff(tmp_path, "train", CropSpec())
    assert texts == ["A123BC77", "X623EM777"] and images.shape == (2, 32, 128)
    reasons = dict((Path(f).stem, r) for f, r in report.rejected)
    assert reasons == {
        "broken": "unreadable annotation (no 'description')",
        "foreign": "not a Russian type-1 plate",
        "noimg": "image missing or unreadable",
    }


def test_folder_with_labels_csv(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    frame = np.full((200, 400, 3), 90, np.uint8)
    frame[80:120, 100:280] = 230
    cv2.imwrite(str(tmp_path / "images" / "a.jpg"), frame)
    (tmp_path / "labels.csv").write_text(
        "image;plate;x1;y1;x2;y2;quality\na.jpg;а123вс77;100;80;280;120;high\na.jpg;;10;10;50;20;unreadable\n"
    )
    images, texts, report = import_folder(tmp_path, CropSpec())
    assert texts == ["A123BC77"] and images.shape == (1, 32, 128) and images[0].mean() > 150
    assert report.rejected == [("a.jpg", "empty plate text")]


def test_missing_layout_and_offline_download_are_one_line_errors(tmp_path: Path) -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "anpr_edge.training.importers",
            "nomeroff",
            str(tmp_path),
            "--out",
            str(tmp_path / "o.npz"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "expected ann/ and img/" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "anpr_edge.training.importers",
            "download",
            "autoriaNumberplateOcrRu-2021-09-01",
            "--to",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "huggingface_hub is not installed" in r.stderr or "no network" in r.stderr


@pytest.mark.parametrize("split", ["val"])
def test_wrong_split_is_clear(tmp_path: Path, split: str) -> None:
    from anpr_edge.errors import InputError

    with pytest.raises(InputError, match="nomeroff-net OCR layout"):
        import_nomeroff(tmp_path, split, CropSpec())


def test_fine_tune_on_imported_crops_gives_a_model_the_pipeline_loads(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from anpr_edge.inference.ocr import CharThresholds, PlateOCR
    from anpr_edge.training import train_ocr
    from anpr_edge.training.export_ocr import export
    from anpr_edge.training.importers import save
    from anpr_edge.training.ocr_data import generate

    spec = CropSpec()
    data = tmp_path / "data"
    generate(16, 0, spec, data / "chunk_0000.npz")
    generate(8, 999, spec, data / "val.npz")
    images = np.stack([np.full((32, 128), 200, np.uint8)] * 4)
    save(tmp_path / "mine.npz", images, ["A123BC77"] * 4)
    base = tmp_path / "base"
    train_ocr.main(
        [
            "train",
            "--data-dir",
            str(data),
            "--out",
            str(base),
            "--epochs",
            "1",
            "--steps",
            "2",
            "--batch",
            "4",
            "--real-dev",
            str(tmp_path / "none"),
        ]
    )
    tuned = tmp_path / "tuned"
    train_ocr.main(
        [
            "train",
            "--data-dir",
            str(data),
            "--out",
            str(tuned),
            "--epochs",
            "1",
            "--steps",
            "2",
            "--batch",
            "4",
            "--init",
            str(base / "best.pt"),
            "--extra",
            str(tmp_path / "mine.npz"),
            "--extra-per-batch",
            "2",
            "--real-dev",
            str(tmp_path / "none"),
        ]
    )
    export(tuned / "best.pt", tmp_path / "models" / "plate_ocr", tol=2e-2, samples=4)
    ocr = PlateOCR.load(tmp_path / "models" / "plate_ocr", "cpu", CharThresholds())
    assert ocr.backend.infer(np.zeros((2, 1, 32, 128), np.float32)).shape[0] == 2


def test_yolo_set_is_validated_and_converted(tmp_path: Path) -> None:
    from anpr_edge.training.importers import import_yolo

    src = tmp_path / "set"
    for split in ("train", "val"):
        (src / "images" / split).mkdir(parents=True)
        (src / "labels" / split).mkdir(parents=True)
    for name, label in {"a": "0 0.5 0.5 0.2 0.1\n2 0.1 0.1 0.05 0.05\n", "b": "0 1.5 0.5 0.2 0.1\n", "c": None}.items():
        cv2.imwrite(str(src / "images" / "train" / f"{name}.jpg"), np.zeros((100, 200, 3), np.uint8))
        if label is not None:
            (src / "labels" / "train" / f"{name}.txt").write_text(label)
    cv2.imwrite(str(src / "images" / "val" / "d.jpg"), np.zeros((100, 200, 3), np.uint8))
    (src / "labels" / "val" / "d.txt").write_text("")
    (src / "data.yaml").write_text("names: [plate, car, sign]\n")
    out = tmp_path / "out"
    report = import_yolo(src, out)  # "plate" chosen by its name; the car and sign boxes left out
    assert report.kept == 2 and sorted(r for _, r in report.rejected) == [
        "malformed label line (class cx cy w h, normalised)",
        "no label file",
    ]
    assert (out / "labels" / "train" / "train_a.txt").read_text() == "0 0.500000 0.500000 0.200000 0.100000\n"
    assert (out / "labels" / "val" / "val_d.txt").read_text() == ""
    assert "val: images/val" in (out / "data.yaml").read_text()
    assert report.classes == "0=plate (by name)"


def yolo_set(root: Path, names: str, label: str) -> Path:
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    cv2.imwrite(str(root / "images" / "train" / "a.jpg"), np.zeros((100, 200, 3), np.uint8))
    (root / "labels" / "train" / "a.txt").write_text(label)
    (root / "data.yaml").write_text(names)
    return root


def test_yolo_classes_by_name_id_and_default(tmp_path: Path) -> None:
    from anpr_edge.errors import InputError
    from anpr_edge.training.importers import import_yolo

    label = "0 0.2 0.5 0.2 0.1\n1 0.7 0.5 0.1 0.1\n"
    src = yolo_set(tmp_path / "s", "names:\n  0: car\n  1: License_Plate\n", label)
    report = import_yolo(src, tmp_path / "by_default")
    assert report.classes == "1=License_Plate (by name)"
    assert (tmp_path / "by_default/labels/train/train_a.txt").read_text().startswith("0 0.700000 0.500000")
    assert import_yolo(src, tmp_path / "by_name", ["car"]).classes == "0=car"
    assert import_yolo(src, tmp_path / "by_id", ["1"]).classes == "1=License_Plate"
    with pytest.raises(InputError, match=r"class 'bus' not found; classes: 0=car, 1=License_Plate"):
        import_yolo(src, tmp_path / "bad", ["bus"])
    other = yolo_set(tmp_path / "o", "names: [object]\n", label)
    report = import_yolo(other, tmp_path / "all")
    assert report.classes == "all (no class name says plate)"
    assert len((tmp_path / "all/labels/train/train_a.txt").read_text().splitlines()) == 2


def test_coco_json_is_converted(tmp_path: Path) -> None:
    from anpr_edge.training.importers import import_coco

    (tmp_path / "img").mkdir()
    cv2.imwrite(str(tmp_path / "img" / "x.jpg"), np.zeros((100, 200, 3), np.uint8))
    coco = {
        "images": [{"id": 1, "file_name": "x.jpg"}, {"id": 2, "file_name": "gone.jpg"}],
        "annotations": [{"image_id": 1, "bbox": [50, 40, 100, 20], "category_id": 1}],
    }
    (tmp_path / "ann.json").write_text(json.dumps(coco))
    report = import_coco(tmp_path / "ann.json", tmp_path / "img", tmp_path / "out")
    assert report.kept == 1 and report.rejected[0][1] == "image missing or unreadable"
    assert (tmp_path / "out" / "labels" / "train" / "x.txt").read_text() == "0 0.500000 0.500000 0.500000 0.200000\n"


def test_coco_keeps_only_plate_categories(tmp_path: Path) -> None:
    from anpr_edge.training.importers import import_coco

    (tmp_path / "img").mkdir()
    cv2.imwrite(str(tmp_path / "img" / "x.jpg"), np.zeros((100, 200, 3), np.uint8))
    coco = {
        "images": [{"id": 1, "file_name": "x.jpg"}],
        "categories": [{"id": 3, "name": "car"}, {"id": 7, "name": "number_plate"}],
        "annotations": [
            {"image_id": 1, "bbox": [0, 0, 150, 90], "category_id": 3},
            {"image_id": 1, "bbox": [50, 40, 100, 20], "category_id": 7},
        ],
    }
    (tmp_path / "ann.json").write_text(json.dumps(coco))
    report = import_coco(tmp_path / "ann.json", tmp_path / "img", tmp_path / "out")
    assert report.classes == "7=number_plate (by name)"
    assert (tmp_path / "out" / "labels" / "train" / "x.txt").read_text() == "0 0.500000 0.500000 0.500000 0.200000\n"
