"""The generated block of the model card: written once per model, rewritten in place, hand text kept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from anpr_edge.training.model_card import update_card

T1 = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
T2 = dt.datetime(2026, 5, 6, 7, 8, tzinfo=dt.UTC)


def test_block_is_appended_then_replaced_and_hand_text_kept(tmp_path: Path) -> None:
    card = tmp_path / "README.md"
    card.write_text("# Model card\n\nHand-written recipe.\n")
    update_card(card, "plate_ocr", {"from": "a.pt", "precision": "FP16"}, T1)
    update_card(card, "plate_detector", {"precision": "INT8"}, T1)
    update_card(card, "plate_ocr", {"from": "b.pt", "precision": "FP32"}, T2)
    text = card.read_text()
    assert text.startswith("# Model card\n\nHand-written recipe.\n")
    assert text.count("export:plate_ocr begin") == 1 and text.count("export:plate_detector begin") == 1
    assert "- from: b.pt\n- precision: FP32" in text and "a.pt" not in text
    assert "(2026-05-06 07:08 UTC)" in text and "- precision: INT8" in text


def test_card_is_created_when_absent(tmp_path: Path) -> None:
    update_card(tmp_path / "README.md", "plate_ocr", {"from": "x.pt"}, T1)
    assert (tmp_path / "README.md").read_text().startswith("# Model card\n\n<!-- export:plate_ocr begin")
