"""Shared fixtures: paths to the shipped models and to ../shared, tiny models built by the tests."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
SHARED = ROOT.parent / "shared"
REAL_DEV = SHARED / "real-dev"


def have_models() -> bool:
    return (MODELS / "plate_detector.xml").is_file() and (MODELS / "plate_ocr.xml").is_file()


needs_models = pytest.mark.skipif(not have_models(), reason="shipped models not in models/ yet")
needs_real_dev = pytest.mark.skipif(
    not (REAL_DEV / "labels.csv").is_file(), reason=f"real-dev data not found at {REAL_DEV} (licensed, not in repo)"
)
needs_mosquitto = pytest.mark.skipif(
    shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists(),
    reason="mosquitto not installed (apt-get install -y mosquitto)",
)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder with tiny detector and OCR graphs (ONNX + IR + metadata), built here."""
    from tests.tiny_models import build_tiny_models

    return build_tiny_models(tmp_path_factory.mktemp("tiny_models"))


def env_without_display() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    return env


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """The port of a TCP server that accepts connections and never says a word: an RTSP camera hung after
    connect (the probe's unit tests and the daemon's)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                held.append(srv.accept()[0])
            except TimeoutError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield int(srv.getsockname()[1])
    done.set()
    t.join()
    for c in held:
        c.close()
    srv.close()
