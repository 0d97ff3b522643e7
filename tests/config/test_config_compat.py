"""The YAML format is public: copies of the configs shipped before (``tests/config/shipped/``) still load.

The copies are frozen on purpose: when ``config/*.yaml`` changes, these stay as users' files stay.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from anpr_edge.config.load import load, load_loaded

SHIPPED = Path(__file__).resolve().parent / "shipped"


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.yaml")), ids=lambda p: p.name)
def test_configs_shipped_before_still_load(path: Path) -> None:
    cfg = load(path)
    assert cfg.cameras and all(c.name for c in cfg.cameras)
    assert cfg.storage.state_dir.is_absolute()  # relative paths resolved against the file's folder


def test_shipped_copies_exist() -> None:
    assert {p.name for p in SHIPPED.glob("*.yaml")} >= {"anpr-edge.yaml", "demo.yaml"}


def test_loaded_config_knows_the_line_of_each_key() -> None:
    loaded = load_loaded(SHIPPED / "demo.yaml")
    text = (SHIPPED / "demo.yaml").read_text().splitlines()
    line = loaded.where(("cameras", 0, "target_fps")).rsplit(":", 1)[1]
    assert text[int(line) - 1].strip().startswith("target_fps:")
